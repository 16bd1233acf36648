"""Rendering mwparserfromhell's token stream into reader-visible text and link spans,
straight from the tokens, without the node tree (``leia.wikitext`` says why)."""

from __future__ import annotations

import html

from mwparserfromhell.parser import tokens as T

from . import plain_text as pt
from .html_tags import BLOCK_TAGS, DROP_TAGS, LINE_BREAK_TAGS, STRAY_TAG, stray
from .languages import link_trail
from .render_links import Link, LinkRenderer
from .siteinfo import SiteInfo


class Renderer(LinkRenderer):
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
        # Constructs opened so far that may leave no text (dropped ones, tags, external
        # links): a link part without text was not empty in the source.
        self.hidden = 0
        self.open_text_link: int | None = None  # parts after an unclosed "[[" shown

    def drop(self) -> None:
        """Drop the construct that just opened, whole."""
        self.skip = self.depth
        self.hidden += 1

    def emit(self, s: str) -> None:
        if s:
            self.parts.append(s)
            self.size += len(s)

    def run(self, tokens) -> None:
        handlers, depths, text_kind, parts = _HANDLERS, _DEPTH, T.Text, self.parts
        for tok in tokens:
            kind = type(tok)
            if kind is text_kind:
                # Half of all tokens are plain text outside any link or tag: handled
                # inline (a third of the render time went to the calls). Text never
                # changes the depth, so it cannot end a skip.
                if self.skip:
                    continue
                frames = self.frames
                if self.trail_for is None and (not frames or frames[-1]["phase"] == "body"):
                    value = tok["text"]  # a Token is a dict; .text goes via __getattr__
                    if "__" in value:
                        value = pt.MAGIC.sub("", value)
                    if "<" in value:
                        value = STRAY_TAG.sub(stray, value)
                    if "&" in value:
                        value = pt.NAMED_REF.sub(pt.named_ref, value)
                    if "[[" in value or "]]" in value or "{{" in value or "}}" in value:
                        value = self.unbracketed(value)
                    if value:
                        parts.append(value)
                        self.size += len(value)
                else:
                    self.on_text(tok)
                continue
            self.depth += depths.get(kind, 0)
            if self.skip:
                if self.depth < self.skip:
                    self.skip = 0
                    self.skipped_to()
                continue
            handlers[kind](self, tok)

    def skipped_to(self) -> None:
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
        if "__" in value:
            value = pt.MAGIC.sub("", value)
        if "&" in value:
            value = pt.NAMED_REF.sub(pt.named_ref, value)
        self.emit(self.unbracketed(STRAY_TAG.sub(stray, value) if "<" in value else value))

    def on_other(self, tok) -> None:
        self.trail_for = None

    def in_attributes(self) -> bool:
        """Whether a tag's name or attributes are being read: nothing there is text."""
        return bool(self.frames) and self.frames[-1]["kind"] == "tag" and \
            self.frames[-1]["phase"] in ("name", "attrs")

    def on_skip(self, tok) -> None:
        """Templates, template arguments and comments: dropped whole."""
        self.trail_for = None
        self.drop()

    # <tag attrs>contents</tag>, and the wiki markup the tokenizer reports as tags
    def on_tag_open(self, tok) -> None:
        self.trail_for = None
        if self.in_attributes():
            self.drop()
            return
        self.hidden += 1
        self.push("tag", phase="name", buf=[], markup=getattr(tok, "wiki_markup", None))

    def tag_named(self, frame: dict) -> bool:
        """Called once the tag's name is known; False when the tag is dropped."""
        name = frame["name"] = "".join(frame["buf"]).strip().lower()
        if name in DROP_TAGS:
            if name in ("hr", "table"):
                self.emit("\n")
            return False
        if name in LINE_BREAK_TAGS and (not frame["markup"] or not self.at_line_start()):
            self.emit("\n")  # HTML blocks, and ";term:definition" on one line
        return True

    def at_line_start(self) -> bool:
        return not self.parts or self.parts[-1].endswith("\n")

    def on_tag_attr(self, tok) -> None:
        frame = self.frames[-1]
        if frame["phase"] == "name":
            if not self.tag_named(frame):
                self.drop()
                return
            frame["phase"] = "attrs"
        frame["buf"] = []

    def on_tag_body(self, tok) -> None:
        frame = self.frames[-1]
        if frame["phase"] == "name" and not self.tag_named(frame):
            self.drop()
            return
        frame["phase"], frame["buf"] = ("raw" if frame["name"] in ("nowiki", "pre")
                                        else "body"), []

    def on_tag_end_open(self, tok) -> None:
        frame = self.frames[-1]
        if frame["phase"] == "raw":
            raw = "".join(frame["buf"])
            if frame["name"] == "pre" and "<" in raw:
                raw = pt.NOWIKI_IN_PRE.sub(r"\1", raw)
            self.emit(html.unescape(raw))
        frame["phase"], frame["buf"] = "closing", []

    def on_tag_close(self, tok) -> None:
        frame = self.frames.pop()
        if frame["phase"] == "name":  # self-closing: <br/>, list markers
            self.tag_named(frame)
        elif frame.get("name") in BLOCK_TAGS and not frame["markup"]:
            self.emit("\n")

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
        ref = "".join(self.frames.pop()["buf"]) + ";"
        value = html.unescape(ref)
        if ref[1] == "#":
            digits = ref[2:-1].lstrip("xX")
            try:
                cp = int(digits, 16 if ref[2] in "xX" else 10)
            except ValueError:
                cp = -1
            if not pt.valid_codepoint(cp):
                value = ref
        frame = self.collecting()
        if frame is not None:
            # A link's title keeps the reference as written: the title is decoded once,
            # as MediaWiki decodes it, so "&amp;amp;" leaves "&amp;", which no title
            # may hold.
            frame["buf"].append(ref if frame["kind"] == "link" else value)
        else:
            self.emit(value)

    # [http://url label] and bare URLs
    def on_ext_open(self, tok) -> None:
        self.trail_for = None
        if self.in_attributes():
            self.drop()
            return
        self.hidden += 1
        brackets = getattr(tok, "brackets", True)
        # Inside a wikilink's anchor MediaWiki makes no external link: "[url label]"
        # stays as written.
        literal = brackets and self.anchor_around() is not None
        self.push("ext", phase="url", buf=[], brackets=brackets, literal=literal)

    def on_ext_sep(self, tok) -> None:
        frame = self.frames[-1]
        frame["phase"] = "body"
        if frame["literal"]:
            self.emit("[" + "".join(frame["buf"]) + " ")

    def on_ext_close(self, tok) -> None:
        frame = self.frames.pop()
        if frame["phase"] == "url":
            url = "".join(frame["buf"])
            if frame["literal"]:
                self.emit("[" + url + "]")
            elif not frame["brackets"]:
                self.emit(pt.escaped_url(url))
            elif "\u3000" in url:  # the ideographic space ends a URL, as a blank does
                self.emit(url.split("\u3000", 1)[1])
        elif frame["literal"]:
            self.emit("]")


_OPEN = (T.TemplateOpen, T.ArgumentOpen, T.WikilinkOpen, T.ExternalLinkOpen,
         T.CommentStart, T.HeadingStart, T.HTMLEntityStart, T.TagOpenOpen)
_CLOSE = (T.TemplateClose, T.ArgumentClose, T.WikilinkClose, T.ExternalLinkClose,
          T.CommentEnd, T.HeadingEnd, T.HTMLEntityEnd, T.TagCloseSelfclose, T.TagCloseClose)
_DEPTH = {**{k: 1 for k in _OPEN}, **{k: -1 for k in _CLOSE}}
_R = Renderer
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
