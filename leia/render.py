"""Rendering mwparserfromhell's token stream into reader-visible text and link spans,
straight from the tokens, without the node tree (``leia.wikitext`` says why)."""

from __future__ import annotations

import html
import html.entities
import re
from dataclasses import dataclass
from urllib.parse import unquote

from mwparserfromhell.parser import tokens as T

from .html_tags import BLOCK_TAGS, DROP_TAGS, LINE_BREAK_TAGS, STRAY_TAG, stray
from .inline_templates import HINT_SEP
from .languages import link_trail
from .siteinfo import SiteInfo
from .titles import normalise_target

# Named references the tokenizer does not know (it knows HTML 4's): HTML5's, which
# MediaWiki decodes, and the Hebrew and Arabic names it gives &rlm; (Sanitizer.php).
_NAMED_REF = re.compile(r"&([A-Za-z][A-Za-z0-9]{1,31}|רלמ|رلم);")
_REF_ALIASES = {"רלמ": "\u200f", "رلم": "\u200f"}


def _named_ref(m: re.Match) -> str:
    name = m.group(1)
    return _REF_ALIASES.get(name) or html.entities.html5.get(name + ";", m.group())


def valid_codepoint(cp: int) -> bool:
    """Sanitizer::validateCodepoint: what a numeric reference may stand for; any other
    is shown as written."""
    return cp in (0x09, 0x0A) or 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xD7FF or \
        0xE000 <= cp <= 0xFFFD or 0x10000 <= cp <= 0x10FFFF


# <nowiki> inside <pre> only protects its content; the tags themselves vanish.
_NOWIKI_IN_PRE = re.compile(r"<nowiki\s*>(.*?)</nowiki\s*>", re.S | re.I)
_MAGIC = re.compile(r"__[A-Z]+__")
# Link and template brackets the tokenizer left as text: malformed source ("[[Foo]",
# "[[Foo|bar}}", "{{name}|x}") that MediaWiki shows literally. The corpus keeps the
# words and drops the brackets, as it drops those of a link it cannot make; a stray
# "[[target|" goes whole, so "[[Foo|bar}}" reads "bar", and "[[Foo]" reads "Foo".
_STRAY_BRACKETS = re.compile(
    r"\[\[(?:[^\[\]{}|\n]*\|)?(?:([^\[\]{}\n]*)\](?!\]))?|\]\]|\{\{|\}\}")


def _unbracketed(value: str) -> str:
    if "[[" in value or "]]" in value or "{{" in value or "}}" in value:
        return _STRAY_BRACKETS.sub(lambda m: m.group(1) or "", value)
    return value


# [[Prefix:Name.ext|...]] under a prefix the wiki's <siteinfo> does not list (an alias
# such as 画像 or Bild, or a header that belongs to another wiki) is still a media file.
MEDIA_FILE = re.compile(
    r"^[^:|\]]+:[^|\]]+\.(?:jpe?g|png|gif|svg|tiff?|webp|xcf|bmp|ogg|oga|ogv|opus|webm|"
    r"mp3|mp4|wav|flac|midi?|pdf|djvu|stl)\s*$", re.I)

@dataclass
class Link:
    """A link in the extracted text: ``text[start:end]`` is its visible anchor."""

    start: int
    end: int
    target: str
    """The normalised title of the target article (namespace 0)."""
    hint: tuple[str, str] | None = None
    """(language, title) of the article on another wiki that an interlanguage-link
    template names for this link (``leia.inline_templates``), else None."""


class Renderer:
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
                        value = _MAGIC.sub("", value)
                    if "<" in value:
                        value = STRAY_TAG.sub(stray, value)
                    if "&" in value:
                        value = _NAMED_REF.sub(_named_ref, value)
                    value = _unbracketed(value)
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
            value = _MAGIC.sub("", value)
        if "&" in value:
            value = _NAMED_REF.sub(_named_ref, value)
        self.emit(_unbracketed(STRAY_TAG.sub(stray, value) if "<" in value else value))

    def on_other(self, tok) -> None:
        self.trail_for = None

    def in_attributes(self) -> bool:
        """Whether a tag's name or attributes are being read: nothing there is text."""
        return bool(self.frames) and self.frames[-1]["kind"] == "tag" and \
            self.frames[-1]["phase"] in ("name", "attrs")

    def on_skip(self, tok) -> None:
        """Templates, template arguments and comments: dropped whole."""
        self.trail_for = None
        self.skip = self.depth

    # [[title|anchor]]trail
    def on_link_open(self, tok) -> None:
        self.trail_for = None
        if self.in_attributes():
            self.skip = self.depth
            return
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
        if HINT_SEP in raw:
            parts = raw.split(HINT_SEP)
            frame["raw"] = raw = parts[0]
            if len(parts) == 3:  # as leia.inline_templates writes it
                frame["hint"] = (parts[1], parts[2])
        target = normalise_target(raw, self.site, self.lang)
        colon = raw.lstrip().startswith(":")
        if target.kind == "interlanguage" and not colon:
            return None  # shown in the sidebar, not in the text
        if target.kind == "page" and not colon and target.ns in (6, 14):
            return None  # an embedded file, or a category assignment
        if target.kind == "page" and target.ns == 0 and not colon and MEDIA_FILE.match(raw):
            return None
        if target.kind == "invalid" and ":" in raw and not colon and \
                self.site.namespace_of(raw.split(":", 1)[0]) in (6, 14):
            return None  # [[File:|thumb]]: a file without a name is no text either
        return target

    def on_link_close(self, tok) -> None:
        frame = self.frames.pop()
        if frame["sep"]:
            target = frame["target"]
        else:
            target = self.link_target(frame)
            if target is None:
                return
            shown = html.unescape(frame["raw"].strip().lstrip(":"))
            # The title as MediaWiki shows it: "[[%33%45]]" reads "3E".
            self.emit(unquote(shown) if "%" in shown else shown)
        start = frame["size"]
        if self.size > start and target.kind == "page" and target.ns == 0:
            link = Link(start, self.size, target.title, frame.get("hint"))
            self.links.append(link)
            self.trail_for = link
        else:
            self.trail_for = self.size > start

    # <tag attrs>contents</tag>, and the wiki markup the tokenizer reports as tags
    def on_tag_open(self, tok) -> None:
        self.trail_for = None
        if self.in_attributes():
            self.skip = self.depth
            return
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
            raw = "".join(frame["buf"])
            if frame["name"] == "pre" and "<" in raw:
                raw = _NOWIKI_IN_PRE.sub(r"\1", raw)
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
            if not valid_codepoint(cp):
                value = ref
        frame = self.collecting()
        if frame is not None:
            frame["buf"].append(value)
        else:
            self.emit(value)

    # [http://url label] and bare URLs
    def on_ext_open(self, tok) -> None:
        self.trail_for = None
        if self.in_attributes():
            self.skip = self.depth
            return
        self.push("ext", phase="url", buf=[], brackets=getattr(tok, "brackets", True))

    def on_ext_sep(self, tok) -> None:
        self.frames[-1]["phase"] = "body"

    def on_ext_close(self, tok) -> None:
        frame = self.frames.pop()
        if frame["phase"] == "url":
            url = "".join(frame["buf"])
            if not frame["brackets"]:
                self.emit(url)
            elif "\u3000" in url:  # the ideographic space ends a URL, as a blank does
                self.emit(url.split("\u3000", 1)[1])


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

# Runs of blanks worth squeezing; each alternative starts with a fixed character, which
# keeps the scan fast.
