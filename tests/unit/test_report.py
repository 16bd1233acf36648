"""The comparison report: the paper's table layout from evaluate's metrics.json files."""

import json

import pytest

from trainer.report import error_bars, load_runs, main, tables


def metrics(folder, accs: dict, ci=0.0, seeds=5):
    folder.mkdir(parents=True)
    m = {}
    for task, acc in accs.items():
        kind, lang = task.split("_")
        m[task] = {"kind": kind, "lang": lang, "examples": 300, "seeds": seeds,
                   "shots": 4 if kind == "xcsqa" else 0, "accuracy": acc,
                   "accuracy_per_seed": [acc] * seeds, "ci95": ci, "stderr": 0.01,
                   "truncated": 0}
    (folder / "metrics.json").write_text(json.dumps(m))
    return f"{folder.name}={folder}"


def test_tables_and_outputs(tmp_path, capsys):
    base = metrics(tmp_path / "base", {"xcodah_ja": 0.303, "xcodah_zh": 0.40,
                                       "xcsqa_ja": 0.5})
    leia = metrics(tmp_path / "leia", {"xcodah_ja": 0.349, "xcodah_zh": 0.41,
                                       "xcodah_sw": 0.30, "xcsqa_ja": 0.52}, ci=0.02)
    t = tables(load_runs([base, leia]))
    codah = t["xcodah"]
    assert codah["languages"] == ["ja", "sw", "zh"]
    assert codah["average_over"] == ["ja", "zh"]  # sw is missing from base
    assert codah["rows"]["leia"]["average"] == pytest.approx((0.349 + 0.41) / 2)
    assert codah["rows"]["base"]["cells"]["sw"] is None
    main([base, leia, "--out", str(tmp_path / "report")])
    md = (tmp_path / "report" / "report.md").read_text()
    assert "| base | 30.3 | – | 40.0 | 35.2 |" in md
    assert "| leia | 34.9 ±2.0 (+4.6) | 30.0 ±2.0 | 41.0 ±2.0 (+1.0) | 37.9 (+2.8) |" in md
    assert "### X-CSQA (accuracy %, 4-shot, mean of 5 seed(s); average over ja)" in md
    assert (tmp_path / "report" / "report.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "report" / "report.json").read_text())["xcsqa"]
    assert md in capsys.readouterr().out


def test_bad_runs_are_usage_errors(tmp_path, capsys):
    for args, message in (([f"base={tmp_path}"], "metrics.json does not exist"),
                          (["base"], "NAME=EVAL_DIR"),
                          ([metrics(tmp_path / "a", {"xcodah_ja": 0.3}),
                            f"a={tmp_path / 'a'}"], "given twice")):
        with pytest.raises(SystemExit) as e:
            main(args)
        assert e.value.code == 2 and message in capsys.readouterr().err


def test_error_bars_stay_between_0_and_100_percent():
    nan = float("nan")
    assert error_bars([10.0, 50.0, 97.0, nan], [20.0, 5.0, 8.0, 3.0]) == [
        [10.0, 5.0, 8.0, 0], [20.0, 5.0, 3.0, 0]]
