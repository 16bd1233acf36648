"""The stages' commands exactly as the README prints them, with Spark's own launcher:
a bare ``spark-submit`` (no ``--packages``) must find the Delta jars itself."""

import os
import shutil
import subprocess

from conftest import REPO

from leia.shards import ShardSet


def spark_submit(*args, cwd):
    exe = shutil.which("spark-submit")
    assert exe, "spark-submit is not on PATH: pip install -e '.[spark]' puts it there"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_")}
    return subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_bare_spark_submit_builds_and_encodes(tmp_path, bpe_tokenizer):
    from deltalake import DeltaTable

    r = spark_submit("spark_jobs/augment.py", "--wikis", "swwiki,arwiki", "--out",
                     str(tmp_path / "corpus"), cwd=REPO)
    assert r.returncode == 0, r.stdout[-3000:]
    # spark-submit sends the Python process's stderr to its own stdout.
    assert "starting the job again with --packages io.delta:" in r.stdout
    assert "tables written under" in r.stdout
    rows = DeltaTable(str(tmp_path / "corpus" / "augmented")).to_pyarrow_table(
        columns=["wiki"]).column("wiki").to_pylist()
    assert sorted(set(rows)) == ["arwiki", "swwiki"]

    r = spark_submit("spark_jobs/encode.py", "--table", str(tmp_path / "corpus/augmented"),
                     "--tokenizer", bpe_tokenizer, "--out", str(tmp_path / "shards"),
                     cwd=REPO)
    assert r.returncode == 0, r.stdout[-3000:]
    shards = ShardSet(tmp_path / "shards", verify=True)
    assert 0 < shards.num_documents <= len(rows) and shards.wikis == ["arwiki", "swwiki"]
