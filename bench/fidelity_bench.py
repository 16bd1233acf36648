"""Markup left in the text: our extractor against the authors' on the same real pages.

    python bench/fidelity_bench.py                     # every real excerpt, both extractors
    python bench/fidelity_bench.py --table out/corpus/articles   # also a job's output

Reads every ns-0 article of the real dump excerpts in ``../shared/realdata/xml`` (the
DBpedia mini-dumps in 124 languages, viwiki, elwikivoyage), extracts it with
``leia.wikitext`` and with WikiExtractor 3.1.0 ``--links --no-templates`` plus the
authors' BeautifulSoup step, and counts per kind of markup (``leia.fidelity.KINDS``)
the articles whose text still holds it, overall and per wiki, with examples; articles
and links kept beside it. Writes ``bench/results/fidelity.json`` and prints a table.
No Spark: ``--table`` reads a corpus job's ``articles`` table with ``deltalake``.
"""

from __future__ import annotations

import argparse
import bz2
import html
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from leia.fidelity import KINDS, markup_left  # noqa: E402
from leia.records import WikiContext, parse_record  # noqa: E402
from leia.siteinfo import parse_siteinfo  # noqa: E402

REALDATA = ROOT.parent / "shared" / "realdata" / "xml"


def sources(realdata: Path) -> list[tuple[str, str, Path]]:
    """(wiki, language, file) of every real excerpt."""
    out = []
    for f in sorted((realdata / "dbpedia-minidumps").glob("*-wiki.xml.bz2")):
        lang = f.name[:-len("-wiki.xml.bz2")]
        if lang not in ("commons", "wikidata"):
            out.append((f"{lang.replace('-', '_')}wiki", lang, f))
    out.append(("viwiki", "vi", realdata / "viwiki-2023-pages-articles-head10.xml.bz2"))
    out.append(("elwikivoyage", "el",
                realdata / "elwikivoyage-2019-sample-pages-articles.xml.bz2"))
    # A page-id slice of the same dump, named as split dumps are: counted as its own file.
    out.append(("elwikivoyage-p2566p2583", "el",
                realdata / "elwikivoyage-2019-pages-articles-p2566p2583.xml.bz2"))
    return out


def ours(wiki: str, lang: str, path: Path) -> dict[int, tuple[str, int]]:
    """{page id: (text, links)} of the file's articles, by the library."""
    raw = bz2.open(path, "rt", encoding="utf-8").read()
    ctx = WikiContext(wiki.split("-")[0], lang, parse_siteinfo(raw[:raw.find("<page")]))
    out = {}
    for rec in raw.split("</page>"):
        if "<page" in rec:
            for row in parse_record(rec, 0, ctx, path.name):
                if row[10] is not None:
                    out[row[3]] = (row[10], len(row[11]))
    return out


def authors(path: Path, work: Path) -> dict[int, tuple[str, int]]:
    """{page id: (text, links)}: WikiExtractor, then the authors' link post-processing."""
    from bs4 import BeautifulSoup, NavigableString

    out_dir = work / path.name
    subprocess.run([sys.executable, "-m", "wikiextractor.WikiExtractor", str(path),
                    "--links", "--no-templates", "--json", "--processes", "1", "-q",
                    "-o", str(out_dir)], check=True, capture_output=True)
    out = {}
    for f in sorted(out_dir.rglob("wiki_*")):
        for line in f.open(encoding="utf-8"):
            doc = json.loads(line)
            soup = BeautifulSoup(html.unescape(doc["text"]), "html.parser")
            parts, links = [], 0
            for node in soup.children:
                if isinstance(node, NavigableString):
                    parts.append(str(node))
                else:
                    parts.append(node.get_text())
                    links += node.name == "a" and bool(node.get("href")) and \
                        "#" not in unquote(node["href"])
            out[int(doc["id"])] = ("".join(parts), links)
    return out


def census(texts: dict[str, dict[int, tuple[str, int]]], examples: int = 2) -> dict:
    """Articles with each kind of markup, overall and per wiki, with examples."""
    total, by_wiki, shown = Counter(), defaultdict(Counter), defaultdict(list)
    articles = links = dirty = urls = 0
    for wiki, pages in texts.items():
        for page_id, (text, n_links) in pages.items():
            articles += 1
            links += n_links
            urls += bool(re.search(r"\bhttps?://", text))
            found = markup_left(text, examples)
            dirty += bool(found)
            for kind, snippets in found.items():
                total[kind] += 1
                by_wiki[wiki][kind] += 1
                if len(shown[kind]) < 6:
                    shown[kind] += [f"{wiki} {page_id}: {s}" for s in snippets[:1]]
    return {"articles": articles, "links": links, "with_markup": dirty,
            "with_bare_urls": urls, "by_kind": {k: total[k] for k in KINDS},
            "by_wiki": {w: dict(c) for w, c in sorted(by_wiki.items()) if c},
            "examples": dict(shown)}


def from_table(path: str) -> dict[str, dict[int, tuple[str, int]]]:
    from deltalake import DeltaTable

    rows = DeltaTable(path).to_pyarrow_table(columns=["wiki", "page_id", "text", "links"])
    out: dict[str, dict] = defaultdict(dict)
    for r in rows.to_pylist():
        out[r["wiki"]][r["page_id"]] = (r["text"], len(r["links"] or ()))
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--realdata", default=str(REALDATA), help="folder of the real excerpts")
    p.add_argument("--table", help="also count a corpus job's articles table")
    p.add_argument("--no-authors", action="store_true", help="skip WikiExtractor")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "fidelity.json"))
    args = p.parse_args(argv)

    files = sources(Path(args.realdata))
    result = {"files": len(files)}
    ours_texts = {w: ours(w, lang, f) for w, lang, f in files}
    result["ours"] = census(ours_texts)
    if not args.no_authors:
        with tempfile.TemporaryDirectory() as work:
            theirs = {w: authors(f, Path(work)) for w, _, f in files}
        # The same articles on both sides (WikiExtractor skips some pages we keep).
        common = {w: {i: ours_texts[w][i] for i in theirs[w] if i in ours_texts[w]}
                  for w in theirs}
        result["authors"] = census({w: {i: theirs[w][i] for i in common[w]}
                                    for w in theirs})
        result["ours_on_common"] = census(common)
    if args.table:
        result["table"] = census(from_table(args.table))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print_table(result)
    return result


def share(c: dict) -> str:
    return f"{c['with_markup']} ({100 * c['with_markup'] / max(1, c['articles']):.1f}%)"


def print_table(r: dict) -> None:
    cols = [k for k in ("ours", "authors", "ours_on_common", "table") if k in r]
    print("| markup left in the text | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for row, get in [("articles", lambda c: c["articles"]),
                     ("links kept", lambda c: c["links"]),
                     ("articles with any markup", share),
                     *[(k, lambda c, k=k: c["by_kind"][k]) for k in KINDS],
                     ("bare URLs (apart)", lambda c: c["with_bare_urls"])]:
        print(f"| {row} | " + " | ".join(str(get(r[c])) for c in cols) + " |")


if __name__ == "__main__":
    main()
