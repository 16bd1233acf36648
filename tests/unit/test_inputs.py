"""Dump file names, bz2 integrity, <page> records, siteinfo, Wikidata sitelinks."""

import json
from pathlib import Path

import pytest
from conftest import SAMPLE, read_xml

from leia.dumps import bz2_complete, plan_dumps
from leia.languages import split_dbname
from leia.pages import BadPage, Page, parse_page, split_record
from leia.siteinfo import parse_siteinfo
from leia.wikidata import entities_in, pivot_site, sitelink_pairs

DATA = Path(__file__).parents[1] / "data"


def test_plan_groups_parts_and_picks_newest_date():
    names = ["jawiki-20240101-pages-articles2.xml-p101p200.bz2",
             "jawiki-20240101-pages-articles1.xml-p1p100.bz2",
             "jawiki-20240101-langlinks.sql.gz", "jawiki-20230101-pages-articles.xml.bz2",
             "zh_yuewiki-20240101-pages-articles-multistream.xml.bz2",
             "zh_yuewiki-20240101-pages-articles-multistream-index.txt.bz2",
             "README.txt"]
    plan = plan_dumps(names, None, None)
    assert plan["jawiki"].date == "20240101"
    assert plan["jawiki"].xml == names[1::-1]
    assert plan["jawiki"].langlinks.endswith("langlinks.sql.gz")
    assert plan["zh_yuewiki"].index and plan["zh_yuewiki"].langlinks is None
    assert plan_dumps(names, ["jawiki"], "20230101")["jawiki"].date == "20230101"


def test_database_names():
    assert split_dbname("zh_yuewiki") == ("zh-yue", "wiki")
    assert split_dbname("elwikivoyage") == ("el", "wikivoyage")
    with pytest.raises(ValueError, match="not a Wikimedia database name"):
        split_dbname("japanese")


def test_bz2_end_of_stream_check_on_real_files():
    for f in SAMPLE.glob("*.bz2"):
        data = f.read_bytes()
        assert bz2_complete(data[:4], data[-11:]), f
        for cut in (len(data) // 2, len(data) - 1, len(data) - 7):
            assert not bz2_complete(data[:4], data[:cut][-11:]), (f, cut)
    assert not bz2_complete(b"", b"")


def test_siteinfo_of_real_dumps():
    vi = parse_siteinfo(read_xml("viwiki")[:20000])
    assert vi.dbname == "viwiki" and vi.first_letter
    assert vi.namespace_of("Thể loại") == 14 and vi.namespace_of("Category") == 14
    el = parse_siteinfo(read_xml("elwikivoyage")[:20000])  # export-0.11
    assert el.namespace_of("Κατηγορία") == 14
    with pytest.raises(ValueError, match="siteinfo"):
        parse_siteinfo("<mediawiki><page/></mediawiki>")


def test_real_pages_parse():
    raw = read_xml("viwiki")
    pages = [parse_page(f) for rec in raw.split("</page>") for f in split_record(rec)]
    assert len(pages) == 10 and all(isinstance(p, Page) for p in pages)
    first = pages[0]
    assert (first.page_id, first.ns, first.redirect) == (1, 0, "Alexandre de Rhodes")
    assert sum(p.redirect is not None for p in pages) == 3


def test_malformed_pages_become_bad_pages():
    bad = parse_page("<page><title>X</title><ns>0</ns><id>5</id><revision><text>a</page")
    assert isinstance(bad, BadPage) and bad.reason.startswith("malformed_page")
    assert bad.page_id == 5 and bad.title == "X"
    noid = parse_page("<page><title>Y</title><ns>0</ns><id>abc</id>")
    assert isinstance(noid, BadPage) and "id" in noid.reason
    frags = split_record("<page><title>A</title>\n<page><title>B</title><ns>0</ns><id>2</id>")
    assert len(frags) == 2
    assert isinstance(parse_page(frags[0], terminated=False), BadPage)


def test_wikidata_sitelinks_from_real_entities():
    q42 = entities_in((DATA / "wikidata-json/Q42-Douglas_Adams.qwikidata.json").read_text())
    pairs = sitelink_pairs(q42[0], {"jawiki": pivot_site("jawiki", "en"),
                                    "zh_yuewiki": pivot_site("zh_yuewiki", "fr")})
    assert ("jawiki", "ダグラス・アダムズ", "Douglas Adams") in pairs
    assert pivot_site("elwikivoyage", "en") == "enwikivoyage"
    redirected = entities_in((DATA / "wikidata-json/Q16231742.dahlia-wikidata.json")
                             .read_text())
    assert redirected[0]["id"] == "Q3571994"
    # a dump line: one entity with a trailing comma
    line = json.dumps(q42[0]) + ",\n"
    assert entities_in(line)[0]["id"] == "Q42"
    assert entities_in("[") == [] and entities_in("]") == []


@pytest.mark.parametrize("revision, reason", [
    ("", "no_revision"),
    ("<revision><id>5</id><model>wikitext</model></revision>", "no_text"),
    ('<revision><id>5</id><text deleted="deleted"/></revision>', "no_text"),
    ("<revision><id>5</id><text> </text></revision>", "empty_text"),
])
def test_an_article_without_text_is_a_reject_not_an_empty_article(revision, reason):
    head = "<page><title>A</title><ns>0</ns><id>1</id>"
    page = parse_page(head + revision, terminated=True)
    assert isinstance(page, BadPage) and page.reason.startswith(reason)
    assert (page.page_id, page.title) == (1, "A")
    # Other namespaces and redirects need no text.
    other = "<page><title>T</title><ns>10</ns><id>2</id>" + revision
    assert isinstance(parse_page(other, terminated=True), Page)
    redirect = '<page><title>R</title><ns>0</ns><id>3</id><redirect title="A" />' + revision
    assert parse_page(redirect, terminated=True).redirect == "A"
