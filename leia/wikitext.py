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
from functools import cache

from mwparserfromhell.parser._tokenizer import CTokenizer

from .html_tags import KNOWN_TAGS
from .inline_templates import keep_inline_templates
from .langconv import convert
from .quotes import strip_quotes
from .render import Link, Renderer
from .siteinfo import SiteInfo, names_in_any_language, namespace_key

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
# Comments and references go; <nowiki> and <pre> keep what they hold, a "<ref>" or
# "<!--" included. As in MediaWiki's preprocessor, whichever starts first wins.
_HIDDEN = re.compile(  # tag names in any case, without re.I: it slows the scan for "<"
    r"<(?:!--.*?(?:-->|\Z)|[rR][eE][fF]\b[^>]*?/>"
    r"|[rR][eE][fF]\b[^>]*>.*?(?:</[rR][eE][fF]\s*>|\Z)"
    r"|((?i:nowiki)\b[^>]*(?<!/)>.*?</(?i:nowiki)\s*>|(?i:pre)\b[^>]*(?<!/)>.*?</(?i:pre)\s*>))",
    re.S)
# Tables open and close at the start of a line, or after the colons that indent them;
# the text is scanned with a "\n" in front.
_BRACES = re.compile(r"\{\{|\}\}|\n[ \t:]*\{\||\n[ \t]*\|\}")
# A heading whose whole title was a template is left as a bare "=== ===".
_EMPTY_HEADING = re.compile(r"^[ \t]*(=+)[ \t]*\1[ \t]*$", re.M)
# ...and bold or italics around nothing but a template leave a bare run of 4, 6 or 10
# quotes (opened and closed at once). Runs are found by their first two quotes: a
# pattern that starts with a lookbehind is tried at every character.
_QUOTE_RUN = re.compile(r"''+")


def _unless_empty_style(m: re.Match) -> str:
    return "" if len(m.group()) in (4, 6, 10) else m.group()


@dataclass
class Extracted:
    text: str
    links: list[Link] = field(default_factory=list)


# A table left open ends at the end of the page, as in MediaWiki, or where a template
# ({{end}}, {{col-end}}) alone on its line with prose after it closes it in the rendered
# page: the prose after it stays.
_CLOSING_TEMPLATE = re.compile(
    r"\n[ \t]*\{\{[^{}\n]*\}\}[ \t]*(?=(?:[ \t]*\n)+[ \t]*[^|!\s])")


def _without(text: str, cuts: list[tuple[int, int]], pos: int = 0) -> str:
    """``text[pos:]`` without the ``(start, end)`` spans of ``cuts`` (sorted, apart)."""
    out = []
    for start, end in cuts:
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return "".join(out)


_ROW_START = re.compile(r"\n[ \t]*[|!]")


def _close_template_table(text: str, cuts: list[tuple[int, int]], end: int) -> None:
    """A "|}" with no "{|" before it closes a table that a template opened
    (``{{Table head}}`` and the rows below it): the last template that stands at a line
    start with a row right after it is taken for the opener, and the cut runs from it
    to ``end``, unless a paragraph break lies between. Without such a template the "|}"
    stays, as MediaWiki shows it."""
    for i in range(len(cuts) - 1, -1, -1):
        start, stop = cuts[i]
        if text.find("\n\n", stop, end) != -1:
            return  # a paragraph break: prose, not rows, lies between
        if text[start - 1:start] == "\n" and _ROW_START.match(text, stop):
            cuts[i:] = [(start, end)]
            return


def _hide(wikitext: str) -> tuple[str, list[tuple[int, int]]]:
    """The text without its comments and references, and where the <nowiki> and <pre>
    it keeps stand in that text: no template or table starts there."""
    out, literal, pos, size = [], [], 0, 0
    for m in _HIDDEN.finditer(wikitext):
        out.append(wikitext[pos:m.start()])
        size += m.start() - pos
        if m.group(1):
            out.append(m.group())
            literal.append((size, size + len(m.group())))
            size += len(m.group())
        pos = m.end()
    out.append(wikitext[pos:])
    return "".join(out), literal


def _inside(spans: list[tuple[int, int]], pos: int) -> bool:
    i = bisect_left(spans, (pos + 1,)) - 1
    return i >= 0 and spans[i][0] <= pos < spans[i][1]


def prestrip(wikitext: str) -> str:
    """Remove comments, references, templates and tables, which ``extract`` drops anyway.

    Unbalanced braces are left alone: MediaWiki shows an unclosed ``{{`` as text, and
    the tokenizer makes the same call. What <nowiki> and <pre> hold stays, as text.
    """
    text, literal = _hide(wikitext) if "<" in wikitext else (wikitext, [])
    if "{" not in text:
        return text
    text = "\n" + text
    stack: list[tuple[str, int]] = []
    cuts: list[tuple[int, int]] = []
    for m in _BRACES.finditer(text):
        if literal and _inside(literal, m.start() - 1):  # spans of the text before "\n"
            continue
        tok = m.group().lstrip("\n \t:")
        if tok == "{{" or tok == "{|":
            stack.append((tok, m.start() + (tok == "{|")))  # a table keeps its "\n"
        elif tok == "|}" and not stack and cuts:
            _close_template_table(text, cuts, m.end())
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
    table = next((pos for tok, pos in stack if tok == "{|"), None)
    if table is not None:
        end = _CLOSING_TEMPLATE.search(text, table)
        cuts.append((table, end.end() if end else len(text)))
    if not cuts:
        return text[1:]
    return _QUOTE_RUN.sub(_unless_empty_style,
                          _EMPTY_HEADING.sub("", _without(text, cuts, 1)))


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

    return "".join(out), [Link(move(l.start), move(l.end), l.target, l.hint) for l in links]


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
    return _without(text, cuts, 1) if cuts else wikitext


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
    return _without(wikitext, cuts) if cuts else wikitext


# A line that starts with "=" and does not end with one (blanks aside).
_HEADING_LINE = re.compile(r"^=[^\n]*[^=\s][ \t]*$", re.M)


def _heading_or_text(m: re.Match) -> str:
    line = m.group()
    end = _COMMENT.sub("", line).rstrip() if "<!--" in line else line.rstrip()
    return line if end.endswith(("=", "}}")) else "&#61;" + line[1:]


# A line of "=" alone is a heading to MediaWiki too: "===" is a heading "=", "====" one of
# "==" (the widest "=" run, up to 6, that leaves a title between two of it).
_EQUALS_LINE = re.compile(r"^(={1,6})(=+)\1[ \t]*$", re.M)


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
