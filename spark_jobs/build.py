"""The joins of the corpus build: pages -> titles -> redirects -> alignment -> links.

Each function takes DataFrames and returns DataFrames; nothing is collected to the
driver except per-wiki counts.
"""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from leia.params import AugmentParams
from leia.params import strategy as strategy_of
from leia.records import augment_article
from leia.tables import INSERTION, LINK

from .arrow_rows import arrow_schema

MAX_REDIRECT_HOPS = 5


def first_per(df: DataFrame, keys: list[str], order: list) -> tuple[DataFrame, DataFrame]:
    """(the first row per key, every other row) by ``order``."""
    w = Window.partitionBy(*keys).orderBy(*order)
    ranked = df.withColumn("_rank", F.row_number().over(w))
    return (ranked.filter("_rank = 1").drop("_rank"),
            ranked.filter("_rank > 1").drop("_rank"))


def dedupe_pages(pages: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Pages (namespace 0, parsed) without duplicate page ids, and rejects for the
    duplicates: the newest revision wins. Ranked on narrow rows, so article text is
    never shuffled for it; duplicates are rare, so the losers are broadcast."""
    good = pages.filter("reject IS NULL AND ns = 0")
    narrow = good.select("wiki", "page_id", "revision_id", "source_file", "position", "seq")
    dup_keys = narrow.groupBy("wiki", "page_id").count().filter("count > 1").drop("count")
    _, losers = first_per(narrow.join(dup_keys, ["wiki", "page_id"]), ["wiki", "page_id"],
                          [F.col("revision_id").desc_nulls_last(), "source_file",
                           "position", "seq"])
    losers = losers.select("wiki", "page_id", "source_file", "position", "seq"
                           ).localCheckpoint()
    kept = good.join(F.broadcast(losers.select("wiki", "page_id", "seq")),
                     ["wiki", "page_id", "seq"], "left_anti")
    rejects = losers.select("wiki", "source_file", "page_id", "position",
                            F.lit("parse").alias("stage"),
                            F.lit("duplicate_page_id: an older copy of a page id seen "
                                  "elsewhere in the dump; the newest revision is kept")
                            .alias("reason"))
    return kept, rejects


def page_titles(pages: DataFrame, sql_pages: DataFrame | None) -> DataFrame:
    """(wiki, title, page_id, is_redirect) of every namespace-0 page, from the XML and,
    when given, the page SQL table (which also knows pages outside an excerpt)."""
    titles = pages.select("wiki", "title", "page_id", "is_redirect")
    if sql_pages is not None:
        titles = titles.unionByName(sql_pages)
    # One page per title (the XML and the page table name the same pages): articles
    # before redirects, then the lowest id.
    kept, _ = first_per(titles, ["wiki", "title"], ["is_redirect", "page_id"])
    return kept


def resolve_redirects(pages: DataFrame, sql_redirects: DataFrame | None,
                      titles: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(wiki, redirect page_id, article page_id it finally leads to) and rejects for
    cycles, chains over MAX_REDIRECT_HOPS and interwiki redirects."""
    edges = pages.filter("is_redirect").select(
        "wiki", F.col("page_id").alias("src"), F.col("redirect_ns").alias("ns"),
        F.col("redirect_title").alias("target"), F.lit(None).cast("string").alias("iw"))
    if sql_redirects is not None:
        edges = edges.unionByName(sql_redirects)
    edges, _ = first_per(edges, ["wiki", "src"], [F.col("iw").asc_nulls_first()])
    interwiki = edges.filter("iw IS NOT NULL AND iw != ''")
    local = edges.filter("(iw IS NULL OR iw = '') AND ns = 0")
    t = titles.select("wiki", F.col("title").alias("target"),
                      F.col("page_id").alias("dst"), F.col("is_redirect").alias("dst_redirect"))
    step = local.join(t, ["wiki", "target"], "inner").select(
        "wiki", "src", "dst", "dst_redirect").localCheckpoint()
    hop = step.select("wiki", F.col("src").alias("dst"), F.col("dst").alias("next"))
    state = step.withColumn("broken", F.lit(False)).localCheckpoint()
    for _ in range(MAX_REDIRECT_HOPS - 1):
        if state.filter("dst_redirect AND NOT broken").isEmpty():
            break  # every chain has ended: most wikis need one hop or two
        state = (state.join(hop, ["wiki", "dst"], "left")
                 .select("wiki", "src",
                         F.when(F.col("dst_redirect") & F.col("next").isNotNull(),
                                F.col("next")).otherwise(F.col("dst")).alias("dst"),
                         (F.col("broken") | (F.col("dst_redirect") & F.col("next").isNull()))
                         .alias("broken"))
                 .join(t.select("wiki", "dst", "dst_redirect"), ["wiki", "dst"], "left")
                 .localCheckpoint())  # keeps each hop's plan small
    resolved = state.filter("NOT dst_redirect").select("wiki", "src", "dst")
    # A chain that ends at a page outside the dump is a red link, not bad input.
    looping = state.filter("dst_redirect AND NOT broken").select("wiki", "src")
    def reject(df, reason):
        return df.select("wiki", F.lit(None).cast("string").alias("source_file"),
                         F.col("src").alias("page_id"),
                         F.lit(None).cast("bigint").alias("position"),
                         F.lit("redirects").alias("stage"), reason.alias("reason"))

    rejects = reject(looping, F.lit(f"redirect_loop: a cycle or a chain over "
                                    f"{MAX_REDIRECT_HOPS} hops; dropped")).unionByName(
        reject(interwiki, F.concat(F.lit("redirect_interwiki: leads to another wiki ("),
                                   F.col("iw"), F.lit("); dropped"))))
    return resolved, rejects


def link_targets(titles: DataFrame, redirects: DataFrame) -> DataFrame:
    """(wiki, title, target_page_id, via_redirect): where a link to ``title`` leads."""
    articles = titles.filter("NOT is_redirect").select(
        "wiki", "title", F.col("page_id").alias("target_page_id"),
        F.lit(False).alias("via_redirect"))
    via = (titles.filter("is_redirect")
           .join(redirects.withColumnRenamed("src", "page_id"), ["wiki", "page_id"])
           .select("wiki", "title", F.col("dst").alias("target_page_id"),
                   F.lit(True).alias("via_redirect")))
    return articles.unionByName(via)


def alignment(titles: DataFrame, redirects: DataFrame, langlinks: DataFrame | None,
              wikidata: DataFrame | None, pivot: str) -> DataFrame:
    """The ``alignment`` table: each article's pivot title (langlinks first, then
    Wikidata), and each redirect's through the article it leads to. Articles are all
    namespace-0 non-redirect pages known from the XML or the page table."""
    arts = titles.filter("NOT is_redirect").select("wiki", "page_id", "title")
    sources = []
    if langlinks is not None:
        sources.append(arts.join(langlinks, ["wiki", "page_id"])
                       .select("wiki", "page_id", "title", "pivot_title",
                               F.lit("langlinks").alias("how"), F.lit(0).alias("_pref")))
    if wikidata is not None:
        sources.append(arts.join(wikidata, ["wiki", "title"])
                       .select("wiki", "page_id", "title", "pivot_title",
                               F.lit("wikidata").alias("how"), F.lit(1).alias("_pref")))
    if not sources:
        raise ValueError("no alignment source: give langlinks files or --wikidata")
    aligned = sources[0]
    for s in sources[1:]:
        aligned = aligned.unionByName(s)
    aligned, _ = first_per(aligned, ["wiki", "page_id"], ["_pref", "pivot_title"])
    aligned = aligned.drop("_pref")
    via = (titles.filter("is_redirect")
           .join(redirects.withColumnRenamed("src", "page_id"), ["wiki", "page_id"])
           .join(aligned.select("wiki", F.col("page_id").alias("dst"), "pivot_title"),
                 ["wiki", "dst"])
           .select("wiki", "page_id", "title", "pivot_title",
                   F.lit("via redirect").alias("how")))
    return (aligned.unionByName(via)
            .select("wiki", "page_id", "title", F.lit(pivot).alias("pivot"),
                    "pivot_title", "how"))


def resolve_links(articles: DataFrame, targets: DataFrame, aligned: DataFrame, pivot: str
                  ) -> DataFrame:
    """(wiki, page_id, resolved): per article, its links' ordinals -> (target page id,
    pivot title, pivot source), for the links that lead to an article or have a pivot
    title: their target's alignment, else the one an interlanguage template names."""
    links = articles.select("wiki", "page_id",
                            F.posexplode("links").alias("ordinal", "link"))
    links = links.select("wiki", "page_id", "ordinal", F.col("link.target").alias("title"),
                         "link.hint_lang", "link.hint_title")
    names = aligned.filter("how != 'via redirect'").select(
        "wiki", F.col("page_id").alias("target_page_id"), "pivot_title",
        F.col("how").alias("pivot_source"))
    resolved = (links.join(targets, ["wiki", "title"], "left")
                .join(names, ["wiki", "target_page_id"], "left"))
    hinted = F.col("pivot_title").isNull() & (F.col("hint_lang") == pivot)
    resolved = (resolved
                .withColumn("pivot_source", F.when(hinted, F.lit("template"))
                            .otherwise(F.col("pivot_source")))
                .withColumn("pivot_title", F.when(hinted, F.col("hint_title"))
                            .otherwise(F.col("pivot_title")))
                .filter("target_page_id IS NOT NULL OR pivot_title IS NOT NULL"))
    return resolved.groupBy("wiki", "page_id").agg(
        F.collect_list(F.struct("ordinal", "target_page_id", "pivot_title",
                                "pivot_source")).alias("resolved"))


def plan_insertions(articles: DataFrame, resolved: DataFrame, params: AugmentParams
                    ) -> DataFrame:
    """Per article (without its text): its links with their targets and pivot titles,
    and the insertions the augmentation makes (``leia.records.augment_article``)."""
    slim = articles.select("wiki", "page_id", "seq", "title", "revision_id", "links"
                           ).join(resolved, ["wiki", "page_id"], "left")
    schema = ("wiki STRING, page_id BIGINT, seq BIGINT, title STRING, revision_id BIGINT, "
              f"links ARRAY<STRUCT<{LINK}>>, insertions ARRAY<STRUCT<{INSERTION}>>")
    arrow = arrow_schema(schema)
    kept = ("wiki", "page_id", "seq", "title", "revision_id")

    def per_batch(batches):  # Arrow both ways: no Row objects, no pickling
        for b in batches:
            c = b.to_pydict()
            full, insertions = [], []
            for wiki, page_id, links, res in zip(c["wiki"], c["page_id"], c["links"],
                                                 c["resolved"]):
                by_ordinal = {x["ordinal"]: (x["target_page_id"], x["pivot_title"],
                                             x["pivot_source"]) for x in res or ()}
                f, i = augment_article(
                    wiki, page_id, [(l["start"], l["end"], l["target"]) for l in links],
                    by_ordinal, params)
                full.append(f)
                insertions.append(i)
            yield pa.RecordBatch.from_arrays(
                [b.column(k).cast(arrow.field(k).type) for k in kept]
                + [pa.array(full, type=arrow.field("links").type),
                   pa.array(insertions, type=arrow.field("insertions").type)], schema=arrow)

    return slim.mapInArrow(per_batch, schema)


def attach_text(planned: DataFrame, texts: DataFrame, dump_dates: dict[str, str]
                ) -> DataFrame:
    """``planned`` with each article's text (``texts``: seq, text) and its dump date:
    every column of ``articles``, and of ``augmented`` but the rendered text. The text
    never goes through Python here: the JVM joins it on."""
    dates = F.create_map(*[F.lit(x) for kv in sorted(dump_dates.items()) for x in kv]) \
        if dump_dates else F.create_map()
    return (planned.join(texts, "seq").drop("seq")
            .withColumn("dump_date", dates[F.col("wiki")]))


def add_augmented_text(full: DataFrame, params: AugmentParams) -> DataFrame:
    """``full`` with ``augmented_text``, rendered in the JVM from the offsets (the same
    rendering as ``leia.augment.augmented_text``, which tests compare)."""
    return full.withColumn("augmented_text", augmented_text_column(
        F.col("text"), F.col("insertions"), params.strategy, params.markers))


def augmented_text_column(text, insertions, strategy: str, markers: tuple[str, str]):
    """``leia.augment.augmented_text`` as a Spark column: splice each name in at its offset
    (character offsets, as Spark's substring counts them too)."""
    keeps_anchor = strategy_of(strategy).keeps_anchor

    def step(state, ins):
        piece = text.substr(state["pos"] + 1, ins["offset"] - state["pos"])
        resume = ins["offset"] if keeps_anchor else ins["anchor_end"]
        return F.struct(resume.alias("pos"),
                        F.concat(state["acc"], piece, F.lit(markers[0]),
                                 ins["pivot_title"], F.lit(markers[1])).alias("acc"))

    start = F.struct(F.lit(0).alias("pos"), F.lit("").alias("acc"))
    return F.aggregate(insertions, start, step,
                       lambda s: F.concat(s["acc"], text.substr(s["pos"] + 1, F.length(text))))
