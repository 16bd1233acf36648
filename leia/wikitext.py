"""Wikitext -> the text a reader sees, plus the spans of its links.

``extract`` runs mwparserfromhell's tokenizer on the article and renders its token
stream. Templates, tables, references, comments, files and categories are dropped;
headings and list items keep their text; a link keeps its visible anchor, link trail
included.

Where the time goes, and what we do about it (elwikivoyage sample, 7.1 MB of wikitext):
mwparserfromhell's ``parse`` is its C tokenizer plus a pure-Python builder that turns the
tokens into a node tree, and the builder is most of it. We render
straight from the tokens, skipping the builder. Most of a real article's bytes are
templates, tables and references, which we drop anyway, so ``prestrip`` removes them
with a linear brace scan before the tokenizer sees them. Tests check that both routes
(with and without ``prestrip``) give the same text and links on the real excerpts.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

from mwparserfromhell.parser._tokenizer import CTokenizer

from .inline_templates import keep_inline_templates
from .langconv import convert
from .languages import INTERWIKI_PREFIXES, LANGUAGE_CODES
from .quotes import strip_quotes
from .render import KNOWN_TAGS, Link, Renderer
from .siteinfo import SiteInfo

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_REF = re.compile(r"<ref\b[^>]*?/>|<ref\b[^>]*>.*?(?:</ref\s*>|\Z)", re.S | re.I)
# Tables open and close at the start of a line, or after the colons that indent them;
# the text is scanned with a "\n" in front.
_BRACES = re.compile(r"\{\{|\}\}|\n[ \t:]*\{\||\n[ \t]*\|\}")
# A heading whose whole title was a template is left as a bare "=== ===".
_EMPTY_HEADING = re.compile(r"^[ \t]*(=+)[ \t]*\1[ \t]*$", re.M)
# ...and bold or italics around nothing but a template leave a bare run of quotes.
_EMPTY_STYLE = re.compile(r"(?<!')('{2,3}|'{5})\1(?!')")


@dataclass
class Extracted:
    text: str
    links: list[Link] = field(default_factory=list)


def prestrip(wikitext: str) -> str:
    """Remove comments, references, templates and tables, which ``extract`` drops anyway.

    Unbalanced braces are left alone: MediaWiki shows an unclosed ``{{`` as text, and
    the tokenizer makes the same call.
    """
    text = _COMMENT.sub("", wikitext)
    if "<ref" in text or "<REF" in text:
        text = _REF.sub("", text)
    if "{" not in text:
        return text
    text = "\n" + text
    stack: list[tuple[str, int]] = []
    cuts: list[tuple[int, int]] = []
    for m in _BRACES.finditer(text):
        tok = m.group().lstrip("\n \t:")
        if tok == "{{" or tok == "{|":
            stack.append((tok, m.start() + (tok == "{|")))  # a table keeps its "\n"
        elif stack:
            want = "{{" if tok == "}}" else "{|"
            # An unmatched closer inside is literal text; pop to the matching opener.
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == want:
                    start = stack[i][1]
                    del stack[i:]
                    if not stack:
                        cuts.append((start, m.end()))
                    break
    if not cuts:
        return text[1:]
    out, pos = [], 1
    for start, end in cuts:
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return _EMPTY_STYLE.sub("", _EMPTY_HEADING.sub("", "".join(out)))


_SQUEEZE = re.compile(r"[ \t]+\n[ \t\n]*|\n+[ \t][ \t\n]*|\n\n\n+|  +|\t")
# What dropped templates leave: brackets holding nothing but blanks and punctuation, in
# any script ("Берли́н ( , ) —", "柏林（）是"), and a blank before a comma or full stop.
_FILLER = r"[\s,，、;；:：.。·・/\-–—]*"
# Each starts with its bracket, so the scan only stops at brackets; the blank that an
# empty bracket leaves beside another is squeezed afterwards.
_EMPTY_BRACKETS = re.compile(
    r"\(" + _FILLER + r"\)|（" + _FILLER + r"）|\[" + _FILLER + r"\]|［" + _FILLER + r"］|【"
    + _FILLER + r"】|〔" + _FILLER + r"〕")
_BLANK_BEFORE_STOP = re.compile(r"[ \t]+(?=[,.](?:\s|$))")


def _squeezed(m: re.Match) -> str:
    n = m.group().count("\n")
    return "\n\n" if n > 1 else ("\n" if n else " ")


def _substitute(text: str, links: list[Link], pattern: re.Pattern, keep
                ) -> tuple[str, list[Link]]:
    """``pattern``'s matches replaced by ``keep(match)`` (at most as long as the match),
    the link offsets moved along."""
    out: list[str] = []
    starts: list[int] = []
    runs: list[tuple[int, int, int, int]] = []  # start, end, kept, removed before it
    pos = removed = 0
    for m in pattern.finditer(text):
        kept = keep(m)
        out.append(text[pos:m.start()])
        out.append(kept)
        starts.append(m.start())
        runs.append((m.start(), m.end(), len(kept), removed))
        removed += m.end() - m.start() - len(kept)
        pos = m.end()
    if not runs:
        return text, links
    out.append(text[pos:])

    def move(p: int) -> int:
        i = bisect_left(starts, p) - 1
        if i < 0:
            return p
        start, end, kept, before = runs[i]
        if p >= end:
            return p - before - (end - start - kept)
        return start - before + min(p - start, kept)

    return "".join(out), [Link(move(l.start), move(l.end), l.target) for l in links]


def _compact(text: str, links: list[Link]) -> Extracted:
    """Drop what dropped markup leaves and squeeze the blank runs, moving link offsets
    along; links whose anchor ends up blank are dropped."""
    if _EMPTY_BRACKETS.search(text):
        text, links = _substitute(text, links, _EMPTY_BRACKETS, lambda m: "")
    if " ," in text or " ." in text or "\t," in text or "\t." in text:
        text, links = _substitute(text, links, _BLANK_BEFORE_STOP, lambda m: "")
    text, links = _substitute(text, links, _SQUEEZE, _squeezed)
    lead = len(text) - len(text.lstrip())
    result = text.strip()
    new_links = []
    for link in links:
        s, e = max(link.start - lead, 0), min(link.end - lead, len(result))
        anchor = result[s:e]
        if anchor.strip():
            s += len(anchor) - len(anchor.lstrip())
            e -= len(anchor) - len(anchor.rstrip())
            new_links.append(Link(s, e, link.target))
    return Extracted(result, new_links)


# A line that is nothing but [[Prefix:Name]] or [[Prefix:Name|sort key]]: the way
# category links are written, at the end of an article.
_LINK_LINE = re.compile(
    r"\[\[[ \t]*([^:\[\]|{}\n]+):[^\[\]|{}\n]+(?:\|[^\[\]\n]*)?\]\][ \t]*\Z")


def drop_unknown_categories(wikitext: str, site: SiteInfo) -> str:
    """Category links under a name ``<siteinfo>`` does not list (an alias, or a header
    that belongs to another wiki), told by how they stand: alone on their line, under a
    prefix that is no interwiki or language code. Known names are the renderer's."""
    text = "\n" + wikitext
    cuts, i = [], text.find("\n[[")
    while i != -1:  # lines that start with a link: few, so looked at one by one
        end = text.find("\n", i + 1)
        end = len(text) if end == -1 else end
        m = _LINK_LINE.match(text, i + 1, end)
        if m:
            prefix = m.group(1).strip()
            key = prefix.lower()
            if site.namespace_of(prefix) is None and key not in LANGUAGE_CODES and \
                    key not in INTERWIKI_PREFIXES and " " not in prefix:
                cuts.append((i + 1, end))
        i = text.find("\n[[", end)
    if not cuts:
        return wikitext
    out, pos = [], 1
    for start, end in cuts:
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return "".join(out)


_TAG_START = re.compile(r"<(/?)([a-zA-Z][\w-]*)(?=[\s/>])")


def escape_unknown_tags(wikitext: str) -> str:
    """``<aside>``, ``<translate>``: a tag no Wikipedia knows is text to its reader, so
    its ``<`` becomes an entity the tokenizer passes through."""
    if "<" not in wikitext:
        return wikitext
    return _TAG_START.sub(lambda m: m.group() if m.group(2).lower() in KNOWN_TAGS
                          else "&lt;" + m.group()[1:], wikitext)


def tokenize(wikitext: str) -> list:
    """mwparserfromhell's C tokenizer, without its Python tree builder."""
    return CTokenizer().tokenize(wikitext, 0, False)


def extract(wikitext: str, site: SiteInfo, lang: str, fast: bool = True,
            variant: str | None = None) -> Extracted:
    """The reader-visible text of an article and its links to articles of the same wiki.

    ``lang`` is the wiki's language code (for link trails and ``[[xx:...]]`` links).
    ``fast`` runs :func:`prestrip` first (same result, quicker). ``variant``: the script
    variant LanguageConverter markup shows (``zh-hans``...; default the wiki's main
    variant, else each rule's first). Raises whatever the tokenizer raises; the caller
    turns that into a reject.
    """
    src = keep_inline_templates(wikitext)
    src = prestrip(src) if fast else src
    src = drop_unknown_categories(convert(src, variant or lang), site)
    src = escape_unknown_tags(strip_quotes(src))
    r = Renderer(site, lang)
    r.run(tokenize(src))
    return _compact("".join(r.parts), r.links)
