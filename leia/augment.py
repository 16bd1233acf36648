"""LEIA augmentation: which links get their pivot-language name, and where.

Pure functions over plain values; the Spark job applies them per article.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

STRATEGIES = ("right", "left", "replace")
START_MARKER, END_MARKER = "<translate>", "</translate>"

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
class Insertion:
    offset: int
    """Character offset into the article text where the name goes (for ``replace``: the
    anchor's start; the anchor itself is not rendered)."""
    name: str
    anchor_start: int
    anchor_end: int


def chosen(seed: int, wiki: str, page_id: int, ordinal: int, prob: float) -> bool:
    """Whether link number ``ordinal`` of a page gets its name: a hash, not an RNG, so
    the result does not depend on partitioning, retries or executor count."""
    if prob >= 1.0:
        return True
    if prob <= 0.0:
        return False
    h = hashlib.blake2b(f"{seed}\x1f{wiki}\x1f{page_id}\x1f{ordinal}".encode(),
                        digest_size=8).digest()
    return int.from_bytes(h, "big") / 2.0 ** 64 < prob


def plan(wiki: str, page_id: int, links: list[tuple[int, int, str | None]],
         strategy: str = "right", prob: float = 0.5, seed: int = 42) -> list[Insertion]:
    """Insertions for one article. ``links`` are (start, end, name or None) in text
    order; a link's ordinal is its position in that list, aligned or not."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    out = []
    for ordinal, (start, end, name) in enumerate(links):
        if name and chosen(seed, wiki, page_id, ordinal, prob):
            out.append(Insertion(start if strategy in ("left", "replace") else end,
                                 name, start, end))
    return out


def render(text: str, insertions: list[Insertion], strategy: str = "right",
           markers: tuple[str, str] = (START_MARKER, END_MARKER)) -> str:
    """The augmented text as people read it. Tokenisers must use the offsets instead:
    the article may itself contain the marker strings."""
    out, pos = [], 0
    for ins in insertions:
        cut = ins.offset
        out.append(text[pos:cut])
        out.append(f"{markers[0]}{ins.name}{markers[1]}")
        pos = ins.anchor_end if strategy == "replace" else cut
    out.append(text[pos:])
    return "".join(out)
