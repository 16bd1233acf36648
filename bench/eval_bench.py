"""Evaluator benchmark: ``trainer.evaluate`` against lm-evaluation-harness on the CPU,
side by side in one run, same model, same questions, same batch size.

    python bench/eval_bench.py            # after python pipeline.py (its tokenizer)

1. Questions: the bundled X-CSR fixture (7 languages, X-CODAH and X-CSQA), each
   question repeated ``--copies`` times under a new id with a copy number appended to
   its stem and choices, so no two requests are identical (our evaluator scores
   identical requests once: repeating them as they are would flatter it).
2. Model: a randomly initialised Llama (``--layers`` x ``--hidden``) with the pipeline's
   tokenizer; its accuracy means nothing, its speed is what a model of that size costs.
3. Each evaluator runs in its own process pinned to one core (taskset, one thread):
   ours with one seed (so X-CSQA gets one set of 4-shot prompts), lm-eval with the
   same prompts (``bench/lm_eval_peer.py``). Timed: the whole evaluation, model loading
   included, for both.

Reported: scored choices per second, and whether both give the same accuracy per task.
Results go to bench/results/eval.json and are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORK = ROOT / "bench" / "data" / "eval"
FIXTURE = ROOT / "data" / "xcsr-sample"
LANGS = ("ar", "es", "hi", "ja", "ru", "sw", "zh")
TASKS = [f"{k}_{x}" for k in ("xcodah", "xcsqa") for x in LANGS]


def replicate(copies: int, out: Path) -> int:
    """The fixture with every question ``copies`` times, each copy distinct; the number
    of choices to score (one seed)."""
    shutil.rmtree(out, ignore_errors=True)
    n = 0
    for src in sorted(FIXTURE.glob("X-*/*/dev.jsonl")):
        dest = out / src.relative_to(FIXTURE)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "w") as f:
            for line in src.read_text(encoding="utf-8").splitlines():
                for c in range(copies):
                    doc = json.loads(line)
                    doc["id"] = f"{doc['id']}-{c}"
                    q = doc["question"]
                    if q["stem"].strip():
                        q["stem"] = f"{q['stem']} ({c})"
                    for ch in q["choices"]:
                        ch["text"] = f"{ch['text']} ({c})"
                    n += len(q["choices"])
                    f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return n


def run_ours(model: str, data: str, out: str) -> dict:
    from trainer.eval_config import parse_args
    from trainer.evaluate import evaluate

    t0 = time.perf_counter()
    m = evaluate(parse_args(["--model", model, "--tasks", ",".join(TASKS), "--data", data,
                             "--out", out, "--seeds", "1", "--batch-size", "16"]))
    return {"seconds": time.perf_counter() - t0,
            "accuracy": {t: m[t]["accuracy"] for t in TASKS}}


def run_lm_eval(model: str, data: str, out: str) -> dict:
    from bench import lm_eval_peer

    t0 = time.perf_counter()
    res = lm_eval_peer.evaluate(model, data, TASKS, out, batch_size=16)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "accuracy": {
        t: res["results"][name]["acc,none"] for t, name in res["task_names"].items()}}


def in_subprocess(fn: str, *args: str) -> dict:
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
           "PYTHONPATH": str(ROOT), "HF_DATASETS_OFFLINE": "1"}
    r = subprocess.run([*pin, sys.executable, __file__, "--call", fn, *args], env=env,
                       capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"{fn} failed:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--copies", type=int, default=20)
    p.add_argument("--tokenizer", default=str(ROOT / "out" / "pipeline" / "tokenizer"))
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--call", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.call:
        fn, *rest = args.call
        print(json.dumps({"ours": run_ours, "lm_eval": run_lm_eval}[fn](*rest)))
        return
    if not Path(args.tokenizer, "tokenizer.json").is_file():
        raise SystemExit(f"no tokenizer at {args.tokenizer}: run python pipeline.py "
                         "--stages corpus,tokenizer first, or name one with --tokenizer")
    from trainer.tiny_model import build_tiny_llama

    data = WORK / f"xcsr_x{args.copies}"
    choices = replicate(args.copies, data)
    model = build_tiny_llama(args.tokenizer, WORK / f"llama-{args.layers}x{args.hidden}",
                             layers=args.layers, hidden=args.hidden, heads=8)
    ours = in_subprocess("ours", str(model), str(data), str(WORK / "ours"))
    theirs = in_subprocess("lm_eval", str(model), str(data), str(WORK / "lm_eval"))
    same = {t: abs(ours["accuracy"][t] - theirs["accuracy"][t]) < 1e-9 for t in TASKS}
    results = {"choices": choices, "copies": args.copies,
               "model": f"Llama {args.layers}x{args.hidden}", "ours": ours,
               "lm_eval": theirs, "same_accuracy": same,
               "speedup": theirs["seconds"] / ours["seconds"]}
    (ROOT / "bench" / "results" / "eval.json").write_text(json.dumps(results, indent=2))
    print(f"| 1 core, {choices:,} choices, 14 tasks, Llama {args.layers}x{args.hidden} "
          "| seconds | choices/s |")
    print("|---|---:|---:|")
    print(f"| lm-evaluation-harness {_version()} | {theirs['seconds']:.1f} | "
          f"{choices / theirs['seconds']:,.0f} |")
    print(f"| ours (trainer.evaluate) | {ours['seconds']:.1f} | "
          f"{choices / ours['seconds']:,.0f} ({results['speedup']:.2f}x) |")
    print(f"same accuracy on {sum(same.values())} of {len(TASKS)} tasks"
          + ("" if all(same.values()) else f": differs on {[t for t in same if not same[t]]}"))


def _version() -> str:
    from importlib.metadata import version
    return version("lm_eval")


if __name__ == "__main__":
    main()
