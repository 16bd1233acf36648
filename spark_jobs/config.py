"""The corpus builder's configuration: one typed dataclass, one flag per field."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from leia.cli import parse_config, wiki_names
from leia.dumps import SAMPLE_DUMPS, check_wiki_names
from leia.params import DEFAULT_MARKERS, STRATEGIES, AugmentParams, NameFilter

PAPER = AugmentParams()  # the paper's recipe: the defaults of the flags it shares


@dataclass
class AugmentConfig:
    dumps: str = field(default=SAMPLE_DUMPS, metadata={
        "help": "folder or URI (file://, hdfs://, s3a://...) holding the Wikimedia dump "
                "files, named as Wikimedia names them (default: the bundled sample)"})
    wikis: str = field(default="all", metadata={
        "help": "comma-separated database names (jawiki,zh_yuewiki,elwikivoyage...) "
                "or 'all' for every wiki found in --dumps"})
    out: str = field(default="out/corpus", metadata={
        "help": "output root; the Delta tables go to OUT/articles, OUT/alignment, "
                "OUT/augmented, OUT/rejects, OUT/stats"})
    date: str | None = field(default=None, metadata={
        "help": "dump date YYYYMMDD (default: each wiki's newest date in --dumps)"})
    pivot: str = field(default=PAPER.pivot, metadata={
        "help": "language whose titles are inserted (an interwiki code: en, fr, zh-yue...)"})
    strategy: str = field(default=PAPER.strategy, metadata={
        "help": "where the name goes: right of the anchor, left of it, or replace it",
        "choices": tuple(STRATEGIES)})
    prob: float = field(default=PAPER.prob, metadata={
        "help": "probability that an aligned link gets its name (decided by a hash of "
                "seed, wiki, page id and link ordinal: reproducible)"})
    seed: int = field(default=PAPER.seed, metadata={"help": "seed of that hash"})
    start_marker: str = field(default=DEFAULT_MARKERS[0], metadata={
        "help": "marker before an inserted name"})
    end_marker: str = field(default=DEFAULT_MARKERS[1], metadata={
        "help": "marker after an inserted name"})
    skip_namespaced: bool = field(default=True, metadata={
        "help": "skip pivot titles with a namespace prefix (Category:, File:, ...), as "
                "the paper does"})
    skip_lists: bool = field(default=True, metadata={
        "help": "skip pivot titles starting with 'List of', as the paper does"})
    strip_parentheses: bool = field(default=True, metadata={
        "help": "drop parenthesised parts of pivot titles ('Mercury (planet)' -> "
                "'Mercury'), as the paper does"})
    variant: str | None = field(default=None, metadata={
        "help": "script variant that LanguageConverter markup (-{zh-hans:...; "
                "zh-hant:...}-) shows, for the wikis of its language: zh-hans, zh-hant, "
                "zh-tw, sr-el... (default: each wiki's main variant, else each rule's "
                "first)"})
    alignment: str = field(default="langlinks", metadata={
        "help": "where pivot titles come from: the langlinks SQL tables, the Wikidata "
                "JSON sitelinks (--wikidata), or both (langlinks first)",
        "choices": ("langlinks", "wikidata", "both")})
    wikidata: str | None = field(default=None, metadata={
        "help": "Wikidata JSON dump or entity files (path or glob) for --alignment "
                "wikidata/both"})
    master: str | None = field(default=None, metadata={
        "help": "Spark master URL (default: what spark-submit says, else local[*])"})
    split_mb: float = field(default=64, metadata={
        "help": "largest piece of a compressed dump file one task reads, in MB; a "
                "large file is read by many tasks in parallel"})
    xml_reader: str = field(default="auto", metadata={
        "help": "who decompresses .bz2 XML: 'python' (libbz2 in the Python workers, "
                "faster than Hadoop's Java codec; local or shared disks, and the "
                "URIs pyarrow opens: s3:// and s3a://, gs://, hdfs:// with libhdfs), "
                "'hadoop' (Spark's text source: any Hadoop file system, with Spark's "
                "own credentials), or 'auto': python for files on a local or shared "
                "disk, hadoop otherwise",
        "choices": ("auto", "python", "hadoop")})
    skip_unchanged: bool = field(default=False, metadata={
        "help": "leave out the wikis whose last run into --out (its stats table) read "
                "the same files (names and sizes) with the same parameters and wrote "
                "articles: with "
                "--wikis all, only new, changed and failed wikis are built again"})
    shuffle_partitions: int | None = field(default=None, metadata={
        "help": "spark.sql.shuffle.partitions (default: Spark's, or 4x cores locally)"})

    def wiki_list(self) -> list[str] | None:
        names = wiki_names(self.wikis)
        if names:
            check_wiki_names(names)
        return names

    def params(self) -> AugmentParams:
        """The augmentation's parameters, as every later stage reads them back."""
        return AugmentParams(
            pivot=self.pivot, strategy=self.strategy, prob=self.prob, seed=self.seed,
            markers=(self.start_marker, self.end_marker),
            name_filter=NameFilter(self.skip_namespaced, self.skip_lists,
                                   self.strip_parentheses),
            alignment=self.alignment)

    def validate(self) -> None:
        if self.date is not None and not (len(self.date) == 8 and self.date.isdigit()):
            raise ValueError(f"--date {self.date!r}: use the dump's YYYYMMDD form")
        if self.alignment != "langlinks" and not self.wikidata:
            raise ValueError(f"--alignment {self.alignment} needs --wikidata PATH "
                             "(a Wikidata JSON dump or entity files)")
        if not self.start_marker or not self.end_marker:
            raise ValueError("--start-marker and --end-marker must not be empty")
        if not self.pivot or "wiki" in self.pivot:
            raise ValueError(f"--pivot {self.pivot!r}: give a language code such as "
                             "en or fr, not a database name")
        self.params()  # the parameters' own checks (--prob's range, the strategy)
        self.wiki_list()

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=False)


def parse_args(argv: list[str] | None = None) -> AugmentConfig:
    return parse_config(
        AugmentConfig, argv, prog="spark-submit spark_jobs/augment.py",
        description="Build LEIA-augmented Delta tables from Wikimedia dumps: parse "
                    "every article, resolve its links through redirects, align them "
                    "to the pivot language and insert the pivot titles between "
                    "markers. Runs on the bundled sample with no arguments.")
