"""How ``leia.render.Renderer`` shows ``[[links]]``: the anchor and its trail, or the
link's own wikitext where MediaWiki cannot make it, and the stray brackets of links
the tokenizer did not read."""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import unquote

from . import plain_text as pt
from .inline_templates import HINT_SEP
from .titles import normalise_target


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


class LinkRenderer:
    """The link handlers of ``leia.render.Renderer`` (its state lives there)."""

    # [[title|anchor]]trail
    def on_link_open(self, tok) -> None:
        self.trail_for = None
        if self.in_attributes():
            self.drop()
            return
        outer = self.anchor_around()
        if outer is not None:
            # MediaWiki makes no link of [[a|b [[c]]]]: it shows the outer one as its
            # wikitext, the inner one as a link.
            outer["nested"] = True
        self.push("link", phase="title", buf=[], sep=False, hidden=self.hidden)

    def anchor_around(self) -> dict | None:
        """The innermost open link, if what comes now is in its anchor."""
        for frame in reversed(self.frames):
            if frame["kind"] == "link":
                return frame if frame["phase"] == "body" else None
        return None

    def on_link_sep(self, tok) -> None:
        frame = self.frames[-1]
        if frame["phase"] != "title":
            self.emit("|")  # a second pipe belongs to the anchor
            return
        frame["phase"], frame["sep"] = "body", True
        frame["target"] = self.link_target(frame)
        frame["size"], frame["part"] = self.size, len(self.parts)
        frame["title_hidden"] = self.hidden - frame["hidden"]
        if frame["target"] is None:
            self.drop()  # a file or category: its caption goes too

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
        if target.kind == "page" and target.ns == 0 and not colon and ":" in raw and \
                pt.MEDIA_FILE.match(raw):
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
            frame["title_hidden"] = self.hidden - frame["hidden"]
        # A title that is empty, or held a construct, once comments and templates are
        # gone shows no wikitext of its own.
        if (target.kind == "invalid" or frame.get("nested")) and frame["raw"].strip() \
                and not frame["title_hidden"]:
            if not frame["sep"]:  # the wikitext goes where the title would have
                frame["part"], frame["size"] = len(self.parts), self.size
            self.literal_link(frame, "|" if frame["sep"] else "")
            return
        if not frame["sep"]:
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

    def literal_link(self, frame: dict, sep: str) -> None:
        """A link MediaWiki cannot make (a title it cannot read, a link inside the
        anchor) is shown as its wikitext, its anchor rendered: the title and pipe go in
        before the anchor's text, the brackets around it."""
        head = "[[" + html.unescape(frame["raw"]) + sep
        self.parts.insert(frame["part"], head)
        for link in self.links:
            if link.start >= frame["size"]:
                link.start += len(head)
                link.end += len(head)
        self.size += len(head)
        self.emit("]]")
        self.trail_for = None

    def unbracketed(self, value: str) -> str:
        """``pt.unbracketed``, and a "]]" that closes a "[[" shown as text earlier on
        the line ("[[Main<nowiki> Page</nowiki>]]") is shown with it."""
        close = value.find("]]") if self.open_text_link is not None else -1
        if close != -1:
            line = "".join(self.parts[self.open_text_link:]) + value[:close]
            self.open_text_link = None
            if "\n" not in line:
                return pt.unbracketed(value[:close]) + "]]" + \
                    self.unbracketed(value[close + 2:])
        value = pt.unbracketed(value)
        start = value.rfind("[[")
        if start != -1 and "]]" not in value[start:] and "\n" not in value[start:]:
            self.open_text_link = len(self.parts) + 1  # the parts after this value's
        return value
