"""Inline templates whose visible output is one of their arguments.

Templates are dropped, but some stand inside a sentence and show one of their
arguments as text: ``known as {{lang|de|Berlin}}`` reads "known as Berlin", and dropping
the template breaks the sentence. This table says, per template (as its name is written,
first letter in either case), which positional argument a reader sees; ``-1`` is the
last one given. It holds the inline templates of the paper's seven languages (ar, es,
hi, ja, ru, sw, zh) and English; ``lang-xx`` stands for every ``lang-de``, ``lang-ja``...

Interlanguage-link templates (``{{仮リンク|ベルリン大聖堂|en|Berlin Cathedral}}``,
``{{ill|...}}``) name the article another language's wiki has: they become a link to
the local title that carries that name as its hint (:data:`INTERLANGUAGE`), so the
corpus job can align the link where neither langlinks nor Wikidata can, since the local
article usually does not exist yet.
"""

from __future__ import annotations

import re

from . import quantity_templates as quantities

# Which positional argument each template shows: a number (-1: the last), or numbers
# tried in order, the first one given being shown.
SHOWN: dict[str, int | tuple[int, ...]] = {
    # English, and the names many wikis share
    "lang": 2, "lang-xx": 1, "nowrap": 1, "nobr": 1, "small": 1, "smaller": 1, "big": 1,
    "transl": -1, "transliteration": -1, "script": 2, "noitalic": 1, "sic": 1,
    "nihongo": 1, "nihongo2": 1, "ill": 1, "interlanguage link": 1, "illm": 1,
    # ja
    "仮リンク": 1, "読み仮名": 1, "読み仮名 ruby不使用": 1,
    # zh
    "le": 1, "link-en": 1, "tsl": 3, "ruby": 1,
    # ru: {{нп5|local title|text shown|lang|foreign title}}, its redirect {{iw}}
    "нп": 1, "нп3": 1, "не переведено": 1, "не переведено 3": 1, "comment": 1,
    "нп5": (2, 1), "не переведено 5": (2, 1), "iw": (2, 1), "s": 1,
    # es
    "versalita": 1, "enlace interlingüístico": 1,
    # ar
    "لغة": 2, "وصلة إنترويكي": 1, "نص": 1,
    # hi
    "भाषा": 2,
    # sw
    "lugha": 2,
}

# Per interlanguage-link template: the positional argument holding the local title,
# the one holding the language code (or the code itself, for templates of one language),
# and the one holding the title on that language's wiki.
INTERLANGUAGE: dict[str, tuple[int, int | str, int]] = {
    "ill": (1, 2, 3), "interlanguage link": (1, 2, 3), "illm": (1, 2, 3),
    "仮リンク": (1, 2, 3),
    "link-en": (1, "en", 2), "le": (1, "en", 2), "tsl": (3, 1, 2),
    "нп5": (1, 3, 4), "не переведено 5": (1, 3, 4), "iw": (1, 3, 4),
}
# The language a template links to when its language argument is empty.
DEFAULT_LANG: dict[str, str] = {"нп5": "en", "не переведено 5": "en", "iw": "en"}
# The named argument that, when given, is shown instead (``|label=``, ``|lt=``).
LABEL: dict[str, str] = {"仮リンク": "label", "ill": "lt", "interlanguage link": "lt"}
# Joins the local title, the language and the foreign title in the target of the link
# an interlanguage template becomes; a private-use character no title holds.
HINT_SEP = "\ue020"


def _trie(words: set[str]) -> str:
    """A regex matching any of ``words`` (case aside), the longest first, as a trie: the
    scan tries one branch per letter, not every name at every template."""
    root: dict = {}
    for word in words:
        node = root
        for ch in word.lower():
            node = node.setdefault(ch, {})
        node[""] = {}

    def branch(node: dict) -> str:
        alts = [re.escape(ch) + branch(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body
    return branch(root)


_OPEN = re.compile(r"\{\{\s*(" + _trie({k.replace("-xx", "") for k in SHOWN}
                                          | quantities.NAMES)
                   + r")(-[a-z]{2,3}(?:-[a-z]+)?)?\s*([|:])", re.I)
_PIECES = re.compile(r"\{\{|\}\}|\[\[|\]\]|\|")
_NAMED_ARG = re.compile(r"\s*([^=|{}\[\]]+)=")


def _key(name: str, suffix: str | None) -> str | None:
    name = name.strip()
    if suffix:
        return "lang-xx" if name.lower() == "lang" else None
    for candidate in (name, name[:1].lower() + name[1:], name.lower()):
        if candidate in SHOWN or candidate in quantities.NAMES:
            return candidate
    return None


def _args(text: str, start: int) -> tuple[list[str], int] | None:
    """The arguments of the template whose first ``|`` is at ``start``, split at its own
    pipes, and the end of its ``}}``; None when it is never closed."""
    args, depth, pos = [], 0, start + 1
    for m in _PIECES.finditer(text, start + 1):
        tok = m.group()
        if tok in ("{{", "[["):
            depth += 1
        elif tok in ("}}", "]]"):
            if depth == 0:
                if tok == "]]":
                    continue
                args.append(text[pos:m.start()])
                return args, m.end()
            depth -= 1
        elif depth == 0:
            args.append(text[pos:m.start()])
            pos = m.end()
    return None


def _arg(positional: list[str], n: int) -> str:
    """Positional argument ``n`` (from 1; -1: the last), stripped; "" when not given."""
    if n == -1:
        n = len(positional)
    return positional[n - 1].strip() if 0 < n <= len(positional) else ""


def _hinted_link(key: str, positional: list[str], shown: str) -> str | None:
    """``[[local<SEP>lang<SEP>foreign|shown]]`` for an interlanguage template, or None
    (not one, or an argument that is not a plain title)."""
    layout = INTERLANGUAGE.get(key)
    if layout is None or not shown:
        return None
    local_n, lang_n, foreign_n = layout
    local = _arg(positional, local_n)
    lang = lang_n if isinstance(lang_n, str) else _arg(positional, lang_n).lower()
    foreign = _arg(positional, foreign_n)
    if not foreign and lang:
        foreign = local  # {{ill|Title|de}}: the same title in the language it names
    # {{нп5|Title|||Foreign}} names English by default; {{нп5|Title}} names no title.
    lang = lang or (DEFAULT_LANG.get(key, "") if foreign else "")
    parts = (local, lang, foreign)
    if not all(parts) or any(c in p for p in parts for c in "[]{}|<>\n" + HINT_SEP) or \
            "[[" in shown:
        return None
    return f"[[{HINT_SEP.join(parts)}|{shown}]]"


def keep_inline_templates(wikitext: str) -> str:
    """The wikitext with each inline template of :data:`SHOWN` replaced by the argument
    it shows (which may hold links and other markup), and each ``{{convert}}`` and
    ``{{formatnum:}}`` by its quantity (``leia.quantity_templates``); the others are
    left alone."""
    if "{{" not in wikitext:
        return wikitext
    out, pos = [], 0
    for m in _OPEN.finditer(wikitext):
        if m.start() < pos:
            continue  # inside a template already replaced
        key = _key(m.group(1), m.group(2))
        # "{{formatnum:": a parser function; the templates take their arguments after "|"
        if key is None or (m.group(3) == ":") != (key == quantities.FORMATNUM):
            continue
        parsed = _args(wikitext, m.end() - 1)
        if parsed is None:
            continue
        args, end = parsed
        positional, named = [], {}
        for a in args:
            m_named = _NAMED_ARG.match(a)
            if m_named:
                named[m_named.group(1).strip()] = a[m_named.end():]
            else:
                positional.append(a)
        if key in quantities.NAMES:
            shown = quantities.converted(positional, named) if key in quantities.CONVERT \
                else quantities.formatted(args)
            if shown:  # else the template stays, and goes with the others
                out += [wikitext[pos:m.start()], shown]
                pos = end
            continue
        n = SHOWN[key]
        given = (_arg(positional, i) for i in (n if isinstance(n, tuple) else (n,)))
        shown = next((a for a in given if a), "")
        shown = named.get(LABEL.get(key, ""), shown)
        shown = keep_inline_templates(shown.strip())
        out += [wikitext[pos:m.start()], _hinted_link(key, positional, shown) or shown]
        pos = end
    if not out:
        return wikitext
    out.append(wikitext[pos:])
    return "".join(out)
