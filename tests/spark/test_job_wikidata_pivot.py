"""Wikidata sitelinks as the alignment source, and a pivot language other than English."""

import json
import re
from pathlib import Path

import pytest
from conftest import copy_sample, read_xml
from test_job_bad_input import page, write_xml

from leia.wikidata import entities_in
from spark_jobs.augment import run
from spark_jobs.config import parse_args

DATA = Path(__file__).parents[1] / "data" / "wikidata-json"


@pytest.mark.slow
def test_wikidata_alignment_to_french(spark, tmp_path):
    dumps = copy_sample(tmp_path / "dumps", ["viwiki"])
    next(dumps.glob("viwiki-*-langlinks.sql.gz")).unlink()  # not needed for wikidata
    vi = read_xml("viwiki")
    real = re.findall(r"<page>.*?</page>\n", vi, re.S)
    write_xml(next(dumps.glob("viwiki-*-pages-articles.xml.bz2")), real + [
        page(601, "Hồng Kông", "Đặc khu hành chính."),
        page(602, "The Beatles", "Ban nhạc."),
        page(603, "Âm nhạc", "[[The Beatles]] biểu diễn ở [[Hồng Kông]] và [[Paris]]."),
    ])
    # A dump-format file (one entity per line) of real entities: Hong Kong, The Beatles.
    entities = [e for f in ("Q8646.dahlia-wikidata.json", "Q1299.dahlia-wikidata.json")
                for e in entities_in((DATA / f).read_text())]
    wd = tmp_path / "wikidata-20190101-all.json"
    wd.write_text("[\n" + ",\n".join(json.dumps(e) for e in entities) + "\n]\n")
    fr = {e["id"]: e["sitelinks"]["frwiki"]["title"] for e in entities}

    out = tmp_path / "corpus"
    (summary,) = run(spark, parse_args([
        "--dumps", str(dumps), "--out", str(out), "--alignment", "wikidata",
        "--wikidata", str(wd), "--pivot", "fr", "--prob", "1.0"]))
    assert summary["links_aligned"] == 2
    al = {r.title: r for r in spark.read.format("delta").load(str(out / "alignment"))
          .collect()}
    assert al["Hồng Kông"].pivot_title == fr["Q8646"]
    assert al["The Beatles"].pivot_title == fr["Q1299"]
    assert {r.how for r in al.values()} == {"wikidata"} and al["Hồng Kông"].pivot == "fr"
    row = spark.read.format("delta").load(str(out / "augmented")).where(
        "page_id = 603").first()
    assert row.augmented_text == (
        f"The Beatles<translate>{fr['Q1299']}</translate> biểu diễn ở "
        f"Hồng Kông<translate>{fr['Q8646']}</translate> và Paris.")
