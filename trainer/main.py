"""LEIA trainer: continue training a Hugging Face causal LM on the token shards, FSDP2.

    torchrun --nproc_per_node 8 trainer/main.py --model meta-llama/Llama-2-7b-hf \\
        --shards out/shards --out out/run                  # the paper's recipe
    torchrun --nproc_per_node 2 trainer/main.py --model DIR --shards out/shards \\
        --out out/run --steps 20 --seq-len 256 --global-batch 8   # CPU, gloo

Reads top to bottom: set up the process group and mesh; open the shards and check the
model's tokenizer (with the markers) against them; build the model on the meta device,
shard it, load its weights rank by rank; AdamW and a cosine schedule; resume from the
newest complete checkpoint if asked; then each step reads its sequences, accumulates
gradients over micro-batches, clips, steps, logs and checkpoints; at the end the model
is exported in Hugging Face format to OUT/hf.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.distributed as dist
import torch.nn.functional as F

from leia.shards import ShardError, ShardSet
from leia.tokenizer import load_tokenizer
from trainer import checkpoint, launch
from trainer.config import TrainConfig, parse_args
from trainer.data import IGNORE, PackedSequences
from trainer.model import build_model, export, flops_per_token, materialise
from trainer.parallelize import clip_grad_norm_, gather_all, parallelize

# Dense bf16 peak FLOP/s per GPU, for MFU.
PEAK_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12,
              "A10G": 125e12}


def main(argv: list[str] | None = None) -> None:
    cfg = parse_args(argv)
    me = launch.start(pin=cfg.pin_cores)
    try:
        train(cfg, me.rank, me.world, me.device)
    except (ValueError, ShardError) as e:
        if me.rank == 0:
            print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        launch.stop()


def say(rank: int, msg: str) -> None:
    if rank == 0:
        print(msg, flush=True)


def train(cfg: TrainConfig, rank: int, world: int, device: torch.device) -> None:
    from torch.distributed.device_mesh import init_device_mesh

    cfg.validate(world)
    out = Path(cfg.out)
    say(rank, "leia train: config\n" + cfg.to_json())
    mesh = init_device_mesh(device.type, (world,))
    torch.manual_seed(cfg.seed)

    # Data, and the tokenizer check: the shards' ids must be the model's.
    shards = ShardSet(cfg.shards)
    specials = shards.manifest.special_tokens
    tokenizer = load_tokenizer(cfg.model, shards.manifest.markers)  # its own, plus markers
    shards.check_tokenizer(tokenizer)
    data = PackedSequences(shards, cfg.seq_len, rank, world, cfg.seed)
    accum = cfg.accumulation(world)
    say(rank, f"data: {shards.num_tokens:,} tokens in {len(shards.shards)} shard(s), "
              f"{data.total:,} sequences of {cfg.seq_len}; {world} rank(s) x "
              f"{cfg.micro_batch} sequence(s) x {accum} accumulation step(s)")

    # Model: meta -> FSDP2 -> this rank's shards of the weights.
    param_dtype = launch.weights_dtype(cfg.dtype, device)
    model, config, base_vocab = build_model(cfg.model, len(tokenizer), torch.float32)
    reshard = cfg.resharding(device.type)
    parallelize(model, mesh, param_dtype, cfg.activation_checkpointing, cfg.compile, reshard)
    materialise(model, cfg.model, base_vocab, device)
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    say(rank, f"model: {type(model).__name__}, {n_params / 1e6:,.1f}M parameters, "
              f"vocabulary {base_vocab:,} -> {config.vocab_size:,} (markers "
              f"{specials['start_marker']['id']}, {specials['end_marker']['id']}), "
              f"{param_dtype} on {device.type}, parameters "
              + ("resharded after each forward" if reshard else "gathered once per step"))

    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps,
        fused=cfg.fused_adamw or None)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, cfg))

    ckpt_dir = out / "checkpoints"
    start = resume(ckpt_dir, model, optimizer, scheduler, data, rank) if cfg.resume else 0
    metrics = open_metrics(out, start, rank)
    writer = tensorboard(out, rank)

    flops = flops_per_token(model, cfg.seq_len)
    peak = next((v for k, v in PEAK_FLOPS.items()
                 if device.type == "cuda" and k in torch.cuda.get_device_name()), None)
    progress = bar(rank, start, cfg.steps)
    for step in range(start + 1, cfg.steps + 1):
        t0 = time.perf_counter()
        batches = data.next_step(cfg.global_batch, cfg.micro_batch)
        targets = torch.tensor(sum(int((y != IGNORE).sum()) for _, y in batches),
                               dtype=torch.float64, device=device)
        dist.all_reduce(targets)
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        if not reshard:
            gather_all(model)
        for i, (x, y) in enumerate(batches):
            final_micro = i == len(batches) - 1
            model.set_requires_gradient_sync(final_micro)
            if not reshard:  # keep the gathered parameters for the next micro-batch
                model.set_reshard_after_backward(final_micro)
            logits = model(input_ids=torch.from_numpy(x).to(device)).logits
            ce = token_loss_sum(logits, torch.from_numpy(y).to(device))
            # FSDP averages gradients over ranks; the loss is a mean over the targets of
            # the whole global batch, whatever the rank and micro-batch split.
            (ce * world / targets.clamp(min=1)).backward()
            loss_sum += ce.detach().double()
        grad_norm = clip_grad_norm_(model.parameters(), cfg.clip, mesh.get_group())
        dist.all_reduce(loss_sum)
        loss = (loss_sum / targets.clamp(min=1)).item()
        if not (math.isfinite(loss) and math.isfinite(float(grad_norm))):
            last = checkpoint.complete(ckpt_dir)
            raise ValueError(
                f"step {step}: loss {loss}, gradient norm {float(grad_norm)}: training "
                "diverged; stopping before the weights are updated. The last good "
                f"checkpoint is {last[-1] if last else 'none (none was written)'}; "
                "lower --lr or check the data, then --resume")
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        seconds = time.perf_counter() - t0
        tokens = cfg.global_batch * cfg.seq_len
        if step % cfg.log_every == 0 or step == cfg.steps:
            row = {"step": step, "loss": loss, "lr": lr, "grad_norm": float(grad_norm),
                   "tokens_per_s": tokens / seconds, "trained_tokens": int(targets.item()),
                   "masked_tokens": tokens - int(targets.item()),
                   "peak_memory_gb": peak_memory_gb(device), "seconds": seconds}
            if peak:
                row["mfu"] = flops * tokens / seconds / (peak * world)
            log(row, metrics, writer, progress, rank)
        if progress:
            progress.update(1)
        if (cfg.checkpoint_every and step % cfg.checkpoint_every == 0) or (
                step == cfg.steps and cfg.final_checkpoint):
            path = checkpoint.save(ckpt_dir, step, model, optimizer, scheduler,
                                   data.state.to_dict(), json.loads(cfg.to_json()), rank,
                                   cfg.keep_checkpoints)
            say(rank, f"checkpoint {path}")
    if progress:
        progress.close()
    if cfg.export:
        export(model, config, tokenizer, out / "hf", rank, shards.manifest, world)
        say(rank, f"exported the model to {out / 'hf'} (AutoModelForCausalLM."
                  "from_pretrained loads it)")
    if metrics:
        metrics.close()
    if writer:
        writer.close()
    dist.barrier()


def token_loss_sum(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy over the positions with a label (-100: none)."""
    return F.cross_entropy(logits.float().flatten(0, 1), labels.flatten(),
                           ignore_index=IGNORE, reduction="sum")


def resume(folder: Path, model, optimizer, scheduler, data, rank: int) -> int:
    """Load the newest complete checkpoint that loads; the step it was taken at."""
    for bad in checkpoint.incomplete(folder):
        say(rank, f"skipping {bad}: incomplete (the run stopped while writing it)")
    found = checkpoint.complete(folder)
    for path in reversed(found):
        error = None
        try:
            state = checkpoint.load(path, model, optimizer, scheduler, rank)
        except Exception as e:  # noqa: BLE001 - a damaged file: fall back to the one before
            error = e
        # Every rank takes the same checkpoint: one that fails anywhere is skipped by all.
        if not checkpoint.all_ranks(error is None):
            why = (f"{type(error).__name__}: {str(error).splitlines()[0][:300]}" if error
                   else "unreadable on another rank")
            say(rank, f"skipping {path}: unreadable ({why})")
            continue
        data.load_state(state["data"])
        say(rank, f"resumed from {path} (step {state['step']}), the last good checkpoint")
        return state["step"]
    say(rank, f"--resume: no usable checkpoint in {folder}; starting at step 0")
    return 0


def lr_factor(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine from lr to lr x min_lr_ratio over the run."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def open_metrics(out: Path, start: int, rank: int):
    """metrics.jsonl, keeping the lines of steps up to ``start`` (a resumed run rewrites
    the steps after its checkpoint)."""
    if rank != 0:
        return None
    out.mkdir(parents=True, exist_ok=True)
    path = out / "metrics.jsonl"
    kept = []
    if start and path.is_file():
        kept = [line for line in path.read_text().splitlines()
                if line.strip() and json.loads(line)["step"] <= start]
    path.write_text("".join(line + "\n" for line in kept))
    return path.open("a")


def tensorboard(out: Path, rank: int):
    if rank != 0:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        print("note: install tensorboard for event files in OUT/tb", flush=True)
        return None
    return SummaryWriter(str(out / "tb"))


def bar(rank: int, start: int, steps: int):
    if rank != 0 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return tqdm(total=steps, initial=start, unit="step", dynamic_ncols=True)


def peak_memory_gb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KB -> GB


def log(row: dict, metrics, writer, progress, rank: int) -> None:
    if rank != 0:
        return
    metrics.write(json.dumps(row) + "\n")
    metrics.flush()
    if writer:
        for k, v in row.items():
            if k != "step":
                writer.add_scalar(f"train/{k}", v, row["step"])
    line = (f"step {row['step']:>5}  loss {row['loss']:.4f}  lr {row['lr']:.3g}  "
            f"grad {row['grad_norm']:.3f}  {row['tokens_per_s']:,.0f} tok/s  "
            f"masked {row['masked_tokens']:,}  mem {row['peak_memory_gb']:.2f} GB"
            + (f"  mfu {row['mfu']:.1%}" if "mfu" in row else ""))
    if progress:
        progress.write(line)
    else:
        print(line, flush=True)


if __name__ == "__main__":
    main()
