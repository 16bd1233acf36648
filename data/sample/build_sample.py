"""Rebuild the bundled sample dumps from ../shared/realdata (maintainers only).

    python data/sample/build_sample.py /path/to/shared/realdata

Every XML page is real. The SQL tables are derived as data/sample/PROVENANCE.md says:
page and redirect rows from the XML itself; langlinks rows only from real cross-language
facts (the Berlin article's title in each language, Wikidata sitelinks, Debian
iso-codes country names as shipped by pycountry); page rows with assigned ids (from
900000000 up) for link targets outside the excerpt that such a fact names.
"""

from __future__ import annotations

import bz2
import gettext
import glob
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from leia.pages import Page, parse_page, split_record  # noqa: E402
from leia.siteinfo import parse_siteinfo  # noqa: E402
from leia.sqldump import LANGLINKS_DDL, PAGE_DDL, REDIRECT_DDL, write_sql  # noqa: E402
from leia.titles import normalise_target  # noqa: E402
from leia.wikidata import entities_in, sitelink_pairs  # noqa: E402
from leia.wikitext import extract  # noqa: E402

OUT = ROOT / "data" / "sample" / "dumps"
ASSIGNED_IDS_FROM = 900_000_000

# wiki -> (source file under realdata/xml, date we give it, titles to keep or None)
SOURCES = {
    "arwiki": ("dbpedia-minidumps/ar-wiki.xml.bz2", "20210901", {"برلين"}),
    "eswiki": ("dbpedia-minidumps/es-wiki.xml.bz2", "20210901", None),
    "hiwiki": ("dbpedia-minidumps/hi-wiki.xml.bz2", "20210901", None),
    "jawiki": ("dbpedia-minidumps/ja-wiki.xml.bz2", "20210901", None),
    "ruwiki": ("dbpedia-minidumps/ru-wiki.xml.bz2", "20210901", None),
    "swwiki": ("dbpedia-minidumps/sw-wiki.xml.bz2", "20210901", None),
    "zhwiki": ("dbpedia-minidumps/zh-wiki.xml.bz2", "20210901", None),
    "viwiki": ("viwiki-2023-pages-articles-head10.xml.bz2", "20230901", None),
    "elwikivoyage": ("elwikivoyage-2019-sample-pages-articles.xml.bz2", "20191101", None),
}
NOTE = "derived for the LEIA sample (see PROVENANCE.md)"
GETTEXT_LANGS = {"zh": ["zh_CN", "zh_TW"]}

def read_pages(xml: str) -> list[Page]:
    pages = []
    for rec in xml.split("</page>"):
        for frag in split_record(rec):
            p = parse_page(frag)
            assert isinstance(p, Page), p
            pages.append(p)
    return pages


def english_facts(realdata: Path) -> dict[str, dict[str, tuple[str, str]]]:
    """lang -> {local title: (English title, source)} from real cross-language facts."""
    facts: dict[str, dict[str, tuple[str, str]]] = {}
    for f in sorted(glob.glob(str(realdata / "xml/dbpedia-minidumps/*-wiki.xml.bz2"))):
        lang = Path(f).name.split("-wiki")[0]
        xml = bz2.open(f, "rt", encoding="utf-8").read()
        first = read_pages(xml)[0]
        facts.setdefault(lang, {})[first.title] = ("Berlin", "dbpedia Berlin minidump")
    for f in sorted(glob.glob(str(realdata / "wikidata-json/*.json"))):
        for entity in entities_in(Path(f).read_text()):
            sites = {s: "enwiki" for s in entity.get("sitelinks", {})
                     if s.endswith("wiki") and "_" not in s[:-4]}
            for site, title, en in sitelink_pairs(entity, sites):
                facts.setdefault(site[:-4], {}).setdefault(
                    title, (en, f"Wikidata {entity.get('id')} sitelinks"))
    import pycountry
    for lang in {w[:2] for w in SOURCES} | {"el"}:
        for loc in GETTEXT_LANGS.get(lang, [lang]):
            try:
                tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[loc])
            except OSError:
                continue
            for c in pycountry.countries:
                if "," in c.name or "(" in c.name:
                    continue  # iso names like "Korea, Republic of" are not article titles
                local = tr.gettext(c.name)
                if local != c.name or lang == "en":
                    facts.setdefault(lang, {}).setdefault(
                        local, (c.name, "iso-codes iso3166-1 " + loc))
    return facts


def main(realdata: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*"):
        old.unlink()
    facts = english_facts(realdata)
    report = []
    for wiki, (src, date, keep) in SOURCES.items():
        lang = wiki[:2]
        raw = bz2.open(realdata / "xml" / src, "rt", encoding="utf-8").read()
        site = parse_siteinfo(raw[:50_000])
        pages = read_pages(raw)
        xml_name = OUT / f"{wiki}-{date}-pages-articles.xml.bz2"
        if keep is None:
            shutil.copyfile(realdata / "xml" / src, xml_name)
        else:
            # Keep only this wiki's pages (the ar file also holds bar and war pages).
            head = raw[:raw.index("<page>")]
            body = [m.group() for m in re.finditer(r"<page>.*?</page>", raw, re.S)
                    if re.search(r"<title>(.*?)</title>", m.group()).group(1) in keep]
            with bz2.open(xml_name, "wt", encoding="utf-8") as f:
                f.write(head + "\n".join(body) + "\n</mediawiki>\n")
            pages = [p for p in pages if p.title in keep]
        known = facts.get(lang, {})
        page_rows, redirect_rows, ll_rows, used = [], [], [], set()
        by_title = {}
        for p in pages:
            title = p.title.split(":", 1)[1] if p.ns and ":" in p.title else p.title
            page_rows.append((p.page_id, p.ns, title.replace(" ", "_"),
                              int(p.redirect is not None), 0, 0.5, "20240101000000", None,
                              p.revision_id or 0, len(p.text.encode()), p.model, None))
            if p.ns == 0:
                by_title[p.title] = p.page_id
            if p.redirect is not None and p.ns == 0:
                t = normalise_target(p.redirect, site, lang)
                if t.kind == "page":
                    redirect_rows.append((p.page_id, t.ns, t.title.replace(" ", "_"), "", ""))
        targets = set()
        for p in pages:
            if p.ns == 0 and p.redirect is None:
                targets.update(l.target for l in extract(p.text, site, lang).links)
        next_id = ASSIGNED_IDS_FROM
        for local, (en, source) in sorted(known.items()):
            if local in by_title:
                pid = by_title[local]
            elif local in targets:
                pid = next_id = next_id + 1
                page_rows.append((pid, 0, local.replace(" ", "_"), 0, 0, 0.5,
                                  "20240101000000", None, 0, 0, "wikitext", None))
                by_title[local] = pid
            else:
                continue
            ll_rows.append((pid, "en", en))
            used.add(source.split(" ")[0])
        write_sql(OUT / f"{wiki}-{date}-page.sql.gz", "page", PAGE_DDL, page_rows, NOTE)
        write_sql(OUT / f"{wiki}-{date}-redirect.sql.gz", "redirect", REDIRECT_DDL,
                  redirect_rows, NOTE)
        write_sql(OUT / f"{wiki}-{date}-langlinks.sql.gz", "langlinks", LANGLINKS_DDL,
                  ll_rows, NOTE)
        report.append({"wiki": wiki, "source": src, "date": date, "pages": len(pages),
                       "page_rows": len(page_rows),
                       "assigned_page_rows": next_id - ASSIGNED_IDS_FROM,
                       "redirect_rows": len(redirect_rows), "langlinks_rows": len(ll_rows),
                       "fact_sources": sorted(used)})
    (OUT.parent / "sample_manifest.json").write_text(json.dumps(report, indent=1,
                                                                ensure_ascii=False))
    for r in report:
        print(r)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "realdata"))
