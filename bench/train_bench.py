"""Trainer benchmark: our trainer against the Hugging Face Trainer (what the authors
used), side by side in one run, on the CPU or on GPUs.

    python bench/train_bench.py                  # CPU; needs bench/encode_bench.py's shards
    python bench/train_bench.py --preset gpu --shards DIR   # every visible GPU, bf16

Both run under torchrun on the same randomly initialised Llama (the preset's shape, the
shards' tokenizer plus the two markers, their rows mean-initialised in both), the same
packed sequences in the same order (our trainer's data order, handed to the HF Trainer
as a sequential dataset), the same global batch and micro-batch, AdamW.

- ``cpu``: 2 processes (gloo), Llama 4 x 256, 16 x 256 tokens per step, fp32; the HF
  Trainer runs DDP. Ours also with ``--reshard always`` (ZeRO-3: parameters gathered
  again for backward and for every micro-batch), the GPU default.
- ``gpu``: one process per GPU (NCCL), a TinyLlama-1.1B-shaped model (22 x 2048, GQA),
  32 x 2048 tokens per step, bf16 compute with fp32 master weights in both (the HF
  Trainer with ``bf16=True``); ours also with ``--compile``. MFU counts 6 x the
  non-embedding parameters plus the attention matmuls per token, against the GPU's
  dense bf16 peak.

Reported: tokens/s from the median step time after the warm-up (one slow step on a
shared machine does not decide it), peak memory per process (resident set on the CPU,
allocated CUDA memory on GPU), MFU on GPU, and both runs' losses per step. On the CPU
each side runs three rounds (``--rounds``), alternating who goes first, and the ratio
reported is the median of the rounds' ratios. Results go to bench/results/train.json
(or train_gpu.json) and are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data"


@dataclass
class Preset:
    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    seq: int
    global_batch: int
    micro: int
    steps: int
    warmup: int  # steps left out of tokens/s (allocator, compile)
    lr: float
    gpu: bool


PRESETS = {
    "cpu": Preset(4, 256, 688, 8, 8, 256, 16, 4, 8, 1, 1e-4, False),
    "gpu": Preset(22, 2048, 5632, 32, 4, 2048, 32, 4, 10, 2, 1e-4, True),
}


def make_model(p: Preset, tokenizer: Path, out: Path) -> Path:
    from trainer.tiny_model import build_tiny_llama

    if (out / "config.json").exists():
        return out
    return build_tiny_llama(str(tokenizer), out, p.layers, p.hidden, p.heads,
                            max_positions=p.seq, intermediate=p.intermediate,
                            kv_heads=p.kv_heads, device="cuda" if p.gpu else "cpu")


def torchrun(args: list[str], procs: int, port: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run",
                        "--nproc_per_node", str(procs), "--master_port", str(port), *args],
                       env=env, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"failed: {' '.join(args[:2])}...\n{r.stdout[-3000:]}"
                         f"\n{r.stderr[-5000:]}")
    return r


def ours(p: Preset, model: Path, shards: Path, work: Path, procs: int,
         extra: list[str]) -> dict:
    out = work / "ours"
    shutil.rmtree(out, ignore_errors=True)
    r = torchrun([str(ROOT / "trainer" / "main.py"), "--model", str(model), "--shards",
                  str(shards), "--out", str(out), "--steps", str(p.steps), "--seq-len",
                  str(p.seq), "--global-batch", str(p.global_batch), "--micro-batch",
                  str(p.micro), "--lr", str(p.lr), "--no-export", "--no-final-checkpoint",
                  "--weight-decay", "0.0",
                  *extra], procs, 29701)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    res = {"losses": [row["loss"] for row in rows],
           "tokens_per_s": p.global_batch * p.seq
           / statistics.median(row["seconds"] for row in rows[p.warmup:]),
           "peak_memory_gb": max(row["peak_memory_gb"] for row in rows),
           "stdout_tail": r.stdout[-600:]}
    if "mfu" in rows[-1]:  # model FLOPs per token over the GPUs' peak: one constant
        res["mfu_per_token_per_s"] = rows[-1]["mfu"] / rows[-1]["tokens_per_s"]
        res["mfu"] = res["mfu_per_token_per_s"] * res["tokens_per_s"]
    return res


def hf_worker(p: Preset, model_dir: Path, shards: Path, work: Path) -> None:
    """Runs under torchrun: the Hugging Face Trainer on our sequences, in our order."""
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM, Trainer, TrainerCallback, TrainingArguments

    from leia.shards import ShardSet
    from leia.tokenizer import load_tokenizer
    from trainer.data import PackedSequences

    tok = load_tokenizer(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.resize_token_embeddings(len(tok), mean_resizing=True)
    data = PackedSequences(ShardSet(shards), p.seq, seed=42)
    rows = []
    for _ in range(p.steps):
        for x, y in data.next_step(p.global_batch, p.global_batch):
            for i in range(len(x)):
                # HF shifts labels itself: give it the window's first L tokens as labels
                # (the targets are the same but for the window's last one).
                lab = np.concatenate([[-100], y[i][:-1]])
                rows.append({"input_ids": torch.from_numpy(x[i]),
                             "labels": torch.from_numpy(lab)})

    class Seq(torch.utils.data.Dataset):
        def __len__(self):
            return len(rows)

        def __getitem__(self, i):
            return rows[i]

    ends, losses = [], []

    class Clock(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                losses.append(logs["loss"])

        def on_step_end(self, args, state, control, **kw):
            if p.gpu:
                torch.cuda.synchronize()
            ends.append(time.perf_counter())

    world = int(os.environ["WORLD_SIZE"])
    args = TrainingArguments(
        output_dir=str(work / "hf"), per_device_train_batch_size=p.micro,
        gradient_accumulation_steps=p.global_batch // (p.micro * world), max_steps=p.steps,
        learning_rate=p.lr, lr_scheduler_type="cosine", warmup_steps=0, weight_decay=0.0,
        adam_beta1=0.9, adam_beta2=0.95, adam_epsilon=1e-6, max_grad_norm=1.0,
        logging_steps=1, save_strategy="no", report_to=[], use_cpu=not p.gpu,
        bf16=p.gpu, dataloader_drop_last=True, seed=42, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=Seq(), callbacks=[Clock()])
    trainer._get_train_sampler = lambda *a, **k: torch.utils.data.SequentialSampler(Seq())
    trainer.train()
    peak = (torch.cuda.max_memory_allocated() / 2**30 if p.gpu
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)
    if int(os.environ["RANK"]) == 0:
        steps = [b - a for a, b in zip(ends[p.warmup - 1:], ends[p.warmup:])]
        (work / "hf.json").write_text(json.dumps(
            {"losses": losses, "peak_memory_gb": peak,
             "tokens_per_s": p.global_batch * p.seq / statistics.median(steps)}))


def main(argv=None) -> None:
    a = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    a.add_argument("--shards", default=str(DATA / "encode" / "shards_bpe"),
                   help="shard folder (its tokenizer/ is the model's)")
    a.add_argument("--work", default=str(DATA / "train"), help="scratch folder")
    a.add_argument("--results", default="", help="JSON file for the results "
                   "(default bench/results/train.json, or train_gpu.json)")
    a.add_argument("--rounds", type=int, default=0, help="times each side runs, "
                   "alternating who goes first; the reported ratio is the median of "
                   "the rounds' ratios (default: 3 on the CPU, 1 on GPUs)")
    a.add_argument("--hf-worker", action="store_true", help=argparse.SUPPRESS)
    args = a.parse_args(argv)
    p, shards = PRESETS[args.preset], Path(args.shards)
    args.rounds = args.rounds or (1 if p.gpu else 3)
    work = Path(args.work) / args.preset
    model = work / f"llama-{p.layers}x{p.hidden}"
    if args.hf_worker:
        hf_worker(p, model, shards, work)
        return
    if not (shards / "manifest.json").is_file():
        raise SystemExit(f"no shards in {shards}: run python bench/encode_bench.py "
                         "first, or name a shard folder with --shards")
    import torch
    procs = max(1, torch.cuda.device_count()) if p.gpu else 2
    work.mkdir(parents=True, exist_ok=True)
    make_model(p, shards / "tokenizer", model)
    runs = ({"ours": [], "ours_compile": ["--compile"]} if p.gpu
            else {"ours": [], "ours_resharded": ["--reshard", "always"]})
    results = {"preset": dataclasses.asdict(p), "processes": procs,
               "device": torch.cuda.get_device_name() if p.gpu else "cpu",
               "rounds": args.rounds}
    per_round: dict[str, list[dict]] = {name: [] for name in [*runs, "hf_trainer"]}
    for r in range(args.rounds):
        # Alternate who goes first: a machine that slows down during a round would
        # otherwise always penalise the same side.
        order = [*runs, "hf_trainer"] if r % 2 == 0 else ["hf_trainer", *runs]
        for name in order:  # a run that failed in an earlier round is no longer in runs
            if name == "hf_trainer":
                torchrun([__file__, "--hf-worker", "--preset", args.preset, "--shards",
                          str(shards), "--work", args.work], procs, 29702)
                per_round[name].append(json.loads((work / "hf.json").read_text()))
            else:
                try:
                    per_round[name].append(ours(p, model, shards, work, procs, runs[name]))
                except SystemExit as e:  # report the others; the log says what broke
                    if name == "ours":
                        raise
                    print(f"{name}: {e}", flush=True)
                    results[name] = {"error": str(e)[-3000:]}
                    del runs[name]
                    continue
            print(f"round {r + 1}/{args.rounds}, {name}: "
                  f"{per_round[name][-1]['tokens_per_s']:,.0f} tokens/s", flush=True)
    for name in [*runs, "hf_trainer"]:
        rounds = per_round[name]
        results[name] = {**rounds[-1],
                         "tokens_per_s": statistics.median(x["tokens_per_s"] for x in rounds),
                         "tokens_per_s_rounds": [x["tokens_per_s"] for x in rounds],
                         "peak_memory_gb": max(x["peak_memory_gb"] for x in rounds)}
    h = results["hf_trainer"]
    if p.gpu:
        h["mfu"] = results["ours"]["mfu_per_token_per_s"] * h["tokens_per_s"]
    for name in runs:
        o = results[name]
        # The ratio of each round (both sides measured minutes apart), then the median.
        o["speedup_rounds"] = [a["tokens_per_s"] / b["tokens_per_s"]
                               for a, b in zip(per_round[name], per_round["hf_trainer"])]
        o["speedup"] = statistics.median(o["speedup_rounds"])
        o["memory_ratio"] = o["peak_memory_gb"] / h["peak_memory_gb"]
    out = Path(args.results or ROOT / "bench" / "results"
               / ("train_gpu.json" if p.gpu else "train.json"))
    out.write_text(json.dumps(results, indent=2))
    where = f"{procs} x {results['device']}" if p.gpu else "2 processes, CPU"
    print(f"| {where}, Llama {p.layers}x{p.hidden}, {p.global_batch}x{p.seq} tokens/step "
          "| tokens/s | peak memory per process |" + (" MFU |" if p.gpu else ""))
    print("|---|---:|---:|" + ("---:|" if p.gpu else ""))
    print(f"| Hugging Face Trainer ({'bf16' if p.gpu else 'DDP'}) | "
          f"{h['tokens_per_s']:,.0f} | {h['peak_memory_gb']:.2f} GB |"
          + (f" {h['mfu']:.1%} |" if p.gpu else ""))
    for name in runs:
        o = results[name]
        print(f"| {name} (FSDP2) | {o['tokens_per_s']:,.0f} ({o['speedup']:.2f}x; rounds "
              f"{', '.join(f'{x:.2f}' for x in o['speedup_rounds'])}) | "
              f"{o['peak_memory_gb']:.2f} GB ({o['memory_ratio']:.2f}x) |"
              + (f" {o['mfu']:.1%} |" if "mfu" in o else ""))
        print(f"losses, {name}:", [round(x, 4) for x in o["losses"]])
    print("losses, HF:  ", [round(x, 4) for x in h["losses"]])


if __name__ == "__main__":
    main()
