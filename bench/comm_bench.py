"""gloo's collectives on this machine, side by side: why the trainer reduces gradients
on the CPU with an all-reduce instead of gloo's reduce-scatter.

    python bench/comm_bench.py            # 2 processes, 16 MB of fp32

Each process times (median of 20) an all-reduce of the buffer, gloo's reduce-scatter,
the trainer's replacement (trainer.parallelize.GlooReduceScatter: all-reduce, keep this
rank's chunk) and an all-gather of the chunks. Results go to
bench/results/comm.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def worker(mb: int, out: Path) -> None:
    import torch
    import torch.distributed as dist

    from trainer.parallelize import GlooReduceScatter

    dist.init_process_group("gloo")
    group, world = dist.group.WORLD, dist.get_world_size()
    x = torch.randn(mb << 18)
    chunk, full = torch.empty(x.numel() // world), torch.empty(x.numel())
    ours = GlooReduceScatter()
    ops = {
        "all_reduce": lambda: dist.all_reduce(x),
        "gloo_reduce_scatter": lambda: dist.reduce_scatter_tensor(chunk, x),
        "all_reduce_then_chunk": lambda: ours(chunk, x, group, dist.ReduceOp.SUM),
        "all_gather": lambda: dist.all_gather_into_tensor(full, chunk),
    }
    res = {}
    for name, op in ops.items():
        op()
        times = []
        for _ in range(20):
            dist.barrier()
            t0 = time.perf_counter()
            op()
            times.append(time.perf_counter() - t0)
        res[name] = statistics.median(times) * 1e3
    if dist.get_rank() == 0:
        out.write_text(json.dumps({"processes": world, "mb": mb, "median_ms": res},
                                  indent=2))
        for name, ms in res.items():
            print(f"{name:>24}: {ms:6.1f} ms")
    dist.destroy_process_group()


def main() -> None:
    import argparse

    a = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--mb", type=int, default=16, help="buffer size in MB (fp32)")
    a.add_argument("--procs", type=int, default=2)
    a.add_argument("--out", default=str(ROOT / "bench" / "results" / "comm.json"))
    a.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = a.parse_args()
    if args.worker:
        worker(args.mb, Path(args.out))
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node",
                    str(args.procs), "--master_port", "29713", __file__, "--worker",
                    "--mb", str(args.mb), "--out", args.out], env=env, check=True)


if __name__ == "__main__":
    main()
