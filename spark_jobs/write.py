"""Writing the Delta tables: one atomic commit per table, replacing only the wikis of
this run (``replaceWhere``), so other wikis' partitions stay as they were. Columns are
only ever added to the schemas (``leia.tables``), so a table written by an older
version takes the new ones (``mergeSchema``); its old rows read them as null."""

from __future__ import annotations

import json

from pyspark.sql import DataFrame

from leia.tables import PARTITION_COLUMN, columns


def wiki_predicate(wikis: list[str]) -> str:
    quoted = ", ".join("'" + w.replace("'", "''") + "'" for w in sorted(wikis))
    return f"{PARTITION_COLUMN} IN ({quoted})"


def replace_wikis(df: DataFrame, path: str, table: str, wikis: list[str],
                  metadata: dict) -> None:
    (df.select(*columns(table)).write.format("delta").mode("overwrite")
     .option("replaceWhere", wiki_predicate(wikis)).option("mergeSchema", "true")
     .option("userMetadata", json.dumps(metadata, sort_keys=True))
     .partitionBy(PARTITION_COLUMN).save(path))


def append(df: DataFrame, path: str, table: str, metadata: dict) -> None:
    (df.select(*columns(table)).write.format("delta").mode("append")
     .option("mergeSchema", "true")
     .option("userMetadata", json.dumps(metadata, sort_keys=True))
     .partitionBy(PARTITION_COLUMN).save(path))
