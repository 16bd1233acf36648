"""Sitelinks from Wikidata JSON: the paper's own source for English names.

Accepts the dump layout (``[``, one entity per line ending with ``,``, ``]``) and
Special:EntityData / wbgetentities answers (``{"entities": {...}}``).
"""

from __future__ import annotations

import json


def entities_in(text: str) -> list[dict]:
    """The entities in one line of a dump, or in one whole EntityData document."""
    s = text.strip().rstrip(",")
    if s in ("", "[", "]"):
        return []
    doc = json.loads(s)
    if "entities" in doc:
        return list(doc["entities"].values())
    return [doc]


def sitelink_pairs(entity: dict, pivot_site: str) -> list[tuple[str, str, str]]:
    """(wiki, title there, title on the pivot wiki) for every sitelink of the entity."""
    links = entity.get("sitelinks") or {}
    pivot = links.get(pivot_site)
    if not pivot:
        return []
    pivot_title = pivot["title"] if isinstance(pivot, dict) else pivot
    out = []
    for site, link in links.items():
        if site == pivot_site:
            continue
        title = link["title"] if isinstance(link, dict) else link
        out.append((site, title, pivot_title))
    return out
