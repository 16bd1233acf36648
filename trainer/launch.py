"""What the trainer and the evaluator both do first: read the launcher's environment,
take their device (and, on the CPU, their cores), join the process group, and pick the
weights' dtype."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Rank:
    rank: int
    world: int
    local_rank: int
    local_world: int
    device: torch.device


def start(pin: bool = False) -> Rank:
    """This process's rank as ``torchrun`` describes it (one process without it), on
    its GPU or, with ``pin``, on its slice of the CPU's cores, in a process group:
    torchrun's rendezvous, or for one process a private in-memory store (no port to
    take, so a stage can run inside its caller). ``SystemExit(2)`` where a launcher
    named several ranks but no place to meet."""
    env = os.environ
    rank, world = int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1))
    local_rank, local_world = int(env.get("LOCAL_RANK", 0)), int(env.get("LOCAL_WORLD_SIZE", 1))
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(local_rank)
    elif pin:
        pin_cores(local_rank, local_world)
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    backend = "nccl" if cuda else "gloo"
    if "MASTER_ADDR" in env:  # torchrun's rendezvous
        dist.init_process_group(backend, rank=rank, world_size=world)
    elif world > 1:
        print(f"error: WORLD_SIZE={world} but no MASTER_ADDR: start the ranks with "
              "torchrun (or set MASTER_ADDR and MASTER_PORT)", file=sys.stderr)
        raise SystemExit(2)
    else:
        dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
    return Rank(rank, world, local_rank, local_world, device)


def stop() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def pin_cores(local_rank: int, local_world: int) -> None:
    """Bind this rank to its slice of the allowed cores (a no-op with fewer cores than
    ranks). CPU training runs one compute thread group per rank; left to the OS, ranks
    and their gloo threads move between cores and wait for each other at every
    collective."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    per = len(cores) // max(local_world, 1)
    if per:
        os.sched_setaffinity(0, cores[local_rank * per:(local_rank + 1) * per])


def weights_dtype(name: str, device: torch.device) -> torch.dtype:
    """``--dtype``: ``auto`` is bfloat16 on a GPU and float32 on the CPU (where bfloat16
    matmuls are slow and gain no memory that matters at test size)."""
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return getattr(torch, name)
