"""The encoder's configuration: one typed dataclass, one flag per field."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from leia.cli import parse_config, wiki_names
from leia.encode import ENGINES, OFF_BOUNDARY


@dataclass
class EncodeConfig:
    tokenizer: str = field(default="", metadata={
        "required": True,
        "help": "Hugging Face fast tokenizer: a hub name (meta-llama/Llama-2-7b-hf) or a "
                "local folder with tokenizer.json; the two markers are added to it as "
                "special tokens"})
    table: str = field(default="out/corpus/augmented", metadata={
        "help": "the corpus builder's augmented Delta table (path or URI)"})
    out: str = field(default="out/shards", metadata={
        "help": "shard folder (path or URI) for manifest.json and the shard files; a "
                "re-run with the same arguments keeps the shards already complete"})
    wikis: str = field(default="all", metadata={
        "help": "comma-separated wikis of the table to encode, or 'all'"})
    version: int | None = field(default=None, metadata={
        "help": "Delta version of the table to read (default: the latest), for "
                "reproducible builds"})
    mask_names: bool = field(default=False, metadata={
        "help": "also keep the inserted names' tokens out of the loss (the markers "
                "never are trained on)"})
    augmentation: bool = field(default=True, metadata={
        "help": "splice the names in; --no-augmentation encodes the articles without "
                "them: the paper's plain-Wikipedia baseline, from the same table"})
    off_boundary: str = field(default="move", metadata={
        "choices": OFF_BOUNDARY,
        "help": "an insertion whose character offset falls inside a token: move it to "
                "the nearest token boundary, or drop it (both are counted)"})
    append_eos: bool = field(default=False, metadata={
        "help": "end every article with the tokenizer's EOS (default: exactly what "
                "the tokenizer adds, BOS first for Llama)"})
    tokens_per_shard: int = field(default=64 << 20, metadata={
        "help": "target tokens per shard: the articles are spread over "
                "ceil(tokens / target) shards of about equal size (the tokens estimated "
                "from a sample; articles are not split; each goes to a shard by a hash "
                "of its wiki and page id)"})
    engine: str = field(default="auto", metadata={
        "choices": ENGINES,
        "help": "auto: tiktoken for a BPE (byte-level or SentencePiece) it can stand in for (2-3x "
                "faster, same ids; both engines are compared on a sample of the build, "
                "and any difference means tokenizers), tokenizers otherwise; tokenizers: "
                "always the tokenizer's own engine"})
    master: str | None = field(default=None, metadata={
        "help": "Spark master URL (default: what spark-submit says, else local[*])"})

    def wiki_list(self) -> list[str] | None:
        return wiki_names(self.wikis)

    @property
    def mask_policy(self) -> str:
        from leia.encode import MASK_MARKERS, MASK_MARKERS_AND_NAMES, MASK_NONE
        if not self.augmentation:
            return MASK_NONE
        return MASK_MARKERS_AND_NAMES if self.mask_names else MASK_MARKERS

    def validate(self) -> None:
        if not self.tokenizer:
            raise ValueError("--tokenizer is required: a hub name or a local folder")
        if self.tokens_per_shard < 1:
            raise ValueError(f"--tokens-per-shard {self.tokens_per_shard}: give a "
                             "positive number of tokens")
        if self.mask_names and not self.augmentation:
            raise ValueError("--mask-names has no effect with --no-augmentation (nothing "
                             "is inserted); give one of them")
        if self.version is not None and self.version < 0:
            raise ValueError(f"--version {self.version}: Delta versions start at 0")
        self.wiki_list()

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)


def parse_args(argv: list[str] | None = None) -> EncodeConfig:
    return parse_config(
        EncodeConfig, argv, prog="spark-submit spark_jobs/encode.py",
        description="Tokenise the augmented Delta table into memory-mapped token shards "
                    "for the trainer: each article tokenised once, each inserted name on "
                    "its own, spliced in between the two marker tokens at token "
                    "boundaries; a loss mask keeps the markers out of training.")
