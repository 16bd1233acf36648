"""MediaWiki's own parser tests, read for the text a reader sees
(``bench/parser_conformance.py``): the share we match, and every other case listed with
its reason."""

import pytest

from bench.parser_conformance import (
    CASES,
    DIFFERENCES,
    load_cases,
    parse_cases,
    reader_text,
    score,
    selected,
)


@pytest.fixture(scope="module")
def results():
    return score(load_cases())


def test_most_cases_give_the_text_a_reader_sees(results):
    assert len(results) > 400, f"{CASES} lost its cases"
    passed = sum(r.passed for r in results)
    assert passed / len(results) >= 0.97


def test_every_other_case_is_listed_with_its_reason(results):
    failing = {r.case["name"] for r in results if not r.passed}
    unlisted = {r.case["name"]: (r.expected, r.got) for r in results
                if not r.passed and r.case["name"] not in DIFFERENCES}
    assert not unlisted, f"differ from MediaWiki without a reason: {unlisted}"
    assert not set(DIFFERENCES) - failing, "listed, but now the same: take them off"
    assert all(len(why) > 20 for why in DIFFERENCES.values())


def test_reader_text_reads_html_as_a_page_shows_it():
    assert reader_text("<p>a<b>b</b></p><p>c</p>") == "ab c"
    assert reader_text("<dl><dt>term</dt><dd>def</dd></dl>x") == "term def x"
    assert reader_text('<figure typeof="mw:File/Thumb"><a><img/></a>'
                       "<figcaption>cap</figcaption></figure>after") == "after"
    assert reader_text("<table><tr><td>cell</td></tr></table>t") == "t"
    assert reader_text('<div id="toc">Contents 1 A</div><h2>A</h2>&lt;x&gt;&#160;y') \
        == "A <x> y"


def test_cases_are_chosen_by_what_a_dump_holds():
    text = ("!! test\nplain\n!! wikitext\n''a''\n!! html/php\n<p><i>a</i></p>\n!! end\n"
            "!! test\ntemplate\n!! wikitext\n{{x}}\n!! html\n<p>x</p>\n!! end\n"
            "!! test\npst\n!! options\npst\n!! wikitext\na\n!! html\n<p>a</p>\n!! end\n"
            "!! test\nparsoid only\n!! wikitext\na\n!! html/parsoid\n<p>a</p>\n!! end\n")
    cases = parse_cases(text, "t")
    assert [c["name"] for c in cases] == ["plain", "template", "pst", "parsoid only"]
    assert [c["name"] for c in cases if selected(c)] == ["plain"]
    assert cases[0]["html"] == "<p><i>a</i></p>"
