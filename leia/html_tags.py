"""The HTML and extension tags of wikitext, as the renderer treats them."""

from __future__ import annotations

import re

# Tags whose content a reader does not see as prose.
DROP_TAGS = frozenset("""
    ref references math chem ce score syntaxhighlight source timeline gallery imagemap
    templatedata graph mapframe maplink categorytree inputbox includeonly indicator
    templatestyles hiero charinsert dynamicpagelist section table img hr style
""".split())
LINE_BREAK_TAGS = frozenset({"br", "p", "div", "li", "tr", "dd", "dt"})
# Blocks whose end starts a new line too ("<div>a</div>b" reads as two lines).
BLOCK_TAGS = frozenset("""
    p div li dd dt tr ul ol dl table blockquote center h1 h2 h3 h4 h5 h6 caption
""".split())
# Every tag a Wikipedia knows: the HTML that MediaWiki's Sanitizer allows and the
# parser extensions' tags. Any other tag is shown as text, as a reader sees it.
KNOWN_TAGS = DROP_TAGS | frozenset("""
    b bdi bdo del i ins u font big small sub sup h1 h2 h3 h4 h5 h6 cite code em s strike
    strong tt var div center blockquote ol ul dl caption pre ruby rb rp rt rtc p span
    abbr dfn kbd samp data time mark br wbr li dt dd td th tr q nowiki poem noinclude
    onlyinclude langconvert meta link
""".split())
# A known tag left as text by the tokenizer (unclosed, stray): markup all the same.
STRAY_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)(?:[\s/][^<>]*)?>")


def stray(m: re.Match) -> str:
    """What a known tag the tokenizer left as text leaves: a break for a block, else
    nothing; an unknown one stays, as text."""
    name = m.group(1).lower()
    if name not in KNOWN_TAGS:
        return m.group()  # shown as text
    if m.group().startswith("</"):
        # A closing tag with nothing open to close is dropped by the HTML tree builder,
        # except </p> (an empty paragraph) and </br> (read as <br>).
        return "\n" if name in ("p", "br") else ""
    return "\n" if name in BLOCK_TAGS or name == "br" else ""
