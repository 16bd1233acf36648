"""The LEIA effect, measured on synthetic bilingual Wikipedias with the project's own
stages. One command:

    python -m experiments.effect                    # the default size (see docs/effect.md)
    python -m experiments.effect --quick            # every stage in a minute or two
    python -m experiments.effect --prob 1.0         # a variant: reuses the worlds, the
                                                    # base models and the plain runs

Each seed n has a world of its own (drawn with --world-seed + n) and everything built
from it under OUT/seed-<n>/. Stages, each skipped when its output is complete (so an
interrupted run continues):

    world     the entities, their English wiki, target wiki and target news wiki as
              dump files (dumps/), and the tests (tests/, X-CSR layout), written
              before anything is trained
    corpus    spark_jobs/augment.py on the three wikis   -> corpus-<strategy>-p<prob>/
              and the English names it inserted, counted per name (names.json)
    tokenizer leia.toy_tokenizer on the dumps            -> tokenizer/
    shards    spark_jobs/encode.py: pretrain (English wiki + news), plain and LEIA
              (the target wiki without and with the names)         -> shards/*
    train     trainer.tiny_model, then torchrun trainer/main.py (--procs processes):
              pretraining, then continued training plain and LEIA -> runs/*
    evaluate  trainer.evaluate on base, plain, LEIA                -> eval/*
    report    per test and model, the mean over seeds with intervals over seeds and
              over seeds and questions; LEIA minus plain paired     -> OUT/report.*

Every world's corpus and shards are built first, in one SparkSession, whose cores then
go to the trainings. The LEIA variant is named by its augmentation (``leia-right-p0.5``,
``-masked`` with --mask-names); a variant given the same --out reuses the worlds, the
base models and the plain runs, and the report lists every variant evaluated there.
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
from .questions import TESTS  # noqa: E402
from .report import write_report  # noqa: E402

# Demonstrations per question-answer probe: three question-answer pairs fill about 90 of
# the model's 128 positions, so no prompt loses a token to the window.
QA_SHOTS = 2


class Experiment:
    def __init__(self, cfg: EffectConfig):
        self.cfg, self.out = cfg, Path(cfg.out).resolve()
        self.leia = cfg.leia_name()
        self.corpus_name = f"corpus-{cfg.strategy}-p{cfg.prob:g}"
        self.variants = ("plain", self.leia)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    def run(self) -> None:
        t0 = time.perf_counter()
        self.out.mkdir(parents=True, exist_ok=True)
        print("leia effect: config\n" + self.cfg.to_json(), flush=True)
        self.check_settings()
        seeds = range(self.cfg.seeds)
        try:
            for seed in seeds:
                self.world(seed)
                self.corpus(seed)
                self.tokenizer(seed)
                self.shards(seed)
        finally:
            stop_spark()  # its cores are the trainer's now
        for seed in seeds:
            self.train(seed)
            self.evaluate(seed)
        text = write_report(self.out, self.cfg, self.leia)
        print("\n" + text)
        print(f"effect done in {time.perf_counter() - t0:.0f}s; report: "
              f"{self.out / 'report.md'} and report.png")

    def pair(self, seed: int) -> Path:
        """Everything of one (world, training) seed."""
        return self.out / f"seed-{seed}"

    def step(self, name: str, done: Path, cmd: list[str], torchrun: bool = False) -> None:
        """Run one stage (``leia.stages.run_stage``) unless ``done`` exists."""
        if done.exists():
            print(f"== {name}: already complete ({done})", flush=True)
            return
        run_stage("effect", name, done, cmd, cwd=REPO, procs=self.cfg.procs,
                  torchrun=torchrun)

    def check_settings(self) -> None:
        """Only the augmentation, --seeds and --procs may change within one --out: the
        rest makes other worlds or other models."""
        stamp = self.out / "experiment.json"
        want = self.cfg.shared()
        if stamp.exists():
            held = json.loads(stamp.read_text())
            if held != want:
                diff = sorted(k for k in want if held.get(k) != want[k])
                raise SystemExit(
                    f"effect: {self.out} holds an experiment with other settings "
                    f"({', '.join(diff)}; see {stamp}): only the augmentation "
                    "(--strategy, --prob, --mask-names), --seeds and --procs may change "
                    "within one --out. Give another --out for the others")
        stamp.write_text(json.dumps(want, indent=2))

    def world(self, seed: int) -> None:
        """The world's dump files, then its tests (rewritten where they lack a test
        that ``TESTS`` now holds: the world, and so every other test, stays the same)."""
        from .dumps import write_tests, write_wikis
        from .world import make_world

        root, args = self.pair(seed), self.cfg.world_args(seed)
        done, tests = root / "world.json", root / "tests" / "tests.json"
        want = {"tests": list(TESTS), "groupings": self.cfg.groupings}
        if done.exists() and tests.exists() and json.loads(tests.read_text()) == want:
            print(f"== seed {seed}: world already complete ({done})")
            return
        world = make_world(**args)
        if not done.exists():
            summary = write_wikis(world, root / "dumps", args["seed"])
            for s in summary:
                print(f"seed {seed}: world {args['seed']}: {s['wiki']}: {s['articles']} "
                      f"articles, {s['redirects']} redirects, {s['langlinks']} langlinks")
            done.write_text(json.dumps({"world": args, "wikis": summary}, indent=2))
        write_tests(world, root / "tests", args["seed"], self.cfg.groupings)
        tests.write_text(json.dumps(want))
        print(f"seed {seed}: tests written: {', '.join(TESTS)}")

    def corpus(self, seed: int) -> None:
        from .dose import write_name_counts

        root = self.pair(seed)
        corpus = root / self.corpus_name
        self.step(f"seed {seed}: corpus", corpus / "stats" / "_delta_log",
                  ["spark_jobs/augment.py", *to_argv(
                      AugmentConfig, dumps=str(root / "dumps"), out=str(corpus),
                      strategy=self.cfg.strategy, prob=self.cfg.prob)])
        write_name_counts(corpus)

    def tokenizer(self, seed: int) -> None:
        root = self.pair(seed)
        self.step(f"seed {seed}: tokenizer", root / "tokenizer" / "tokenizer.json",
                  ["-m", "leia.toy_tokenizer", "--kind", "sentencepiece",
                   "--dumps", str(root / "dumps"),
                   "--vocab-size", str(self.cfg.vocab_size),
                   "--out", str(root / "tokenizer")])

    def shards(self, seed: int) -> None:
        root = self.pair(seed)
        # EOS ends every article, as in a Llama's pretraining: the tests put each
        # sentence after a lone EOS (X-CODAH's protocol), which the model must have read.
        common = dict(table=str(root / self.corpus_name / "augmented"),
                      tokenizer=str(root / "tokenizer"), append_eos=True)
        plans = {"pretrain": dict(wikis="enwiki,ruwikinews", augmentation=False),
                 "plain": dict(wikis="ruwiki", augmentation=False),
                 self.leia: dict(wikis="ruwiki", mask_names=self.cfg.mask_names)}
        for name, extra in plans.items():
            out = root / "shards" / name
            self.step(f"seed {seed}: shards ({name})", out / "manifest.json",
                      ["spark_jobs/encode.py",
                       *to_argv(EncodeConfig, out=str(out), **common, **extra)])

    def trainer_args(self, model: str, shards: Path, out: Path, seed: int, steps: int,
                     lr: float) -> list[str]:
        return ["trainer/main.py", *to_argv(
            TrainConfig, model=model, shards=str(shards), out=str(out), steps=steps,
            lr=lr, seq_len=self.cfg.seq_len, global_batch=self.cfg.global_batch,
            micro_batch=self.cfg.global_batch // self.cfg.procs,
            warmup_steps=max(1, steps // 20), min_lr_ratio=0.1, seed=seed,
            log_every=max(1, steps // 10), final_checkpoint=False)]

    def train(self, seed: int) -> None:
        root = self.pair(seed)
        runs, init = root / "runs", root / "runs" / "init"
        self.step(f"seed {seed}: random model", init / "model.safetensors",
                  ["-m", "trainer.tiny_model", "--tokenizer", str(root / "tokenizer"),
                   "--out", str(init), "--layers", str(self.cfg.layers),
                   "--hidden", str(self.cfg.hidden), "--heads", str(self.cfg.heads),
                   "--max-positions", str(self.cfg.seq_len), "--seed", str(seed)])
        self.step(f"seed {seed}: pretraining", runs / "base" / "hf" / "model.safetensors",
                  self.trainer_args(str(init), root / "shards" / "pretrain",
                                    runs / "base", seed, self.cfg.pretrain_steps,
                                    self.cfg.pretrain_lr), torchrun=True)
        for v in self.variants:
            self.step(f"seed {seed}: continued training ({v})",
                      runs / v / "hf" / "model.safetensors",
                      self.trainer_args(str(runs / "base" / "hf"), root / "shards" / v,
                                        runs / v, seed, self.cfg.steps, self.cfg.lr),
                      torchrun=True)

    def evaluate(self, seed: int) -> None:
        from trainer.eval_config import EvalConfig

        root = self.pair(seed)
        tasks = [f"{t.kind}_{name}" for name, t in TESTS.items()]
        for model in ("base", *self.variants):
            out = root / "eval" / model
            held = out / "metrics.json"
            if held.exists() and set(tasks) - set(json.loads(held.read_text())):
                held.unlink()  # evaluated before a test was added: evaluate again
            self.step(f"seed {seed}: evaluate ({model})", out / "metrics.json",
                      ["-m", "trainer.evaluate", *to_argv(
                          EvalConfig, model=str(root / "runs" / model / "hf"),
                          tasks=",".join(tasks),
                          data=str(root / "tests"), out=str(out), seeds=1,
                          demo_split="train", shots=QA_SHOTS, batch_size=64)])


def main(argv: list[str] | None = None) -> None:
    cfg = parse_args(argv)
    Experiment(cfg).run()
