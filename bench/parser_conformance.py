"""MediaWiki's own parser tests, read for the text a reader sees.

    python bench/parser_conformance.py             # ours and WikiExtractor on the cases
    python bench/parser_conformance.py --verbose   # ...and print every differing case
    python bench/parser_conformance.py collect ~/src/parsoid/tests/parser  # refresh the cases

MediaWiki's parser tests pair a piece of wikitext with the HTML the legacy parser
renders for it. ``collect`` keeps the cases about the constructs a corpus extractor
must read (quotes, links, lists, tables, HTML tags, nowiki and pre, comments, headings)
from a checkout's ``tests/parser/*.txt`` and writes them, unmodified, to
``tests/data/mediawiki-parser-tests.json``. Scoring compares ``leia.wikitext.extract``
with the text of the expected HTML, as :func:`reader_text` reads it: tags removed,
blocks apart, blanks squeezed; files and tables give no text, as in the corpus, and
the table of contents is the page's furniture, not its text. ``DIFFERENCES`` lists the
cases we render otherwise on purpose or by a known limit, each with its reason;
``tests/unit/test_parser_conformance.py`` holds the score to both. The authors'
extractor (WikiExtractor 3.1.0 ``--links --no-templates`` and their BeautifulSoup step)
runs on the same cases beside it; ``bench/results/parser_conformance.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from leia.siteinfo import CANONICAL_NAMESPACES, SiteInfo  # noqa: E402
from leia.wikitext import extract  # noqa: E402

CASES = ROOT / "tests" / "data" / "mediawiki-parser-tests.json"
RESULTS = ROOT / "bench" / "results" / "parser_conformance.json"
# The files of MediaWiki's suite (as split in wikimedia/mediawiki-services-parsoid)
# that hold the constructs; parserTests.txt holds the lists, HTML tags and nowiki.
FILES = ("quotes", "wikiLinks", "definitionLists", "tables", "comments", "headings",
         "preTags", "sanitizer", "parserTests")
# Cases that need what a pages-articles dump never has: another mode than rendering a
# saved page (pre-save transform, messages, preload, sections), a changed
# configuration, or a page title or language other than the default.
_OTHER_MODE = re.compile(
    r"\b(?:pst|msg|comment|preload|section|replace|disabled|showtitle|title|language|"
    r"variant|wgRawHtml|subpage|preprocessor|showindicators|showtocdata)\b")
# Templates, parser functions, magic words and signatures expand before a reader sees
# the page: the corpus drops them, so their cases say nothing about us.
_EXPANDS = re.compile(r"\{\{|__[A-Z]+__|~~~")
# Tags the test runner registers for itself; no wiki has them.
_TEST_HOOKS = re.compile(r"<(?:tag|tåg|statictag|spantag|asidetag|pwraptest)\b", re.I)

SITE = SiteInfo(namespaces=dict(CANONICAL_NAMESPACES),
                names={6: "File", 10: "Template", 14: "Category"})

# Cases whose text differs from the expected one, by design or by a known limit.
_FOSTERED = ("text inside an HTML <table> but outside its cells is moved before the "
             "table by the HTML tree builder; the corpus drops HTML tables whole, that "
             "text included (a wikitable's such lines are kept)")
_AUTONUMBER = ("an external link without a label renders as a number, [1], which the "
               "corpus drops as it drops footnote marks; the brackets around it go "
               "with the number")
DIFFERENCES: dict[str, str] = {
    "Piped link with no link text": (
        "a dump never holds the pipe trick [[X|]] (saving the page expands it); an "
        "anchor is empty there only when its template was dropped ([[X|{{t}}]]), which "
        "the corpus cannot tell apart, so it shows nothing rather than the brackets"),
    "unclosed internal link XSS (T137264)": (
        "a stray '[[target|' that nothing closes is a typo in real articles: the corpus "
        "drops it whole rather than show it, %-decoded, as MediaWiki does"),
    "<pre> inside a link": (
        "only a blank differs: the line break the <pre> block puts before ']]'"),
    "Wikilink extlink precedence": (
        "MediaWiki lets the external link win over the wiki link it overlaps; the "
        "tokenizer reads the wiki link"),
    "Plain link to URL": _AUTONUMBER,
    "Plain link to protocol-relative URL": _AUTONUMBER,
    "1. Ensure fostered text content is wrapped in element nodes": _FOSTERED,
    "2. Ensure fostered text content is wrapped in element nodes (traps regressions "
    "around fostered marker on the element getting lost)": _FOSTERED,
    "Table with missing opening <tr> tag": (
        "an HTML table whose rows do not balance is not read as a tag by the "
        "tokenizer; its cell text stays"),
    "<nowiki> and <pre> preference (first one wins)": (
        "overlapping <pre> and <nowiki>: the tokenizer closes them in another order"),
    "Opera -o-link CSS": (
        "a tag whose attributes span lines and hold an entity-encoded '<' is not read as "
        "a tag; it stays text"),
    "T21052 U+3000 IDEOGRAPHIC SPACE should terminate external images links": (
        "the test runner allows external images ($wgAllowExternalImages); Wikipedia "
        "does not, and shows the URL, as we do"),
}


def parse_cases(text: str, source: str) -> list[dict]:
    """The ``!! test`` ... ``!! end`` blocks of one parser-test file, as
    ``{"file", "name", "options", "wikitext", "html"}``, ``html`` being the legacy
    parser's output (``html/php``, else ``html``) or None."""
    out, sections, current = [], None, None
    for line in text.split("\n"):
        if line.startswith("!! "):
            tag = line[3:].strip()
            if tag == "test":
                sections, current = {"test": []}, "test"
            elif tag == "end" and sections is not None:
                got = {k: "\n".join(v) for k, v in sections.items()}
                out.append({"file": source, "name": got["test"].strip(),
                            "options": got.get("options", "").strip(),
                            "config": "config" in got,
                            "wikitext": got.get("wikitext"),
                            "html": got.get("html/php", got.get("html"))})
                sections = None
            elif sections is not None:
                current = tag
                sections[current] = []
            continue
        if sections is not None:
            sections[current].append(line)
    return out


def selected(case: dict) -> bool:
    """Whether a case is about rendering a saved page with the default configuration,
    without templates: what a corpus extractor reads."""
    wt = case["wikitext"]
    return (wt is not None and case["html"] is not None and not case["config"]
            and not _OTHER_MODE.search(case["options"]) and not _EXPANDS.search(wt)
            and not _TEST_HOOKS.search(wt))


# Elements whose start or end separates words on the rendered page.
_BLOCKS = frozenset("""
    p div li dd dt ul ol dl h1 h2 h3 h4 h5 h6 pre table tr td th br hr blockquote center
    caption figure section
""".split())
_VOID = frozenset("br hr img meta link wbr source track input area col embed param".split())


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[tuple[str, bool]] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in _BLOCKS:
            self.out.append("\n")
        if tag in _VOID:
            return
        hide = (tag in ("table", "figure", "style", "script")
                or "mw:File" in (a.get("typeof") or "") or a.get("id") == "toc"
                or "mw-editsection" in (a.get("class") or ""))
        self.open.append((tag, hide))
        self.hidden += hide

    def handle_endtag(self, tag):
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                self.hidden -= sum(hide for _, hide in self.open[i:])
                del self.open[i:]
                break
        if tag in _BLOCKS:
            self.out.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.out.append(data)


def squeeze(text: str) -> str:
    """Blank runs (no-break spaces included) as one space: layout is not compared."""
    return " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())


def reader_text(html: str) -> str:
    """The text a reader sees in a rendered page, squeezed; files, tables and the
    table of contents give none."""
    r = _Reader()
    r.feed(html)
    r.close()
    return squeeze("".join(r.out))


@dataclass
class Result:
    case: dict
    expected: str
    got: str

    @property
    def passed(self) -> bool:
        return self.expected == self.got


def score(cases: list[dict]) -> list[Result]:
    out = []
    for case in cases:
        try:
            got = squeeze(extract(case["wikitext"], SITE, "en").text)
        except Exception as e:  # noqa: BLE001 - a crash is a failed case, shown as such
            got = f"<{type(e).__name__}: {e}>"
        out.append(Result(case, reader_text(case["html"]), got))
    return out


def score_authors(cases: list[dict]) -> list[Result]:
    """The same cases through the authors' extractor, as ``bench/fidelity_bench.py``
    runs it: one enwiki dump with a page per case, WikiExtractor, their link step."""
    import bz2
    import tempfile
    import warnings

    from bs4 import MarkupResemblesLocatorWarning

    from bench.fidelity_bench import authors
    from experiments.effect.dumps import page_xml, siteinfo

    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "enwiki-20240101-pages-articles.xml.bz2"
        pages = [page_xml(i + 1, f"Case {i + 1}", c["wikitext"]) for i, c in enumerate(cases)]
        dump.write_bytes(bz2.compress((siteinfo("enwiki") + "".join(pages)
                                       + "</mediawiki>\n").encode()))
        with warnings.catch_warnings():  # a case that is only a URL
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            texts = authors(dump, Path(tmp) / "out")
    # WikiExtractor leaves out pages whose text comes out empty.
    return [Result(c, reader_text(c["html"]), squeeze(texts.get(i + 1, ("", 0))[0]))
            for i, c in enumerate(cases)]


def load_cases(path: Path = CASES) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cases"]


def collect(folder: Path, commit: str | None = None, out: Path = CASES) -> dict:
    """Read the parser-test files from a checkout's ``tests/parser`` folder and write
    the selected cases with their source (``commit``: the checkout's, if not a git
    work tree)."""
    cases = []
    for name in FILES:
        text = (folder / f"{name}.txt").read_text(encoding="utf-8")
        cases += [c for c in parse_cases(text, name) if selected(c)]
    if commit is None:
        commit = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"],
                                capture_output=True, text=True).stdout.strip() or None
    doc = {"source": {"repository": "https://github.com/wikimedia/mediawiki-services-parsoid",
                      "commit": commit, "folder": "tests/parser",
                      "licence": "GPL-2.0-or-later"},
           "cases": [{k: c[k] for k in ("file", "name", "wikitext", "html")}
                     for c in cases]}
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    return doc


def per_file(results: list[Result]) -> dict[str, list[int]]:
    """{file: [same, cases]}, and "all"."""
    out: dict[str, list[int]] = {}
    for r in results:
        for key in (r.case["file"], "all"):
            n = out.setdefault(key, [0, 0])
            n[0] += r.passed
            n[1] += 1
    return {k: out[k] for k in sorted(out, key=lambda k: k == "all")}


def report(results: list[Result], peer: list[Result] | None = None,
           verbose: bool = False) -> None:
    ours, theirs = per_file(results), per_file(peer or [])
    print(f"{'file':<18}{'cases':>7}{'ours':>9}" + (f"{'authors':>9}" if peer else ""))
    for name, (ok, n) in ours.items():
        line = f"{name:<18}{n:>7}{ok / n:>9.1%}"
        if peer:
            line += f"{theirs[name][0] / n:>9.1%}"
        print(line)
    for r in results:
        if r.passed:
            continue
        name = r.case["name"]
        why = DIFFERENCES.get(name)
        print(f"\n{r.case['file']} :: {name}" + (f"\n  why: {why}" if why else
                                                  "\n  NOT LISTED"))
        if verbose or not why:
            print(f"  wikitext: {r.case['wikitext'][:300]!r}\n"
                  f"  expected: {r.expected[:300]!r}\n  ours:     {r.got[:300]!r}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("collect", nargs="?", help="'collect' to refresh the cases from a "
                   "checkout's tests/parser folder (the next argument)")
    p.add_argument("folder", nargs="?", type=Path)
    p.add_argument("--commit", help="with collect: the parsoid commit the files are from, "
                   "where the folder is no git work tree")
    p.add_argument("--verbose", action="store_true", help="print every differing case")
    p.add_argument("--no-peer", action="store_true",
                   help="skip WikiExtractor (the authors' extractor) on the same cases")
    args = p.parse_args(argv)
    if args.collect:
        if args.collect != "collect" or args.folder is None:
            p.error("usage: parser_conformance.py collect PATH/TO/parsoid/tests/parser")
        doc = collect(args.folder, args.commit)
        print(f"{len(doc['cases'])} cases -> {CASES.relative_to(ROOT)}")
        return
    cases = load_cases()
    results = score(cases)
    peer = None if args.no_peer else score_authors(cases)
    report(results, peer, args.verbose)
    RESULTS.write_text(json.dumps(
        {"cases": len(cases), "ours": per_file(results),
         **({"authors": per_file(peer)} if peer else {}),
         "differences": {r.case["name"]: DIFFERENCES.get(r.case["name"])
                         for r in results if not r.passed}},
        ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
