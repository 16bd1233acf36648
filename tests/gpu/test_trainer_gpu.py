"""The trainer on a GPU (NCCL, bf16 parameters with fp32 reduction): skipped where
CUDA is not available, as on CI. On a GPU machine:

    LEIA_GPU_SHARDS=DIR python -m pytest tests/gpu/test_trainer_gpu.py   # DIR: any shard folder

(without the variable the shards are built from the sample with Spark, as the CPU
tests do)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
REPO = Path(__file__).resolve().parents[2]
ARGS = ["--seq-len", "256", "--global-batch", "8", "--micro-batch", "4", "--lr", "3e-3"]


@pytest.fixture(scope="module")
def setup(request, tmp_path_factory):
    from trainer.tiny_model import build_tiny_llama

    shards = os.environ.get("LEIA_GPU_SHARDS") or request.getfixturevalue("bpe_shards")[0]
    model = build_tiny_llama(str(Path(shards) / "tokenizer"),
                             tmp_path_factory.mktemp("gpu_llama"), layers=4, hidden=256)
    return str(model), str(shards)


def train(setup, out, *flags):
    model, shards = setup
    r = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "1",
         "--master_port", "29655", str(REPO / "trainer" / "main.py"), "--model", model,
         "--shards", shards, "--out", str(out), *ARGS, *flags],
        env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    rows = [json.loads(x) for x in (Path(out) / "metrics.jsonl").read_text().splitlines()]
    return rows, r.stdout


def test_bf16_training_resumes_and_exports(setup, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    full, log = train(setup, tmp_path / "full", "--steps", "6", "--checkpoint-every", "3")
    assert "torch.bfloat16 on cuda" in log and "resharded after each forward" in log
    assert all(0 < r["mfu"] < 1 and r["peak_memory_gb"] > 0 for r in full)
    assert full[-1]["loss"] < full[0]["loss"]

    # Resume from step 3: the same steps 4-6 (bf16 kernels may differ in the last bits).
    resumed_dir = tmp_path / "resumed"
    shutil.copytree(tmp_path / "full", resumed_dir)
    shutil.rmtree(resumed_dir / "checkpoints" / "step-000006")
    resumed, log = train(setup, resumed_dir, "--steps", "6", "--checkpoint-every", "3",
                         "--resume")
    assert "resumed from" in log and "step-000003" in log
    print("resume exact:", [r["loss"] for r in resumed] == [r["loss"] for r in full])
    assert [r["loss"] for r in resumed] == pytest.approx([r["loss"] for r in full],
                                                         rel=1e-3)

    tok = AutoTokenizer.from_pretrained(tmp_path / "full" / "hf")
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "full" / "hf",
                                                 dtype=torch.bfloat16).cuda()
    ids = tok("Η Αθήνα", return_tensors="pt").input_ids.cuda()
    assert model.generate(ids, max_new_tokens=4, do_sample=False).shape[1] == ids.shape[1] + 4

    # The evaluator on the GPU, on the exported model.
    r = subprocess.run([sys.executable, "-m", "trainer.evaluate", "--model",
                        str(tmp_path / "full" / "hf"), "--tasks", "xcodah_ja,xcsqa_ja",
                        "--data", str(REPO / "data" / "xcsr-sample"), "--seeds", "2",
                        "--out", str(tmp_path / "eval")],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert set(metrics) == {"xcodah_ja", "xcsqa_ja"}


def test_compile_and_activation_checkpointing_give_the_same_losses(setup, tmp_path):
    plain, _ = train(setup, tmp_path / "plain", "--steps", "3", "--no-export")
    for flag in ("--compile", "--activation-checkpointing"):
        rows, _ = train(setup, tmp_path / flag.strip("-"), "--steps", "3", "--no-export",
                        flag)
        assert [r["loss"] for r in rows] == pytest.approx([r["loss"] for r in plain],
                                                          rel=1e-2), flag
