"""The stages' commands exactly as the README prints them, with Spark's own launcher:
a bare ``spark-submit`` (no ``--packages``) must find the Delta jars itself."""

import os
import shutil
import subprocess
import sys

from conftest import REPO


def spark_submit(*args, cwd):
    exe = shutil.which("spark-submit")
    assert exe, "spark-submit is not on PATH: pip install -e '.[spark]' puts it there"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_")}
    return subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_bare_spark_submit_runs_both_jobs(tmp_path):
    from deltalake import DeltaTable

    r = spark_submit("spark_jobs/augment.py", "--wikis", "swwiki,arwiki", "--out",
                     str(tmp_path / "corpus"), cwd=REPO)
    # spark-submit sends the Python process's stderr to its own stdout.
    assert r.returncode == 0, r.stdout[-3000:]
    assert "starting the job again with --packages io.delta:" in r.stdout
    assert "tables written under" in r.stdout
    rows = DeltaTable(str(tmp_path / "corpus" / "augmented")).to_pyarrow_table(
        columns=["wiki"]).column("wiki").to_pylist()
    assert sorted(set(rows)) == ["arwiki", "swwiki"]

    # The encoder finds Delta the same way: it gets as far as reading the table's log,
    # and says what is wrong with the table it was given (the whole encoder under
    # spark-submit: tests/e2e/test_cluster.py).
    r = spark_submit("spark_jobs/encode.py", "--table", str(tmp_path / "corpus"),
                     "--tokenizer", "unused", "--out", str(tmp_path / "shards"), cwd=REPO)
    assert r.returncode == 2, r.stdout[-3000:]
    assert "starting the job again with --packages io.delta:" in r.stdout
    assert "not a Delta table" in r.stdout and "give the corpus builder's" in r.stdout


def test_a_job_run_by_an_interpreter_that_is_not_on_path(tmp_path):
    """A virtual environment's python run without activating it (an IDE, cron): the
    python3 on PATH is another interpreter, here one that only fails. Spark's local
    workers must run the job's own interpreter, not that one."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").write_text("#!/bin/sh\necho 'not the job interpreter' >&2\nexit 3\n")
    (fake / "python3").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_")}
    env["PATH"] = f"{fake}:{env['PATH']}"
    r = subprocess.run([sys.executable, "spark_jobs/augment.py", "--wikis", "swwiki",
                        "--out", str(tmp_path / "corpus")], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert "not the job interpreter" not in r.stderr
    assert "tables written under" in r.stdout
