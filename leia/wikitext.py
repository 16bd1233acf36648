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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache

from mwparserfromhell.parser._tokenizer import CTokenizer

from .html_tags import KNOWN_TAGS
from .inline_templates import keep_inline_templates
from .langconv import convert
from .prestrip import prestrip, without
from .quotes import strip_quotes
from .render import Link, Renderer
from .siteinfo import SiteInfo, names_in_any_language, namespace_key

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
@dataclass
class Extracted:
    text: str
    links: list[Link] = field(default_factory=list)


# Blanks around a line break, three or more line breaks, two or more spaces, a tab. The
# alternatives are grouped by their first character, so a lone space or line break
# fails after one step: the scan visits every blank of the text.
_SQUEEZE = re.compile(
    r" (?:[ \t]*\n[ \t\n]*| +)|\n(?:\n*[ \t][ \t\n]*|\n\n+)|\t(?:[ \t]*\n[ \t\n]*)?")
# What dropped templates leave: brackets holding nothing but blanks and punctuation, in
# any script ("Берли́н ( , ) —", "柏林（）是"), blanks beside punctuation...
_FILLER = r"[\s,，、;；:：.。·・/\-–—]*"
# Each starts with its bracket, so the scan only stops at brackets; the blank that an
# empty bracket leaves beside another is squeezed afterwards.
_EMPTY_BRACKETS = re.compile(
    r"\(" + _FILLER + r"\)|（" + _FILLER + r"）|\[" + _FILLER + r"\]|［" + _FILLER + r"］|【"
    + _FILLER + r"】|〔" + _FILLER + r"〕")
# ...and the separators a dropped template leaves beside its neighbours: right after an
# opening bracket ("Merkel (; ; born 1954)"), right before a closing one ("Berlin, )"),
# or doubled ("Berlin,, ", "Berlin、、伯林"). The pattern starts with one character class,
# the bracket or separator it keeps (unless group 2 matched), so a match is tried only
# there; the class itself is still tested at every character, as are the brackets of
# _EMPTY_BRACKETS (together about 3% of the parse).
_SEP = "[,，、;；]"
_DANGLING = re.compile(
    r"([(（,，、;；])(?:(?<=[(（])[ \t]*" + _SEP + r"[ \t,，、;；]*"
    r"|(?<=" + _SEP + r")(?:[ \t]*" + _SEP + r")*[ \t]*(?=[)）])()"
    r"|(?<=" + _SEP + r")(?:[ \t]*" + _SEP + r")+)")


def _undangled(m: re.Match) -> str:
    return "" if m.group(2) is not None else m.group(1)


def _nothing(m: re.Match) -> str:
    return ""


def _squeezed(m: re.Match) -> str:
    n = m.group().count("\n")
    return "\n\n" if n > 1 else ("\n" if n else " ")


Edit = tuple[int, int, str]  # start, end, what replaces text[start:end] (no longer)


def _matches(pattern: re.Pattern, keep: Callable[[re.Match], str], text: str
             ) -> Iterator[Edit]:
    return ((*m.span(), keep(m)) for m in pattern.finditer(text))


# Where blanks go: before a comma or full stop that ends its word, and inside a
# bracket's edge ("( x", "x )"). A pattern per character, each starting with it: the
# scan for one character is fast, for a class of them it is not.
_BLANKS_STOP = [re.compile(re.escape(c) + rf"(?<=[ \t]{re.escape(c)})(?=\s|\Z)") for c in ",."]
_OPENER_BLANKS = [(b, re.compile(re.escape(b) + r"[ \t]+")) for b in "(（"]
_BLANKS_CLOSER = [(b, re.compile(re.escape(b) + rf"(?<=[ \t]{re.escape(b)})")) for b in ")）"]


def _blanks_from(text: str, end: int) -> int:
    """Where the run of blanks that ends at ``end`` starts."""
    while end > 0 and text[end - 1] in " \t":
        end -= 1
    return end


def _loose_blanks(text: str) -> Iterator[Edit]:
    """Blanks a dropped template leaves beside punctuation: before a comma or full stop
    that ends its word ("Berlin , the"), inside a bracket's edge ("(Berlin )"), and
    with the colon of a label left with nothing to introduce ("(en allemand : )")."""
    cuts = [(_blanks_from(text, m.start()), m.start())
            for pattern in _BLANKS_STOP for m in pattern.finditer(text)]
    for bracket, pattern in _OPENER_BLANKS:
        if bracket in text:
            cuts += [(m.start() + 1, m.end()) for m in pattern.finditer(text)]
    for bracket, pattern in _BLANKS_CLOSER:
        if bracket in text:
            for m in pattern.finditer(text):
                start = _blanks_from(text, m.start())
                if text[start - 1:start] in (":", "："):
                    start = _blanks_from(text, start - 1)
                cuts.append((start, m.start()))
    end = 0
    for start, stop in sorted(cuts):
        if start >= end:  # "( ." gives the same blank twice
            yield start, stop, ""
            end = stop


def _substitute(text: str, links: list[Link], edits: Iterable[Edit]
                ) -> tuple[str, list[Link]]:
    """``text`` with its edits made (in order, apart), the link offsets moved along."""
    out: list[str] = []
    starts: list[int] = []
    runs: list[tuple[int, int, int, int]] = []  # start, end, kept, removed before it
    pos = removed = 0
    for start, end, kept in edits:
        out.append(text[pos:start])
        out.append(kept)
        starts.append(start)
        runs.append((start, end, len(kept), removed))
        removed += end - start - len(kept)
        pos = end
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

    return "".join(out), [Link(move(l.start), move(l.end), l.target, l.hint) for l in links]


def _compact(text: str, links: list[Link]) -> Extracted:
    """Drop what dropped markup leaves and squeeze the blank runs, moving link offsets
    along; links whose anchor ends up blank are dropped."""
    text, links = _substitute(text, links, _matches(_DANGLING, _undangled, text))
    text, links = _substitute(text, links, _matches(_EMPTY_BRACKETS, _nothing, text))
    text, links = _substitute(text, links, _loose_blanks(text))
    text, links = _substitute(text, links, _matches(_SQUEEZE, _squeezed, text))
    lead = len(text) - len(text.lstrip())
    result = text.strip()
    new_links = []
    for link in links:
        s, e = max(link.start - lead, 0), min(link.end - lead, len(result))
        anchor = result[s:e]
        if anchor.strip():
            s += len(anchor) - len(anchor.lstrip())
            e -= len(anchor) - len(anchor.rstrip())
            new_links.append(Link(s, e, link.target, link.hint))
    return Extracted(result, new_links)


# A line that is nothing but [[Prefix:Name]] or [[Prefix:Name|sort key]]: the way
# category links are written, at the end of an article.
_LINK_LINE = re.compile(
    r"\[\[[ \t]*([^:\[\]|{}\n]+):[^\[\]|{}\n]+(?:\|[^\[\]\n]*)?\]\][ \t]*\Z")


def drop_unknown_categories(wikitext: str, site: SiteInfo) -> str:
    """Category links under a name ``<siteinfo>`` does not list (a header that belongs
    to another wiki), told by how they stand: alone on their line, under the Category
    namespace's name in some language. Known names are the renderer's."""
    text = "\n" + wikitext
    cuts, i = [], text.find("\n[[")
    while i != -1:  # lines that start with a link: few, so looked at one by one
        end = text.find("\n", i + 1)
        end = len(text) if end == -1 else end
        m = _LINK_LINE.match(text, i + 1, end)
        if m:
            prefix = m.group(1)
            if namespace_key(prefix) in names_in_any_language(14) and \
                    site.namespace_of(prefix) is None:
                cuts.append((i + 1, end))
        i = text.find("\n[[", end)
    return without(text, cuts, 1) if cuts else wikitext


_FILE_OPEN = re.compile(r"\[\[[ \t]*([^\[\]|:\n]{1,40}):")
_LINK_EDGE = re.compile(r"\[\[|\]\]")


@cache
def _no_prose_names() -> frozenset[str]:
    """Media, File and Category names in any language: links that are never prose."""
    return names_in_any_language(6) | names_in_any_language(-2) | names_in_any_language(14)


def drop_unclosed_files(wikitext: str, site: SiteInfo) -> str:
    """A file or category link that never closes (``[[File:a.jpg|thumb|caption]``) is
    text to MediaWiki, options and all; no reader of the article takes it for prose, so
    it goes to the end of its line. A caption may span lines, and hold links and
    tables."""
    if wikitext.count("[[") <= wikitext.count("]]"):
        return wikitext  # every opener may close: nothing to look for (most pages)
    cuts: list[tuple[int, int]] = []
    for m in _FILE_OPEN.finditer(wikitext):
        if cuts and m.start() < cuts[-1][1]:
            continue
        key = namespace_key(m.group(1))
        if key not in _no_prose_names() and site.namespace_of(key) not in (6, -2, 14):
            continue
        depth = 1
        for edge in _LINK_EDGE.finditer(wikitext, m.end()):
            depth += 1 if edge.group() == "[[" else -1
            if depth == 0:
                break
        if depth:
            end = wikitext.find("\n", m.end()) + 1  # the line goes, its end too
            cuts.append((m.start(), len(wikitext) if end == 0 else end))
    return without(wikitext, cuts) if cuts else wikitext


# A line that starts with "=" and does not end with one (blanks aside).
# The scan looks for "=" and then asks that it start its line ("(?<!.=)": no character
# of the line before it; "^" would be tried at every position of the text), and sets
# the headings that end in "=" aside at once, before any backtracking.
_HEADING_LINE = re.compile(r"=(?<!.=)(?![^\n]*=[ \t]*$)[^\n]*[^=\s][ \t]*$", re.M)


def _heading_or_text(m: re.Match) -> str:
    line = m.group()
    end = _COMMENT.sub("", line).rstrip() if "<!--" in line else line.rstrip()
    return line if end.endswith(("=", "}}")) else "&#61;" + line[1:]


# A line of "=" alone is a heading to MediaWiki too: "===" is a heading "=", "====" one of
# "==" (the widest "=" run, up to 6, that leaves a title between two of it).
_EQUALS_LINE = re.compile(r"(=(?<!.=)={0,5})(=+)\1[ \t]*$", re.M)


def _equals_title(m: re.Match) -> str:
    return "&#61;" * len(m.group(2))


def unmake_false_headings(wikitext: str) -> str:
    """"= x = y" is no heading to MediaWiki, whose headings end their line (comments and
    blanks aside); the tokenizer would make one, so the line's first "=" becomes an
    entity. A template that ends the line may expand to nothing: that line stays. A
    line of "=" alone keeps only its heading's title, which the tokenizer shows."""
    if "=" not in wikitext:
        return wikitext
    if "===" in wikitext:
        wikitext = _EQUALS_LINE.sub(_equals_title, wikitext)
    return _HEADING_LINE.sub(_heading_or_text, wikitext)


# A tag's name runs to a blank, "/" or ">": "<b→>" and "<blockquote|>" are no tags.
_TAG_START = re.compile(r"<(/?)([a-zA-Z][^\s/<>]*)")


def escape_unknown_tags(wikitext: str) -> str:
    """``<aside>``, ``<translate>``: a tag no Wikipedia knows is text to its reader, so
    its ``<`` becomes an entity the tokenizer passes through."""
    if "<" not in wikitext:
        return wikitext
    return _TAG_START.sub(lambda m: m.group() if m.group(2).lower() in KNOWN_TAGS
                          else "&lt;" + m.group()[1:], wikitext)


# What the preprocessor does to a page that is viewed, not transcluded: <includeonly>
# goes with its content (to the end when unclosed), <noinclude> and <onlyinclude>
# leave theirs.
_INCLUSION = re.compile(
    r"<includeonly\s*>.*?(?:</includeonly\s*>|\Z)|</?(?:noinclude|onlyinclude)\s*/?>",
    re.S | re.I)


def strip_inclusion_tags(wikitext: str) -> str:
    return _INCLUSION.sub("", wikitext) if "include" in wikitext else wikitext


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
    src = keep_inline_templates(strip_inclusion_tags(wikitext))
    src = prestrip(src) if fast else src
    src = drop_unknown_categories(convert(src, variant or lang), site)
    src = drop_unclosed_files(src, site)
    src = escape_unknown_tags(strip_quotes(unmake_false_headings(src)))
    r = Renderer(site, lang)
    r.run(tokenize(src))
    return _compact("".join(r.parts), r.links)
