"""An article whose wikitext holds the marker tags themselves (``<translate>`` is a tag
no Wikipedia knows, so its reader sees it as text): the corpus keeps them as text, and
the encoder turns them into ordinary tokens, never into the marker tokens."""

import numpy as np
import pytest
from conftest import copy_sample
from test_job_bad_input import LL_HEAD, page, write_sql, write_xml

from leia.shards import ShardSet
from spark_jobs.augment import run
from spark_jobs.config import parse_args
from spark_jobs.encode import run as encode
from spark_jobs.encode_config import parse_args as encode_args


@pytest.mark.slow
def test_marker_tags_in_an_article_stay_ordinary_text(spark, bpe_tokenizer, tmp_path):
    from deltalake import DeltaTable

    dumps = copy_sample(tmp_path / "dumps", ["viwiki"])
    write_xml(next(dumps.glob("viwiki-*-pages-articles.xml.bz2")), [
        # The wikitext holds the tags themselves (XML-escaped once, as dumps store it).
        page(1, "Thẻ", "Thẻ &lt;translate&gt;Tokyo&lt;/translate&gt; và [[Hà Nội]]."),
        page(2, "Hà Nội", "Thủ đô."),
    ])
    write_sql(next(dumps.glob("viwiki-*-langlinks.sql.gz")),
              LL_HEAD + ["INSERT INTO `langlinks` VALUES (2,'en','Hanoi');"])
    for table in ("page", "redirect"):
        for f in dumps.glob(f"viwiki-*-{table}.sql.gz"):
            f.unlink()
    out = tmp_path / "corpus"
    run(spark, parse_args(["--dumps", str(dumps), "--out", str(out), "--prob", "1.0"]))
    row = next(r for r in DeltaTable(str(out / "augmented")).to_pyarrow_table().to_pylist()
               if r["page_id"] == 1)
    assert row["text"] == "Thẻ <translate>Tokyo</translate> và Hà Nội."
    assert row["augmented_text"] == (
        "Thẻ <translate>Tokyo</translate> và Hà Nội<translate>Hanoi</translate>.")

    manifest = encode(spark, encode_args(["--table", str(out / "augmented"), "--tokenizer",
                                          bpe_tokenizer, "--out", str(tmp_path / "s")]))
    start, end = (manifest.special_tokens[r]["id"] for r in ("start_marker", "end_marker"))
    (doc,) = [d for d in ShardSet(tmp_path / "s").documents() if d.page_id == 1]
    tokens = np.asarray(doc.tokens)
    # One insertion: one pair of marker ids, both out of the loss; the literal tags in
    # the text are ordinary tokens, trained on.
    assert (tokens == start).sum() == 1 and (tokens == end).sum() == 1
    assert set(np.asarray(doc.mask)[np.isin(tokens, [start, end])]) == {0}
    assert (np.asarray(doc.mask) == 0).sum() == 2
