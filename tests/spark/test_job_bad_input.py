"""Bad input: each kind gets a reject row with its reason, or a clear error up front."""

import bz2
import gzip
import random
import re

import pytest
from conftest import SAMPLE, copy_sample, read_xml

from leia.bz2blocks import BLOCK_MAGIC, find_magics
from leia.records import WikiContext, parse_record
from leia.siteinfo import parse_siteinfo
from spark_jobs.augment import plan, run
from spark_jobs.config import parse_args

VI = read_xml("viwiki")
HEAD = VI[:VI.index("<page>")]


def page(pid, title, text, ns=0, rev=None, model="wikitext", redirect=None):
    red = f'<redirect title="{redirect}" />' if redirect else ""
    return (f"<page><title>{title}</title><ns>{ns}</ns><id>{pid}</id>{red}<revision>"
            f"<id>{rev or pid * 10}</id><model>{model}</model><format>text/x-wiki</format>"
            f"<text xml:space=\"preserve\">{text}</text></revision></page>\n")


def write_xml(path, pages):
    with bz2.open(path, "wt", encoding="utf-8") as f:
        f.write(HEAD + "".join(pages) + "</mediawiki>\n")


def write_sql(path, lines):
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


LL_HEAD = ["CREATE TABLE `langlinks` (", "  `ll_from` int(10) unsigned NOT NULL,",
           "  `ll_lang` varbinary(20) NOT NULL,", "  `ll_title` varbinary(255) NOT NULL,",
           ") ENGINE=InnoDB;"]


@pytest.fixture(scope="module")
def bad_run(spark, tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    dumps = copy_sample(d / "dumps", ["viwiki", "jawiki", "zhwiki", "ruwiki"])
    real = re.findall(r"<page>.*?</page>\n", VI, re.S)
    extra = [
        page(501, "Hỏng", "<b>x</b>").replace("</title>", "</titel>"),   # malformed XML
        page(502, "Dữ liệu", "{&quot;a&quot;: 1}", model="json"),       # not wikitext
        page(503, "Sâu", "{{" * 4000 + "[[" * 4000 + "sâu" + "]]" * 4000),  # deep nesting
        page(504, "Trùng", "bản cũ [[Hà Nội]]", rev=1),                  # duplicate id...
        page(504, "Trùng", "bản mới [[Hà Nội]]", rev=2),                 # ...newest wins
        page(505, "Vòng A", "", redirect="Vòng B"),                      # redirect cycle
        page(506, "Vòng B", "", redirect="Vòng A"),
        page(507, "Hà Nội", "Thủ đô."),
        page(508, "Chuỗi 1", "", redirect="Chuỗi 2"),                    # 2-hop chain
        page(509, "Chuỗi 2", "", redirect="Hà Nội"),
        # the wikitext itself says &lt;translate&gt; (XML-escaped once more here)
        page(510, "Thẻ", "Thẻ &amp;lt;translate&amp;gt;x&amp;lt;/translate&amp;gt; và "
                         "[[Chuỗi 1]]."),
    ]
    vi_xml = next(dumps.glob("viwiki-*-pages-articles.xml.bz2"))
    write_xml(vi_xml, real + extra)
    vi_ll = next(dumps.glob("viwiki-*-langlinks.sql.gz"))
    write_sql(vi_ll, LL_HEAD + [
        "INSERT INTO `langlinks` VALUES (507,'en','Hanoi'),(507,'fr','Hanoï');",
        r"INSERT INTO `langlinks` VALUES (504,'en','Dupe'),(999,'en','broken\');",
        # values of the wrong kind: text and NULL where the page id should be
        "INSERT INTO `langlinks` VALUES ('x7','en','Text id'),(NULL,'en','No id'),"
        "(510,'en','Card');",
    ])
    # jawiki: a download cut short; zhwiki: a dump with no pages at all.
    ja_xml = next(dumps.glob("jawiki-*-pages-articles.xml.bz2"))
    data = ja_xml.read_bytes()
    ja_xml.write_bytes(data[:len(data) // 2])
    write_xml(next(dumps.glob("zhwiki-*-pages-articles.xml.bz2")), [])
    # ruwiki: a byte flipped inside the third of its bzip2 blocks (100 KB each).
    ru_xml = next(dumps.glob("ruwiki-*-pages-articles.xml.bz2"))
    ru = bz2.decompress(ru_xml.read_bytes()).decode()
    words = re.findall(r"\w+", ru)
    ru_pages = re.findall(r"<page>.*?</page>\n", ru, re.S) + [
        page(9000 + i, f"Страница {i}", " ".join(random.Random(i).choices(words, k=300)))
        for i in range(200)]
    data = bytearray(bz2.compress((ru[:ru.index("<page>")] + "".join(ru_pages)
                                   + "</mediawiki>\n").encode(), 1))
    block = find_magics(bytes(data), BLOCK_MAGIC)[2]
    data[block // 8 + 1000] ^= 0xFF
    ru_xml.write_bytes(bytes(data))
    out = d / "corpus"
    summary = {r["wiki"]: r for r in run(spark, parse_args(
        ["--dumps", str(dumps), "--out", str(out), "--prob", "1.0"]))}
    rejects = spark.read.format("delta").load(str(out / "rejects")).collect()
    return spark, out, summary, rejects, (len(ru_pages), block)


def reasons(rejects, wiki):
    return [(r.page_id, r.stage, r.reason) for r in rejects if r.wiki == wiki]


def test_malformed_page_is_rejected_and_the_rest_goes_on(bad_run):
    _, _, summary, rejects, _ = bad_run
    vi = reasons(rejects, "viwiki")
    assert any(pid == 501 and why.startswith("malformed_page") for pid, _, why in vi)
    assert summary["viwiki"]["articles"] == 6 + 4  # the real six + 503, 504, 507, 510


def test_non_wikitext_page_is_rejected(bad_run):
    vi = reasons(bad_run[3], "viwiki")
    assert (502, "parse", "non_wikitext_content_model: json") in vi


def test_deep_nesting_parses_without_recursion(bad_run):
    spark, out, _, _, _ = bad_run
    row = spark.read.format("delta").load(str(out / "articles")).where(
        "wiki = 'viwiki' AND page_id = 503").first()
    assert row is not None and "sâu" in row.text


def test_duplicate_page_ids_keep_the_newest_revision(bad_run):
    spark, out, _, rejects, _ = bad_run
    assert any(pid == 504 and why.startswith("duplicate_page_id")
               for pid, _, why in reasons(rejects, "viwiki"))
    row = spark.read.format("delta").load(str(out / "articles")).where(
        "wiki = 'viwiki' AND page_id = 504").collect()
    assert len(row) == 1 and row[0].text.startswith("bản mới")


def test_redirect_cycles_are_rejected_and_chains_resolve(bad_run):
    spark, out, _, rejects, _ = bad_run
    loops = {pid for pid, stage, why in reasons(rejects, "viwiki")
             if stage == "redirects" and why.startswith("redirect_loop")}
    assert loops == {505, 506}
    art = spark.read.format("delta").load(str(out / "articles")).where(
        "wiki = 'viwiki' AND page_id = 510").first()
    (link,) = art.links
    assert (link.target_title, link.target_page_id, link.pivot_title) == \
        ("Chuỗi 1", 507, "Hanoi")


def test_literal_marker_text_never_looks_like_an_insertion(bad_run):
    spark, out, _, _, _ = bad_run
    row = spark.read.format("delta").load(str(out / "augmented")).where(
        "wiki = 'viwiki' AND page_id = 510").first()
    assert row.text.startswith("Thẻ <translate>x</translate> và Chuỗi 1")
    (ins,) = row.insertions
    assert row.text[ins.anchor_start:ins.anchor_end] == "Chuỗi 1"
    assert row.augmented_text == "Thẻ <translate>x</translate> và Chuỗi 1<translate>Hanoi</translate>."


def test_broken_sql_line_keeps_earlier_rows(bad_run):
    _, _, _, rejects, _ = bad_run
    sql = [why for pid, stage, why in reasons(rejects, "viwiki")
           if stage == "sql" and why.startswith("bad SQL line")]
    assert len(sql) == 1 and "1 rows kept" in sql[0] and "char" in sql[0]


def test_sql_values_of_the_wrong_kind_are_rejected_row_by_row(bad_run):
    spark, out, _, rejects, _ = bad_run
    rows = sorted(why for _, stage, why in reasons(rejects, "viwiki")
                  if stage == "sql" and why.startswith("bad SQL row"))
    assert len(rows) == 2
    assert "'x7'" in rows[0] or "'x7'" in rows[1]
    assert any("None" in why for why in rows)
    # the good row of the same line is kept: page 510 is aligned to "Card"
    aligned = spark.read.format("delta").load(str(out / "alignment")).where(
        "wiki = 'viwiki' AND page_id = 510").first()
    assert aligned.pivot_title == "Card"


def test_truncated_bz2_is_rejected_up_front(bad_run):
    _, _, summary, rejects, _ = bad_run
    (why,) = [why for _, _, why in reasons(rejects, "jawiki")]
    assert "truncated" in why
    assert summary["jawiki"]["articles"] == 0


def test_corrupt_bz2_block_loses_only_its_pages(bad_run):
    spark, out, summary, rejects, (ru_pages, block) = bad_run
    (bad,) = [(stage, why) for _, stage, why in reasons(rejects, "ruwiki")]
    assert bad[0] == "read" and f"corrupt bz2 block at byte {block // 8} " in bad[1]
    assert "download the file again" in bad[1]
    kept = spark.read.format("delta").load(str(out / "articles")).where(
        "wiki = 'ruwiki'").count()
    # A 100 KB block holds about 40 of these pages; the others are all read, whole.
    assert ru_pages - 60 < kept < ru_pages
    assert summary["ruwiki"]["articles"] == kept


def test_empty_dump_gives_an_empty_wiki(bad_run):
    _, _, summary, rejects, _ = bad_run
    assert summary["zhwiki"]["articles"] == 0 and summary["zhwiki"]["pages_read"] == 0
    assert reasons(rejects, "zhwiki") == []


def test_parser_failure_becomes_a_reject(monkeypatch):
    """Whatever the parser raises on a page, the page becomes a reject row."""
    import leia.records

    def boom(*a, **k):
        raise RecursionError("maximum recursion depth exceeded")
    monkeypatch.setattr(leia.records, "extract", boom)
    ctx = WikiContext("viwiki", "vi", parse_siteinfo(HEAD + "</mediawiki>"))
    record = page(1, "A", "x").replace("</page>\n", "")  # the reader splits on </page>
    (row,) = parse_record(record, 0, ctx, "f.xml.bz2")
    assert row[-1] == "parse_error: nesting too deep"


def test_missing_langlinks_fails_before_any_work(spark, tmp_path):
    dumps = copy_sample(tmp_path, ["viwiki"])
    next(dumps.glob("viwiki-*-langlinks.sql.gz")).unlink()
    with pytest.raises(ValueError, match=r"viwiki: missing .*viwiki-20230901-langlinks"):
        plan(spark, parse_args(["--dumps", str(dumps), "--wikis", "viwiki"]))


def test_unknown_wiki_names(spark, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--wikis", "japanese"])
    assert "not a Wikimedia database name" in capsys.readouterr().err
    with pytest.raises(ValueError, match="wikis found there: .*jawiki"):
        plan(spark, parse_args(["--dumps", str(SAMPLE), "--wikis", "xxwiki"]))


def test_bad_arguments_fail_fast(capsys):
    for argv, msg in ((["--prob", "1.5"], "between 0 and 1"),
                      (["--date", "2024"], "YYYYMMDD"),
                      (["--alignment", "wikidata"], "--wikidata"),
                      (["--pivot", "enwiki"], "language code")):
        with pytest.raises(SystemExit):
            parse_args(argv)
        assert msg in capsys.readouterr().err


def test_unexpected_sql_layout_is_a_clear_error(spark, tmp_path):
    dumps = copy_sample(tmp_path / "d", ["viwiki"])
    write_sql(next(dumps.glob("viwiki-*-page.sql.gz")), [
        "CREATE TABLE `page` (", "  `page_id` int(10) NOT NULL,",
        "  `page_namespace` int(11) NOT NULL,", ") ENGINE=InnoDB;"])
    with pytest.raises(ValueError, match="page_title"):
        run(spark, parse_args(["--dumps", str(dumps), "--out", str(tmp_path / "o")]))
