"""One ``<page>`` element of a pages-articles XML dump -> a plain record.

The dump reader hands us the text between two ``</page>`` delimiters; the first such
record of a file also holds ``<mediawiki ...><siteinfo>...</siteinfo>``, the last one
``</mediawiki>``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass
class Page:
    page_id: int
    ns: int
    title: str
    redirect: str | None
    """The target title of a redirect page, as written in ``<redirect title=...>``."""
    revision_id: int | None
    model: str
    text: str


@dataclass
class BadPage:
    reason: str
    page_id: int | None
    title: str | None


def split_record(record: str) -> list[str]:
    """The ``<page>`` fragments in one record (normally one; more when a ``</page>`` is
    missing, in which case all but the last are unterminated)."""
    pieces = record.split("<page>")
    return ["<page>" + p for p in pieces[1:]]


def _strip_ns(root: ET.Element) -> None:
    # Pages are cut out of a document whose default namespace is export-0.10/0.11/...;
    # the fragment itself has none, but be tolerant of a prefixed copy.
    for el in root.iter():
        if "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]


def parse_page(fragment: str, terminated: bool = True) -> Page | BadPage:
    """Parse ``<page>...`` (without its ``</page>``, as the reader splits on it)."""
    if not terminated:
        return BadPage("malformed_page: no </page> before the next <page>",
                       *_salvage_ids(fragment))
    try:
        root = ET.fromstring(fragment + "</page>")
    except ET.ParseError as e:
        return BadPage(f"malformed_page: {e}", *_salvage_ids(fragment))
    _strip_ns(root)
    try:
        page_id = int(root.findtext("id"))
        ns = int(root.findtext("ns"))
    except (TypeError, ValueError):
        return BadPage("malformed_page: missing or non-numeric <id> or <ns>",
                       *_salvage_ids(fragment))
    title = root.findtext("title")
    if title is None:
        return BadPage("malformed_page: no <title>", page_id, None)
    redirect = root.find("redirect")
    rev = root.find("revision")
    rev_id = model = text = None
    if rev is not None:
        rid = rev.findtext("id")
        rev_id = int(rid) if rid and rid.strip().isdigit() else None
        model = rev.findtext("model")
        text = rev.findtext("text")
    if ns == 0 and redirect is None:  # an article must bring its text
        missing = _missing_text(rev)
        if missing:
            return BadPage(missing, page_id, title)
    return Page(page_id, ns, title,
                redirect.get("title") if redirect is not None else None,
                rev_id, model or "wikitext", text or "")


def _missing_text(rev) -> str | None:
    """Why an article's revision gives no text to extract, or None."""
    if rev is None:
        return "no_revision: the page has no <revision> (an export without revisions?)"
    node = rev.find("text")
    if node is None or node.get("deleted") is not None:
        return "no_text: the revision's text is missing or deleted"
    if not (node.text or "").strip():
        return "empty_text: the revision's text is empty"
    return None


def _salvage_ids(fragment: str) -> tuple[int | None, str | None]:
    """Best-effort page id and title of a page we could not parse, for the reject row."""
    def between(a, b):
        i = fragment.find(a)
        j = fragment.find(b, i + len(a)) if i >= 0 else -1
        return fragment[i + len(a):j] if i >= 0 and j >= 0 else None
    pid = between("<id>", "</id>")
    return (int(pid) if pid and pid.strip().isdigit() else None,
            between("<title>", "</title>"))
