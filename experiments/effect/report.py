"""The effect's report: per test, each model's accuracy as the mean over training seeds
with its 95% interval, and LEIA minus plain paired by seed (both continue the same
base model), as the paper's table lays it out."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from trainer.evaluate import ci95

# task language -> what it measures
TESTS = {
    "ru-transfer": "target-language questions on English-only people (the transfer test)",
    "ru-seen": "target-language questions on people the target wiki describes (control)",
    "en-transfer": "English questions on the English-only people (control)",
}


def collect(out: Path, models: list[str]) -> dict[str, dict[str, list[float]]]:
    """{test: {model: [accuracy per seed]}} from OUT/eval/<seed>/<model>/metrics.json,
    over the seeds where every model was evaluated."""
    res = {t: {m: [] for m in models} for t in TESTS}
    for s in sorted((p for p in (out / "eval").iterdir() if p.name.isdigit()),
                    key=lambda p: int(p.name)):
        if not all((s / m / "metrics.json").is_file() for m in models):
            continue
        for m in models:
            metrics = json.loads((s / m / "metrics.json").read_text())
            for t in TESTS:
                res[t][m].append(metrics[f"xcodah_{t}"]["accuracy"])
    return res


def summary(res: dict, leia: str) -> dict:
    """Mean and 95% interval per test and model, and LEIA minus plain paired by seed."""
    out = {}
    for t, by_model in res.items():
        row = {m: _stats(v) for m, v in by_model.items()}
        row["leia-plain"] = _stats([a - b for a, b in zip(by_model[leia], by_model["plain"])])
        out[t] = row
    return out


def _stats(v: list[float]) -> dict:
    return {"mean": statistics.fmean(v), "ci95": ci95(v), "per_seed": v}


def _cell(c: dict, signed: bool = False) -> str:
    return f"{100 * c['mean']:{'+' if signed else ''}.1f} ±{100 * c['ci95']:.1f}"


def markdown(summ: dict, cfg, chance: float, ablations: dict) -> str:
    leia = cfg.leia_name()
    lines = ["| model | " + " | ".join(TESTS) + " |", "|---|" + "---:|" * len(TESTS)]
    for m in ("base", "plain", leia, "leia-plain"):
        lines.append(f"| {m} | " + " | ".join(_cell(summ[t][m], m == "leia-plain")
                                              for t in TESTS) + " |")
    n = len(summ["ru-transfer"]["base"]["per_seed"])
    legend = "\n".join(f"- `{t}`: {d}" for t, d in TESTS.items())
    text = (f"# The LEIA effect on a synthetic bilingual Wikipedia\n\n"
            f"Accuracy (%) on four-choice questions (chance {100 * chance:.0f}%), mean "
            f"over {n} training seed(s) ± the 95% t-interval; `leia-plain` is the "
            f"difference paired by seed (both continue the same base model).\n\n"
            + "\n".join(lines) + "\n\n" + legend
            + f"\n\nWorld: {cfg.people} people ({cfg.seen_share:.0%} seen), "
              f"{cfg.mentions} links to each, names {cfg.names}. Model: {cfg.layers} "
              f"layers, hidden {cfg.hidden}; {cfg.pretrain_steps} pretraining and "
              f"{cfg.steps} continued steps of {cfg.global_batch} x {cfg.seq_len} tokens.\n")
    if len(ablations) > 1:
        text += ("\n## Every augmentation evaluated in this folder\n\n"
                 "| variant | seeds | ru-transfer | minus plain | ru-seen | en-transfer |\n"
                 "|---|---:|---:|---:|---:|---:|\n")
        for name, s in ablations.items():
            text += (f"| {name} | {len(s['ru-transfer'][name]['per_seed'])} | "
                     f"{_cell(s['ru-transfer'][name])} | "
                     f"{_cell(s['ru-transfer']['leia-plain'], True)} | "
                     f"{_cell(s['ru-seen'][name])} | {_cell(s['en-transfer'][name])} |\n")
    return text


def plot(summ: dict, models: tuple[str, ...], path: Path, chance: float) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from trainer.report import error_bars

    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.8 / len(models)
    for i, m in enumerate(models):
        acc = [100 * summ[t][m]["mean"] for t in TESTS]
        err = [100 * summ[t][m]["ci95"] for t in TESTS]
        ax.bar([x + i * width for x in range(len(TESTS))], acc, width,
               yerr=error_bars(acc, err), label=m, capsize=3)
    ax.axhline(100 * chance, color="grey", lw=0.8, ls="--")
    ax.set_xticks([x + width for x in range(len(TESTS))], list(TESTS))
    ax.set_ylabel("accuracy (%)")
    ax.set_title("LEIA effect: mean over seeds, 95% interval (dashed: chance)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(out: Path, cfg, leia: str) -> str:
    summ = summary(collect(out, ["base", "plain", leia]), leia)
    variants = sorted({p.name for p in (out / "eval").glob("*/leia-*")})
    ablations = {v: summary(collect(out, ["base", "plain", v]), v) for v in variants}
    first = out / "tests" / "X-CODAH" / "ru-transfer" / "dev.jsonl"
    choices = len(json.loads(first.read_text().splitlines()[0])["question"]["choices"])
    text = markdown(summ, cfg, 1 / choices, ablations)
    (out / "report.md").write_text(text, encoding="utf-8")
    (out / "report.json").write_text(json.dumps(
        {"config": json.loads(cfg.to_json()), "results": summ, "variants": ablations},
        indent=2))
    plot(summ, ("base", "plain", leia), out / "report.png", 1 / choices)
    return text
