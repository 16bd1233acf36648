"""LanguageConverter markup, ``-{...}-``, as MediaWiki shows it in one variant.

Wikis written in more than one script (zh, sr, kk, ku, tg, uz, gan, shi, ...) mark text
with ``-{...}-`` (MediaWiki's ``ConverterRule``): ``-{text}-`` is shown as it is,
``-{zh-hans:A; zh-hant:B;}-`` shows the variant asked for, and rule-only forms
(``-{H|...}-``, ``-{T|...}-``, ``-{-|...}-``) show nothing. Applied to the wikitext
before the tokenizer, which knows no such markup.
"""

from __future__ import annotations

import re

_RULE = re.compile(r"-\{(?!\{)([^{}]*?)\}-")
_FLAGS = re.compile(r"^\s*([A-Za-z\-+;\s]{1,12})\|")
# "zh-hans:" at the start of a variant's text, or after the ";" that ends the one before.
_VARIANT = re.compile(r"(?:^|;)\s*([a-z]{2,3}(?:-[a-z0-9]{2,8})*)\s*:", re.I)
# Where MediaWiki looks when the variant asked for has no text of its own.
FALLBACKS = {
    "zh-cn": ("zh-hans",), "zh-sg": ("zh-hans", "zh-cn"), "zh-my": ("zh-hans", "zh-sg"),
    "zh-tw": ("zh-hant",), "zh-hk": ("zh-hant", "zh-tw"), "zh-mo": ("zh-hant", "zh-hk"),
    "zh-hans": ("zh-cn", "zh-sg", "zh-my"), "zh-hant": ("zh-tw", "zh-hk", "zh-mo"),
    "sr-ec": ("sr-cyrl",), "sr-el": ("sr-latn",), "sr-cyrl": ("sr-ec",),
    "sr-latn": ("sr-el",),
}


def variants(text: str) -> dict[str, str] | None:
    """{variant: its text} of a rule's text, or None when it names no variants."""
    marks = list(_VARIANT.finditer(text))
    if not marks or marks[0].start() != 0 and text[:marks[0].start()].strip(" ;"):
        return None
    out = {}
    for m, nxt in zip(marks, marks[1:] + [None]):
        value = text[m.end():nxt.start() if nxt else len(text)]
        out.setdefault(m.group(1).lower(), value.strip().rstrip(";").strip())
    return out


def show(text: str, variant: str) -> str:
    """What ``-{text}-`` shows in ``variant``."""
    flags = set()
    m = _FLAGS.match(text)
    if m:
        flags = set(m.group(1).replace(";", "").replace(" ", "").upper())
        text = text[m.end():]
    if "R" in flags:
        return text
    if flags & {"H", "-", "T", "N"} and "A" not in flags:
        return ""
    found = variants(text)
    if found is None:
        return text
    for v in (variant, *FALLBACKS.get(variant, ())):
        if v in found:
            return found[v]
    return next(iter(found.values()))  # none of them: the first listed


def convert(wikitext: str, variant: str) -> str:
    """The wikitext with every ``-{...}-`` replaced by what it shows in ``variant``."""
    if "-{" not in wikitext:
        return wikitext
    return _RULE.sub(lambda m: show(m.group(1), variant.lower()), wikitext)
