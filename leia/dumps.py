"""Wikimedia dump file names: which files make up one wiki's dump on one date.

Pure functions over file names (and a few bytes), so the driver can plan a run over any
Hadoop file system listing before reading anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .languages import split_dbname

# The bundled sample, every stage's default input.
SAMPLE_DUMPS = str(Path(__file__).resolve().parents[1] / "data" / "sample" / "dumps")

_NAME = re.compile(
    r"^(?P<wiki>[a-z][a-z0-9_]*)-(?P<date>\d{8}|latest)-(?P<kind>"
    r"pages-articles-multistream-index(?P<ipart>\d*)\.txt(?:-p\d+p\d+)?\.bz2"
    r"|pages-articles-multistream(?P<mpart>\d*)\.xml(?:-p\d+p\d+)?\.bz2"
    r"|pages-articles(?P<part>\d*)\.xml(?:-p\d+p\d+)?(?:\.bz2)?"
    r"|langlinks\.sql(?:\.gz)?|page\.sql(?:\.gz)?|redirect\.sql(?:\.gz)?)$")
_RANGE = re.compile(r"-p(\d+)p\d+")


@dataclass
class WikiDump:
    """The files of one wiki on one dump date."""

    wiki: str
    date: str
    xml: list[str] = field(default_factory=list)
    index: list[str] = field(default_factory=list)
    langlinks: str | None = None
    page: str | None = None
    redirect: str | None = None


def _part_key(name: str) -> tuple[int, str]:
    m = _RANGE.search(name)
    return (int(m.group(1)) if m else 0, name)


def classify(name: str) -> tuple[str, str, str] | None:
    """(wiki, date, kind) for a dump file name, None for anything else."""
    m = _NAME.match(name)
    if not m:
        return None
    kind = m.group("kind")
    if kind.startswith("pages-articles-multistream-index"):
        k = "index"
    elif kind.startswith("pages-articles-multistream"):
        k = "multistream"
    elif kind.startswith("pages-articles"):
        k = "articles"
    else:
        k = kind.split(".", 1)[0]
    return m.group("wiki"), m.group("date"), k


def plan_dumps(names: list[str], wikis: list[str] | None, date: str | None
               ) -> dict[str, WikiDump]:
    """Group file names (base names or full paths) by wiki, on the requested date or
    each wiki's newest one. ``wikis=None`` means every wiki found."""
    found: dict[tuple[str, str], dict[str, list[str]]] = {}
    for path in names:
        c = classify(path.rsplit("/", 1)[-1])
        if c is None:
            continue
        wiki, d, kind = c
        found.setdefault((wiki, d), {}).setdefault(kind, []).append(path)
    out: dict[str, WikiDump] = {}
    for (wiki, d), kinds in sorted(found.items()):
        if wikis is not None and wiki not in wikis:
            continue
        if date is not None and d != date:
            continue
        if "articles" not in kinds and "multistream" not in kinds:
            continue
        if wiki in out and out[wiki].date >= d:
            continue
        # Plain pages-articles and multistream hold the same pages: read one set only.
        xml = sorted(kinds.get("articles") or kinds["multistream"], key=_part_key)
        out[wiki] = WikiDump(
            wiki, d, xml,
            sorted(kinds.get("index", []), key=_part_key) if "articles" not in kinds else [],
            (kinds.get("langlinks") or [None])[0], (kinds.get("page") or [None])[0],
            (kinds.get("redirect") or [None])[0])
    return out


OPTIONAL_TABLES = ("page", "redirect")


def select_downloads(names: list[str], wiki: str, date: str, multistream: bool = False,
                     tables: tuple[str, ...] = ("langlinks",) + OPTIONAL_TABLES
                     ) -> list[str]:
    """The files of ``wiki``'s dump on ``date`` that a run needs, picked from the names
    a dump publishes (its checksum list): the pages-articles XML as one file when there
    is one, else its split parts (the two hold the same pages), or the multistream XML
    and its index; and the SQL ``tables``."""
    kinds: dict[str, list[str]] = {}
    for name in names:
        c = classify(name)
        if c and c[0] == wiki and c[1] == date:
            kinds.setdefault(c[2], []).append(name)

    def whole_or_parts(kind: str) -> list[str]:
        files = sorted(kinds.get(kind, []), key=_part_key)
        whole = [f for f in files if not _RANGE.search(f)]
        return whole[:1] or files

    xml = whole_or_parts("multistream") + whole_or_parts("index") if multistream \
        else whole_or_parts("articles")
    return xml + [kinds[t][0] for t in tables if t in kinds]


def check_wiki_names(wikis: list[str]) -> None:
    for w in wikis:
        split_dbname(w)  # raises ValueError with the fix


_BZ2_EOS = 0x177245385090


def bz2_complete(head: bytes, tail: bytes) -> bool:
    """Whether a .bz2 file ends with a stream's end-of-stream marker.

    The marker is 48 bits followed by a 32-bit CRC and 0-7 bits of padding, so it lies
    in the last 11 bytes at a bit offset we try in turn. A file cut short (an interrupted
    download) ends mid-block instead.
    """
    if not head.startswith(b"BZh") or len(tail) < 10:
        return False
    x = int.from_bytes(tail[-11:], "big")
    return any((x >> (32 + pad)) & (2 ** 48 - 1) == _BZ2_EOS for pad in range(8))
