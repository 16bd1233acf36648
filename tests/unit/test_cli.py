"""The job's command line, as users run it."""

import subprocess
import sys

import pytest
from conftest import REPO


def cli(*args):
    return subprocess.run([sys.executable, str(REPO / "spark_jobs" / "augment.py"), *args],
                          capture_output=True, text=True, timeout=120)


def test_help_explains_every_flag():
    done = cli("--help")
    assert done.returncode == 0
    for flag in ("--dumps", "--wikis", "--date", "--out", "--pivot", "--strategy",
                 "--prob", "--seed", "--master", "--start-marker", "--end-marker",
                 "--no-skip-namespaced", "--no-skip-lists", "--no-strip-parentheses",
                 "--alignment", "--wikidata"):
        assert flag in done.stdout


def test_bad_arguments_exit_2_before_starting_spark():
    done = cli("--strategy", "middle")
    assert done.returncode == 2 and "invalid choice" in done.stderr
    done = cli("--wikis", "jawiki,not-a-wiki")
    assert done.returncode == 2 and "not a Wikimedia database name" in done.stderr


def test_to_argv_spells_what_the_stage_parses_back():
    from leia.cli import parse_config, to_argv
    from spark_jobs.encode_config import EncodeConfig
    from trainer.config import TrainConfig

    argv = to_argv(TrainConfig, model="m", seq_len=64, global_batch=8, lr=0.5,
                   resume=True, export=False)
    assert argv[:4] == ["--model", "m", "--seq-len", "64"]
    cfg = parse_config(TrainConfig, argv, "t", "")
    assert (cfg.model, cfg.seq_len, cfg.global_batch, cfg.lr, cfg.resume, cfg.export) == \
        ("m", 64, 8, 0.5, True, False)
    cfg = parse_config(EncodeConfig, to_argv(EncodeConfig, tokenizer="t", augmentation=False),
                       "e", "")
    assert cfg.augmentation is False and cfg.tokenizer == "t"


def test_the_global_batch_divides_over_micro_batches_and_ranks():
    from trainer.config import TrainConfig

    cfg = TrainConfig(model="m", global_batch=8, micro_batch=2)
    cfg.validate(world=2)
    assert cfg.accumulation(2) == 2
    cfg.global_batch = 6  # a multiple of the micro-batch, not of 2 ranks x 2
    cfg.validate(world=1)
    with pytest.raises(ValueError, match="not a multiple of --micro-batch 2 x 2 rank"):
        cfg.validate(world=2)
