"""What the renderer does to the text between constructs: references, magic words,
stray brackets, media file names, URL escapes (``leia.render`` applies them)."""

from __future__ import annotations

import html
import html.entities
import re

# Named references the tokenizer does not know (it knows HTML 4's): HTML5's, which
# MediaWiki decodes, and the Hebrew and Arabic names it gives &rlm; (Sanitizer.php).
NAMED_REF = re.compile(r"&([A-Za-z][A-Za-z0-9]{1,31}|רלמ|رلم);")
_REF_ALIASES = {"רלמ": "\u200f", "رلم": "\u200f"}


def named_ref(m: re.Match) -> str:
    name = m.group(1)
    return _REF_ALIASES.get(name) or html.entities.html5.get(name + ";", m.group())


def valid_codepoint(cp: int) -> bool:
    """Sanitizer::validateCodepoint: what a numeric reference may stand for; any other
    is shown as written."""
    return cp in (0x09, 0x0A) or 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xD7FF or \
        0xE000 <= cp <= 0xFFFD or 0x10000 <= cp <= 0x10FFFF


# <nowiki> inside <pre> only protects its content; the tags themselves vanish.
NOWIKI_IN_PRE = re.compile(r"<nowiki\s*>(.*?)</nowiki\s*>", re.S | re.I)
MAGIC = re.compile(r"__[A-Z]+__")
# Link and template brackets the tokenizer left as text. As MediaWiki shows them: a
# whole "[[...]]" on one line that it would not make a link of ("[[[Main Page]]]",
# "[[Foo}]]"), and a "[[" that nothing closes ("([[Karlsruhe)"). The other, unbalanced
# ones lose their brackets ("[[Foo]" reads "Foo", "Foo]]" reads "Foo"), and a stray
# "[[target|" goes whole, so "[[Foo|bar}}" reads "bar": they are typos, and would put
# stray markup in the text more often than they show what the author meant.
_STRAY_BRACKETS = re.compile(
    r"(\[\[+[^\[\]\n]*\]\]+|\[\[(?![^\[\]{}|\n]*\|)(?![^\[\]{}\n]*\](?!\])))"
    r"|\[\[(?:[^\[\]{}|\n]*\|)?(?:([^\[\]{}\n]*)\](?!\]))?|\]\]|\{\{|\}\}")


def _kept(m: re.Match) -> str:
    shown = m.group(1)
    if shown is not None:
        return shown if shown.strip("[] \t") or shown == "[[" else ""
    return m.group(2) or ""


def unbracketed(value: str) -> str:
    if "[[" in value or "]]" in value or "{{" in value or "}}" in value:
        return _STRAY_BRACKETS.sub(_kept, value)
    return value


# [[Prefix:Name.ext|...]] under a prefix the wiki's <siteinfo> does not list (an alias
# such as 画像 or Bild, or a header that belongs to another wiki) is still a media file.
MEDIA_FILE = re.compile(
    r"^[^:|\]]+:[^|\]]+\.(?:jpe?g|png|gif|svg|tiff?|webp|xcf|bmp|ogg|oga|ogv|opus|webm|"
    r"mp3|mp4|wav|flac|midi?|pdf|djvu|stl)\s*$", re.I)


_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


def escaped_url(url: str) -> str:
    """A bare URL as shown: a blank or control character that a reference put in it is
    %-encoded, as Sanitizer::cleanUrl does (it does not end the link)."""
    return _URL_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", url)
