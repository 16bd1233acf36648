"""Checkpoints with ``torch.distributed.checkpoint``.

Model and optimizer are saved sharded as they are (every rank writes its own part, in
parallel); the small state (step, scheduler, data position, config) and every rank's
RNG state go beside them. A checkpoint is written to ``step-NNNNNN.tmp`` and renamed
to ``step-NNNNNN`` only when every rank has finished, so a crash never leaves a
checkpoint that looks complete, and ``--resume`` only ever sees complete ones.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.api import CheckpointException
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

_NAME = re.compile(r"^step-(\d{6,})$")


def save(folder: Path, step: int, model, optimizer, scheduler, data_state: dict,
         config: dict, rank: int, keep: int = 2) -> Path:
    final, tmp = folder / f"step-{step:06d}", folder / f"step-{step:06d}.tmp"
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    dist.barrier()
    error = None
    try:
        model_sd, optim_sd = get_state_dict(model, optimizer)
        dcp.save({"model": model_sd, "optim": optim_sd}, checkpoint_id=str(tmp))
        rng = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state()
        torch.save(rng, tmp / f"rng-rank{rank}.pt")
    # Disk full, quota, a lost mount... DCP wraps its writers' errors in
    # CheckpointException, which is no Exception: name it.
    except (OSError, RuntimeError, CheckpointException) as e:
        error = e
    # NCCL reduces only CUDA tensors, gloo CPU ones.
    device = "cuda" if dist.get_backend() == "nccl" else "cpu"
    failed = torch.tensor([error is not None], dtype=torch.int32, device=device)
    dist.all_reduce(failed)  # every rank stops together rather than hang at a barrier
    if failed.item():
        if rank == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        last = complete(folder)
        raise ValueError(f"could not write checkpoint {tmp}"
                         + (f": {error}" if error else " on another rank")
                         + "; the last complete checkpoint, "
                         + (str(last[-1]) if last else "none") + ", is kept. Free disk "
                         "space (or point --out elsewhere) and resume with --resume")
    if rank == 0:
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        (tmp / "state.json").write_text(json.dumps(
            {"step": step, "data": data_state, "world": dist.get_world_size(),
             "config": config}, indent=1))
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        for old in complete(folder)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    dist.barrier()
    return final


def incomplete(folder: Path) -> list[Path]:
    """Checkpoint folders a crash left unfinished (no state.json, or still .tmp)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name.startswith("step-")
                  and not (_NAME.match(p.name) and (p / "state.json").is_file()))


def complete(folder: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir()
             if _NAME.match(p.name) and (p / "state.json").is_file()]
    return sorted(found, key=lambda p: int(_NAME.match(p.name).group(1)))


def load(path: Path, model, optimizer, scheduler, rank: int) -> dict:
    """Restore everything saved in ``path``; returns its state.json."""
    state = json.loads((path / "state.json").read_text())
    model_sd, optim_sd = get_state_dict(model, optimizer)
    both = {"model": model_sd, "optim": optim_sd}
    dcp.load(both, checkpoint_id=str(path))
    set_state_dict(model, optimizer, model_state_dict=both["model"],
                   optim_state_dict=both["optim"])
    scheduler.load_state_dict(torch.load(path / "scheduler.pt", weights_only=False))
    rng_file = path / f"rng-rank{rank}.pt"
    if state["world"] == dist.get_world_size() and rng_file.is_file():
        rng = torch.load(rng_file, weights_only=False)
        torch.set_rng_state(rng["cpu"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state(rng["cuda"])
    return state
