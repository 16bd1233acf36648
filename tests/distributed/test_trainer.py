"""trainer/main.py under torchrun on the CPU (gloo), and as one plain process, on shards
of the real sample."""

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from leia.shards import ShardSet
from trainer.data import IGNORE, PackedSequences
from trainer.main import token_loss_sum
from trainer.parallelize import GlooReduceScatter, clip_grad_norm_

REPO = Path(__file__).resolve().parents[2]
FAST = ["--seq-len", "64", "--global-batch", "8", "--micro-batch", "2", "--lr", "3e-3",
        "--log-every", "1"]


def train(model, shards, out, *flags, procs=2, background=False, **popen):
    """trainer/main.py under torchrun with ``procs`` processes; ``procs=None``: plain
    ``python``, one process and no launcher."""
    launcher = [sys.executable] if procs is None else [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(procs),
        "--master_port", str(29600 + os.getpid() % 300 + procs)]
    cmd = [*launcher, str(REPO / "trainer" / "main.py"), "--model", model, "--shards",
           str(shards), "--out", str(out), *flags]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    if background:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, **popen)


def losses(out):
    rows = [json.loads(l) for l in (Path(out) / "metrics.jsonl").read_text().splitlines()]
    return [r["loss"] for r in rows]


@pytest.fixture(scope="module")
def full_run(tiny_model, bpe_shards, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "full"
    r = train(tiny_model, bpe_shards[0], out, "--steps", "30", "--checkpoint-every",
              "2", *FAST)
    assert r.returncode == 0, r.stdout + r.stderr
    return out, r.stdout


@pytest.mark.slow
def test_loss_falls_and_the_export_loads_and_generates(full_run, bpe_shards):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out, stdout = full_run
    ls = losses(out)
    assert len(ls) == 30
    assert ls[0] == pytest.approx(np.log(3002), abs=0.3)  # a random model: uniform
    assert np.mean(ls[-5:]) < ls[0] - 1.0
    assert "leia train: config" in stdout and "exported the model" in stdout
    tok = AutoTokenizer.from_pretrained(out / "hf")
    model = AutoModelForCausalLM.from_pretrained(out / "hf")
    specials = bpe_shards[1].special_tokens
    assert tok.convert_tokens_to_ids("<translate>") == specials["start_marker"]["id"]
    assert model.get_input_embeddings().weight.shape[0] == len(tok)
    record = json.loads((out / "hf" / "leia.json").read_text())
    assert record["markers"] == {"<translate>": specials["start_marker"]["id"],
                                 "</translate>": specials["end_marker"]["id"]}
    assert record["augmentation"] == bpe_shards[1].augmentation
    ids = tok("Η Αθήνα", return_tensors="pt").input_ids
    gen = model.generate(ids, max_new_tokens=5, do_sample=False)
    assert gen.shape[1] == ids.shape[1] + 5
    # The config is saved with every checkpoint.
    state = json.loads((out / "checkpoints" / "step-000030" / "state.json").read_text())
    assert state["config"]["steps"] == 30 and state["step"] == 30
    assert (out / "tb").is_dir()


@pytest.mark.slow
def test_kill_mid_training_and_resume_gives_the_same_losses(full_run, tiny_model,
                                                           bpe_shards, tmp_path):
    out = tmp_path / "killed"
    args = ("--steps", "30", "--checkpoint-every", "2", *FAST)
    proc = train(tiny_model, bpe_shards[0], out, *args, background=True)
    deadline = time.time() + 300
    while not (out / "checkpoints" / "step-000004").is_dir():
        assert proc.poll() is None and time.time() < deadline, proc.stdout.read()
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # no clean stop: the whole process group
    proc.wait()
    killed_at = len(losses(out))
    assert killed_at < 30, "the run finished before it was killed"
    r = train(tiny_model, bpe_shards[0], out, *args, "--resume")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "resumed from" in r.stdout
    assert losses(out) == losses(full_run[0])  # exactly: same data, state and RNG


class _RunsCode:
    """Unpickling this calls ``os.system``: what a tampered checkpoint could hold."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.slow
def test_a_checkpoint_that_holds_code_is_refused_not_run(full_run, tiny_model, bpe_shards,
                                                         tmp_path):
    """The newest checkpoint's RNG file replaced by a pickle that runs a command when
    loaded: the resumed run says why it skips that checkpoint, never runs the command,
    and continues from the one before, with the same losses."""
    out = tmp_path / "tampered"
    shutil.copytree(full_run[0], out)
    marker = tmp_path / "ran"
    newest = out / "checkpoints" / "step-000030"
    assert (newest / "scheduler.json").is_file()  # the schedule is plain JSON
    torch.save({"cpu": _RunsCode(marker)}, newest / "rng-rank0.pt")
    r = train(tiny_model, bpe_shards[0], out, "--steps", "30", "--checkpoint-every", "2",
              *FAST, "--resume")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not marker.exists()
    assert "skipping" in r.stdout and "could run code; it was not loaded" in r.stdout
    assert "resumed from" in r.stdout and "step-000028" in r.stdout
    assert losses(out) == losses(full_run[0])


@pytest.mark.slow
def test_one_and_two_processes_resharded_or_not_give_the_same_losses(
        full_run, tiny_model, bpe_shards, tmp_path):
    # Two processes that gather once per step: the shared run (auto on the CPU: never).
    assert "gathered once per step" in full_run[1]
    runs = {"one": (None, "auto"), "two-resharded": (2, "always")}
    for name, (procs, reshard) in runs.items():
        r = train(tiny_model, bpe_shards[0], tmp_path / name, "--steps", "30",
                  "--no-export", "--reshard", reshard, *FAST, procs=procs)
        assert r.returncode == 0, r.stdout + r.stderr
        assert ("resharded after each forward" if reshard == "always"
                else "gathered once per step") in r.stdout
    for other in (full_run[0], tmp_path / "two-resharded"):
        assert losses(tmp_path / "one") == pytest.approx(losses(other), rel=1e-5)


def test_the_exported_record_names_custom_markers():
    from leia.shards import Manifest
    from trainer.model import leia_record

    augmentation = {"jawiki": {"strategy": "left", "markers": ["[[en:", "]]"]}}
    manifest = Manifest(
        created="", fingerprint="", tokenizer={}, dtype="uint16", layout={}, source={},
        wikis=["jawiki"], tokens_per_shard=1, totals={}, per_wiki={}, shards=[],
        seconds=0.0, special_tokens={"start_marker": {"token": "[[en:", "id": 3000},
                                     "end_marker": {"token": "]]", "id": 3001},
                                     "bos": {"token": "<s>", "id": 1}},
        augmentation=augmentation, loss_mask="markers")
    assert leia_record(manifest) == {"markers": {"[[en:": 3000, "]]": 3001},
                                     "augmentation": augmentation, "loss_mask": "markers"}


def test_masked_positions_never_contribute(bpe_shards):
    shards = ShardSet(bpe_shards[0])
    data = PackedSequences(shards, 64, seed=1)
    # A sequence holding a marker, whose label must be -100.
    j = next(j for j in range(data.total)
             if (shards.read(j * 64 + 1, j * 64 + 65)[1] == 0).any())
    x, y = data.sequence(j)
    tokens, mask = shards.read(j * 64, j * 64 + 65)
    want = np.where(mask[1:] == 1, tokens[1:].astype(np.int64), IGNORE)
    assert (y == want).all() and (y == IGNORE).any()
    torch.manual_seed(0)
    logits = torch.randn(1, 64, 3002)
    labels = torch.from_numpy(y)[None]
    by_hand = sum(-torch.log_softmax(logits[0, i], -1)[int(y[i])] for i in range(64)
                  if y[i] != IGNORE)
    assert token_loss_sum(logits, labels).item() == pytest.approx(float(by_hand), rel=1e-5)
    changed = logits.clone()
    changed[0, torch.from_numpy(y == IGNORE)] += 100.0  # whatever the model predicts there
    assert token_loss_sum(changed, labels).item() == pytest.approx(float(by_hand), rel=1e-5)


@pytest.mark.parametrize("scale", [0.01, 100.0])  # below and above the clip
def test_gradient_clipping_matches_torch(scale):
    torch.manual_seed(0)
    ours = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Linear(16, 3))
    theirs = copy.deepcopy(ours)
    (ours(torch.randn(4, 8)).sum() * scale).backward()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        b.grad = a.grad.clone()
    want = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0)
    got = clip_grad_norm_(ours.parameters(), 1.0)
    assert float(got) == pytest.approx(float(want), rel=1e-6)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.allclose(a.grad, b.grad, rtol=1e-6, atol=0)


def _reduce_scatter_both_ways(rank, world, port, folder):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world)
    x = torch.randn(world * 5, generator=torch.Generator().manual_seed(rank))
    out = {}
    for op in ("SUM", "AVG"):
        want, got = torch.empty(5), torch.empty(5)
        dist.reduce_scatter_tensor(want, x.clone(), op=getattr(dist.ReduceOp, op))
        GlooReduceScatter()(got, x.clone(), dist.group.WORLD, getattr(dist.ReduceOp, op))
        out[op] = (want, got)
    torch.save(out, Path(folder) / f"{rank}.pt")
    dist.destroy_process_group()


@pytest.mark.slow
def test_gloo_gradient_reduction_equals_reduce_scatter(tmp_path):
    world = 2
    torch.multiprocessing.spawn(_reduce_scatter_both_ways,
                                args=(world, 29400 + os.getpid() % 100, str(tmp_path)),
                                nprocs=world)
    for rank in range(world):
        for op, (want, got) in torch.load(tmp_path / f"{rank}.pt").items():
            assert torch.allclose(got, want, rtol=1e-6, atol=1e-6), (rank, op)


def test_cpu_ranks_are_pinned_to_disjoint_cores():
    # Affinity is per thread on Linux: each call runs in its own thread, so the test
    # process itself stays unpinned.
    from trainer.launch import pin_cores

    def pinned(rank, world):
        got = []
        t = threading.Thread(target=lambda: (pin_cores(rank, world),
                                             got.append(sorted(os.sched_getaffinity(0)))))
        t.start()
        t.join()
        return got[0]

    cores = sorted(os.sched_getaffinity(0))
    half = len(cores) // 2
    if half:
        assert pinned(0, 2) == cores[:half] and pinned(1, 2) == cores[half:2 * half]
    assert pinned(0, len(cores) + 1) == cores  # more ranks than cores: left to the OS
    assert sorted(os.sched_getaffinity(0)) == cores


def test_ranks_read_disjoint_sequences_and_resume_replays_nothing(bpe_shards):
    shards = ShardSet(bpe_shards[0])
    seen = []
    for rank in range(2):
        d = PackedSequences(shards, 64, rank, 2, seed=3)
        steps = [d.next_step(8, 2) for _ in range(3)]
        seen.append({tuple(row) for step in steps for x, _ in step for row in x})
    assert not seen[0] & seen[1] and len(seen[0]) == len(seen[1]) == 12
    a = PackedSequences(shards, 64, seed=3)
    a.next_step(8, 8)
    b = PackedSequences(shards, 64, seed=3)
    b.load_state(a.state.to_dict())
    assert all((p[0] == q[0]).all() for p, q in zip(a.next_step(8, 8), b.next_step(8, 8)))


def test_bad_inputs_are_clear_errors(tiny_model, spm_tokenizer, bpe_shards, tmp_path,
                                     capsys, monkeypatch):
    # Checked before any rank trains, the same in every process: one is enough, and it
    # runs here, as a stage of leia.stages runs it (the two-rank arithmetic:
    # tests/unit/test_cli.py).
    from trainer.main import main

    def error(model, shards, *flags):
        with pytest.raises(SystemExit) as raised:
            main(["--model", str(model), "--shards", str(shards), "--out",
                  str(tmp_path / "out"), "--no-pin-cores", *flags])
        assert raised.value.code == 2
        return capsys.readouterr().err

    assert "no manifest" in error(tiny_model, tmp_path / "nothing", "--steps", "1", *FAST)
    assert "not a multiple of --micro-batch" in error(
        tiny_model, bpe_shards[0], "--steps", "1", "--global-batch", "3", "--micro-batch",
        "2", "--seq-len", "64")
    other = tmp_path / "other_model"
    shutil_copy_model(tiny_model, other, spm_tokenizer)
    assert "tokenizer mismatch" in error(other, bpe_shards[0], "--steps", "1", *FAST)
    # Ranks counted but given nowhere to meet: an error, never each rank training alone.
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    assert "WORLD_SIZE=2 but no MASTER_ADDR" in error(tiny_model, bpe_shards[0])


@pytest.mark.slow
def test_diverging_loss_stops_and_keeps_the_last_good_checkpoint(tiny_model, bpe_shards,
                                                                tmp_path):
    out = tmp_path / "nan"
    r = train(tiny_model, bpe_shards[0], out, "--steps", "6", "--checkpoint-every", "1",
              *FAST, "--lr", "1e30", "--clip", "1e30")
    assert r.returncode != 0
    assert "training diverged" in r.stderr and "last good checkpoint is" in r.stderr
    assert (out / "checkpoints" / "step-000001" / "state.json").is_file()


@pytest.mark.slow
def test_a_full_disk_or_a_crash_keeps_the_previous_checkpoint(full_run, tiny_model,
                                                              bpe_shards, tmp_path):
    """A disk that fills up while a checkpoint is written, made portable with a file-size
    limit (writes past it fail with EFBIG, as they fail with ENOSPC on a full disk):
    every rank stops with a message, and the previous checkpoint is kept whole. Resumed
    with room again and beside what a crash mid-write leaves (a half-written .tmp
    folder, a folder without its state.json), the run skips those and gives the
    uninterrupted run's losses."""
    import resource
    import shutil
    out = tmp_path / "disk"
    shutil.copytree(full_run[0], out)
    ckpts = out / "checkpoints"
    shutil.rmtree(ckpts / "step-000030")
    limit = 256 << 10  # above the logs, below a checkpoint file of this model

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    args = ("--steps", "30", "--checkpoint-every", "2", *FAST, "--resume")
    r = train(tiny_model, bpe_shards[0], out, *args, preexec_fn=small_disk)
    assert r.returncode != 0
    assert "could not write checkpoint" in r.stderr and "step-000028, is kept" in r.stderr
    assert sorted(p.name for p in ckpts.iterdir()) == ["step-000028"]  # nothing half-written
    (ckpts / "step-000030.tmp").mkdir()           # a crash while writing
    (ckpts / "step-000032").mkdir()               # a folder without its state.json
    r = train(tiny_model, bpe_shards[0], out, *args)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "skipping" in r.stdout and "step-000030.tmp" in r.stdout
    assert "resumed from" in r.stdout and "step-000028" in r.stdout
    assert losses(out) == losses(full_run[0])


def shutil_copy_model(src, dest, tokenizer):
    import shutil
    shutil.copytree(src, dest)
    for f in Path(tokenizer).iterdir():
        shutil.copy(f, dest / f.name)
