"""Wikitext -> the text a reader sees, plus the spans of its links.

``extract`` runs mwparserfromhell's tokenizer on the article and renders its token
stream. Templates, tables, references, comments, files and categories are dropped;
headings and list items keep their text; a link keeps its visible anchor, link trail
included.

Where the time goes, and what we do about it (elwikivoyage sample, 7.1 MB of wikitext):
mwparserfromhell's ``parse`` is its C tokenizer plus a pure-Python builder that turns the
tokens into a node tree, and the builder is most of it (2.3 s of 2.5 s). We render
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

from .render import Link, Renderer
from .siteinfo import SiteInfo

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_REF = re.compile(r"<ref\b[^>]*?/>|<ref\b[^>]*>.*?(?:</ref\s*>|\Z)", re.S | re.I)
# Tables open and close at the start of a line; the text is scanned with a "\n" in front.
_BRACES = re.compile(r"\{\{|\}\}|\n[ \t]*\{\||\n[ \t]*\|\}")
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
        tok = m.group().strip()
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


def _compact(text: str, links: list[Link]) -> Extracted:
    """Squeeze the blank runs that dropped markup leaves, moving link offsets along."""
    out: list[str] = []
    starts: list[int] = []
    runs: list[tuple[int, int, int, int]] = []  # start, end, kept, removed before it
    pos = removed = 0
    for m in _SQUEEZE.finditer(text):
        n = m.group().count("\n")
        keep = "\n\n" if n > 1 else ("\n" if n else " ")
        out.append(text[pos:m.start()])
        out.append(keep)
        starts.append(m.start())
        runs.append((m.start(), m.end(), len(keep), removed))
        removed += m.end() - m.start() - len(keep)
        pos = m.end()
    out.append(text[pos:])
    squeezed = "".join(out)
    lead = len(squeezed) - len(squeezed.lstrip())
    result = squeezed.strip()

    def move(p: int) -> int:
        i = bisect_left(starts, p) - 1
        if i < 0:
            return p - lead
        start, end, kept, before = runs[i]
        if p >= end:
            return p - before - (end - start - kept) - lead
        return start - before + min(p - start, kept) - lead

    new_links = []
    for link in links:
        s, e = max(move(link.start), 0), min(move(link.end), len(result))
        anchor = result[s:e]
        if anchor.strip():
            s += len(anchor) - len(anchor.lstrip())
            e -= len(anchor) - len(anchor.rstrip())
            new_links.append(Link(s, e, link.target))
    return Extracted(result, new_links)


def tokenize(wikitext: str) -> list:
    """mwparserfromhell's C tokenizer, without its Python tree builder."""
    return CTokenizer().tokenize(wikitext, 0, False)


def extract(wikitext: str, site: SiteInfo, lang: str, fast: bool = True) -> Extracted:
    """The reader-visible text of an article and its links to articles of the same wiki.

    ``lang`` is the wiki's language code (for link trails and ``[[xx:...]]`` links).
    ``fast`` runs :func:`prestrip` first (same result, quicker). Raises whatever the
    tokenizer raises; the caller turns that into a reject.
    """
    r = Renderer(site, lang)
    r.run(tokenize(prestrip(wikitext) if fast else wikitext))
    return _compact("".join(r.parts), r.links)
