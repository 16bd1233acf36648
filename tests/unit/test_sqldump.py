import gzip
from pathlib import Path

import pytest

from leia.sqldump import SqlDumpError, iter_rows, parse_create_table, parse_insert

DATA = Path(__file__).parents[1] / "data" / "sql"


def lines(name):
    return gzip.open(DATA / name, "rt", encoding="utf-8")


def test_real_langlinks_table_parses_whole():
    rows = list(iter_rows(lines("wikidatawiki-20170325-langlinks.sql.gz")))
    assert all(err is None for _, err, _ in rows)
    rows = [r for r, _, _ in rows]
    assert len(rows) == 90551
    assert len({r["ll_lang"] for r in rows}) == 297
    assert rows[0] == {"ll_from": "14928", "ll_lang": "aa", "ll_title": "Category:User aa"}
    quoted = [r["ll_title"] for r in rows if "'" in r["ll_title"]]
    assert quoted and all("\\" not in t for t in quoted)  # \' unescaped


def test_real_redirect_table_with_interwiki_rows():
    rows = [r for r, err, _ in iter_rows(lines("chwiki-20240120-redirect.sql.gz"))]
    assert len(rows) == 197
    assert sum(1 for r in rows if r["rd_interwiki"]) == 26


def test_columns_are_mapped_from_create_table_not_position():
    header = ("CREATE TABLE `langlinks` (\n  `ll_title` varbinary(255) NOT NULL,\n"
              "  `ll_from` int(10) unsigned NOT NULL,\n  `ll_lang` varbinary(20) NOT NULL\n"
              ") ENGINE=InnoDB;")
    data = header.splitlines() + ["INSERT INTO `langlinks` VALUES ('Tokyo',7,'en');"]
    (row, err, _), = iter_rows(data)
    assert err is None and row == {"ll_title": "Tokyo", "ll_from": "7", "ll_lang": "en"}


def test_titles_with_quotes_commas_and_parentheses():
    line = (r"INSERT INTO `t` VALUES (1,'a\'b),(c','x'),(2,'\\','y'),"
            r"(3,'tab\there',NULL),(-4,'e',1.5e3);")
    rows, err = parse_insert(line, 3)
    assert err is None
    assert rows == [("1", "a'b),(c", "x"), ("2", "\\", "y"), ("3", "tab\there", None),
                    ("-4", "e", "1.5e3")]


def test_broken_escape_keeps_rows_before_and_reports_where():
    line = r"INSERT INTO `t` VALUES (1,'ok'),(2,'broken\'),(3,'x');"
    rows, err = parse_insert(line, 2)
    assert rows == [("1", "ok")]
    assert err and "char" in err


def test_unterminated_line_is_an_error():
    rows, err = parse_insert("INSERT INTO `t` VALUES (1,'a'),(2,'b", 2)
    assert rows == [("1", "a")] and "unterminated" in err


def test_row_width_mismatch_is_an_error():
    rows, err = parse_insert("INSERT INTO `t` VALUES (1,'a','extra');", 2)
    assert rows == [] and "3 values" in err


def test_unexpected_layout_names_the_missing_columns():
    table = parse_create_table("CREATE TABLE `langlinks` (\n  `ll_from` int(10),\n"
                               "  `ll_title` varbinary(255)\n) ENGINE=InnoDB;")
    with pytest.raises(SqlDumpError, match="ll_lang"):
        table.index(("ll_from", "ll_lang", "ll_title"), "x-langlinks.sql.gz")


def test_a_file_without_create_table_is_refused():
    snippet = (DATA / "enwiki-2018-page-snippet.sql").read_text().splitlines()
    with pytest.raises(SqlDumpError, match="CREATE TABLE"):
        parse_create_table("\n".join(snippet[:3]))
