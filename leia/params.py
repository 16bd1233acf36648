"""The augmentation's parameters: one frozen object that every stage shares.

The corpus job builds it from its flags and writes its JSON into every Delta commit's
metadata; the encoder parses it back from there and copies it into the shard manifest;
the trainer reads the markers from the manifest. Nothing else spells a marker, a
strategy or a filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DEFAULT_MARKERS = ("<translate>", "</translate>")


@dataclass(frozen=True)
class Strategy:
    """Where an inserted name goes relative to its link's anchor text."""

    name: str
    before_anchor: bool
    """The name goes at the anchor's start (else at its end)."""
    keeps_anchor: bool
    """The anchor's text stays (else the name takes its place)."""


# The planner (``leia.augment``), the encoder's splice (``leia.encode``) and the Spark
# rendering (``spark_jobs.build``) all read this table.
STRATEGIES: dict[str, Strategy] = {s.name: s for s in (
    Strategy("right", before_anchor=False, keeps_anchor=True),
    Strategy("left", before_anchor=True, keeps_anchor=True),
    Strategy("replace", before_anchor=True, keeps_anchor=False),
)}


def strategy(name: str) -> Strategy:
    if name not in STRATEGIES:
        raise ValueError(f"--strategy {name!r}: use one of {', '.join(STRATEGIES)}")
    return STRATEGIES[name]


# The paper's filter on English titles (Yamada & Ri 2024, the authors' code).
PAPER_SKIP_PREFIXES = ("Wikipedia", "Category", "File", "Portal", "Template", "MediaWiki",
                       "User", "Help", "Book", "Draft", "WikiProject", "Special", "Talk")
_PARENS = re.compile(r"\s*\([^()]*\)")


@dataclass(frozen=True)
class NameFilter:
    """The paper's clean-up of pivot titles; each rule can be turned off."""

    skip_namespaced: bool = True
    skip_lists: bool = True
    strip_parentheses: bool = True
    prefixes: tuple[str, ...] = PAPER_SKIP_PREFIXES

    def apply(self, title: str | None) -> str | None:
        """The name to insert for a pivot title, or None when the link is skipped."""
        if not title:
            return None
        if self.skip_namespaced and ":" in title:
            head = title.split(":", 1)[0].strip()
            if head in self.prefixes:
                return None
        if self.skip_lists and title.startswith("List of"):
            return None
        if self.strip_parentheses and "(" in title:
            title = _PARENS.sub("", title).strip()
        return title or None


@dataclass(frozen=True)
class AugmentParams:
    """What decides a wiki's augmented text besides its dump."""

    pivot: str = "en"
    strategy: str = "right"
    prob: float = 0.5
    seed: int = 42
    markers: tuple[str, str] = DEFAULT_MARKERS
    name_filter: NameFilter = field(default_factory=NameFilter)
    alignment: str = "langlinks"

    def __post_init__(self):
        strategy(self.strategy)
        if not 0.0 <= self.prob <= 1.0:
            raise ValueError(f"--prob {self.prob}: give a probability between 0 and 1")
        if len(self.markers) != 2 or not all(self.markers):
            raise ValueError(f"markers {self.markers!r}: give two non-empty strings")
        object.__setattr__(self, "markers", tuple(self.markers))

    @property
    def where(self) -> Strategy:
        return STRATEGIES[self.strategy]

    def to_json(self) -> dict:
        """The record kept in each Delta commit's metadata."""
        f = self.name_filter
        return {"pivot": self.pivot, "strategy": self.strategy, "prob": self.prob,
                "seed": self.seed, "markers": list(self.markers),
                "filters": {"skip_namespaced": f.skip_namespaced,
                            "skip_lists": f.skip_lists,
                            "strip_parentheses": f.strip_parentheses},
                "alignment": self.alignment}

    @classmethod
    def from_json(cls, d: dict) -> "AugmentParams":
        """The parameters a ``to_json`` record holds (other keys in ``d`` are ignored)."""
        missing = [k for k in ("strategy", "prob", "seed", "markers") if k not in d]
        if missing:
            raise ValueError(f"augmentation parameters without {', '.join(missing)}: the "
                             "table was not written by spark_jobs/augment.py; build it "
                             "again with it")
        return cls(pivot=d.get("pivot", "en"), strategy=d["strategy"],
                   prob=float(d["prob"]), seed=int(d["seed"]),
                   markers=tuple(d["markers"]),
                   name_filter=NameFilter(**d.get("filters", {})),
                   alignment=d.get("alignment", "langlinks"))
