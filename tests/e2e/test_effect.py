"""The effect experiment's one command, --quick: every stage runs through the
project's own jobs, and the report holds every test for base, plain and LEIA."""

import json
import os
import subprocess
import sys
from pathlib import Path

from leia import corpus_stats as cs

REPO = Path(__file__).resolve().parents[2]


def test_quick_runs_every_stage(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "experiments.effect", "--quick",
                        "--out", str(tmp_path)], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    stats = cs.latest_stats(tmp_path / "corpus-right-p0.5")
    assert sorted(stats.index) == ["enwiki", "ruwiki", "ruwikinews"]
    # Every link of the synthetic target wiki resolves and aligns (trails, redirects).
    ru = stats.loc["ruwiki"]
    assert ru["links"] > 0 and ru["links_resolved"] == ru["links"] == ru["links_aligned"]
    leia = json.loads((tmp_path / "shards" / "leia-right-p0.5" / "manifest.json")
                      .read_text())
    plain = json.loads((tmp_path / "shards" / "plain" / "manifest.json").read_text())
    assert leia["totals"]["placed"] > 0 and plain["totals"]["placed"] == 0
    report = json.loads((tmp_path / "report.json").read_text())["results"]
    assert set(report) == {"ru-transfer", "ru-seen", "en-transfer"}
    for cells in report.values():
        assert len(cells["leia-right-p0.5"]["per_seed"]) == 2
    assert (tmp_path / "report.png").stat().st_size > 0
    assert "| leia-plain |" in (tmp_path / "report.md").read_text()
