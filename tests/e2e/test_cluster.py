"""A real Spark standalone cluster on 127.0.0.1 (a master and two workers started from
the installed pyspark with SPARK_HOME at its package folder), the corpus job and the encoder submitted
to it with spark-submit the way a user ships our package (``--py-files`` of a zip of
it), one worker killed in the middle of the corpus job; the tables and shards must
equal the local run's. The cluster is stopped at the end, also when a test fails."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import CLASS_ARCHIVE_OPTIONS

from spark_jobs.session import LOCAL_JAVA_OPTIONS

REPO = Path(__file__).resolve().parents[2]
DELTA = "io.delta:delta-spark_4.1_2.13:4.4.0"
JVM_OPTIONS = f"{LOCAL_JAVA_OPTIONS} {CLASS_ARCHIVE_OPTIONS}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spark_home() -> str:
    import pyspark
    return str(Path(pyspark.__file__).parent)


class Cluster:
    def __init__(self, work: Path):
        self.port, self.ui = free_port(), free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        # Every JVM of this cluster shares the test machine's cores, as a local session's
        # does: they get its JIT settings (spark_jobs.session.LOCAL_JAVA_OPTIONS), and
        # the run's archive of Spark's classes (tests/conftest.py).
        self.env = {**os.environ, "SPARK_HOME": spark_home(), "SPARK_LOCAL_IP": "127.0.0.1",
                    "SPARK_LOG_DIR": str(work / "logs"), "SPARK_NO_DAEMONIZE": "1",
                    "SPARK_DAEMON_JAVA_OPTS": JVM_OPTIONS}
        self.work, self.procs = work, {}

    def start(self, name: str, *args: str) -> None:
        log = open(self.work / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen(
            [f"{spark_home()}/bin/spark-class", *args], env=self.env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)

    def up(self) -> "Cluster":
        self.start("master", "org.apache.spark.deploy.master.Master", "--host",
                   "127.0.0.1", "--port", str(self.port), "--webui-port", str(self.ui))
        self.wait(lambda s: s["status"] == "ALIVE")
        for i in (1, 2):
            self.start(f"worker{i}", "org.apache.spark.deploy.worker.Worker", "--host",
                       "127.0.0.1", "--cores", "1", "--memory", "2g", "--webui-port",
                       str(free_port()), "--work-dir", str(self.work / f"w{i}"), self.url)
        self.wait(lambda s: sum(w["state"] == "ALIVE" for w in s["workers"]) == 2)
        return self

    def state(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ui}/json/", timeout=5) as r:
            return json.load(r)

    def wait(self, ok, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if ok(self.state()):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"cluster not ready; logs in {self.work}")

    def running_tasks(self, work_dir: str) -> bool:
        return any("Running task" in f.read_text(errors="ignore")
                   for f in (self.work / work_dir).glob("app-*/*/stderr"))

    def kill(self, name: str) -> None:
        """SIGKILL a worker and everything it started (its executor JVM too)."""
        os.killpg(self.procs[name].pid, signal.SIGKILL)

    def down(self) -> None:
        for p in self.procs.values():
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield c.up()
    finally:
        c.down()


@pytest.fixture(scope="module")
def package_zip(tmp_path_factory):
    """Our package as a user ships it to executors: ``--py-files leia.zip``."""
    out = tmp_path_factory.mktemp("dist") / "leia.zip"
    with zipfile.ZipFile(out, "w") as z:
        for pkg in ("leia", "spark_jobs"):
            for f in (REPO / pkg).rglob("*.py"):
                z.write(f, f.relative_to(REPO))
    return out


# Executors run this wrapper instead of the test's Python: it imports our packages only
# from what spark-submit shipped (zips and wheels on sys.path), as a worker node that
# never installed them does; the editable install of the test machine is hidden.
SHIPPED_ONLY = """
import sys
from importlib.machinery import PathFinder


class ShippedOnly:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name not in ("leia", "spark_jobs", "trainer"):
            return None
        shipped = [p for p in sys.path if p.endswith((".zip", ".whl", ".egg"))]
        spec = PathFinder.find_spec(name, shipped)
        if spec is None:
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return spec


sys.meta_path.insert(0, ShippedOnly)
"""


@pytest.fixture(scope="module")
def worker_python(tmp_path_factory):
    folder = tmp_path_factory.mktemp("worker_python")
    (folder / "sitecustomize.py").write_text(SHIPPED_ONLY)
    exe = folder / "python"
    exe.write_text(f'#!/bin/sh\nPYTHONPATH="{folder}${{PYTHONPATH:+:$PYTHONPATH}}" '
                   f'exec {sys.executable} "$@"\n')
    exe.chmod(0o755)
    return str(exe)


def submit(cluster, package_zip, script, *args, background=False, worker_python=None):
    # A cluster's default of 200 shuffle partitions (and 50 for Delta's log) is tuned
    # for big data: each is a task here, on 2 cores.
    ship = ["--py-files", str(package_zip)] if package_zip else []
    cmd = [f"{spark_home()}/bin/spark-submit", "--master", cluster.url, *ship,
           "--packages", DELTA,
           "--conf", "spark.task.maxFailures=4", "--conf", "spark.ui.enabled=false",
           "--conf", "spark.sql.shuffle.partitions=4",
           "--conf", f"spark.driver.extraJavaOptions={LOCAL_JAVA_OPTIONS}",
           "--conf", f"spark.executor.extraJavaOptions={JVM_OPTIONS}",
           "--conf", "spark.databricks.delta.snapshotPartitions=2",
           str(REPO / "spark_jobs" / script), *args]
    env = {**cluster.env, "PYSPARK_DRIVER_PYTHON": sys.executable,
           "PYSPARK_PYTHON": worker_python or sys.executable}
    env.pop("PYTHONPATH", None)  # executors get our code from --py-files only
    if background:
        return subprocess.Popen(cmd, env=env, cwd="/", stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    return subprocess.run(cmd, env=env, cwd="/", capture_output=True, text=True, timeout=900)


def rows(root: Path, table: str, wikis: list[str] | None = None):
    """A table as comparable rows: sorted, nested arrays as plain lists."""
    from deltalake import DeltaTable
    df = DeltaTable(str(root / table)).to_pandas(
        filters=[("wiki", "in", wikis)] if wikis else None)
    for col in ("links", "insertions"):
        if col in df:
            df[col] = df[col].map(lambda xs: [dict(x) for x in xs])
    return df.sort_values(["wiki", "page_id"]).reset_index(drop=True)


WIKIS = "viwiki,jawiki,zhwiki,arwiki"  # small: the cluster's fixed costs dominate anyway


def test_executors_without_our_package_get_a_clear_error(cluster, worker_python,
                                                         tmp_path):
    r = submit(cluster, None, "augment.py", "--out", str(tmp_path / "corpus"), "--wikis",
               "viwiki", worker_python=worker_python)
    log = r.stdout + r.stderr  # spark-submit passes the driver's stderr to its stdout
    assert r.returncode == 2, log[-5000:]
    assert "executors cannot import this project: No module named 'leia'" in log
    assert "--py-files" in log
    assert not (tmp_path / "corpus").exists()  # failed before writing anything


def test_corpus_job_on_a_cluster_survives_a_killed_worker(cluster, package_zip,
                                                          worker_python, sample_run,
                                                          tmp_path):
    out = tmp_path / "corpus"
    proc = submit(cluster, package_zip, "augment.py", "--out", str(out), "--wikis", WIKIS,
                  "--split-mb", "0.02", background=True, worker_python=worker_python)
    # Kill one worker once its executor runs the job's tasks (its log says so).
    deadline = time.time() + 300
    while not cluster.running_tasks("w2"):
        assert proc.poll() is None and time.time() < deadline, "no task ran on worker 2"
        time.sleep(0.2)
    cluster.kill("worker2")
    log, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, log[-5000:]
    assert any(w["state"] != "ALIVE" for w in cluster.state()["workers"])
    local = sample_run[0]
    for table in ("articles", "augmented", "alignment"):
        a, b = rows(out, table), rows(local, table, WIKIS.split(","))
        assert len(a) == len(b) > 0, table
        assert a.equals(b), table


def test_encoder_on_a_cluster_writes_the_same_documents(cluster, package_zip,
                                                        worker_python, sample_run,
                                                        bpe_shards, bpe_tokenizer,
                                                        tmp_path):
    from leia.shards import ShardSet

    out = tmp_path / "shards"
    r = submit(cluster, package_zip, "encode.py", "--table",
               str(sample_run[0] / "augmented"), "--tokenizer", bpe_tokenizer, "--out",
               str(out), "--wikis", "viwiki,jawiki", "--tokens-per-shard", "20000",
               worker_python=worker_python)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    ours = {(d.wiki, d.page_id): (d.tokens.tolist(), d.mask.tolist())
            for d in ShardSet(out, verify=True).documents()}
    local = {(d.wiki, d.page_id): (d.tokens.tolist(), d.mask.tolist())
             for d in ShardSet(bpe_shards[0]).documents() if d.wiki in ("viwiki", "jawiki")}
    assert len(ShardSet(out).shards) > 1 and ours == local
