"""Bold and italics as MediaWiki reads them: the apostrophes a reader sees.

MediaWiki balances ``''`` and ``'''`` per line (``Parser::doQuotes``): a run of four is
an apostrophe then bold, a run of more than five is apostrophes then bold italics, and
when a line has an odd number of both bold and italics, one bold run is taken for an
apostrophe followed by italics (``''Foo'''s`` is italic *Foo's*). Formatting never
reaches our text, so each run is replaced by the apostrophes it leaves as text, before
the tokenizer sees the article. Link targets, ``<nowiki>``, ``<pre>`` and the like keep
their apostrophes.
"""

from __future__ import annotations

import re

_RUN = re.compile(r"(''+)")  # not '{2,}: a literal prefix is searched for fast
# Tags whose content is not wikitext: its apostrophes are never markup.
_RAW = "nowiki|pre|math|syntaxhighlight|source|score|timeline|graph"
_RAW_TAG = re.compile(rf"<(?:{_RAW})\b", re.I)
# Spans whose apostrophes are not markup: raw-text tags, and the target of a link (one
# that closes: an unclosed "[[" is text, and its quotes are formatting).
_PROTECTED = re.compile(
    rf"<({_RAW})\b[^>]*>.*?</\1\s*>|\[\[[^\[\]|\n']*'[^\[\]|\n]*(?=\||\]\])",
    re.S | re.I)


def visible_apostrophes(line: str) -> str:
    """One line with its quote markup removed, as ``Parser::doQuotes`` leaves its text."""
    arr = _RUN.split(line)
    if len(arr) == 1:
        return line
    n_bold = n_italic = 0
    for i in range(1, len(arr), 2):
        n = len(arr[i])
        if n == 4:
            arr[i - 1] += "'"
            arr[i], n = "'''", 3
        elif n > 5:
            arr[i - 1] += "'" * (n - 5)
            arr[i], n = "'''''", 5
        n_italic += n in (2, 5)
        n_bold += n in (3, 5)
    if n_bold % 2 and n_italic % 2:
        single = multi = space = -1
        for i in range(1, len(arr), 2):
            if len(arr[i]) != 3:
                continue
            # PHP's substr counts bytes: a letter of two bytes is not a single letter.
            before = arr[i - 1].encode("utf-8")
            x1, x2 = before[-1:], before[-2:-1]
            if x1 == b" ":
                space = i if space < 0 else space
            elif x2 == b" ":
                single = i
                break
            elif multi < 0:
                multi = i
        pick = next((i for i in (single, multi, space) if i > -1), -1)
        if pick > -1:
            arr[pick] = "''"
            arr[pick - 1] += "'"
    if _TERM_LINE.match(line):
        _hide_formatted_colons(arr)
    return "".join(arr[0::2])


# ";term:definition": MediaWiki looks for the colon once the quotes are tags, and skips
# colons inside tags (``findColonNoLinks``): the term of ";'''1:00''':x" is 1:00.
_TERM_LINE = re.compile(r"[*#:;]*;")


def _hide_formatted_colons(arr: list[str]) -> None:
    """Colons inside bold or italics become entities: the tokenizer reads them as
    text, never as the end of the term."""
    bold = italic = False
    for i in range(1, len(arr) - 1, 2):
        n = len(arr[i])
        italic ^= n in (2, 5)
        bold ^= n in (3, 5)
        if (bold or italic) and ":" in arr[i + 1]:
            arr[i + 1] = arr[i + 1].replace(":", "&#58;")


_KEEP = "\ue000"  # stands in for a protected apostrophe while the lines are balanced
# In a link's target it comes back as an entity: MediaWiki reads links before quotes,
# so "[[Lista d''e paise]]" is a title, never italics, and the tokenizer must not see
# its "''" as formatting.
_KEEP_IN_LINK = "\ue001"


def _mask(m: re.Match) -> str:
    return m.group().replace("'", _KEEP_IN_LINK if m.group().startswith("[[") else _KEEP)


def strip_quotes(wikitext: str) -> str:
    """The wikitext with every bold and italic run replaced by the apostrophes a reader
    sees; protected spans keep theirs (and do not count in their line's balance)."""
    if "''" not in wikitext:
        return wikitext
    # Raw-text tags may span lines; where there are none, only the lines with a run
    # need their link targets masked.
    whole = "<" in wikitext and _RAW_TAG.search(wikitext) is not None
    text = _PROTECTED.sub(_mask, wikitext) if whole else wikitext
    out, pos = [], 0
    i = text.find("''")
    while i != -1:  # each line that holds a run, once
        start = text.rfind("\n", 0, i) + 1
        end = text.find("\n", i)
        end = len(text) if end == -1 else end
        line = text[start:end] if whole else _PROTECTED.sub(_mask, text[start:end])
        out += [text[pos:start], visible_apostrophes(line)]
        pos = end
        i = text.find("''", end)
    out.append(text[pos:])
    text = "".join(out)
    if _KEEP in text:
        text = text.replace(_KEEP, "'")
    return text.replace(_KEEP_IN_LINK, "&#39;") if _KEEP_IN_LINK in text else text
