"""The whole LEIA pipeline on one machine: dumps -> corpus -> shards -> training ->
evaluation -> report, each stage the same command a user would run on its own.

    python pipeline.py                          # the bundled sample, a tiny model, CPU
    python pipeline.py --stages train,evaluate,report --steps 60
    python pipeline.py --model meta-llama/Llama-2-7b-hf --dumps /data/dumps \\
        --wikis jawiki --steps 50 --seq-len 2048 --global-batch 2048 --procs 8 \\
        --eval-data INK-USC/xcsr --tasks xcodah_ja,xcsqa_ja

Stages, in order (``--stages`` picks some). Each prints its command and where its output
is. A stage whose output is complete is skipped, unless ``--force`` or an earlier stage
ran in this invocation (its input changed); an interrupted training run resumes from
its last complete checkpoint:

    corpus     spark_jobs/augment.py        -> OUT/corpus (Delta tables)
    tokenizer  leia.toy_tokenizer           -> OUT/tokenizer   (only without --model)
    model      trainer.tiny_model           -> OUT/base-model  (only without --model)
    shards     spark_jobs/encode.py         -> OUT/shards/leia, OUT/shards/plain
    train      torchrun trainer/main.py     -> OUT/runs/leia, OUT/runs/plain
    evaluate   trainer.evaluate             -> OUT/eval/base, OUT/eval/plain, OUT/eval/leia
    report     trainer.report               -> OUT/report/report.md, report.png

``plain`` is the paper's baseline: the same articles without the inserted names
(``encode.py --no-augmentation``), trained the same way; ``--no-baseline`` skips it.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))

from leia.cli import field_help, parse_config, to_argv  # noqa: E402
from leia.stages import run_stage, stop_spark  # noqa: E402
from spark_jobs.config import AugmentConfig  # noqa: E402
from spark_jobs.encode_config import EncodeConfig  # noqa: E402
from trainer.config import TrainConfig  # noqa: E402
from trainer.eval_config import EvalConfig  # noqa: E402

STAGES = ("corpus", "tokenizer", "model", "shards", "train", "evaluate", "report")
PAPER_LANGS = ("ar", "es", "hi", "ja", "ru", "sw", "zh")


@dataclass
class PipelineConfig:
    out: str = field(default="out/pipeline", metadata={"help": "root of every output"})
    dumps: str = field(default="data/sample/dumps", metadata={
        "help": "dump folder or URI (the default is the bundled sample)"})
    wikis: str = field(default="all", metadata={"help": "wikis to build, or all"})
    model: str = field(default="", metadata={
        "help": "base model (hub name or folder); default: a tiny random Llama with a "
                "tokenizer trained on the dumps, for trying the pipeline on a CPU"})
    stages: str = field(default=",".join(STAGES), metadata={
        "help": "comma-separated stages to run, in pipeline order"})
    force: bool = field(default=False, metadata={
        "help": "re-run stages whose output is already complete"})
    baseline: bool = field(default=True, metadata={
        "help": "also train and evaluate the plain-Wikipedia baseline"})
    # The training and evaluation settings the pipeline passes on; their help is the
    # stage's own, their defaults suit the tiny model (the paper's 7B recipe is
    # trainer/main.py's default).
    steps: int = field(default=40, metadata=field_help(TrainConfig, "steps"))
    seq_len: int = field(default=128, metadata=field_help(TrainConfig, "seq_len"))
    global_batch: int = field(default=8, metadata=field_help(TrainConfig, "global_batch"))
    lr: float = field(default=3e-3, metadata=field_help(TrainConfig, "lr"))
    procs: int = field(default=2, metadata={"help": "torchrun processes for training"})
    tasks: str = field(default=",".join([f"xcodah_{x}" for x in PAPER_LANGS]
                                        + [f"xcsqa_{x}" for x in PAPER_LANGS]),
                       metadata=field_help(EvalConfig, "tasks"))
    eval_data: str = field(default="data/xcsr-sample", metadata=field_help(EvalConfig, "data"))
    seeds: int = field(default=5, metadata=field_help(EvalConfig, "seeds"))

    def stage_list(self) -> list[str]:
        picked = [s.strip() for s in self.stages.split(",") if s.strip()]
        unknown = [s for s in picked if s not in STAGES]
        if unknown or not picked:
            raise ValueError(f"unknown stage(s) {unknown}: choose from {', '.join(STAGES)}")
        return [s for s in STAGES if s in picked]

    def validate(self) -> None:
        self.stage_list()
        if self.procs < 1 or self.steps < 1:
            raise ValueError("--procs and --steps must be at least 1")


def local_path(value: str) -> str:
    """A path given relative to where the user runs the pipeline, or to the repo (the
    defaults), made absolute; URIs and hub names are kept as they are."""
    if "://" in value:
        return value
    for base in (Path.cwd(), REPO):
        if (base / value).exists():
            return str((base / value).resolve())
    return value


class Pipeline:
    def __init__(self, cfg: PipelineConfig):
        self.cfg = cfg
        self.out = Path(cfg.out).resolve()
        self.dumps, self.eval_data = local_path(cfg.dumps), local_path(cfg.eval_data)
        self.variants = ["leia", "plain"] if cfg.baseline else ["leia"]
        self.base = local_path(cfg.model) if cfg.model else str(self.out / "base-model")
        self.tok = self.base if cfg.model else str(self.out / "tokenizer")
        self.dirty = cfg.force  # once a stage runs, every later one must too
        # Spark tasks run one per core already; the tokenizer's own threads would
        # oversubscribe. Set before the in-process Spark JVM starts, which its Python
        # workers inherit.
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    def run(self) -> None:
        t0 = time.perf_counter()
        try:
            for stage in self.cfg.stage_list():
                if stage in ("tokenizer", "model") and self.cfg.model:
                    continue  # a real base model brings its own tokenizer
                if stage == "train":
                    stop_spark()  # its memory is the trainer's now
                getattr(self, stage)()
        finally:
            stop_spark()
        print(f"\npipeline done in {time.perf_counter() - t0:.0f}s; outputs under "
              f"{self.out}/ (report: {self.out / 'report' / 'report.md'})")

    def step(self, name: str, done: Path, cmd: list[str], torchrun: bool = False) -> None:
        """Run one stage (``leia.stages.run_stage``) unless its output is complete
        (``done`` exists) and nothing before it ran."""
        if done.exists() and not self.dirty:
            print(f"\n== {name}: already complete ({done}); --force re-runs it")
            return
        self.dirty = True
        run_stage("pipeline", name, done, cmd, cwd=REPO, procs=self.cfg.procs,
                  torchrun=torchrun)

    def corpus(self):
        self.step("corpus", self.out / "corpus" / "stats" / "_delta_log",
                  ["spark_jobs/augment.py", *to_argv(
                      AugmentConfig, dumps=self.dumps, wikis=self.cfg.wikis,
                      out=str(self.out / "corpus"))])

    def tokenizer(self):
        self.step("tokenizer", Path(self.tok) / "tokenizer.json",
                  ["-m", "leia.toy_tokenizer", "--kind", "bpe", "--dumps", self.dumps,
                   "--out", self.tok])

    def model(self):
        self.step("model", Path(self.base) / "model.safetensors",
                  ["-m", "trainer.tiny_model", "--tokenizer", self.tok,
                   "--out", self.base])

    def shards(self):
        for v in self.variants:
            out = self.out / "shards" / v
            self.step(f"shards ({v})", out / "manifest.json",
                      ["spark_jobs/encode.py", *to_argv(
                          EncodeConfig, table=str(self.out / "corpus" / "augmented"),
                          tokenizer=self.tok, out=str(out))]
                      + (to_argv(EncodeConfig, augmentation=False) if v == "plain" else []))

    def train(self):
        for v in self.variants:
            run = self.out / "runs" / v
            self.step(f"train ({v})", run / "hf" / "model.safetensors",
                      ["trainer/main.py", *to_argv(
                          TrainConfig, model=self.base, shards=str(self.out / "shards" / v),
                          out=str(run), steps=self.cfg.steps, seq_len=self.cfg.seq_len,
                          global_batch=self.cfg.global_batch, lr=self.cfg.lr,
                          log_every=10)]
                      + ([] if self.dirty else to_argv(TrainConfig, resume=True)),
                      torchrun=True)

    def evaluate(self):
        models = {"base": self.base, **{v: str(self.out / "runs" / v / "hf")
                                         for v in self.variants}}
        for name, model in models.items():
            out = self.out / "eval" / name
            self.step(f"evaluate ({name})", out / "metrics.json",
                      ["-m", "trainer.evaluate", *to_argv(
                          EvalConfig, model=model, tasks=self.cfg.tasks,
                          data=self.eval_data, out=str(out), seeds=self.cfg.seeds)])

    def report(self):
        runs = [f"{n}={self.out / 'eval' / n}" for n in ["base", *reversed(self.variants)]]
        self.step("report", self.out / "report" / "report.md",
                  ["-m", "trainer.report", *runs, "--out", str(self.out / "report")])


def main(argv: list[str] | None = None) -> None:
    cfg = parse_config(PipelineConfig, argv, "python pipeline.py",
                       "The LEIA pipeline end to end: corpus, shards, training, "
                       "evaluation and report.")
    Pipeline(cfg).run()


if __name__ == "__main__":
    main()
