"""The LEIA effect, measured on a synthetic bilingual Wikipedia with the project's own
stages. One command:

    python -m experiments.effect                    # the default size (see docs/effect.md)
    python -m experiments.effect --quick            # every stage in a minute or two
    python -m experiments.effect --strategy left --out out/effect-left   # an ablation

Stages, each skipped when its output is complete (so an interrupted run continues):

    world     the entities, their English wiki, target wiki and target news wiki as
              dump files (OUT/dumps), and the tests (OUT/tests, X-CSR layout), written
              before anything is trained
    corpus    spark_jobs/augment.py on the three wikis   -> OUT/corpus-<strategy>-p<prob>
    tokenizer leia.toy_tokenizer on the dumps                      -> OUT/tokenizer
    shards    spark_jobs/encode.py: pretrain (English wiki + news), plain and LEIA
              (the target wiki without and with the names)         -> OUT/shards/*
    per seed  trainer.tiny_model, then trainer/main.py (torchrun with --procs > 1):
              pretraining, then continued training plain and LEIA -> OUT/runs/<seed>/*
              trainer.evaluate on base, plain, LEIA                -> OUT/eval/<seed>/*

The LEIA variant is named by its augmentation (``leia-right-p0.5``, ``-masked`` with
--mask-names). An ablation given the same --out reuses the world, the base models and
the plain runs, and the report lists every variant evaluated there.
    report    mean and 95% interval over seeds per test            -> OUT/report.md/.png
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from leia.cli import to_argv  # noqa: E402
from leia.stages import run_stage, stop_spark  # noqa: E402
from spark_jobs.config import AugmentConfig  # noqa: E402
from spark_jobs.encode_config import EncodeConfig  # noqa: E402
from trainer.config import TrainConfig  # noqa: E402

from .config import EffectConfig, parse_args  # noqa: E402
from .report import TESTS, write_report  # noqa: E402


class Experiment:
    def __init__(self, cfg: EffectConfig):
        self.cfg, self.out = cfg, Path(cfg.out).resolve()
        # Runs that differ only in the augmentation share the world, the base models and
        # the plain runs: an ablation costs its own corpus and continued training only.
        self.leia = cfg.leia_name()
        self.corpus_dir = self.out / f"corpus-{cfg.strategy}-p{cfg.prob:g}"
        self.variants = ("plain", self.leia)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    def run(self) -> None:
        t0 = time.perf_counter()
        self.out.mkdir(parents=True, exist_ok=True)
        print("leia effect: config\n" + self.cfg.to_json(), flush=True)
        self.world()
        try:
            self.corpus()
            self.tokenizer()
            self.shards()
        finally:
            stop_spark()  # its cores are the trainer's now
        for seed in range(self.cfg.seeds):
            self.train(seed)
            self.evaluate(seed)
        text = write_report(self.out, self.cfg, self.leia)
        print("\n" + text)
        print(f"effect done in {time.perf_counter() - t0:.0f}s; report: "
              f"{self.out / 'report.md'} and report.png")

    def step(self, name: str, done: Path, cmd: list[str], torchrun: bool = False) -> None:
        """Run one stage (``leia.stages.run_stage``) unless ``done`` exists."""
        if done.exists():
            print(f"== {name}: already complete ({done})", flush=True)
            return
        run_stage("effect", name, done, cmd, cwd=REPO, procs=self.cfg.procs,
                  torchrun=torchrun)

    def world(self) -> None:
        from .dumps import write_world
        from .world import make_world

        stamp = self.out / "experiment.json"
        want = self.cfg.shared()
        if stamp.exists():
            held = json.loads(stamp.read_text())
            if held != want:
                diff = sorted(k for k in want if held.get(k) != want[k])
                raise SystemExit(
                    f"effect: {self.out} holds an experiment with other settings "
                    f"({', '.join(diff)}; see {stamp}): only the augmentation "
                    "(--strategy, --prob, --mask-names) and --seeds may change within "
                    "one --out. Give another --out for the others")
            print(f"== world: already complete ({stamp})")
            return
        world = make_world(**self.cfg.world_args())
        summary = write_world(world, self.out / "dumps", self.out / "tests",
                              self.cfg.world_seed)
        for s in summary:
            print(f"world: {s['wiki']}: {s['articles']} articles, {s['redirects']} "
                  f"redirects, {s['langlinks']} langlinks")
        stamp.write_text(json.dumps(want, indent=2))

    def corpus(self) -> None:
        self.step("corpus", self.corpus_dir / "stats" / "_delta_log",
                  ["spark_jobs/augment.py", *to_argv(
                      AugmentConfig, dumps=str(self.out / "dumps"),
                      out=str(self.corpus_dir), strategy=self.cfg.strategy,
                      prob=self.cfg.prob)])

    def tokenizer(self) -> None:
        self.step("tokenizer", self.out / "tokenizer" / "tokenizer.json",
                  ["-m", "leia.toy_tokenizer", "--kind", "sentencepiece",
                   "--dumps", str(self.out / "dumps"),
                   "--vocab-size", str(self.cfg.vocab_size),
                   "--out", str(self.out / "tokenizer")])

    def shards(self) -> None:
        table = str(self.corpus_dir / "augmented")
        # EOS ends every article, as in a Llama's pretraining: the tests put each
        # sentence after a lone EOS (X-CODAH's protocol), which the model must have read.
        common = dict(table=table, tokenizer=str(self.out / "tokenizer"), append_eos=True)
        plans = {"pretrain": dict(wikis="enwiki,ruwikinews", augmentation=False),
                 "plain": dict(wikis="ruwiki", augmentation=False),
                 self.leia: dict(wikis="ruwiki", mask_names=self.cfg.mask_names)}
        for name, extra in plans.items():
            out = self.out / "shards" / name
            self.step(f"shards ({name})", out / "manifest.json",
                      ["spark_jobs/encode.py",
                       *to_argv(EncodeConfig, out=str(out), **common, **extra)])

    def trainer_args(self, model: str, shards: str, out: Path, seed: int, steps: int,
                     lr: float) -> list[str]:
        return ["trainer/main.py", *to_argv(
            TrainConfig, model=model, shards=shards, out=str(out), steps=steps, lr=lr,
            seq_len=self.cfg.seq_len, global_batch=self.cfg.global_batch,
            micro_batch=self.cfg.global_batch // self.cfg.procs,
            warmup_steps=max(1, steps // 20), min_lr_ratio=0.1, seed=seed,
            log_every=max(1, steps // 10), final_checkpoint=False)]

    def train(self, seed: int) -> None:
        runs = self.out / "runs" / str(seed)
        init = runs / "init"
        self.step(f"seed {seed}: random model", init / "model.safetensors",
                  ["-m", "trainer.tiny_model", "--tokenizer", str(self.out / "tokenizer"),
                   "--out", str(init), "--layers", str(self.cfg.layers),
                   "--hidden", str(self.cfg.hidden), "--heads", str(self.cfg.heads),
                   "--max-positions", str(self.cfg.seq_len), "--seed", str(seed)])
        self.step(f"seed {seed}: pretraining", runs / "base" / "hf" / "model.safetensors",
                  self.trainer_args(str(init), str(self.out / "shards" / "pretrain"),
                                    runs / "base", seed, self.cfg.pretrain_steps,
                                    self.cfg.pretrain_lr), torchrun=True)
        for v in self.variants:
            self.step(f"seed {seed}: continued training ({v})",
                      runs / v / "hf" / "model.safetensors",
                      self.trainer_args(str(runs / "base" / "hf"),
                                        str(self.out / "shards" / v), runs / v, seed,
                                        self.cfg.steps, self.cfg.lr), torchrun=True)

    def evaluate(self, seed: int) -> None:
        from trainer.eval_config import EvalConfig

        for model in ("base", *self.variants):
            out = self.out / "eval" / str(seed) / model
            self.step(f"seed {seed}: evaluate ({model})", out / "metrics.json",
                      ["-m", "trainer.evaluate", *to_argv(
                          EvalConfig, model=str(self.out / "runs" / str(seed) / model / "hf"),
                          tasks=",".join(f"xcodah_{t}" for t in TESTS),
                          data=str(self.out / "tests"), out=str(out), seeds=1)])


def main(argv: list[str] | None = None) -> None:
    cfg = parse_args(argv)
    Experiment(cfg).run()
