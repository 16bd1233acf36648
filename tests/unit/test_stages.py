"""The stage runner of pipeline.py and the effect experiment: a stage run in this
process gets the arguments after its ``-m module`` or script, and a failure ends the run
saying which stage failed."""

from pathlib import Path

import pytest

from leia.stages import run_stage

REPO = Path(__file__).resolve().parents[2]


def test_a_module_stage_runs_in_this_process_and_a_failure_names_it(tmp_path, capsys):
    run = tmp_path / "base"
    run.mkdir()
    (run / "metrics.json").write_text(
        '{"xcodah_ja": {"kind": "xcodah", "lang": "ja", "examples": 3, "seeds": 1, '
        '"shots": 0, "accuracy": 0.5, "accuracy_per_seed": [0.5], "ci95": 0.0, '
        '"stderr": 0.0, "truncated": 0}}')
    out = tmp_path / "report"
    run_stage("tool", "report", out / "report.md",
              ["-m", "trainer.report", f"base={run}", "--out", str(out)], cwd=REPO)
    log = capsys.readouterr().out
    assert "$ " in log and " -m trainer.report base=" in log
    assert "== report: done in" in log and (out / "report.md").exists()
    with pytest.raises(SystemExit, match="tool: stage report failed \\(exit 2\\)"):
        run_stage("tool", "report", out / "report.md",
                  ["-m", "trainer.report", f"base={tmp_path / 'none'}"], cwd=REPO)
