"""Evaluate a causal LM on X-CSR multiple-choice tasks with the LEIA paper's protocol.

    python -m trainer.evaluate --model out/run/hf --tasks xcodah_ja,xcsqa_ja --out out/eval
    python -m trainer.evaluate --model meta-llama/Llama-2-7b-hf --data INK-USC/xcsr \\
        --tasks xcodah_ar,xcodah_es,xcodah_hi,xcodah_ja,xcodah_ru,xcodah_sw,xcodah_zh
    torchrun --nproc_per_node 8 -m trainer.evaluate ...        # data-parallel

Each choice is scored by the summed log-likelihood of its tokens; the highest wins (the
first on a tie). The context and the continuation are tokenised separately: the context
as the tokenizer prepares a text for the model (BOS first for Llama), the continuation
without special tokens; X-CODAH's context is a lone EOS token (``leia/xcsr.py`` builds
the prompts). A sequence longer than the model loses tokens from the left of its
context, and is counted. Requests are scored longest first, left-padded, and only the
continuation's logits are computed; identical requests (X-CODAH under every seed) are
scored once. Under torchrun each rank scores every world-size-th batch.

Writes OUT/metrics.json ({task: {accuracy, accuracy_per_seed, ci95, stderr, ...}}),
OUT/predictions/<task>.jsonl (one line per question and seed) and OUT/config.json.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.distributed as dist

from leia import xcsr
from leia.tokenizer import specials_around
from trainer import launch
from trainer.eval_config import EvalConfig, parse_args

# Two-sided 95% Student t quantiles by degrees of freedom (scipy.stats.t.ppf(0.975, df)).
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
       9: 2.262, 10: 2.228, 15: 2.131, 20: 2.086, 30: 2.042}


def main(argv: list[str] | None = None) -> None:
    cfg = parse_args(argv)
    me = launch.start()
    try:
        evaluate(cfg, me.rank, me.world, me.device)
    except ValueError as e:
        if me.rank == 0:
            print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    finally:
        launch.stop()


def evaluate(cfg: EvalConfig, rank: int = 0, world: int = 1,
             device: torch.device | None = None) -> dict:
    log = print if rank == 0 else (lambda *a, **k: None)
    log(json.dumps({"evaluate": vars(cfg)}, indent=2))
    tasks = [(name, kind, lang, xcsr.load_task(cfg.data, kind, lang, cfg.split))
             for name, kind, lang in cfg.task_list()]  # bad data fails before the model
    pools = {name: xcsr.load_task(cfg.data, kind, lang, cfg.demo_split)
             for name, kind, lang, _ in tasks
             if kind == "xcsqa" and cfg.demo_split and cfg.shots}
    tok = load_eval_tokenizer(cfg.tokenizer or cfg.model)
    if any(kind == "xcodah" for _, kind, _, _ in tasks) and tok.eos_token_id is None:
        raise ValueError(
            f"tokenizer of {cfg.tokenizer or cfg.model} has no EOS token, and X-CODAH "
            f"scores each choice after a lone EOS: set eos_token in its "
            f"tokenizer_config.json, or pass --tokenizer with one")
    device = device or torch.device("cpu")
    model = load_model(cfg.model, cfg.dtype, device)
    max_length = cfg.max_length or model_max_length(model)

    prefix, _ = specials_around(tok)
    requests, plan = build_requests(tok, prefix, tasks, cfg, pools)
    log(f"{len(plan)} question-seed pairs, {len(requests)} distinct choices to score, "
        f"max length {max_length}, {world} rank(s)")
    t0 = time.perf_counter()
    scores, truncated = score_requests(model, requests, cfg.batch_size, max_length,
                                       device, rank, world)
    elapsed = time.perf_counter() - t0
    log(f"scored {len(requests)} choices in {elapsed:.1f}s "
        f"({len(requests) / max(elapsed, 1e-9):.1f} choices/s)")
    if rank != 0:
        return {}
    metrics, predictions = summarise(tasks, plan, scores, truncated, cfg)
    write_outputs(Path(cfg.out), cfg, metrics, predictions,
                  {"choices_scored": len(requests), "seconds": round(elapsed, 3),
                   "world_size": world, "max_length": max_length})
    print_table(metrics)
    log(f"metrics: {Path(cfg.out) / 'metrics.json'}")
    return metrics


def load_eval_tokenizer(name: str):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError) as e:
        raise ValueError(f"tokenizer {name!r} could not be loaded: {e}") from None


def load_model(name: str, dtype: str, device: torch.device):
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(
            name, dtype=launch.weights_dtype(dtype, device))
    except (OSError, ValueError) as e:
        raise ValueError(f"model {name!r} could not be loaded: {e}. Give a local folder "
                         f"with config.json and weights, or a reachable hub name") from None
    return model.to(device).eval()


def model_max_length(model) -> int:
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        n = getattr(model.config, attr, None)
        if isinstance(n, int) and n > 0:
            return n
    return 2048


def build_requests(tok, prefix: list[int], tasks, cfg: EvalConfig,
                   pools: dict[str, list] | None = None):
    """Every (context ids, continuation ids) to score, each once, and the plan that maps
    each (task, seed, question) to its choices' request indices. ``pools``: per task,
    the examples its demonstrations are drawn from, where not its own."""
    index: dict[tuple, int] = {}
    requests: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    plan = []
    encode = _cached(lambda s: tuple(tok(s, add_special_tokens=False).input_ids))
    for name, kind, _lang, examples in tasks:
        shots = cfg.shots if kind == "xcsqa" else 0
        for seed in range(cfg.seeds):
            for q in range(len(examples)):
                p = xcsr.prompt(kind, examples, q, shots, seed, (pools or {}).get(name))
                ctx = (tok.eos_token_id,) if not p.context else \
                    tuple(prefix) + encode(p.context)
                ids = []
                for cont in p.continuations:
                    key = (ctx, encode(cont))
                    if not key[1]:
                        raise ValueError(f"{name} {examples[q].id}: choice {cont!r} "
                                         f"tokenises to nothing")
                    ids.append(index.setdefault(key, len(index)))
                    if ids[-1] == len(requests):
                        requests.append(key)
                plan.append((name, seed, q, ids, p.demos))
    return requests, plan


def _cached(fn):
    memo = {}
    return lambda s: memo[s] if s in memo else memo.setdefault(s, fn(s))


def score_requests(model, requests, batch_size: int, max_length: int,
                   device: torch.device, rank: int = 0, world: int = 1):
    """Summed log-likelihood of each continuation, and which requests were truncated.
    Longest first; this rank takes every world-th batch; results are gathered on all."""
    seqs, truncated = [], []
    for ctx, cont in requests:
        if len(cont) > max_length:
            raise ValueError(f"a choice of {len(cont)} tokens is longer than the model's "
                             f"{max_length}; it cannot be scored (raise --max-length if "
                             f"the model allows)")
        seq = (ctx + cont)[-(max_length + 1):]
        truncated.append(len(ctx) + len(cont) > max_length + 1)
        seqs.append((seq, len(cont)))
    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i][0]))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    mine = batches[rank::world]
    keep = "logits_to_keep" in inspect.signature(model.forward).parameters
    out: dict[int, float] = {}
    progress = _progress(len(mine), rank)
    with torch.inference_mode():
        for batch in mine:
            for i, s in zip(batch, _score_batch(model, [seqs[i] for i in batch],
                                                device, keep)):
                out[i] = s
            progress()
    if world > 1:
        parts = [None] * world
        dist.all_gather_object(parts, out)
        out = {k: v for part in parts for k, v in part.items()}
    return [out[i] for i in range(len(seqs))], truncated


def _score_batch(model, rows, device, keep_logits: bool) -> list[float]:
    """Left-padded forward of sequences ``(tokens, n_continuation)``: the continuation
    ends every row, so only the last max(n) positions need logits."""
    width = max(len(s) for s, _ in rows) - 1
    k = max(n for _, n in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    mask = torch.zeros(len(rows), width, dtype=torch.long)
    target = torch.zeros(len(rows), k, dtype=torch.long)
    valid = torch.zeros(len(rows), k, dtype=torch.bool)
    for r, (s, n) in enumerate(rows):
        ids[r, width - len(s) + 1:] = torch.tensor(s[:-1])
        mask[r, width - len(s) + 1:] = 1
        target[r, k - n:] = torch.tensor(s[-n:])
        valid[r, k - n:] = True
    # Positions count from each row's first real token, as if it were unpadded.
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    kwargs = {"logits_to_keep": k} if keep_logits else {}
    logits = model(input_ids=ids.to(device), attention_mask=mask.to(device),
                   position_ids=pos.to(device), **kwargs).logits[:, -k:]
    logp = torch.log_softmax(logits.float(), dim=-1)
    tok_lp = logp.gather(-1, target.to(device)[..., None])[..., 0]
    return (tok_lp * valid.to(device)).sum(-1).tolist()


def _progress(total: int, rank: int):
    if rank != 0 or total == 0:
        return lambda: None
    if sys.stderr.isatty():
        from tqdm import tqdm
        bar = tqdm(total=total, desc="scoring", unit="batch")
        return lambda: bar.update(1)
    state = {"done": 0, "t": time.perf_counter()}

    def tick():
        state["done"] += 1
        if state["done"] == total or time.perf_counter() - state["t"] > 30:
            state["t"] = time.perf_counter()
            print(f"scoring: {state['done']}/{total} batches", flush=True)
    return tick


def summarise(tasks, plan, scores, truncated, cfg: EvalConfig):
    """Per-task metrics and per-question predictions from the scores."""
    by_name = {name: (kind, lang, ex) for name, kind, lang, ex in tasks}
    correct: dict[str, dict[int, list[bool]]] = {n: {} for n in by_name}
    predictions: dict[str, list[dict]] = {n: [] for n in by_name}
    trunc: dict[str, int] = {n: 0 for n in by_name}
    for name, seed, q, ids, demos in plan:
        ex = by_name[name][2][q]
        s = [scores[i] for i in ids]
        pred = max(range(len(s)), key=lambda j: (s[j], -j))  # first of the best
        correct[name].setdefault(seed, []).append(pred == ex.answer)
        trunc[name] += any(truncated[i] for i in ids)
        predictions[name].append({
            "id": ex.id, "seed": seed, "gold": ex.labels[ex.answer],
            "pred": ex.labels[pred], "correct": pred == ex.answer,
            "scores": [round(x, 6) for x in s], "demos": list(demos)})
    metrics = {}
    for name, (kind, lang, examples) in by_name.items():
        per_seed = [sum(c) / len(c) for _, c in sorted(correct[name].items())]
        metrics[name] = {
            "kind": kind, "lang": lang, "examples": len(examples),
            "shots": cfg.shots if kind == "xcsqa" else 0, "seeds": len(per_seed),
            "accuracy": statistics.fmean(per_seed), "accuracy_per_seed": per_seed,
            "ci95": ci95(per_seed), "stderr": stderr(per_seed, len(examples)),
            "truncated": trunc[name]}
    return metrics, predictions


def ci95(values: list[float]) -> float:
    """Half-width of the 95% t-interval of the mean over seeds (0 for one value, and for
    X-CODAH, whose 0-shot scores do not depend on the seed)."""
    if len(values) < 2:
        return 0.0
    df = len(values) - 1
    t = T95.get(df) or T95[max(d for d in T95 if d <= df)]
    return t * statistics.stdev(values) / math.sqrt(len(values))


def stderr(per_seed: list[float], n: int) -> float:
    """Binomial standard error of the accuracy over the examples (as lm-eval's
    acc_stderr): how much the number would move on another sample of questions."""
    p = statistics.fmean(per_seed)
    return math.sqrt(p * (1 - p) / (n - 1)) if n > 1 else 0.0


def write_outputs(out: Path, cfg: EvalConfig, metrics: dict, predictions: dict,
                  run: dict) -> None:
    """Predictions first, metrics.json last, each by rename: a metrics.json is only ever
    there for a finished evaluation."""
    (out / "predictions").mkdir(parents=True, exist_ok=True)
    if (out / "metrics.json").exists():
        (out / "metrics.json").unlink()
    for name, rows in predictions.items():
        _atomic_write(out / "predictions" / f"{name}.jsonl",
                      "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    _atomic_write(out / "config.json", json.dumps({"config": vars(cfg), **run}, indent=2))
    _atomic_write(out / "metrics.json", json.dumps(metrics, indent=2))


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def print_table(metrics: dict) -> None:
    print(f"{'task':>12} {'n':>6} {'shots':>5} {'accuracy':>9} {'±ci95':>7} {'trunc':>6}")
    for name, m in metrics.items():
        print(f"{name:>12} {m['examples']:>6} {m['shots']:>5} {100 * m['accuracy']:>8.1f}% "
              f"{100 * m['ci95']:>6.1f} {m['truncated']:>6}")


if __name__ == "__main__":
    main()
