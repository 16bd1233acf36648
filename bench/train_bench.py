"""Trainer benchmark on the CPU: our trainer against the Hugging Face Trainer (what the
authors used), side by side in one run.

    python bench/train_bench.py              # needs bench/encode_bench.py's shards first

Both run under torchrun with 2 processes (gloo), on the same randomly initialised Llama
(4 layers, hidden 256, the encode benchmark's 8,000-token BPE plus the two markers,
their rows mean-initialised in both), the same packed sequences of the encode
benchmark's shards in the same order (our trainer's data order, handed to the HF Trainer
as a sequential dataset), the same global batch and micro-batch, AdamW, fp32.
Reported: tokens/s over the steps after the first (warm-up), peak resident memory of
each process, and both runs' losses per step.

Results go to bench/results/train.json and are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data"
SHARDS = DATA / "encode" / "shards_bpe"
WORK = DATA / "train"
SEQ, GLOBAL, MICRO, STEPS, LR = 256, 16, 4, 8, 1e-4


def make_model() -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    out = WORK / "llama-4x256"
    if out.exists():
        return out
    tok = AutoTokenizer.from_pretrained(DATA / "encode" / "tokenizer_bpe")
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tok), hidden_size=256, intermediate_size=688, num_hidden_layers=4,
        num_attention_heads=8, num_key_value_heads=8, max_position_embeddings=SEQ,
        tie_word_embeddings=False, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id))
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def torchrun(args: list[str], port: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run",
                           "--nproc_per_node", "2", "--master_port", str(port), *args],
                          env=env, capture_output=True, text=True, check=True)


def ours(model: Path) -> dict:
    out = WORK / "ours"
    r = torchrun([str(ROOT / "trainer" / "main.py"), "--model", str(model), "--shards",
                  str(SHARDS), "--out", str(out), "--steps", str(STEPS), "--seq-len",
                  str(SEQ), "--global-batch", str(GLOBAL), "--micro-batch", str(MICRO),
                  "--lr", str(LR), "--no-export", "--weight-decay", "0.0"], 29701)
    rows = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    later = rows[1:]
    return {"losses": [r["loss"] for r in rows],
            "tokens_per_s": sum(GLOBAL * SEQ for _ in later) / sum(r["seconds"] for r in later),
            "peak_memory_gb": max(r["peak_memory_gb"] for r in rows),
            "stdout_tail": r.stdout[-300:]}


def hf_worker() -> None:
    """Runs under torchrun: the Hugging Face Trainer on our sequences, in our order."""
    import numpy as np
    import torch
    from transformers import (AutoModelForCausalLM, Trainer, TrainerCallback,
                              TrainingArguments)

    from leia.shards import ShardSet
    from leia.tokenizer import load_tokenizer
    from trainer.data import PackedSequences

    model_dir = WORK / "llama-4x256"
    tok = load_tokenizer(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.resize_token_embeddings(len(tok), mean_resizing=True)
    data = PackedSequences(ShardSet(SHARDS), SEQ, seed=42)
    rows = []
    for _ in range(STEPS):
        for x, y in data.next_step(GLOBAL, GLOBAL):
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
            ends.append(time.perf_counter())

    world = int(os.environ["WORLD_SIZE"])
    args = TrainingArguments(
        output_dir=str(WORK / "hf"), per_device_train_batch_size=MICRO,
        gradient_accumulation_steps=GLOBAL // (MICRO * world), max_steps=STEPS,
        learning_rate=LR, lr_scheduler_type="cosine", warmup_steps=0, weight_decay=0.0,
        adam_beta1=0.9, adam_beta2=0.95, adam_epsilon=1e-6, max_grad_norm=1.0,
        logging_steps=1, save_strategy="no", report_to=[], use_cpu=True,
        dataloader_drop_last=True, seed=42, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=Seq(), callbacks=[Clock()])
    trainer._get_train_sampler = lambda *a, **k: torch.utils.data.SequentialSampler(Seq())
    trainer.train()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    if int(os.environ["RANK"]) == 0:
        (WORK / "hf.json").write_text(json.dumps(
            {"losses": losses, "tokens_per_s": GLOBAL * SEQ * (len(ends) - 1)
             / (ends[-1] - ends[0]), "peak_memory_gb": peak}))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hf-worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.hf_worker:
        hf_worker()
        return
    if not (SHARDS / "manifest.json").is_file():
        raise SystemExit(f"no shards in {SHARDS}: run python bench/encode_bench.py first")
    WORK.mkdir(parents=True, exist_ok=True)
    model = make_model()
    results = {"ours": ours(model)}
    torchrun([__file__, "--hf-worker"], 29702)
    results["hf_trainer"] = json.loads((WORK / "hf.json").read_text())
    o, h = results["ours"], results["hf_trainer"]
    results["speedup"] = o["tokens_per_s"] / h["tokens_per_s"]
    results["memory_ratio"] = o["peak_memory_gb"] / h["peak_memory_gb"]
    (ROOT / "bench" / "results" / "train.json").write_text(json.dumps(results, indent=2))
    print(f"| 2 processes, CPU, Llama 4x256, {GLOBAL}x{SEQ} tokens/step | tokens/s | "
          "peak memory per process |")
    print("|---|---:|---:|")
    print(f"| Hugging Face Trainer (DDP) | {h['tokens_per_s']:,.0f} | "
          f"{h['peak_memory_gb']:.2f} GB |")
    print(f"| ours (FSDP2) | {o['tokens_per_s']:,.0f} ({results['speedup']:.2f}x) | "
          f"{o['peak_memory_gb']:.2f} GB ({results['memory_ratio']:.2f}x) |")
    print("losses, ours:", [round(x, 4) for x in o["losses"]])
    print("losses, HF:  ", [round(x, 4) for x in h["losses"]])


if __name__ == "__main__":
    main()
