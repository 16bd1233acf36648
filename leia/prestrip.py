"""What ``leia.wikitext.extract`` removes before the tokenizer sees the page: comments,
references, templates and tables, which it drops anyway and which are most of a real
article's bytes, found with a linear scan (``leia.wikitext`` says why). A wikitable's
lines that no cell holds stay where the table was, as the reader sees them."""

from __future__ import annotations

import re
from bisect import bisect_left

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
# A heading whose whole title was a template is left as a bare "=== ===". Found after
# the "\n" before its line: "^" would be tried at every character.
_EMPTY_HEADING = re.compile(r"\n[ \t]*(=+)[ \t]*\1[ \t]*(?=\n|\Z)")
# ...and bold or italics around nothing but a template leave a bare run of 4, 6 or 10
# quotes (opened and closed at once). Runs are found by their first two quotes: a
# pattern that starts with a lookbehind is tried at every character.
_QUOTE_RUN = re.compile(r"''+")


def _unless_empty_style(m: re.Match) -> str:
    return "" if len(m.group()) in (4, 6, 10) else m.group()


# A table left open ends at the end of the page, as in MediaWiki, or where a template
# ({{end}}, {{col-end}}) alone on its line with prose after it closes it in the rendered
# page: the prose after it stays.
_CLOSING_TEMPLATE = re.compile(
    r"\n[ \t]*\{\{[^{}\n]*\}\}[ \t]*(?=(?:[ \t]*\n)+[ \t]*[^|!\s])")


def without(text: str, cuts: list[tuple[int, int]], pos: int = 0,
             kept: list[str] | None = None) -> str:
    """``text[pos:]`` without the ``(start, end)`` spans of ``cuts`` (sorted, apart),
    each replaced by its ``kept`` text, if given."""
    out = []
    for i, (start, end) in enumerate(cuts):
        out.append(text[pos:start])
        if kept and kept[i]:
            out.append(kept[i])
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


_PLAIN_OPENING = re.compile(r"<([A-Za-z]+)[^>]*>")


def _hide(wikitext: str) -> tuple[str, list[tuple[int, int]]]:
    """The text without its comments and references, and where the <nowiki> and <pre>
    it keeps stand in that text: no template or table starts there."""
    out, literal, pos, size = [], [], 0, 0
    for m in _HIDDEN.finditer(wikitext):
        out.append(wikitext[pos:m.start()])
        size += m.start() - pos
        if m.group(1):
            # Whatever the opening tag holds after its name is its attributes, as the
            # preprocessor reads it ("<pre <pre>"): they give no text.
            kept = _PLAIN_OPENING.sub(r"<\1>", m.group(), 1)
            out.append(kept)
            literal.append((size, size + len(kept)))
            size += len(kept)
        pos = m.end()
    out.append(wikitext[pos:])
    return "".join(out), literal


def _inside(spans: list[tuple[int, int]], pos: int) -> bool:
    i = bisect_left(spans, (pos + 1,)) - 1
    return i >= 0 and spans[i][0] <= pos < spans[i][1]


def prestrip(wikitext: str) -> str:
    """Remove comments, references, templates and tables (but a table's lines outside
    its cells), which ``extract`` drops anyway.

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
    kept = [_fostered(text[start:end]) if not text.startswith("{{", start) else ""
            for start, end in cuts]
    text = _EMPTY_HEADING.sub("\n", without(text, cuts, 0, kept))[1:]
    return _QUOTE_RUN.sub(_unless_empty_style, text)


# A line of a wikitable that no cell holds: after "{|" or "|-", before the row's first
# cell. MediaWiki writes it between the rows, and the HTML tree builder moves it before
# the table, where the reader sees it.
_FOSTERED = re.compile(r"^[ \t:]*(?:\{\||\|-)[^\n]*\n(?:[ \t]*\n)*[ \t]*[^|!\s]", re.M)


def _fostered(table: str) -> str:
    """The text of ``table``'s lines outside its cells, one per line ("" for most)."""
    if not _FOSTERED.search(table):
        return ""
    body = table.partition("\n")[2]
    body = prestrip(body[:_TABLE_END.search(body).start()])  # nested tables, templates
    out, in_cell = [], False
    for line in body.split("\n"):
        mark = line.lstrip()[:2]
        if mark == "|-":
            in_cell = False
        elif mark[:1] in ("|", "!"):
            in_cell = True
        elif not in_cell and mark:
            out.append(line)
    return "\n".join(out)


_TABLE_END = re.compile(r"(?:^|\n)[ \t]*\|\}[^\n]*\Z|\Z")
