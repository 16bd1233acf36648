"""The corpus job end to end on the bundled sample (real pages of 9 wikis)."""

import json
import shutil
import subprocess
import sys
import textwrap

import pytest
from pyspark.sql import functions as F

from leia.augment import Insertion, augmented_text, plan
from leia.params import STRATEGIES
from leia.tables import columns
from spark_jobs.augment import run
from spark_jobs.config import parse_args


def table(spark, out, name):
    return spark.read.format("delta").load(f"{out}/{name}")


def test_every_wiki_gets_articles_links_and_insertions(sample_run, spark):
    out, summary = sample_run
    by = {r["wiki"]: r for r in summary}
    assert set(by) == {"arwiki", "eswiki", "hiwiki", "jawiki", "ruwiki", "swwiki",
                       "zhwiki", "viwiki", "elwikivoyage"}
    assert by["elwikivoyage"]["articles"] == 1310  # ns 0, not redirects, in the XML
    assert by["viwiki"]["articles"] == 6
    for r in summary:
        assert r["links"] >= r["links_resolved"] and r["links"] >= r["links_aligned"]
        assert sum(r["links_aligned_by"].values()) == r["links_aligned"]
        assert r["rejects"] == 0, r
    assert by["jawiki"]["insertions"] > 0 and by["elwikivoyage"]["insertions"] > 300
    stats = table(spark, out, "stats").collect()
    assert {s.wiki for s in stats} == set(by) and len(stats) == 9
    for name in ("articles", "alignment", "augmented", "rejects", "stats"):
        assert table(spark, out, name).columns == columns(name)


def test_augmented_text_is_the_rendering_of_the_offsets(sample_run, spark):
    out, _ = sample_run
    arts = {(r.wiki, r.page_id): r for r in table(spark, out, "articles").collect()}
    for r in table(spark, out, "augmented").collect():
        a = arts[(r.wiki, r.page_id)]
        assert a.text == r.text
        spans = {(l.start, l.end): l for l in a.links}
        ins = [Insertion(i.offset, i.pivot_title, i.anchor_start, i.anchor_end)
               for i in r.insertions]
        assert augmented_text(r.text, ins) == r.augmented_text
        for i in ins:
            link = spans[(i.anchor_start, i.anchor_end)]
            assert i.offset == i.anchor_end  # strategy "right"
            assert link.pivot_title is not None
            assert (link.target_page_id is not None) != (link.pivot_source == "template")
            assert i.name == link.pivot_title.split(" (")[0]


def test_links_resolve_through_redirects_and_align(sample_run, spark):
    out, _ = sample_run
    al = table(spark, out, "alignment")
    how = {r.how for r in al.select("how").distinct().collect()}
    assert how == {"langlinks", "via redirect"}
    ja = al.where("wiki = 'jawiki'").collect()
    assert {r.title: r.pivot_title for r in ja}["ベルリン"] == "Berlin"
    assert {r.title: r.pivot_title for r in ja}["ドイツ"] == "Germany"
    # elwikivoyage links through redirects: the link target differs from the article
    links = (table(spark, out, "articles").where("wiki = 'elwikivoyage'")
             .select(F.explode("links").alias("l")).select("l.*"))
    assert links.where("target_page_id IS NOT NULL").count() > 4000


def test_interlanguage_templates_align_links_langlinks_cannot(sample_run, spark):
    """{{仮リンク|ベルリン・ボン法|en|Berlin-Bonn Act}}: no such jawiki article, so no
    langlinks row; the template names the English article, and the link aligns to it."""
    out, summary = sample_run
    by = {r["wiki"]: r["links_aligned_by"] for r in summary}
    assert by["jawiki"]["template"] > 10 and by["jawiki"]["langlinks"] > 10
    assert by["zhwiki"].get("template", 0) >= 1 and "template" not in by["elwikivoyage"]
    ja = (table(spark, out, "articles").where("wiki = 'jawiki'")
          .select(F.explode("links").alias("l")).select("l.*").collect())
    act = [l for l in ja if l.target_title == "ベルリン・ボン法"]
    assert act and all((l.pivot_title, l.pivot_source, l.target_page_id)
                       == ("Berlin-Bonn Act", "template", None) for l in act)
    # A template naming another language (de) gives no English title.
    assert all(l.pivot_title is None for l in ja if l.target_title == "2016年ベルリン市議会選挙")


def test_a_second_engine_reads_the_same_tables(sample_run, spark):
    """delta-rs (the deltalake package) reads what delta-spark wrote, without Spark."""
    out, _ = sample_run
    expected = {r.wiki: [r["count"], r.ins] for r in table(spark, out, "augmented")
                .groupBy("wiki").agg(F.count("*").alias("count"),
                                     F.sum(F.size("insertions")).alias("ins")).collect()}
    code = textwrap.dedent(f"""
        import json
        from deltalake import DeltaTable
        t = DeltaTable({str(out / 'augmented')!r}).to_pyarrow_table(
            columns=["wiki", "insertions", "augmented_text"])
        res = {{}}
        for w, ins in zip(t.column("wiki").to_pylist(), t.column("insertions").to_pylist()):
            c = res.setdefault(w, [0, 0]); c[0] += 1; c[1] += len(ins)
        print(json.dumps(res))
    """)
    # A subprocess: some deltalake versions abort the process at interpreter exit after
    # a read ("terminate called without an active exception"), the read itself right.
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    got = json.loads(done.stdout.strip().splitlines()[0])
    assert got == expected


@pytest.mark.slow
def test_rerunning_one_wiki_replaces_only_its_partitions(sample_run, spark, tmp_path):
    out = tmp_path / "corpus"  # the shared sample run stays as it is
    shutil.copytree(sample_run[0], out)
    aug = table(spark, out, "augmented")
    before = {r.wiki: r.h for r in aug.groupBy("wiki").agg(
        F.sum(F.hash("page_id", "augmented_text")).alias("h")).collect()}
    version = spark.sql(f"DESCRIBE HISTORY delta.`{out}/augmented`").first().version
    cfg = parse_args(["--out", str(out), "--wikis", "jawiki", "--strategy", "left",
                      "--seed", "7"])
    run(spark, cfg)
    aug = table(spark, out, "augmented")
    after = {r.wiki: r.h for r in aug.groupBy("wiki").agg(
        F.sum(F.hash("page_id", "augmented_text")).alias("h")).collect()}
    assert set(after) == set(before)
    assert {w for w in before if before[w] != after[w]} == {"jawiki"}
    ja = aug.where("wiki = 'jawiki'").first()
    assert ja.insertions and all(i.offset == i.anchor_start for i in ja.insertions)
    hist = spark.sql(f"DESCRIBE HISTORY delta.`{out}/augmented`").first()
    assert hist.version == version + 1
    assert json.loads(hist.userMetadata)["strategy"] == "left"
    stats = table(spark, out, "stats").groupBy("wiki").count().collect()
    assert {r.wiki: r["count"] for r in stats}["jawiki"] == 2


@pytest.mark.slow
def test_output_does_not_depend_on_partitioning(sample_run, spark, tmp_path):
    out, _ = sample_run
    other = tmp_path / "corpus"
    spark.conf.set("spark.sql.shuffle.partitions", "3")
    try:
        # 0.15 MB: about one bz2 block of the elwikivoyage file per split (10 MB of
        # XML in ~12 blocks of 900 KB, 1.7 MB compressed); smaller splits only add
        # empty tasks.
        run(spark, parse_args(["--out", str(other), "--wikis", "viwiki,elwikivoyage",
                               "--split-mb", "0.15"]))
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", "2")

    def rows(root):
        return sorted((r.wiki, r.page_id, r.augmented_text) for r in
                      table(spark, root, "augmented").where(
                          "wiki IN ('viwiki', 'elwikivoyage')").collect())
    assert rows(other) == rows(out)


@pytest.mark.slow
def test_skip_unchanged_rebuilds_only_new_changed_and_failed_wikis(spark, tmp_path):
    from conftest import copy_sample

    dumps = copy_sample(tmp_path / "dumps", ["jawiki", "zhwiki"])
    out = tmp_path / "corpus"
    args = ["--dumps", str(dumps), "--out", str(out), "--skip-unchanged"]

    def built(*extra):
        return sorted(r["wiki"] for r in run(spark, parse_args(args + list(extra))))

    def version():
        return spark.sql(f"DESCRIBE HISTORY delta.`{out}/augmented`").first().version

    assert built() == ["jawiki", "zhwiki"]
    xml = next(dumps.glob("jawiki-*-pages-articles.xml.bz2"))
    whole = xml.read_bytes()
    xml.write_bytes(whole[:len(whole) // 2])  # a file replaced (truncated)...
    for f in dumps.glob("zhwiki-20210901-*"):  # ...and a new dump of the other wiki
        f.rename(f.with_name(f.name.replace("20210901", "20211001")))
    assert built() == ["jawiki", "zhwiki"]  # jawiki's run fails: no articles
    # Failed last time: jawiki is tried again and zhwiki skipped, so the only wiki to
    # build is unreadable: a clear error.
    with pytest.raises(ValueError, match="no readable pages-articles file: .*truncated"):
        built()
    xml.write_bytes(whole)
    assert built("--seed", "7") == ["jawiki", "zhwiki"]  # zhwiki: other parameters
    v = version()
    assert built("--seed", "7") == [] and version() == v  # nothing changed: nothing written


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_spark_and_python_render_every_strategy_alike(sample_run, spark, strategy):
    from leia.tables import INSERTION
    from spark_jobs.build import augmented_text_column

    out, _ = sample_run
    markers = ("⟦", "⟧")
    rows = [("Tōkyō 😀 is in 𝕁apan, near Ōsaka.",
             plan("w", 1, [(0, 5, "Tokyo"), (15, 21, "Japan"), (28, 33, "Osaka")],
                  strategy, 1.0))]
    for a in table(spark, out, "articles").where("size(links) > 0").limit(100).collect():
        spans = [(l.start, l.end, l.pivot_title) for l in a.links]
        rows.append((a.text, plan(a.wiki, a.page_id, spans, strategy, 0.7)))
    assert sum(len(ins) for _, ins in rows) > 100, "too few insertions to compare"
    df = spark.createDataFrame(
        [(t, [(i.offset, i.name, i.anchor_start, i.anchor_end) for i in ins])
         for t, ins in rows], f"text STRING, insertions ARRAY<STRUCT<{INSERTION}>>")
    got = [r[0] for r in df.select(augmented_text_column(
        F.col("text"), F.col("insertions"), strategy, markers)).collect()]
    assert got == [augmented_text(t, ins, strategy, markers) for t, ins in rows]
