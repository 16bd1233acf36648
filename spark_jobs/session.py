"""The one place a SparkSession is built (jobs and tests share it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

SHIP_HINT = (
    "ship it with the job: build a wheel (pip wheel --no-deps -w dist .) and add "
    "--py-files dist/leia_corpus-*.whl to spark-submit, or install it on every worker "
    "(pip install '.[spark]' from a checkout, as docker/spark.Dockerfile does)")


# A local run's JVM shares its cores with the Python workers: C1 alone compiles (C2's
# threads took a quarter of a 1-core run). C1 alone gets a 48 MB code cache, which
# Spark's and Delta's classes can fill ("CodeCache is full. Compiler has been
# disabled."): it gets C2's 240 MB.
LOCAL_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m"

DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
# Set in the environment of a job that ``ensure_delta_jars`` relaunched, so that a
# relaunch that still lacks Delta fails instead of looping.
RELAUNCHED = "LEIA_RELAUNCHED_WITH_DELTA"


def delta_packages() -> str:
    """The Maven coordinates of the Delta jars that match the installed delta-spark
    and pyspark, as delta-spark itself computes them."""
    from delta import configure_spark_with_delta_pip
    from pyspark.sql import SparkSession

    builder = configure_spark_with_delta_pip(SparkSession.Builder())
    return builder._options["spark.jars.packages"]


def _jvm_has_delta() -> bool:
    from py4j.protocol import Py4JJavaError
    from pyspark import SparkContext

    SparkContext._ensure_initialized()  # connects to spark-submit's JVM
    jvm = SparkContext._jvm
    loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
    try:
        jvm.java.lang.Class.forName(DELTA_EXTENSION, False, loader)
    except Py4JJavaError:
        return False
    return True


def ensure_delta_jars() -> None:
    """Under ``spark-submit`` the JVM starts before this code, so the Delta packages
    that ``build_spark`` asks for would arrive too late and the job would die at its
    first write. Checked at start: without Delta on the classpath, a client-mode job
    is started again by ``spark-submit`` with the same settings plus ``--packages``
    (this process is replaced); a cluster-mode driver stops with the command to run."""
    if "PYSPARK_GATEWAY_PORT" not in os.environ or _jvm_has_delta():
        return
    from pyspark import SparkConf

    packages = delta_packages()
    conf = dict(SparkConf().getAll())  # what spark-submit was given, as spark.* settings
    conf.pop("spark.app.submitTime", None)
    if conf.get("spark.jars.packages"):
        packages = conf["spark.jars.packages"] + "," + packages
    conf["spark.jars.packages"] = packages
    if conf.get("spark.master", "local").startswith("local"):
        # The relaunched JVM is a local session's: it gets build_spark's JIT settings.
        conf.setdefault("spark.driver.extraJavaOptions", LOCAL_JAVA_OPTIONS)
    script = os.path.abspath(sys.argv[0])
    fix = f"spark-submit --packages {packages} ... {os.path.relpath(script)} ..."
    if os.environ.get(RELAUNCHED) or conf.get("spark.submit.deployMode") == "cluster":
        raise SystemExit(f"error: the Delta Lake jars are not on Spark's classpath; run "
                         f"the job as {fix}, or set spark.jars.packages in "
                         "spark-defaults.conf")
    spark_home = os.environ.get("SPARK_HOME") or os.path.dirname(
        __import__("pyspark").__file__)
    cmd = [os.path.join(spark_home, "bin", "spark-submit")]
    for k, v in sorted(conf.items()):
        cmd += ["--conf", f"{k}={v}"]
    cmd += [script, *sys.argv[1:]]
    print(f"leia: the Delta Lake jars are not on this spark-submit's classpath; starting "
          f"the job again with --packages {packages} (give it to spark-submit to skip "
          "this step)", file=sys.stderr, flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}
    env[RELAUNCHED] = "1"
    os.execve(cmd[0], cmd, env)


def build_spark(app_name: str, master: str | None = None,
                conf: dict[str, str] | None = None):
    """A SparkSession with Delta Lake. ``master`` None: whatever spark-submit set, or
    ``local[*]``. The Delta jars come from Maven Central on first use (then cached), or
    from the folder ``LEIA_DELTA_JARS`` names (the Docker image bundles them there)."""
    from delta import configure_spark_with_delta_pip
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.appName(app_name)
               .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
               .config("spark.sql.catalog.spark_catalog",
                       "org.apache.spark.sql.delta.catalog.DeltaCatalog")
               # Python workers are reused across tasks, so the parser is imported once.
               .config("spark.python.worker.reuse", "true"))
    if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:
        master = "local[*]"  # not under spark-submit, which sets its own master
    if master:
        builder = builder.master(master)
    local = master.startswith("local") if master else _submitted_master().startswith(
        "local")
    if local and "PYSPARK_PYTHON" not in os.environ:
        # Spark starts its Python workers as PYSPARK_PYTHON, else 'python3' from PATH,
        # which need not be this interpreter (a virtual environment run without being
        # activated: an IDE, cron, a Makefile) and may lack pyarrow and the parser. On
        # one machine, the job's own interpreter is the one that has them.
        os.environ["PYSPARK_PYTHON"] = sys.executable
    if master and master.startswith("local") and "spark.driver.extraJavaOptions" not in (
            conf or {}):
        # One JVM does the driver's and the executor's work beside the Python workers,
        # which do the heavy lifting: the C2 compiler's threads take the cores from them
        # (a 400 MB dump on one core: 234 s -> 185 s with C1 alone; the first Delta
        # write alone is 12 s of compilation). Clusters keep the JVM's defaults.
        builder = builder.config("spark.driver.extraJavaOptions", LOCAL_JAVA_OPTIONS)
    for k, v in (conf or {}).items():
        builder = builder.config(k, v)
    bundled = os.environ.get("LEIA_DELTA_JARS")
    if not bundled:
        ensure_delta_jars()  # before any work: under spark-submit, may restart the job
    if bundled:  # the Docker image: jars resolved at build time, no network at run time
        jars = sorted(str(p) for p in Path(bundled).glob("*.jar"))
        if not any("delta-spark" in j for j in jars):
            raise ValueError(f"LEIA_DELTA_JARS={bundled} holds no delta-spark jar: "
                             "unset it to fetch the jars from Maven Central")
        spark = builder.config("spark.jars", ",".join(jars)).getOrCreate()
    else:
        spark = configure_spark_with_delta_pip(builder).getOrCreate()
    if spark.sparkContext.master.startswith("local"):
        # Delta replays its log with 50 tasks and Spark shuffles into 200 partitions by
        # default: right for a cluster, pure overhead on one machine.
        defaults = {"spark.databricks.delta.snapshotPartitions": "2",
                    "spark.sql.shuffle.partitions":
                        str(2 * spark.sparkContext.defaultParallelism)}
        for k, v in defaults.items():
            if k not in (conf or {}) and not spark.sparkContext.getConf().contains(k):
                spark.conf.set(k, v)
    return spark


def _submitted_master() -> str:
    """The master spark-submit was given (its default, local[*], if none); '' outside
    spark-submit."""
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        return ""
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()  # connects to spark-submit's JVM, whose conf it is
    return SparkConf().get("spark.master", "local[*]")


def check_executors(spark) -> None:
    """Fail fast, saying how to fix it, when the executors cannot import our package
    (a cluster submitted to without ``--py-files``). Without this the first parse task
    dies deep in a Java stack trace. One task on one executor: the usual mistake
    leaves every executor without it."""
    def probe(_):
        try:
            import leia  # noqa: F401
            import spark_jobs  # noqa: F401
        except ImportError as e:
            return [f"{e} (executor Python {sys.executable})"]
        return []

    errors = spark.sparkContext.parallelize([0], 1).mapPartitions(probe).collect()
    if errors:
        raise ValueError(f"the Spark executors cannot import this project: {errors[0]}; "
                         + SHIP_HINT)


def run_job(run, spark, cfg):
    """``run(spark, cfg)`` for a job's ``main``: a user error (see ``user_error``) is
    printed as one line and exits with status 2; anything else keeps its traceback."""
    try:
        return run(spark, cfg)
    except Exception as e:
        err = user_error(e)
        if err is None:
            raise
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from e


def user_error(e: Exception) -> ValueError | None:
    """What to tell the user about a job failure: a ValueError as it is, an executor
    that could not import our package (one added after ``check_executors`` ran) as the
    same clear error; None for anything else (a bug: keep its traceback)."""
    if isinstance(e, ValueError):
        return e
    for name in ("leia", "spark_jobs"):
        if f"No module named '{name}" in str(e):
            return ValueError(f"a Spark executor cannot import '{name}'; " + SHIP_HINT)
    return None
