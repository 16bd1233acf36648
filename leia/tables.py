"""The Delta tables the corpus builder writes: names, schemas, partitioning.

This module is the contract between ``spark_jobs/augment.py`` (the writer) and every
reader (the encoder, the notebooks, delta-rs / DuckDB / Polars). Schemas are Spark DDL
strings so this stays importable without pyspark.
"""

from __future__ import annotations

PARTITION_COLUMN = "wiki"

LINK = ("start INT, end INT, target_title STRING, target_page_id BIGINT, "
        "pivot_title STRING, pivot_source STRING")
INSERTION = "offset INT, pivot_title STRING, anchor_start INT, anchor_end INT"

SCHEMAS: dict[str, str] = {
    # One row per article (namespace 0, not a redirect, wikitext). ``links[].start/end``
    # are character offsets of the anchor in ``text``; ``target_page_id`` is the article
    # the link leads to after redirects (null: no such article in the dump);
    # ``pivot_title`` its title on the pivot wiki (null: no counterpart), from
    # ``pivot_source``: langlinks or wikidata (the target's alignment), or template (an
    # interlanguage-link template that names the pivot wiki's article, such as
    # {{仮リンク|...|en|Title}}: the link's own, for a target the wiki may not have).
    "articles": ("wiki STRING, page_id BIGINT, title STRING, revision_id BIGINT, "
                 f"text STRING, links ARRAY<STRUCT<{LINK}>>, dump_date STRING"),
    # One row per page with a pivot-language counterpart. ``how``: langlinks, wikidata,
    # or "via redirect" (a redirect page, aligned through the article it leads to).
    "alignment": ("wiki STRING, page_id BIGINT, title STRING, pivot STRING, "
                  "pivot_title STRING, how STRING"),
    # One row per article. ``insertions[].offset`` is a character offset into ``text``
    # (for strategy "replace", the anchor start; the anchor is then not rendered);
    # ``insertions[].pivot_title`` is the name as inserted, after the title filters.
    # ``augmented_text`` is rendered with the markers for people; tokenisers must use
    # the offsets, since an article may itself contain the marker strings.
    "augmented": ("wiki STRING, page_id BIGINT, title STRING, text STRING, "
                  f"insertions ARRAY<STRUCT<{INSERTION}>>, augmented_text STRING"),
    # Bad input, with why. ``page_id`` where known; ``position``: for a page, the byte
    # offset in its (compressed) file of the split it was read in; null otherwise.
    "rejects": ("wiki STRING, source_file STRING, page_id BIGINT, position BIGINT, "
                "stage STRING, reason STRING"),
    # One row per wiki and run (appended, never replaced: the run history). ``bytes_in``:
    # uncompressed XML read; ``parse_seconds``: this wiki's parse time summed over
    # executors; ``seconds``: the wall time of the whole run (all its wikis);
    # ``links_aligned_by``: the aligned links per ``pivot_source``.
    "stats": ("wiki STRING, run_id STRING, run_started TIMESTAMP, dump_date STRING, "
              "pivot STRING, pages_read BIGINT, articles BIGINT, links BIGINT, "
              "links_resolved BIGINT, links_aligned BIGINT, insertions BIGINT, "
              "rejects BIGINT, bytes_in BIGINT, parse_seconds DOUBLE, seconds DOUBLE, "
              "links_aligned_by MAP<STRING, BIGINT>"),
}

TABLES = tuple(SCHEMAS)
REPLACED_PER_WIKI = ("articles", "alignment", "augmented", "rejects")
APPENDED = ("stats",)


def columns(table: str) -> list[str]:
    """Top-level column names of a table, in order."""
    out, depth, cur = [], 0, ""
    for ch in SCHEMAS[table]:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip().split(" ", 1)[0])
            cur = ""
        else:
            cur += ch
    out.append(cur.strip().split(" ", 1)[0])
    return out
