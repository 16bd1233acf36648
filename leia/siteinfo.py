"""A wiki's ``<siteinfo>``: its namespace names and its first-letter case rule."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache

from .languages import split_dbname

# MediaWiki accepts the canonical (English) namespace names on every wiki, whatever the
# localized names in <siteinfo> are, so ``[[File:x.jpg]]`` is a file on jawiki too.
CANONICAL_NAMESPACES: dict[str, int] = {
    "media": -2, "special": -1, "talk": 1, "user": 2, "user talk": 3,
    "project": 4, "project talk": 5, "file": 6, "image": 6, "file talk": 7,
    "image talk": 7, "mediawiki": 8, "mediawiki talk": 9, "template": 10,
    "template talk": 11, "help": 12, "help talk": 13, "category": 14,
    "category talk": 15, "module": 828, "module talk": 829,
}

_WS = re.compile(r"[\s_]+")


def namespace_key(name: str) -> str:
    """Namespace names match case-insensitively, with spaces and underscores alike."""
    return _WS.sub(" ", name).strip().casefold()


def language_aliases(lang: str) -> dict[str, int]:
    """A language's names for the Media, File and Category namespaces, aliases
    included (jawiki's ``画像``, dewiki's ``Bild``), which a dump's ``<siteinfo>``
    does not list: lookup key -> namespace number."""
    from .namespace_names import NAMES  # generated from this module's names: imported late

    return {namespace_key(name): ns
            for ns, names in zip((-2, 6, 14), NAMES.get(lang, ((), (), ())))
            for name in names}


@cache
def names_in_any_language(ns: int) -> frozenset[str]:
    """The lookup keys of namespace ``ns`` (-2, 6 or 14) in any language: how a file or
    category link under a header that belongs to another wiki is told apart."""
    from .namespace_names import NAMES

    i = (-2, 6, 14).index(ns)
    return frozenset({k for k, n in CANONICAL_NAMESPACES.items() if n == ns} |
                     {namespace_key(name) for groups in NAMES.values() for name in groups[i]})


@dataclass(frozen=True)
class SiteInfo:
    """What title normalisation needs to know about one wiki."""

    dbname: str = ""
    case: str = "first-letter"
    namespaces: dict[str, int] = field(default_factory=dict)
    """Lookup key (see :func:`namespace_key`) -> namespace number, canonical names included."""
    names: dict[int, str] = field(default_factory=dict)
    """Namespace number -> its localized display name."""

    def namespace_of(self, prefix: str) -> int | None:
        return self.namespaces.get(namespace_key(prefix))

    @property
    def first_letter(self) -> bool:
        return self.case == "first-letter"

    def to_dict(self) -> dict:
        return {"dbname": self.dbname, "case": self.case,
                "namespaces": dict(self.namespaces), "names": dict(self.names)}

    @classmethod
    def from_dict(cls, d: dict) -> "SiteInfo":
        return cls(d["dbname"], d["case"], dict(d["namespaces"]),
                   {int(k): v for k, v in d["names"].items()})


def parse_siteinfo(header: str) -> SiteInfo:
    """Parse the ``<siteinfo>`` element out of the start of a pages-articles XML file.

    ``header`` is any text that contains ``<siteinfo>...</siteinfo>``; the XML export
    namespace version (0.10, 0.11, ...) does not matter.
    """
    start, end = header.find("<siteinfo"), header.find("</siteinfo>")
    if start < 0 or end < 0:
        raise ValueError("no <siteinfo> element in the dump header: is this a "
                         "pages-articles XML dump?")
    root = ET.fromstring(header[start:end + len("</siteinfo>")])
    dbname = (root.findtext("dbname") or "").strip()
    case = (root.findtext("case") or "first-letter").strip()
    namespaces = dict(CANONICAL_NAMESPACES)
    names: dict[int, str] = {}
    for ns in root.iter("namespace"):
        key = int(ns.get("key"))
        name = (ns.text or "").strip()
        names[key] = name
        if name:
            namespaces[namespace_key(name)] = key
    for alias in root.iter("namespacealias"):  # present in API siteinfo, not in dumps
        if alias.text:
            namespaces[namespace_key(alias.text)] = int(alias.get("key") or alias.get("id"))
    try:
        lang = split_dbname(dbname)[0]
    except ValueError:  # not a Wikimedia wiki: its <siteinfo> is all there is
        lang = ""
    for key, ns in language_aliases(lang).items():
        namespaces.setdefault(key, ns)
    # "Project" is an alias of namespace 4 under the wiki's own project name.
    return SiteInfo(dbname, case, namespaces, names)
