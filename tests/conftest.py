"""Shared fixtures: one SparkSession per test process, the real excerpts, the sample.

The suite runs on two xdist workers, each test file whole on one of them
(``pyproject.toml``): a session fixture is built at most once per worker, by the first
test that asks for it.

Each test's layer is its folder (``unit``, ``spark``, ``distributed``, ``e2e``, ``gpu``),
given to it as a marker, so ``-m unit`` runs the pure functions alone.
"""

from __future__ import annotations

import bz2
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# Two workers on two cores: one thread each for torch's and the tokenizers' pools, in
# the workers and in every process they start (set before anything imports torch).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample" / "dumps"
LAYERS = ("unit", "spark", "distributed", "e2e", "gpu")

# The end-to-end tests start some twenty Spark JVMs (spark-submit drivers, a cluster's
# daemons and executors, the pipeline's and the experiment's sessions), and half of
# each start is loading and verifying Spark's classes. A class-data-sharing archive
# (JDK CDS) of them, dumped once per run by a JVM that did a Delta write, lets every
# later driver map them instead: a session's start takes ~8 CPU-seconds instead of
# ~15. The path is fixed here, in the controller, before the workers inherit the
# environment; a JVM that starts before the archive exists starts as usual.
# LEIA_TEST_CLASS_ARCHIVE=off runs without it (docs/development.md compares the two).
_ARCHIVE_DIR = None  # made by this process, which removes it at the end
if "LEIA_TEST_CLASS_ARCHIVE" not in os.environ:
    _ARCHIVE_DIR = tempfile.mkdtemp(prefix="leia-tests-jvm-")
    os.environ["LEIA_TEST_CLASS_ARCHIVE"] = os.path.join(_ARCHIVE_DIR, "spark-classes.jsa")
CLASS_ARCHIVE = os.environ["LEIA_TEST_CLASS_ARCHIVE"]
_QUIET_CDS = "-Xlog:cds=off -Xlog:cds+dynamic=off"  # a missing archive: no warning
CLASS_ARCHIVE_OPTIONS = "" if CLASS_ARCHIVE == "off" else (
    f"-XX:SharedArchiveFile={CLASS_ARCHIVE} {_QUIET_CDS}")
if CLASS_ARCHIVE_OPTIONS and CLASS_ARCHIVE not in os.environ.get("SPARK_SUBMIT_OPTS", ""):
    os.environ["SPARK_SUBMIT_OPTS"] = (
        os.environ.get("SPARK_SUBMIT_OPTS", "") + " " + CLASS_ARCHIVE_OPTIONS).strip()
_DUMP_CLASSES = """
import os, shutil, sys, tempfile
sys.path.insert(0, sys.argv[1])
from spark_jobs.session import build_spark
scratch = tempfile.mkdtemp(prefix="leia-tests-jvm-")
os.chdir(scratch)
spark = build_spark("leia-tests-class-archive", "local[1]", {"spark.ui.enabled": "false"})
spark.range(3).write.format("delta").save(scratch + "/table")
spark.read.format("delta").load(scratch + "/table").count()
jvm = spark.sparkContext._gateway.proc
spark.stop()
jvm.stdin.close()  # the JVM exits and writes the archive; wait for it
if jvm.wait() == 0 and os.path.exists(sys.argv[2] + ".tmp"):
    os.replace(sys.argv[2] + ".tmp", sys.argv[2])
shutil.rmtree(scratch, ignore_errors=True)
"""
_dumping: list[subprocess.Popen] = []


def _dump_spark_classes() -> None:
    """Start the JVM that dumps the archive, once, in the background."""
    if _dumping or not CLASS_ARCHIVE_OPTIONS or os.path.exists(CLASS_ARCHIVE):
        return
    env = {**os.environ,
           "SPARK_SUBMIT_OPTS": f"-XX:ArchiveClassesAtExit={CLASS_ARCHIVE}.tmp {_QUIET_CDS}"}
    _dumping.append(subprocess.Popen(
        [sys.executable, "-c", _DUMP_CLASSES, str(REPO), CLASS_ARCHIVE], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's; absent under -p no:xdist
def pytest_xdist_node_collection_finished(node, ids):
    # The controller, once a worker has collected: the archive pays off only for a run
    # with the end-to-end tests in it.
    if any(i.startswith("tests/e2e/") for i in ids):
        _dump_spark_classes()


def pytest_collection_finish(session):
    if not hasattr(session.config, "workerinput") and any(
            i.path.parent.name == "e2e" for i in session.items):
        _dump_spark_classes()  # -n 0: this one process runs them


def pytest_unconfigure(config):
    if hasattr(config, "workerinput"):
        return  # the controller (or the one process of -n 0) owns the archive
    for proc in _dumping:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
    if _ARCHIVE_DIR:
        shutil.rmtree(_ARCHIVE_DIR, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    for item in items:
        layer = item.path.parent.name
        if layer not in LAYERS:
            raise pytest.UsageError(f"{item.nodeid}: put the test in one of the layers "
                                    f"tests/{{{','.join(LAYERS)}}}/")
        if layer == "unit" and "spark" in item.fixturenames:
            raise pytest.UsageError(f"{item.nodeid}: a unit test may not use Spark; move "
                                    "it to tests/spark/")
        item.add_marker(layer)
        if layer in ("e2e", "gpu"):  # whole commands: minutes, not seconds
            item.add_marker("slow")


def sample_xml(wiki: str) -> Path:
    return next(SAMPLE.glob(f"{wiki}-*-pages-articles.xml.bz2"))


def read_xml(wiki: str) -> str:
    return bz2.open(sample_xml(wiki), "rt", encoding="utf-8").read()


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from spark_jobs.session import build_spark

    s = build_spark("leia-tests", "local[2]", {
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.databricks.delta.snapshotPartitions": "1",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.warehouse.dir": str(tmp_path_factory.mktemp("warehouse")),
    })
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def copy_sample(dest: Path, wikis: list[str]) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for w in wikis:
        for f in SAMPLE.glob(f"{w}-*"):
            shutil.copy(f, dest / f.name)
    return dest


def built_once(name: str, tmp_path_factory, worker_id: str, build):
    """``build(folder)``'s value, built by the first worker that asks for it in this test
    run and read back by the others (pickled beside the folder; pytest-xdist's recipe):
    the sample corpus, its shards and the tokenizers are made once, not once per worker.
    Whoever uses a built folder reads it and never writes there."""
    from filelock import FileLock

    if worker_id == "master":  # -n 0: one process
        return build(tmp_path_factory.mktemp(name))
    root = tmp_path_factory.getbasetemp().parent / "built-once"
    root.mkdir(exist_ok=True)
    value = root / f"{name}.pickle"
    with FileLock(str(root / f"{name}.lock")):
        if value.exists():
            return pickle.loads(value.read_bytes())
        folder = root / name
        shutil.rmtree(folder, ignore_errors=True)  # a build that failed half-way
        folder.mkdir()
        got = build(folder)
        value.write_bytes(pickle.dumps(got))
        return got


@pytest.fixture(scope="session")
def sample_run(request, tmp_path_factory, worker_id):
    """The job run once on the whole bundled sample (the README's main command)."""
    def build(folder):
        from spark_jobs.augment import run
        from spark_jobs.config import parse_args

        out = folder / "corpus"
        cfg = parse_args(["--out", str(out), "--split-mb", "0.25"])
        return out, run(request.getfixturevalue("spark"), cfg)
    return built_once("sample", tmp_path_factory, worker_id, build)


def _sample_texts(limit=3 << 20):
    from leia.toy_tokenizer import dump_texts
    return dump_texts(SAMPLE, limit_bytes=limit)


@pytest.fixture(scope="session")
def bpe_tokenizer(tmp_path_factory, worker_id):
    """A byte-level BPE (Llama-3 / GPT-2 style, BOS first) trained on the sample."""
    from leia.toy_tokenizer import train_bpe
    return built_once("bpe", tmp_path_factory, worker_id,
                      lambda folder: str(train_bpe(_sample_texts(), folder, 3000)))


@pytest.fixture(scope="session")
def spm_tokenizer(tmp_path_factory, worker_id):
    """A SentencePiece BPE loaded as a fast Llama tokenizer (Llama-2 style)."""
    from leia.toy_tokenizer import train_sentencepiece
    return built_once("spm", tmp_path_factory, worker_id,
                      lambda folder: str(train_sentencepiece(_sample_texts(), folder, 3000)))


@pytest.fixture(scope="session")
def bpe_shards(request, sample_run, bpe_tokenizer, tmp_path_factory, worker_id):
    """The sample's corpus encoded with the byte-level BPE: (folder, manifest)."""
    def build(folder):
        from spark_jobs.encode import run
        from spark_jobs.encode_config import parse_args

        out = folder / "bpe"
        cfg = parse_args(["--table", str(sample_run[0] / "augmented"), "--tokenizer",
                          bpe_tokenizer, "--out", str(out), "--tokens-per-shard", "60000"])
        return out, run(request.getfixturevalue("spark"), cfg)
    return built_once("shards", tmp_path_factory, worker_id, build)


@pytest.fixture(scope="session")
def tiny_model(bpe_tokenizer, tmp_path_factory, worker_id):
    """A randomly initialised 2-layer Llama with the BPE tokenizer, saved as a Hugging
    Face folder (what --model names)."""
    from trainer.tiny_model import build_tiny_llama

    return built_once("tiny_llama", tmp_path_factory, worker_id,
                      lambda folder: str(build_tiny_llama(bpe_tokenizer, folder)))
