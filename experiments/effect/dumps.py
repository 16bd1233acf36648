"""The world's wikis written as Wikimedia dump files, named as Wikimedia names them, so
the unchanged corpus job reads them: ``<db>-<date>-pages-articles.xml.bz2`` with a
``<siteinfo>`` in the export-0.10 schema, and the page, redirect and langlinks tables
as gzipped mysqldump files."""

from __future__ import annotations

import bz2
import json
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from leia.sqldump import LANGLINKS_DDL, PAGE_DDL, REDIRECT_DDL, write_sql
from leia.xcsr import KINDS

from .questions import DEMOS, TESTS, check_recall_only, questions
from .world import World, english_pages, news_pages, redirects, target_pages

DATE = "20240101"
NOTE = "a synthetic wiki written by experiments/effect"
PEOPLE = "people.json"  # beside the tests: each person's names, year and split
# (namespace key, name) as each language's wiki lists them in <siteinfo>.
NAMESPACES = {
    "en": [(-2, "Media"), (-1, "Special"), (0, ""), (1, "Talk"), (2, "User"),
           (4, "Wikipedia"), (6, "File"), (10, "Template"), (14, "Category")],
    "ru": [(-2, "Медиа"), (-1, "Служебная"), (0, ""), (1, "Обсуждение"),
           (2, "Участник"), (4, "Википедия"), (6, "Файл"), (10, "Шаблон"),
           (14, "Категория")],
}
SITES = {"enwiki": ("en", "Wikipedia", "en.wikipedia.org"),
         "ruwiki": ("ru", "Википедия", "ru.wikipedia.org"),
         "ruwikinews": ("ru", "Викиновости", "ru.wikinews.org")}


def siteinfo(db: str) -> str:
    lang, name, host = SITES[db]
    spaces = "\n".join(
        f'      <namespace key="{k}" case="first-letter" />' if not n else
        f'      <namespace key="{k}" case="first-letter">{escape(n)}</namespace>'
        for k, n in NAMESPACES[lang])
    return (
        '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.mediawiki.org/xml/export-0.10/ '
        'http://www.mediawiki.org/xml/export-0.10.xsd" version="0.10" '
        f'xml:lang="{lang}">\n  <siteinfo>\n    <sitename>{escape(name)}</sitename>\n'
        f"    <dbname>{db}</dbname>\n    <base>https://{host}/wiki/</base>\n"
        "    <generator>MediaWiki 1.42.0-wmf.10</generator>\n"
        f"    <case>first-letter</case>\n    <namespaces>\n{spaces}\n    </namespaces>\n"
        "  </siteinfo>\n")


def page_xml(page_id: int, title: str, text: str, redirect: str | None = None) -> str:
    red = f"\n    <redirect title={quoteattr(redirect)} />" if redirect else ""
    return (f"  <page>\n    <title>{escape(title)}</title>\n    <ns>0</ns>\n"
            f"    <id>{page_id}</id>{red}\n    <revision>\n      <id>{page_id + 10**6}</id>\n"
            "      <timestamp>2024-01-01T00:00:00Z</timestamp>\n"
            "      <model>wikitext</model>\n      <format>text/x-wiki</format>\n"
            f'      <text bytes="{len(text.encode())}" xml:space="preserve">{escape(text)}'
            "</text>\n    </revision>\n  </page>\n")


def write_wiki(folder: Path, db: str, pages: list[tuple[str, str]],
               redirect_pages: list[tuple[str, str]] = (),
               langlinks: dict[str, str] | None = None) -> dict:
    """One wiki's four files; returns what was written (for the world's summary)."""
    xml, page_rows, redirect_rows, ll_rows = [siteinfo(db)], [], [], []
    ids: dict[str, int] = {}
    for title, text in pages:
        pid = ids[title] = len(ids) + 1
        xml.append(page_xml(pid, title, text))
        page_rows.append((pid, 0, title.replace(" ", "_"), 0, 0, 0.5, "20240101000000",
                          None, pid + 10**6, len(text.encode()), "wikitext", None))
        if langlinks and title in langlinks:
            ll_rows.append((pid, "en", langlinks[title]))
    for title, target in redirect_pages:
        pid = ids[title] = len(ids) + 1
        text = f"#REDIRECT [[{target}]]"
        xml.append(page_xml(pid, title, text, target))
        page_rows.append((pid, 0, title.replace(" ", "_"), 1, 0, 0.5, "20240101000000",
                          None, pid + 10**6, len(text.encode()), "wikitext", None))
        redirect_rows.append((pid, 0, target.replace(" ", "_"), "", ""))
    with bz2.open(folder / f"{db}-{DATE}-pages-articles.xml.bz2", "wt",
                  encoding="utf-8") as f:
        f.write("".join(xml) + "</mediawiki>\n")
    write_sql(folder / f"{db}-{DATE}-page.sql.gz", "page", PAGE_DDL, page_rows, NOTE)
    write_sql(folder / f"{db}-{DATE}-redirect.sql.gz", "redirect", REDIRECT_DDL,
              redirect_rows, NOTE)
    write_sql(folder / f"{db}-{DATE}-langlinks.sql.gz", "langlinks", LANGLINKS_DDL,
              ll_rows, NOTE)
    return {"wiki": db, "articles": len(pages), "redirects": len(redirect_pages),
            "langlinks": len(ll_rows)}


def write_wikis(world: World, dumps: Path, seed: int = 0) -> list[dict]:
    """The three wikis' dump files under ``dumps``."""
    dumps.mkdir(parents=True, exist_ok=True)
    en_of = {e.tgt: e.en for e in world.entities.values()}
    summary = [
        write_wiki(dumps, "enwiki", english_pages(world, seed)),
        write_wiki(dumps, "ruwiki", target_pages(world, seed), redirects(world), en_of),
        write_wiki(dumps, "ruwikinews", news_pages(world)),
    ]
    return summary


def write_tests(world: World, tests: Path, seed: int = 0, groupings: int = 1) -> None:
    """The tests under ``tests`` in the X-CSR release's layout
    (``X-CODAH/<test>/dev.jsonl``, ``X-CSQA/<test>/dev.jsonl`` with its demonstrations
    in ``train.jsonl``), and ``people.json`` beside them."""
    people = {p.key: {"en": p.en, "tgt": p.tgt, "year": p.year, "seen": p.seen}
              for p in world.people()}
    tests.mkdir(parents=True, exist_ok=True)
    (tests / PEOPLE).write_text(json.dumps(people, indent=1, ensure_ascii=False),
                                encoding="utf-8")
    tests_of = questions(world, groupings, seed)
    for test, rows in tests_of.items():
        check_recall_only(rows)
        folder = tests / KINDS[TESTS[test].kind] / test
        folder.mkdir(parents=True, exist_ok=True)
        _write_jsonl(folder / "dev.jsonl", rows)
        if test in DEMOS:
            _write_jsonl(folder / "train.jsonl", tests_of[DEMOS[test]])


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
