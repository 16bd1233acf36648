"""Compare evaluations side by side, laid out as the LEIA paper's tables: one table per
task (X-CODAH, X-CSQA), a row per model, a column per language and the average.

    python -m trainer.report base=out/eval/base plain=out/eval/plain leia=out/eval/leia \\
        --out out/report

Each argument is NAME=EVAL_DIR (a folder written by ``python -m trainer.evaluate``); the
first is the baseline that the others' differences are taken against. Writes
OUT/report.md, OUT/report.json and OUT/report.png (bars with the 95% interval over
seeds), and prints the Markdown.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from leia.xcsr import KINDS


def load_runs(specs: list[str]) -> dict[str, dict]:
    """``["base=DIR", ...]`` -> {name: metrics}, in the order given."""
    runs = {}
    for spec in specs:
        name, sep, folder = spec.partition("=")
        if not sep or not name or not folder:
            raise ValueError(f"{spec!r}: give each run as NAME=EVAL_DIR, e.g. base=out/eval/base")
        if name in runs:
            raise ValueError(f"run name {name!r} is given twice")
        f = Path(folder) / "metrics.json"
        if not f.is_file():
            raise ValueError(f"{f} does not exist: run python -m trainer.evaluate "
                             f"--out {folder} first (a run that stopped early leaves none)")
        runs[name] = json.loads(f.read_text())
    if not runs:
        raise ValueError("no runs given: pass NAME=EVAL_DIR for each evaluation")
    return runs


def tables(runs: dict[str, dict]) -> dict[str, dict]:
    """Per task kind: the languages, and per run its accuracy and ci95 per language and
    the average over the languages that every run has (so averages compare)."""
    out = {}
    for kind in KINDS:
        langs = sorted({m["lang"] for r in runs.values() for m in r.values()
                        if m["kind"] == kind})
        if not langs:
            continue
        shared = [lang for lang in langs if all(_cell(r, kind, lang) for r in runs.values())]
        rows = {}
        for name, r in runs.items():
            cells = {lang: _cell(r, kind, lang) for lang in langs}
            avg = (sum(cells[lang]["accuracy"] for lang in shared) / len(shared)
                   if shared else None)
            rows[name] = {"cells": cells, "average": avg}
        out[kind] = {"title": KINDS[kind], "languages": langs, "average_over": shared,
                     "rows": rows}
    return out


def _cell(run: dict, kind: str, lang: str) -> dict | None:
    for m in run.values():
        if m["kind"] == kind and m["lang"] == lang:
            return {"accuracy": m["accuracy"], "ci95": m["ci95"], "seeds": m["seeds"],
                    "shots": m["shots"], "examples": m["examples"]}
    return None


def markdown(tabs: dict[str, dict]) -> str:
    parts = []
    for t in tabs.values():
        langs = t["languages"]
        base = next(iter(t["rows"]))
        settings = {(c["shots"], c["seeds"]) for r in t["rows"].values()
                    for c in r["cells"].values() if c}
        setting = (f"{next(iter(settings))[0]}-shot, mean of {next(iter(settings))[1]} "
                   f"seed(s)" if len(settings) == 1 else
                   "shots or seeds differ between runs (see report.json)")
        parts.append(f"### {t['title']} (accuracy %, {setting}; average over "
                     f"{', '.join(t['average_over']) or 'no shared language'})\n")
        parts.append("| model | " + " | ".join(langs) + " | avg |")
        parts.append("|---|" + "---:|" * (len(langs) + 1))
        for name, row in t["rows"].items():
            vals = [_pct(row["cells"][lang], t["rows"][base]["cells"][lang], name == base)
                    for lang in langs]
            avg = "–" if row["average"] is None else f"{100 * row['average']:.1f}"
            if name != base and row["average"] is not None and \
                    t["rows"][base]["average"] is not None:
                avg += f" ({100 * (row['average'] - t['rows'][base]['average']):+.1f})"
            parts.append(f"| {name} | " + " | ".join(vals) + f" | {avg} |")
        parts.append("")
    parts.append("Differences in parentheses are against the first row. The ± is the 95% "
                 "interval over seeds (X-CSQA demonstrations); X-CODAH is 0-shot, so its "
                 "seeds agree and only more questions narrow it.")
    return "\n".join(parts) + "\n"


def _pct(cell, base, is_base: bool) -> str:
    if cell is None:
        return "–"
    s = f"{100 * cell['accuracy']:.1f}"
    if cell["ci95"]:
        s += f" ±{100 * cell['ci95']:.1f}"
    if not is_base and base is not None:
        s += f" ({100 * (cell['accuracy'] - base['accuracy']):+.1f})"
    return s


def error_bars(acc: list[float], half_widths: list[float]) -> list[list[float]]:
    """Below and above each bar: the 95% interval, cut to what an accuracy can be
    (0-100%), as matplotlib's asymmetric ``yerr`` takes it."""
    below = [min(h, a) if a == a else 0 for a, h in zip(acc, half_widths)]
    above = [min(h, 100 - a) if a == a else 0 for a, h in zip(acc, half_widths)]
    return [below, above]


def plot(tabs: dict[str, dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")  # files only; no display on a cluster node or in CI
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tabs), figsize=(6 * len(tabs), 3.6), squeeze=False)
    for ax, t in zip(axes[0], tabs.values()):
        cols = t["languages"] + ["avg*"]
        width = 0.8 / len(t["rows"])
        for i, (name, row) in enumerate(t["rows"].items()):
            nan = float("nan")  # a missing result draws no bar, rather than a zero
            average = nan if row["average"] is None else 100 * row["average"]
            acc = [100 * row["cells"][lang]["accuracy"] if row["cells"][lang] else nan
                   for lang in t["languages"]] + [average]
            err = [100 * row["cells"][lang]["ci95"] if row["cells"][lang] else 0
                   for lang in t["languages"]] + [0]
            ax.bar([x + i * width for x in range(len(cols))], acc, width,
                   yerr=error_bars(acc, err), label=name, capsize=2)
        ax.set_xticks([x + width * (len(t["rows"]) - 1) / 2 for x in range(len(cols))],
                      cols)
        ax.set_title(f"{t['title']} (*avg over {', '.join(t['average_over']) or '-'})")
        ax.set_ylabel("accuracy (%)")
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(runs: dict[str, dict], out: Path) -> str:
    tabs = tables(runs)
    if not tabs:
        raise ValueError("the runs hold no X-CODAH or X-CSQA results")
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(tabs)
    (out / "report.md").write_text(text, encoding="utf-8")
    (out / "report.json").write_text(json.dumps(tabs, indent=2), encoding="utf-8")
    plot(tabs, out / "report.png")
    return text


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m trainer.report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="NAME=EVAL_DIR, the baseline first")
    p.add_argument("--out", default="out/report", help="folder for report.md/.json/.png")
    args = p.parse_args(argv)
    try:
        text = write_report(load_runs(args.runs), Path(args.out))
    except ValueError as e:
        p.error(str(e))
    print(text)
    print(f"report: {Path(args.out) / 'report.md'} and report.png")


if __name__ == "__main__":
    sys.exit(main())
