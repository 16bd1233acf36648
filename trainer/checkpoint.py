"""Checkpoints with ``torch.distributed.checkpoint``.

Model and optimizer are saved sharded as they are (every rank writes its own part, in
parallel); the small state (step, scheduler, data position, config) and every rank's
RNG state go beside them, as plain data: JSON, and tensors that load with
``weights_only=True``, so resuming from a checkpoint someone else wrote runs no code
of theirs. A checkpoint is written to ``step-NNNNNN.tmp`` and renamed
to ``step-NNNNNN`` only when every rank has finished, so a crash never leaves a
checkpoint that looks complete, and ``--resume`` only ever sees complete ones.
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
from pathlib import Path

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.api import CheckpointException
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

_NAME = re.compile(r"^step-(\d{6,})$")
SCHEDULER = "scheduler.json"


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
    if not all_ranks(error is None):  # every rank stops together, not hang at a barrier
        if rank == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        last = complete(folder)
        raise ValueError(f"could not write checkpoint {tmp}"
                         + (f": {error}" if error else " on another rank")
                         + "; the last complete checkpoint, "
                         + (str(last[-1]) if last else "none") + ", is kept. Free disk "
                         "space (or point --out elsewhere) and resume with --resume")
    if rank == 0:
        (tmp / SCHEDULER).write_text(json.dumps(scheduler.state_dict()))
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


def all_ranks(ok: bool) -> bool:
    """Whether ``ok`` holds on every rank: ranks that act on a file error each alone
    (one stops, one skips a checkpoint the others loaded) hang or part ways."""
    # NCCL reduces only CUDA tensors, gloo CPU ones.
    device = "cuda" if dist.get_backend() == "nccl" else "cpu"
    failed = torch.tensor([not ok], dtype=torch.int32, device=device)
    dist.all_reduce(failed)
    return not failed.item()


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
    if (path / SCHEDULER).is_file():
        scheduler.load_state_dict(json.loads((path / SCHEDULER).read_text()))
    else:  # written before the schedule was kept as JSON: plain values all the same
        scheduler.load_state_dict(_plain(path / "scheduler.pt"))
    rng_file = path / f"rng-rank{rank}.pt"
    if state["world"] == dist.get_world_size() and rng_file.is_file():
        rng = _plain(rng_file)
        torch.set_rng_state(rng["cpu"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state(rng["cuda"])
    return state


def _plain(file: Path):
    """A ``torch.save`` file of tensors and plain values, loaded without running any
    code it may hold (a pickle can name any function to call)."""
    try:
        return torch.load(file, weights_only=True)
    except pickle.UnpicklingError as e:
        raise ValueError(f"{file.name} holds more than tensors and plain values, so "
                         "loading it could run code; it was not loaded. Delete this "
                         f"checkpoint or take the file from a source you trust ({e})"
                         ) from None
