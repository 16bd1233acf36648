"""The effect experiment's configuration: one typed dataclass, one flag per field."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from leia.cli import field_help, parse_config
from leia.params import AugmentParams
from spark_jobs.config import PAPER, AugmentConfig
from spark_jobs.encode_config import EncodeConfig

from .world import NAME_MODES

# What --quick changes: the plumbing end to end in CI, in seconds, on a world too small
# and a model too short-trained to show anything.
QUICK = dict(people=24, cities=3, companies=3, seeds=2, groupings=2, procs=1, hidden=32,
             vocab_size=600, pretrain_steps=8, steps=4, global_batch=8)


@dataclass
class EffectConfig:
    out: str = field(default="out/effect", metadata={
        "help": "root of every output: per seed seed-<n>/ (dumps/, tests/, "
                "corpus-<strategy>-p<prob>/, tokenizer/, shards/, runs/, eval/), and "
                "report.md"})
    quick: bool = field(default=False, metadata={
        "help": "a tiny world (24 people), a tiny model and a few steps, whatever the "
                "size flags say: checks that every stage runs, not the effect"})
    seeds: int = field(default=5, metadata={
        "help": "(world, training) seeds: seed n draws world --world-seed + n, "
                "pretrains its own base model on it and continues that plain and with "
                "LEIA; intervals are over these"})
    # The world.
    people: int = field(default=200, metadata={"help": "people in the world"})
    cities: int = field(default=24, metadata={"help": "cities (all seen)"})
    companies: int = field(default=24, metadata={"help": "companies (all seen)"})
    seen_share: float = field(default=0.5, metadata={
        "help": "share of people whose facts the target wiki states; the others are "
                "English-only, the transfer test"})
    mentions: int = field(default=10, metadata={
        "help": "links to each person from other target-wiki articles"})
    names: str = field(default="transliterated", metadata={
        "choices": NAME_MODES,
        "help": "target-language names: transcribed letter by letter from the English "
                "ones (as Russian writes foreign names), or drawn independently"})
    world_seed: int = field(default=0, metadata={
        "help": "seed of seed 0's world; seed n's world is drawn with world_seed + n, "
                "its tests fixed before any training"})
    groupings: int = field(default=4, metadata={
        "help": "times the people of each test are dealt into groups of four (a new "
                "set of questions each time, about the same people): pooled, they "
                "smooth the draw of the groups out of the score"})
    # The augmentation: the paper's design space, one flag each.
    strategy: str = field(default=PAPER.strategy,
                          metadata=field_help(AugmentConfig, "strategy"))
    prob: float = field(default=PAPER.prob, metadata=field_help(AugmentConfig, "prob"))
    mask_names: bool = field(default=False, metadata=field_help(EncodeConfig, "mask_names"))
    # The model and its training.
    vocab_size: int = field(default=2000, metadata={"help": "BPE vocabulary"})
    layers: int = field(default=2, metadata={"help": "decoder layers"})
    hidden: int = field(default=128, metadata={"help": "hidden size"})
    heads: int = field(default=4, metadata={"help": "attention heads"})
    pretrain_steps: int = field(default=1200, metadata={
        "help": "steps of English-centric pretraining (the English wiki and the small "
                "target-language news wiki)"})
    pretrain_lr: float = field(default=3e-3, metadata={"help": "pretraining peak lr"})
    steps: int = field(default=500, metadata={
        "help": "steps of continued training on the target wiki (plain and LEIA alike)"})
    lr: float = field(default=1e-3, metadata={"help": "continued training peak lr"})
    seq_len: int = field(default=128, metadata={"help": "tokens per sequence"})
    global_batch: int = field(default=32, metadata={"help": "sequences per step"})
    procs: int = field(default=2, metadata={
        "help": "processes per training, launched by torchrun as a user launches "
                "trainer/main.py; 1 runs the trainer in this process"})

    def __post_init__(self):
        if self.quick:
            for k, v in QUICK.items():
                setattr(self, k, v)

    def validate(self) -> None:
        if (self.seeds < 1 or self.people < 8 or self.cities < 1 or self.companies < 1
                or self.groupings < 1 or self.procs < 1):
            raise ValueError("--seeds, --groupings and --procs must be >= 1, --people "
                             ">= 8, --cities and --companies >= 1")
        if self.global_batch % self.procs:
            raise ValueError(f"--global-batch {self.global_batch} must be a multiple of "
                             f"--procs {self.procs}")
        AugmentParams(strategy=self.strategy, prob=self.prob)  # their own checks

    def leia_name(self) -> str:
        return f"leia-{self.strategy}-p{self.prob:g}" + ("-masked" if self.mask_names else "")

    def shared(self) -> dict:
        """The settings every variant in one --out shares: the world, the tokenizer,
        the models and their training."""
        own = {"out", "quick", "seeds", "strategy", "prob", "mask_names", "procs"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in own}

    def world_args(self, seed: int) -> dict:
        """``make_world``'s arguments for training seed ``seed``'s world."""
        return dict(people=self.people, cities=self.cities, companies=self.companies,
                    seen_share=self.seen_share, mentions=self.mentions, names=self.names,
                    seed=self.world_seed + seed)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)


def parse_args(argv: list[str] | None = None) -> EffectConfig:
    return parse_config(
        EffectConfig, argv, "python -m experiments.effect",
        "The LEIA effect, measured: a synthetic bilingual Wikipedia through the "
        "project's own stages (corpus, shards, FSDP training, evaluation), plain against "
        "LEIA over several seeds.")
