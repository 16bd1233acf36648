"""Wiki markup left in extracted text: a census by kind, for any extractor's output.

A reader of the rendered page sees none of these; each is a sign that the extractor
took markup for prose. ``bench/fidelity_bench.py`` counts them over the real excerpts
for our extractor and the authors' (WikiExtractor), and over a corpus job's output.
"""

from __future__ import annotations

import re
from itertools import islice

# What dropped or misread markup leaves behind, by kind. Each pattern is conservative:
# it matches what prose does not contain.
KINDS: dict[str, re.Pattern] = {
    # [[File:x.jpg|thumb|left|200px|caption]] read as a link leaves "thumb|left|..."
    "image options": re.compile(
        r"(?:^|[|\s])(?:thumb(?:nail)?|frameless|framed?|upright(?:=[\d.]+)?|border|"
        r"\d+(?:x\d+)?\s?px|miniatur[ae]?|mini|duimnael|vignette|tumb|ángulo|"
        r"мини|міні|縮圖|缩略图|サムネイル|تصغير|بندانگشتی|ממוזער|अंगूठाकार)\s*\|",
        re.I),
    # Brackets that held only a dropped template: "()", "（）", "( , )", "[ ; ]"
    "empty brackets": re.compile(r"[(（\[［][\s,，、;；:：.。·・/\-–—]*[)）\]］]"),
    # ...and the separators beside it: "Merkel (; born", "Berlin, )", "Berlin,, "
    "dangling separators": re.compile(
        r"[,，、;；][ \t]*[)）]|[(（][ \t]*[,，、;；]|([,，、;；])[ \t]*\1"),
    # ...and the blanks they leave inside a bracket's edge: "(Berlin )", "(en allemand : )"
    "blanks inside brackets": re.compile(r"[(（][ \t]+[^\s)）]|[^\s(（][ \t]+[)）]"),
    "quote runs": re.compile(r"''"),
    "link brackets": re.compile(r"\[\[|\]\]"),
    "table syntax": re.compile(r"(?:^|\n)[ \t:*#]*(?:\{\||\|\}|\|-|\|\+|!)", re.M),
    "html tags": re.compile(
        r"</?(?:center|small|big|div|span|br|sup|sub|font|s|u|b|i|p|ul|ol|li|dl|dt|dd|"
        r"table|tr|td|th|blockquote|poem|ref|references|gallery|math|nowiki|pre|code|"
        r"tt|abbr|del|ins|strike|mark|q|cite|hr)(?:\s[^<>]*)?/?>", re.I),
    "language converter": re.compile(r"-\{|\}-"),
    "template braces": re.compile(r"\{\{|\}\}"),
}
BARE_URL = re.compile(r"\bhttps?://\S+")


def markup_left(text: str, examples: int = 0) -> dict[str, list[str]]:
    """{kind: up to ``examples`` snippets around the first matches} for every kind
    found in ``text`` (an empty list when ``examples`` is 0)."""
    found = {}
    for kind, pattern in KINDS.items():
        first = list(islice(pattern.finditer(text), max(examples, 1)))
        if first:  # one scan per kind, stopped at the first matches
            found[kind] = [text[max(0, m.start() - 30):m.end() + 30].replace("\n", " ⏎ ")
                           for m in first[:examples]]
    return found
