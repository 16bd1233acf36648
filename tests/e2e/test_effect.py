"""The effect experiment's one command, --quick: every stage runs through the
project's own jobs on a world per seed, the tests it wrote are ones only recall
passes, and the report holds every test for base, plain and LEIA."""

import json
import os
import subprocess
import sys
from pathlib import Path

from experiments.effect.questions import TESTS, check_recall_only
from leia import corpus_stats as cs
from leia.xcsr import KINDS

REPO = Path(__file__).resolve().parents[2]


def test_quick_runs_every_stage(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "experiments.effect", "--quick",
                        "--out", str(tmp_path)], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    worlds = []
    for seed in (0, 1):
        root = tmp_path / f"seed-{seed}"
        stats = cs.latest_stats(root / "corpus-right-p0.5")
        assert sorted(stats.index) == ["enwiki", "ruwiki", "ruwikinews"]
        # Every link of the synthetic target wiki resolves and aligns (trails, redirects).
        ru = stats.loc["ruwiki"]
        assert ru["links"] > 0 and ru["links_resolved"] == ru["links"] == ru["links_aligned"]
        # The names counted for the dose are the insertions the stats count.
        names = json.loads((root / "corpus-right-p0.5" / "names.json").read_text())
        assert sum(names.values()) == ru["insertions"] > 0
        leia = json.loads((root / "shards" / "leia-right-p0.5" / "manifest.json")
                          .read_text())
        plain = json.loads((root / "shards" / "plain" / "manifest.json").read_text())
        assert leia["totals"]["placed"] > 0 and plain["totals"]["placed"] == 0
        for test, spec in TESTS.items():
            rows = [json.loads(line) for line in
                    (root / "tests" / KINDS[spec.kind] / test / "dev.jsonl").open()]
            check_recall_only(rows)
        worlds.append(json.loads((root / "tests" / "people.json").read_text()))
    assert worlds[0] != worlds[1]  # each seed its own world
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report["results"]) == set(TESTS)
    for cells in report["results"].values():
        assert len(cells["leia-right-p0.5"]["per_seed"]) == 2
        lo, hi = cells["leia-plain"]["boot95"]
        assert lo <= cells["leia-plain"]["mean"] <= hi
    assert sum(r["people"] for r in report["dose"]) == report["results"]["ru-transfer"][
        "people"]
    assert (tmp_path / "report.png").stat().st_size > 0
    assert "| leia-plain |" in (tmp_path / "report.md").read_text()
