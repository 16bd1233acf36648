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

import html
import re
from bisect import bisect_left
from dataclasses import dataclass, field

from mwparserfromhell.parser import tokens as T
from mwparserfromhell.parser._tokenizer import CTokenizer

from .languages import link_trail
from .siteinfo import SiteInfo
from .titles import normalise_target

# Tags whose content a reader does not see as prose.
DROP_TAGS = frozenset("""
    ref references math chem ce score syntaxhighlight source timeline gallery imagemap
    templatedata graph mapframe maplink categorytree inputbox includeonly indicator
    templatestyles hiero charinsert dynamicpagelist section table img hr
""".split())
LINE_BREAK_TAGS = frozenset({"br", "p", "div", "li", "tr", "dd", "dt"})
_MAGIC = re.compile(r"__[A-Z]+__")
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_REF = re.compile(r"<ref\b[^>]*?/>|<ref\b[^>]*>.*?(?:</ref\s*>|\Z)", re.S | re.I)
# Tables open and close at the start of a line; the text is scanned with a "\n" in front.
_BRACES = re.compile(r"\{\{|\}\}|\n[ \t]*\{\||\n[ \t]*\|\}")
# A heading whose whole title was a template is left as a bare "=== ===".
_EMPTY_HEADING = re.compile(r"^[ \t]*(=+)[ \t]*\1[ \t]*$", re.M)
# ...and bold or italics around nothing but a template leave a bare run of quotes.
_EMPTY_STYLE = re.compile(r"(?<!')('{2,3}|'{5})\1(?!')")


@dataclass
class Link:
    """A link in the extracted text: ``text[start:end]`` is its visible anchor."""

    start: int
    end: int
    target: str
    """The normalised title of the target article (namespace 0)."""


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


class _Renderer:
    """Renders mwparserfromhell's token stream.

    The tokenizer only emits an opening token when it found the matching closing one, so
    the stream is balanced and a depth counter is enough to skip a dropped construct
    whole. ``frames`` holds the open links, tags, headings, entities and external links.
    """

    def __init__(self, site: SiteInfo, lang: str):
        self.site = site
        self.lang = lang
        self.trail = link_trail(lang)
        self.parts: list[str] = []
        self.size = 0
        self.links: list[Link] = []
        self.depth = 0
        self.skip = 0           # > 0: drop tokens until depth falls below this
        self.frames: list[dict] = []
        self.trail_for: Link | bool | None = None  # what a following Text may extend

    def emit(self, s: str) -> None:
        if s:
            self.parts.append(s)
            self.size += len(s)

    def run(self, tokens) -> None:
        handlers, depths = _HANDLERS, _DEPTH
        for tok in tokens:
            kind = type(tok)
            self.depth += depths.get(kind, 0)
            if self.skip:
                if self.depth < self.skip:
                    self.skip = 0
                    self.skipped_to(kind)
                continue
            handlers[kind](self, tok)

    def skipped_to(self, kind) -> None:
        """A skipped construct just closed: end the frame it belonged to, if any."""
        if self.frames and self.frames[-1]["depth"] > self.depth:
            self.frames.pop()

    def push(self, kind: str, **kw) -> dict:
        frame = {"kind": kind, "depth": self.depth, "size": self.size, **kw}
        self.frames.append(frame)
        return frame

    def collecting(self) -> dict | None:
        """The innermost frame, if it collects raw text (a link title, a tag name...)."""
        if self.frames:
            frame = self.frames[-1]
            if frame["phase"] != "body":
                return frame
        return None

    def on_text(self, tok) -> None:
        value = tok.text
        frame = self.collecting()
        if frame is not None:
            frame["buf"].append(value)
            return
        if self.trail_for is not None:
            m = self.trail.match(value)
            if m:
                self.emit(m.group())
                value = value[m.end():]
                if isinstance(self.trail_for, Link):
                    self.trail_for.end = self.size
            self.trail_for = None
        self.emit(_MAGIC.sub("", value) if "__" in value else value)

    def on_other(self, tok) -> None:
        self.trail_for = None

    def on_skip(self, tok) -> None:
        """Templates, template arguments and comments: dropped whole."""
        self.trail_for = None
        self.skip = self.depth

    # [[title|anchor]]trail
    def on_link_open(self, tok) -> None:
        self.trail_for = None
        self.push("link", phase="title", buf=[], sep=False)

    def on_link_sep(self, tok) -> None:
        frame = self.frames[-1]
        if frame["phase"] != "title":
            self.emit("|")  # a second pipe belongs to the anchor
            return
        frame["phase"], frame["sep"] = "body", True
        frame["target"] = self.link_target(frame)
        frame["size"] = self.size
        if frame["target"] is None:
            self.skip = self.depth  # a file or category: its caption goes too

    def link_target(self, frame: dict):
        raw = frame["raw"] = "".join(frame["buf"])
        target = normalise_target(raw, self.site, self.lang)
        colon = raw.lstrip().startswith(":")
        if target.kind == "interlanguage" and not colon:
            return None  # shown in the sidebar, not in the text
        if target.kind == "page" and not colon and target.ns in (6, 14):
            return None  # an embedded file, or a category assignment
        return target

    def on_link_close(self, tok) -> None:
        frame = self.frames.pop()
        if frame["sep"]:
            target = frame["target"]
        else:
            target = self.link_target(frame)
            if target is None:
                return
            self.emit(html.unescape(frame["raw"].strip().lstrip(":")))
        start = frame["size"]
        if self.size > start and target.kind == "page" and target.ns == 0:
            link = Link(start, self.size, target.title)
            self.links.append(link)
            self.trail_for = link
        else:
            self.trail_for = self.size > start

    # <tag attrs>contents</tag>, and the wiki markup the tokenizer reports as tags
    def on_tag_open(self, tok) -> None:
        self.trail_for = None
        self.push("tag", phase="name", buf=[], markup=getattr(tok, "wiki_markup", None))

    def tag_named(self, frame: dict) -> bool:
        """Called once the tag's name is known; False when the tag is dropped."""
        name = frame["name"] = "".join(frame["buf"]).strip().lower()
        if name in DROP_TAGS:
            if name in ("hr", "table"):
                self.emit("\n")
            return False
        if name in LINE_BREAK_TAGS and not frame["markup"]:
            self.emit("\n")  # HTML blocks; wiki list markers already follow a newline
        return True

    def on_tag_attr(self, tok) -> None:
        frame = self.frames[-1]
        if frame["phase"] == "name":
            if not self.tag_named(frame):
                self.skip = self.depth
                return
            frame["phase"] = "attrs"
        frame["buf"] = []

    def on_tag_body(self, tok) -> None:
        frame = self.frames[-1]
        if frame["phase"] == "name" and not self.tag_named(frame):
            self.skip = self.depth
            return
        frame["phase"], frame["buf"] = ("raw" if frame["name"] in ("nowiki", "pre")
                                        else "body"), []

    def on_tag_end_open(self, tok) -> None:
        frame = self.frames[-1]
        if frame["phase"] == "raw":
            self.emit(html.unescape("".join(frame["buf"])))
        frame["phase"], frame["buf"] = "closing", []

    def on_tag_close(self, tok) -> None:
        frame = self.frames.pop()
        if frame["phase"] == "name":  # self-closing: <br/>, list markers
            self.tag_named(frame)

    # == heading ==
    def on_heading_open(self, tok) -> None:
        self.trail_for = None
        self.emit("\n")
        self.push("heading", phase="body")

    def on_heading_close(self, tok) -> None:
        self.frames.pop()
        self.emit("\n")

    # &entity;
    def on_entity_open(self, tok) -> None:
        self.push("entity", phase="entity", buf=["&"])

    def on_entity_numeric(self, tok) -> None:
        self.frames[-1]["buf"].append("#")

    def on_entity_hex(self, tok) -> None:
        self.frames[-1]["buf"].append(getattr(tok, "char", "x"))

    def on_entity_close(self, tok) -> None:
        value = html.unescape("".join(self.frames.pop()["buf"]) + ";")
        frame = self.collecting()
        if frame is not None:
            frame["buf"].append(value)
        else:
            self.emit(value)

    # [http://url label] and bare URLs
    def on_ext_open(self, tok) -> None:
        self.trail_for = None
        self.push("ext", phase="url", buf=[], brackets=getattr(tok, "brackets", True))

    def on_ext_sep(self, tok) -> None:
        self.frames[-1]["phase"] = "body"

    def on_ext_close(self, tok) -> None:
        frame = self.frames.pop()
        if frame["phase"] == "url" and not frame["brackets"]:
            self.emit("".join(frame["buf"]))


_OPEN = (T.TemplateOpen, T.ArgumentOpen, T.WikilinkOpen, T.ExternalLinkOpen,
         T.CommentStart, T.HeadingStart, T.HTMLEntityStart, T.TagOpenOpen)
_CLOSE = (T.TemplateClose, T.ArgumentClose, T.WikilinkClose, T.ExternalLinkClose,
          T.CommentEnd, T.HeadingEnd, T.HTMLEntityEnd, T.TagCloseSelfclose, T.TagCloseClose)
_DEPTH = {**{k: 1 for k in _OPEN}, **{k: -1 for k in _CLOSE}}
_R = _Renderer
_HANDLERS = {
    T.Text: _R.on_text,
    T.TemplateOpen: _R.on_skip, T.ArgumentOpen: _R.on_skip, T.CommentStart: _R.on_skip,
    T.WikilinkOpen: _R.on_link_open, T.WikilinkSeparator: _R.on_link_sep,
    T.WikilinkClose: _R.on_link_close,
    T.TagOpenOpen: _R.on_tag_open, T.TagAttrStart: _R.on_tag_attr,
    T.TagAttrEquals: _R.on_other, T.TagAttrQuote: _R.on_other,
    T.TagCloseOpen: _R.on_tag_body, T.TagOpenClose: _R.on_tag_end_open,
    T.TagCloseClose: _R.on_tag_close, T.TagCloseSelfclose: _R.on_tag_close,
    T.HeadingStart: _R.on_heading_open, T.HeadingEnd: _R.on_heading_close,
    T.HTMLEntityStart: _R.on_entity_open, T.HTMLEntityNumeric: _R.on_entity_numeric,
    T.HTMLEntityHex: _R.on_entity_hex, T.HTMLEntityEnd: _R.on_entity_close,
    T.ExternalLinkOpen: _R.on_ext_open, T.ExternalLinkSeparator: _R.on_ext_sep,
    T.ExternalLinkClose: _R.on_ext_close,
    # Only ever inside a skipped template, argument or comment.
    T.TemplateClose: _R.on_other, T.ArgumentClose: _R.on_other, T.CommentEnd: _R.on_other,
    T.TemplateParamSeparator: _R.on_other, T.TemplateParamEquals: _R.on_other,
    T.ArgumentSeparator: _R.on_other,
}

# Runs of blanks worth squeezing; each alternative starts with a fixed character, which
# keeps the scan fast.
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
    r = _Renderer(site, lang)
    r.run(tokenize(prestrip(wikitext) if fast else wikitext))
    return _compact("".join(r.parts), r.links)
