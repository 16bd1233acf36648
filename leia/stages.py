"""Running one stage of a multi-stage run (``pipeline.py``, ``experiments.effect``) as
the command a user would type for it.

A stage is skipped when its output is complete, printed as its command before it runs,
and runs in this process (the Spark jobs share one SparkSession, so the JVM and Delta
start once; the tokenizer, model and evaluation stages share one import of torch and
transformers, seconds each), unless it runs under ``torchrun``. A failed stage ends
the run with what to do; finished stages are kept for the re-run.
"""

from __future__ import annotations

import importlib
import shlex
import subprocess
import sys
import time
import traceback
from pathlib import Path


def call_main(module: str, args: list[str]) -> int:
    """A job's ``main(args)`` in this process; its exit status."""
    try:
        importlib.import_module(module).main(args)
    except SystemExit as e:  # usage and input errors: the job has said what to fix
        return e.code if isinstance(e.code, int) else 1
    except Exception:  # noqa: BLE001 - any crash of a stage is printed, and it fails
        traceback.print_exc()
        return 1
    return 0


def stop_spark() -> None:
    """Stop this process's SparkSession, if one runs: its memory and cores go to the
    stages after it."""
    if "pyspark" in sys.modules:
        from pyspark.sql import SparkSession
        active = SparkSession.getActiveSession()
        if active is not None:
            active.stop()


def run_stage(tool: str, name: str, done: Path, cmd: list[str], *, cwd: Path,
              procs: int = 1, torchrun: bool = False) -> None:
    """Run ``cmd`` (``python`` arguments: a script or ``-m module``, then its own) as
    stage ``name`` of ``tool``: under ``torchrun`` with ``procs`` processes, else by
    calling the module's ``main`` here. A ``torchrun`` stage of one process runs here
    too (the trainer needs no launcher for one), sparing its start-up of torch and
    transformers. Raises SystemExit when it fails."""
    launch = torchrun and procs > 1
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc_per_node", str(procs)] if launch else [sys.executable]
    full = launcher + cmd
    print(f"\n== {name}\n$ {shlex.join(full)}", flush=True)
    t0 = time.perf_counter()
    if launch:
        rc = subprocess.run(full, cwd=cwd).returncode
    elif cmd[0] == "-m":
        rc = call_main(cmd[1], cmd[2:])
    else:  # spark_jobs/augment.py -> spark_jobs.augment
        rc = call_main(cmd[0].removesuffix(".py").replace("/", "."), cmd[1:])
    if rc:
        raise SystemExit(f"{tool}: stage {name} failed (exit {rc}); fix what it says "
                         "above, then re-run: finished stages are kept")
    print(f"== {name}: done in {time.perf_counter() - t0:.0f}s -> {done}", flush=True)
