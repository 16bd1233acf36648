"""Sitelinks from Wikidata JSON: the paper's own source for English names.

Accepts the dump layout (``[``, one entity per line ending with ``,``, ``]``) and
Special:EntityData / wbgetentities answers (``{"entities": {...}}``).
"""

from __future__ import annotations

import json

from .languages import split_dbname


def entities_in(text: str) -> list[dict]:
    """The entities in one line of a dump, or in one whole EntityData document."""
    s = text.strip().rstrip(",")
    if s in ("", "[", "]"):
        return []
    doc = json.loads(s)
    if "entities" in doc:
        return list(doc["entities"].values())
    return [doc]


def pivot_site(wiki: str, pivot: str) -> str:
    """The pivot wiki of the same project: (jawiki, en) -> enwiki, (elwikivoyage, fr)
    -> frwikivoyage."""
    lang, family = split_dbname(wiki)
    return pivot.replace("-", "_") + family


def sitelink_pairs(entity: dict, sites: dict[str, str]) -> list[tuple[str, str, str]]:
    """(wiki, title there, title on its pivot wiki) for each wiki of ``sites`` (wiki ->
    its pivot site) where the entity has a sitelink on both."""
    links = entity.get("sitelinks") or {}
    out = []
    for wiki, pivot in sites.items():
        here, there = links.get(wiki), links.get(pivot)
        if here and there:
            out.append((wiki, _title(here), _title(there)))
    return out


def _title(link) -> str:
    return link["title"] if isinstance(link, dict) else link
