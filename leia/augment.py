"""LEIA augmentation: which links get their pivot-language name, and where.

Pure functions over plain values; the Spark job applies them per article.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .params import DEFAULT_MARKERS
from .params import strategy as strategy_of


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
    where = strategy_of(strategy)
    out = []
    for ordinal, (start, end, name) in enumerate(links):
        if name and chosen(seed, wiki, page_id, ordinal, prob):
            out.append(Insertion(start if where.before_anchor else end, name, start, end))
    return out


def augmented_text(text: str, insertions: list[Insertion], strategy: str = "right",
                   markers: tuple[str, str] = DEFAULT_MARKERS) -> str:
    """The augmented text as people read it. Tokenisers must use the offsets instead:
    the article may itself contain the marker strings."""
    keeps_anchor = strategy_of(strategy).keeps_anchor
    out, pos = [], 0
    for ins in insertions:
        cut = ins.offset
        out.append(text[pos:cut])
        out.append(f"{markers[0]}{ins.name}{markers[1]}")
        pos = cut if keeps_anchor else ins.anchor_end
    out.append(text[pos:])
    return "".join(out)
