"""How many times the corpus job inserted each English name into the target wiki,
counted from its ``augmented`` table (what the model was trained on, not what the
generator meant to write): the dose of the report's dose-response figure."""

from __future__ import annotations

import json
from pathlib import Path

NAMES = "names.json"
TARGET_WIKI = "ruwiki"


def write_name_counts(corpus: Path) -> dict[str, int]:
    """``{English name: insertions}`` of the target wiki in ``corpus``, written to
    ``corpus/names.json`` once (read back after)."""
    out = corpus / NAMES
    if out.is_file():
        return read_name_counts(corpus)
    from pyspark.sql import functions as F

    from spark_jobs.session import build_spark

    spark = build_spark("leia-effect")  # the corpus job's session, when it ran here
    rows = (spark.read.format("delta").load(str(corpus / "augmented"))
            .where(F.col("wiki") == TARGET_WIKI)
            .select(F.explode("insertions.pivot_title").alias("name"))
            .groupBy("name").count().collect())
    counts = {r["name"]: r["count"] for r in rows}
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(dict(sorted(counts.items())), indent=1, ensure_ascii=False))
    tmp.rename(out)
    return counts


def read_name_counts(corpus: Path) -> dict[str, int]:
    return json.loads((corpus / NAMES).read_text())
