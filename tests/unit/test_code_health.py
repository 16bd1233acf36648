"""Habits the code keeps: small modules, and a library that never imports a job."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 400
JOBS = ("spark_jobs", "trainer", "bench", "pipeline")


def sources():
    for top in ("leia", "spark_jobs", "trainer", "bench", "tests", "data"):
        yield from sorted((REPO / top).rglob("*.py"))
    yield REPO / "pipeline.py"


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(REPO)): n for p in sources()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these modules (at most {MAX_LINES} lines each): {long}"


def test_the_library_imports_no_job():
    found = []
    for path in sorted((REPO / "leia").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level \
                else []
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in JOBS]
    assert not found, f"leia/ must not import the jobs: {found}"
