"""MediaWiki title normalisation.

``normalise_target`` turns the target of a ``[[link]]`` (as written in wikitext) into a
(namespace, title) pair the way MediaWiki does; ``sql_title`` does the same for titles
from the SQL tables (underscores, no namespace prefix).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import unquote

from .languages import INTERWIKI_PREFIXES, LANGUAGE_CODES
from .siteinfo import SiteInfo

# MediaWiki treats these as spaces in titles (Title::newFromText, $wgLegalTitleChars).
_SPACES = re.compile(r"[ _\u00a0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
# Characters that can never appear in a title.
_ILLEGAL = re.compile(r"[<>\[\]{}|\x00-\x1f\x7f\ufffd]")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
# What a title may not hold after its references are decoded once
# (MediaWikiTitleCodec::splitTitleString): another reference ("&amp;amp;" in the
# wikitext), a relative path, a signature's tildes.
_ENTITY = re.compile(r"&[A-Za-z0-9\x80-\uffff]+;")
_RELATIVE = re.compile(r"^\.\.?(?:/|$)|/\.\.?(?:/|$)")
# Bidi marks that browsers paste into links; MediaWiki strips them.
_BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e]")


@dataclass(frozen=True)
class Target:
    """Where a wikilink points."""

    kind: str
    """``page`` (ns/title set), ``interlanguage``, ``interwiki``, ``anchor`` (same-page
    ``#section``) or ``invalid``."""
    ns: int = 0
    title: str = ""
    prefix: str = ""
    """The interwiki or interlanguage prefix, lower-cased."""


def clean_title(text: str) -> str:
    """Entities, percent-escapes, underscores and runs of spaces, as MediaWiki does."""
    if "&" in text:
        text = html.unescape(text)
    if "%" in text and _PERCENT.search(text):
        try:
            text = unquote(text, errors="strict")
        except UnicodeDecodeError:
            pass  # not UTF-8 escapes: MediaWiki keeps such a title as written
    text = _BIDI.sub("", text)
    return _SPACES.sub(" ", text).strip()




def upper_first(title: str) -> str:
    if not title:
        return title
    first = title[0]
    up = first.upper()
    # Python upper-cases 'ß' to 'SS' and some ligatures to two letters; MediaWiki keeps
    # one character in those cases.
    return (up if len(up) == 1 else first) + title[1:]


def normalise_target(raw: str, site: SiteInfo, lang: str = "") -> Target:
    """Normalise a wikilink target such as ``:ja:東京``, ``Category:X`` or ``bus#Top``.

    ``lang`` is the wiki's own language code: ``[[ja:X]]`` on jawiki is a plain link.
    """
    text = clean_title(raw)
    if text.startswith(":"):
        text = text[1:].lstrip()
    if "#" in text:
        text = text.split("#", 1)[0].rstrip()
        if not text:
            return Target("anchor")
    if not text or _ILLEGAL.search(text):
        return Target("invalid")
    ns = 0
    if ":" in text:
        prefix, rest = text.split(":", 1)
        key = prefix.strip().lower()
        found = site.namespace_of(prefix)
        if found is not None:
            ns, text = found, rest.strip()
        elif key == lang and rest.strip():
            # [[ja:Foo]] on jawiki is a local link.
            return normalise_target(rest, site, lang)
        elif key in LANGUAGE_CODES:
            return Target("interlanguage", prefix=key, title=rest.strip())
        elif key in INTERWIKI_PREFIXES:
            return Target("interwiki", prefix=key, title=rest.strip())
    if not text or ("&" in text and _ENTITY.search(text)) or "~~~" in text or \
            (("./" in text or text[-1] == ".") and _RELATIVE.search(text)):
        return Target("invalid")
    if site.first_letter:
        text = upper_first(text)
    return Target("page", ns, text)


def sql_title(title: str, site_first_letter: bool = True) -> str:
    """A title from a SQL table (``Tokyo_Tower``) in display form (``Tokyo Tower``)."""
    t = title.replace("_", " ").strip()
    return upper_first(t) if site_first_letter else t
