"""The effect's report: per test and model, the mean accuracy over (world, training)
seeds with two 95% intervals, LEIA minus plain paired by seed (both continue the same
base model on the same world), and accuracy against how often a person's English name
was inserted (the dose).

Two intervals, because two things vary: the t-interval is over seeds alone; the
bootstrap draws seeds and, within each, the people asked about (all of a person's
questions together), so it also says how much the number would move with other
questions."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from leia.xcsr import KINDS
from trainer.evaluate import ci95

from .dose import read_name_counts
from .dumps import PEOPLE
from .questions import TESTS

DESCRIBED = {
    "ru-transfer": "target-language questions on English-only people: the transfer",
    "ru-shuffled": "the same questions, each name swapped for another in its group: "
                   "recall scores below chance here, a prior at chance",
    "ru-seen": "target-language questions on people the target wiki describes (control)",
    "en-transfer": "English questions on the English-only people (control)",
    "ru-qa": "`Question: В каком году родился Каро Менита?\\nAnswer:` with the four "
             "years as answers, k-shot with demonstrations about seen people (X-CSQA's "
             "protocol): the transfer, asked as a question",
    "ru-qa-seen": "the same about seen people, with demonstrations about English-only "
                  "people (control)",
}
BOOTSTRAP = 2000
DOSE_TEST = "ru-transfer"


@dataclass
class Pair:
    """One (world, training) seed's evaluations: per test, per question, its person,
    and per model whether it was answered right."""
    seed: int
    people: dict[str, dict]  # person key -> en, tgt, year, seen
    asked: dict[str, dict[str, str]]  # test -> question id -> person key
    correct: dict[str, dict[str, dict[str, bool]]]  # model -> test -> id -> right?
    launch: dict[str, dict]  # model -> {processes, launcher}

    def by_person(self, model: str, test: str) -> dict[str, float]:
        """Each person's accuracy over their questions (one per grouping)."""
        acc: dict[str, list[bool]] = {}
        for qid, person in self.asked[test].items():
            acc.setdefault(person, []).append(self.correct[model][test][qid])
        return {p: statistics.fmean(v) for p, v in acc.items()}


def load_pairs(out: Path, models: list[str]) -> list[Pair]:
    """Every OUT/seed-<n> where each model's evaluation is complete."""
    pairs = []
    for root in sorted(out.glob("seed-*"), key=lambda p: int(p.name.split("-")[1])):
        evals = {m: root / "eval" / m for m in models}
        if not all((e / "metrics.json").is_file() for e in evals.values()):
            continue
        asked = {t: {} for t in TESTS}
        for t, spec in TESTS.items():
            for line in (root / "tests" / KINDS[spec.kind] / t / "dev.jsonl").open():
                row = json.loads(line)
                asked[t][row["id"]] = row["person"]
        correct = {m: {t: {r["id"]: r["correct"] for r in map(json.loads, (
            evals[m] / "predictions" / f"{spec.kind}_{t}.jsonl").open())}
            for t, spec in TESTS.items()} for m in models}
        launch = {}
        for m in models:
            record = root / "runs" / m / "hf" / "leia.json"
            launch[m] = (json.loads(record.read_text()).get("training", {})
                         if record.is_file() else {})
        pairs.append(Pair(int(root.name.split("-")[1]),
                          json.loads((root / "tests" / PEOPLE).read_text()),
                          asked, correct, launch))
    return pairs


def _interval(per_pair: list[dict[str, float]], rng: np.random.Generator) -> dict:
    """Mean over pairs of the mean over people, its t-interval over pairs, and its
    two-level bootstrap interval (pairs, then people within each)."""
    means = [statistics.fmean(d.values()) for d in per_pair]
    arrays = [np.fromiter(d.values(), float) for d in per_pair]
    # Per pair, BOOTSTRAP resamples of its people; then pairs are resampled per draw.
    inner = np.stack([a[rng.integers(0, len(a), (BOOTSTRAP, len(a)))].mean(axis=1)
                      for a in arrays])
    pick = rng.integers(0, len(arrays), (BOOTSTRAP, len(arrays)))
    boot = inner[pick, np.arange(BOOTSTRAP)[:, None]].mean(axis=1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return {"mean": statistics.fmean(means), "ci95": ci95(means),
            "boot95": [float(lo), float(hi)], "per_seed": means}


def summary(pairs: list[Pair], leia: str) -> dict:
    """{test: {model or 'leia-plain': interval}} (``_interval``), with the questions
    and people each rests on."""
    rng = np.random.default_rng(0)
    out = {}
    for t in TESTS:
        row = {m: _interval([p.by_person(m, t) for p in pairs], rng)
               for m in ("base", "plain", leia)}
        diffs = []
        for p in pairs:
            a, b = p.by_person(leia, t), p.by_person("plain", t)
            diffs.append({k: a[k] - b[k] for k in a})
        row["leia-plain"] = _interval(diffs, rng)
        row["questions"] = sum(len(p.asked[t]) for p in pairs)
        row["people"] = sum(len(set(p.asked[t].values())) for p in pairs)
        out[t] = row
    return out


def dose_response(pairs: list[Pair], out: Path, corpus: str, leia: str) -> list[dict]:
    """Transfer accuracy by how many times the corpus inserted the person's English
    name, pooled over pairs: one row per count, with people and each model's accuracy."""
    rows: dict[int, dict] = {}
    for p in pairs:
        counts = read_name_counts(out / f"seed-{p.seed}" / corpus)
        acc = {m: p.by_person(m, DOSE_TEST) for m in ("plain", leia)}
        for person in acc["plain"]:
            n = counts.get(p.people[person]["en"], 0)
            row = rows.setdefault(n, {"insertions": n, "people": 0, "plain": [], leia: []})
            row["people"] += 1
            for m in ("plain", leia):
                row[m].append(acc[m][person])
    return [{**r, **{m: statistics.fmean(r[m]) for m in ("plain", leia)}}
            for _, r in sorted(rows.items())]


def _cell(c: dict, signed: bool = False) -> str:
    sign = "+" if signed else ""
    lo, hi = c["boot95"]
    return (f"{100 * c['mean']:{sign}.1f} ±{100 * c['ci95']:.1f} "
            f"[{100 * lo:{sign}.1f}, {100 * hi:{sign}.1f}]")


def markdown(summ: dict, pairs: list[Pair], dose: list[dict], cfg, leia: str,
             ablations: dict) -> str:
    models = ("base", "plain", leia, "leia-plain")
    lines = ["| model | " + " | ".join(TESTS) + " |", "|---|" + "---:|" * len(TESTS)]
    for m in models:
        lines.append(f"| {m} | " + " | ".join(_cell(summ[t][m], m == "leia-plain")
                                              for t in TESTS) + " |")
    lines.append("| questions (people) | " + " | ".join(
        f"{summ[t]['questions']} ({summ[t]['people']})" for t in TESTS) + " |")
    per_seed = [f"| seed | plain | {leia} | LEIA − plain | ru-shuffled ({leia}) | "
                "en-transfer (base) |",
                "|---:|---:|---:|---:|---:|---:|"]
    for i, p in enumerate(pairs):
        s = {m: summ["ru-transfer"][m]["per_seed"][i] for m in ("plain", leia, "leia-plain")}
        per_seed.append(
            f"| {p.seed} | {100 * s['plain']:.1f} | {100 * s[leia]:.1f} | "
            f"{100 * s['leia-plain']:+.1f} | "
            f"{100 * summ['ru-shuffled'][leia]['per_seed'][i]:.1f} | "
            f"{100 * summ['en-transfer']['base']['per_seed'][i]:.1f} |")
    dose_lines = [f"| insertions of the name | people | plain | {leia} |",
                  "|---:|---:|---:|---:|"]
    dose_lines += [f"| {r['insertions']} | {r['people']} | {100 * r['plain']:.1f} | "
                   f"{100 * r[leia]:.1f} |" for r in dose]
    launches = sorted({f"{d.get('launcher', '?')} x {d.get('processes', '?')}"
                       for p in pairs for d in p.launch.values() if d})
    legend = "\n".join(f"- `{t}`: {d}" for t, d in DESCRIBED.items())
    text = (f"# The LEIA effect on synthetic bilingual Wikipedias\n\n"
            f"Accuracy (%) on four-choice questions built so that any scorer that "
            f"ignores the name scores exactly 25%. Mean over {len(pairs)} (world, "
            f"training) seed(s) ± the 95% t-interval over seeds, and in brackets the 95% "
            f"bootstrap interval over seeds and the people asked about; `leia-plain` is "
            f"the difference paired by seed (the same world and base model).\n\n"
            + "\n".join(lines) + "\n\n" + legend
            + f"\n\nWorlds: seeds {cfg.world_seed}-{cfg.world_seed + cfg.seeds - 1}, "
              f"{cfg.people} people each ({cfg.seen_share:.0%} seen), {cfg.mentions} "
              f"links to each, names {cfg.names}, people dealt into groups "
              f"{cfg.groupings} times. Model: {cfg.layers} layers, hidden {cfg.hidden}; "
              f"{cfg.pretrain_steps} pretraining and {cfg.steps} continued steps of "
              f"{cfg.global_batch} x {cfg.seq_len} tokens. Trained with: "
              f"{', '.join(launches) or 'unknown'} (launcher x processes).\n\n"
              "## Per seed (ru-transfer)\n\n" + "\n".join(per_seed) + "\n\n"
              f"## Dose: {DOSE_TEST} accuracy by insertions of the person's name\n\n"
              "Counted in the corpus job's `augmented` table of each world (the LEIA "
              "model's training text); plain saw none of them.\n\n"
            + "\n".join(dose_lines) + "\n")
    if len(ablations) > 1:
        text += ("\n## Every augmentation evaluated in this folder\n\n"
                 "| variant | seeds | ru-transfer | minus plain | ru-shuffled | ru-seen "
                 "| en-transfer |\n|---|---:|---:|---:|---:|---:|---:|\n")
        for name, s in ablations.items():
            text += (f"| {name} | {len(s['ru-transfer'][name]['per_seed'])} | "
                     f"{_cell(s['ru-transfer'][name])} | "
                     f"{_cell(s['ru-transfer']['leia-plain'], True)} | "
                     f"{_cell(s['ru-shuffled'][name])} | "
                     f"{_cell(s['ru-seen'][name])} | {_cell(s['en-transfer'][name])} |\n")
    return text


def plot(summ: dict, dose: list[dict], leia: str, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = ("base", "plain", leia)
    fig, (ax, dx) = plt.subplots(1, 2, figsize=(11, 3.8),
                                 gridspec_kw={"width_ratios": [2, 1]})
    width = 0.8 / len(models)
    for i, m in enumerate(models):
        acc = np.array([100 * summ[t][m]["mean"] for t in TESTS])
        lo = np.array([100 * summ[t][m]["boot95"][0] for t in TESTS])
        hi = np.array([100 * summ[t][m]["boot95"][1] for t in TESTS])
        ax.bar([x + i * width for x in range(len(TESTS))], acc, width,
               yerr=[acc - lo, hi - acc], label=m, capsize=3)
    ax.axhline(25, color="grey", lw=0.8, ls="--")
    ax.set_xticks([x + width for x in range(len(TESTS))], list(TESTS))
    ax.set_ylabel("accuracy (%)")
    ax.set_title("mean over seeds, 95% bootstrap interval (dashed: chance)")
    ax.legend(fontsize="small")
    for m in ("plain", leia):
        dx.plot([r["insertions"] for r in dose], [100 * r[m] for r in dose], "o-",
                label=m)
    dx.axhline(25, color="grey", lw=0.8, ls="--")
    dx.set_xlabel("insertions of the person's English name")
    dx.set_ylabel(f"{DOSE_TEST} accuracy (%)")
    dx.set_title("dose-response")
    dx.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(out: Path, cfg, leia: str) -> str:
    pairs = load_pairs(out, ["base", "plain", leia])
    if not pairs:
        raise SystemExit(f"effect: no seed under {out} has every evaluation; run the "
                         "experiment first")
    summ = summary(pairs, leia)
    corpus = f"corpus-{cfg.strategy}-p{cfg.prob:g}"
    dose = dose_response(pairs, out, corpus, leia)
    variants = sorted({p.name for p in out.glob("seed-*/eval/leia-*")})
    ablations = {}
    for v in variants:
        vp = pairs if v == leia else load_pairs(out, ["base", "plain", v])
        if vp:
            ablations[v] = summ if v == leia else summary(vp, v)
    text = markdown(summ, pairs, dose, cfg, leia, ablations)
    (out / "report.md").write_text(text, encoding="utf-8")
    (out / "report.json").write_text(json.dumps(
        {"config": json.loads(cfg.to_json()), "results": summ, "dose": dose,
         "seeds": [p.seed for p in pairs], "variants": ablations}, indent=2))
    plot(summ, dose, leia, out / "report.png")
    return text
