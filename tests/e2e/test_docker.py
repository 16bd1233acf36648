"""docker/: what can be checked without a Docker engine (none runs here): the compose
file parses and names Dockerfiles, paths and scripts that exist; the images install
with the README's extras; and the image's way of finding the Delta jars (bundled at
build time, no network at run time) works with real Spark."""

import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"


def compose():
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def default(value: str) -> str:
    """``${VAR:-default}`` -> default (what compose uses when VAR is unset)."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def test_compose_names_what_exists():
    services = compose()["services"]
    assert {"spark-master", "spark-worker-1", "spark-worker-2", "submit"} <= set(services)
    for name, svc in services.items():
        build = svc["build"]
        context = (DOCKER / build["context"]).resolve()
        assert (context / build["dockerfile"]).is_file(), name
        for vol in svc["volumes"]:
            host = default(vol.split(":")[0])
            if host.startswith("../data"):  # inputs must exist; outputs are created
                assert (DOCKER / host).exists(), (name, host)
    cmd = services["submit"]["command"]
    assert cmd[:3] == ["spark-submit", "--master", "spark://spark-master:7077"]
    assert (REPO / cmd[3]).is_file() and "--dumps" in cmd and "--out" in cmd
    workers = [s for s in services.values() if "Worker" in " ".join(s["command"])]
    assert all("spark://spark-master:7077" in s["command"] for s in workers)


@pytest.mark.parametrize("dockerfile", ["spark.Dockerfile", "trainer.Dockerfile"])
def test_dockerfiles_copy_what_exists_and_install_real_extras(dockerfile):
    text = (DOCKER / dockerfile).read_text()
    extras = set(tomllib.loads((REPO / "pyproject.toml").read_text())
                 ["project"]["optional-dependencies"])
    for src in re.findall(r"^COPY (\S+(?: \S+)*) \S+$", text, re.M):
        for path in src.split():
            assert (REPO / path).exists(), (dockerfile, path)
    installs = re.findall(r'pip install [^"]*"\.\[([\w,]+)\]"', text)
    assert installs, "no pip install of the project"
    # The installs the README and its docs tell users to run (docs/cluster.md for
    # the images).
    docs = (REPO / "README.md").read_text() + (REPO / "docs" / "cluster.md").read_text()
    readme = {e for g in re.findall(r'pip install -e "\.\[([\w,]+)\]"', docs)
              for e in g.split(",")}
    for group in installs:
        assert set(group.split(",")) <= extras, group
        assert set(group.split(",")) <= readme, group  # the README's own installs


def test_bundled_delta_jars_need_no_ivy(tmp_path, spark):
    """As the Spark image runs: LEIA_DELTA_JARS names a folder of jars resolved at
    build time, and a session writes and reads a Delta table from them alone."""
    resolved = glob.glob(os.path.expanduser("~/.ivy2*/jars/*.jar"))
    assert any("delta-spark" in j for j in resolved), "the session fixture resolved none"
    jars = tmp_path / "jars"
    jars.mkdir()
    for j in resolved:
        shutil.copy(j, jars)
    code = f"""
from spark_jobs.session import build_spark
s = build_spark("bundled", "local[1]", {{"spark.ui.enabled": "false"}})
assert "spark.jars.packages" not in dict(s.sparkContext.getConf().getAll())
s.range(3).write.format("delta").save("{tmp_path / 't'}")
print("rows", s.read.format("delta").load("{tmp_path / 't'}").count())
s.stop()
"""
    env = {**os.environ, "LEIA_DELTA_JARS": str(jars), "PYTHONPATH": str(REPO)}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0 and "rows 3" in r.stdout, r.stderr[-3000:]
    env["LEIA_DELTA_JARS"] = str(tmp_path)  # no jars there: a clear error
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode != 0 and "holds no delta-spark jar" in r.stderr
