"""Dump files -> DataFrames: pages (parsed), SQL tables, Wikidata sitelinks.

The one place that wraps the ``leia`` parsers for Spark. Pages-articles XML is read with
Spark's text source split on ``</page>``: Hadoop's bzip2 codec cuts a .bz2 file at
compressed-block boundaries, so one large file is read by many tasks (``--split-mb``),
every page exactly once (tests check that against a sequential read).
"""

from __future__ import annotations

from urllib.parse import unquote

import pyarrow as pa
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from leia.dumps import WikiDump, bz2_complete
from leia.languages import language_of
from leia.records import PAGE_FIELDS, WikiContext, parse_record
from leia.siteinfo import SiteInfo, parse_siteinfo
from leia.sqldump import SqlDumpError, Table, parse_create_table, parse_insert
from leia.wikidata import entities_in, pivot_site, sitelink_pairs

from . import hadoopfs

# The parsed pages, in the field order of ``leia.records.parse_record``'s tuples; the
# Python side builds Arrow batches of this schema, Spark reads them as PAGES_SCHEMA.
PAGES_ARROW = pa.schema([
    ("wiki", pa.string()), ("source_file", pa.string()), ("position", pa.int64()),
    ("page_id", pa.int64()), ("ns", pa.int32()), ("title", pa.string()),
    ("is_redirect", pa.bool_()), ("redirect_ns", pa.int32()),
    ("redirect_title", pa.string()), ("revision_id", pa.int64()), ("text", pa.string()),
    ("links", pa.list_(pa.struct([("start", pa.int32()), ("end", pa.int32()),
                                  ("target", pa.string())]))),
    ("bytes_in", pa.int64()), ("parse_seconds", pa.float64()), ("reject", pa.string())])
assert PAGES_ARROW.names == list(PAGE_FIELDS)
PAGES_SCHEMA = from_arrow_schema(PAGES_ARROW)


def check_bz2(spark, path: str, size: int) -> str | None:
    """Why a .bz2 file cannot be read whole, or None. Done on the driver from the
    file's first and last bytes, so a truncated download is rejected up front instead
    of failing the Spark job halfway."""
    if not path.endswith(".bz2"):
        return None
    if size == 0:
        return "empty file"
    head = hadoopfs.read_range(spark, path, 0, 4)
    tail = hadoopfs.read_range(spark, path, max(0, size - 11), 11)
    if not bz2_complete(head, tail):
        return ("truncated or corrupt bz2 (no end-of-stream marker at the end); "
                "download the file again")
    return None


def read_siteinfo(spark, dump: WikiDump) -> SiteInfo:
    head = hadoopfs.read_head_text(spark, dump.xml[0], "</siteinfo>")
    try:
        return parse_siteinfo(head)
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"{dump.xml[0]}: cannot read <siteinfo> ({e}); is it a "
                         "pages-articles XML dump?") from e


def read_pages(spark, dumps: dict[str, WikiDump], sites: dict[str, SiteInfo],
               split_mb: float):
    """Every page of every requested wiki, parsed: one row per page (PAGES_SCHEMA).

    One scan over all XML files (Spark's text source split on ``</page>``, which cuts
    .bz2 files at block boundaries), rows moved between the JVM and Python as Arrow
    batches. ``position`` is the start of the split the page was read in."""
    contexts = {_base(path): WikiContext(wiki, language_of(wiki), sites[wiki])
                for wiki, dump in dumps.items() for path in dump.xml}
    paths = [path for dump in dumps.values() for path in dump.xml]
    if not paths:
        return (spark.createDataFrame([], PAGES_SCHEMA)
                .withColumn("seq", F.lit(None).cast("bigint")))

    def parse_batches(batches):
        for batch in batches:
            rows = []
            for record, file, position in zip(*(c.to_pylist() for c in batch.columns)):
                if "<page" in record:
                    name = _base(file)
                    rows.extend(parse_record(record, position, contexts[name], name))
            if rows:
                yield pa.RecordBatch.from_arrays(
                    [pa.array(col, type=f.type) for col, f in zip(zip(*rows), PAGES_ARROW)],
                    schema=PAGES_ARROW)

    # Session settings, read when the scan is planned (and the cache built): the split
    # size, and batches of a thousand pages both for Arrow and for the cache of parsed
    # pages, each of whose column batches is built in one buffer. Spark's default of
    # 10,000 rows of long articles (40 KB of text each) is 400 MB per task: it ran a
    # 1 GB dump out of the default 1 GB heap on 2 cores.
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(int(split_mb * (1 << 20))))
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "1000")
    spark.conf.set("spark.sql.inMemoryColumnarStorage.batchSize", "1000")
    records = (spark.read.option("lineSep", "</page>").text(paths)
               .select("value", "_metadata.file_path", "_metadata.file_block_start"))
    # ``seq`` tells apart two copies of a page read in the same split.
    return (records.mapInArrow(parse_batches, PAGES_SCHEMA)
            .withColumn("seq", F.monotonically_increasing_id()))


def read_sql_header(spark, path: str) -> Table:
    head = hadoopfs.read_head_text(spark, path, "\n) ENGINE")
    try:
        return parse_create_table(head)
    except SqlDumpError as e:
        raise ValueError(f"{path}: {e}") from e


def read_sql(spark, files: dict[str, str], columns: tuple[str, ...], keep=None):
    """All rows of one table kind (every file in ``files``, path -> wiki) in one scan:
    an RDD of (wiki, values of ``columns``), columns mapped by name from each file's own
    CREATE TABLE; and an RDD of ``rejects`` rows for the lines that could not be parsed.
    One scan for all files, since a Spark input per file costs about half a second of
    driver time, and a run over every Wikipedia has about a thousand such files."""
    layouts = {}
    for path, wiki in files.items():
        table = read_sql_header(spark, path)
        layouts[_base(path)] = (wiki, table.index(columns, path), len(table.columns))

    def parse_partition(rows):
        for file, line in rows:
            if not line.startswith("INSERT INTO"):
                continue
            name = _base(file)
            wiki, idx, width = layouts[name]
            good, err = parse_insert(line, width)
            for row in good:
                values = tuple(row[i] for i in idx)
                if keep is None or keep(values):
                    yield ("row", (wiki, values))
            if err:
                yield ("reject", (wiki, name, None, None, "sql",
                                  f"bad SQL line ({len(good)} rows kept before it): {err}"))

    lines = spark.read.text(list(files)).select(F.input_file_name(), "value")
    parsed = lines.rdd.mapPartitions(parse_partition).cache()
    return (parsed.filter(lambda kv: kv[0] == "row").map(lambda kv: kv[1]),
            parsed.filter(lambda kv: kv[0] == "reject").map(lambda kv: kv[1]))


def _base(uri: str) -> str:
    return unquote(uri.rsplit("/", 1)[-1])


def read_wikidata(spark, path: str, pivot: str, wikis: list[str]):
    """(wiki, title, pivot_title) from Wikidata JSON sitelinks, for the wikis asked."""
    sites = {w: pivot_site(w, pivot) for w in wikis}
    sc = spark.sparkContext

    def pairs(docs):
        for _, text in docs:
            for entity in entities_in(text):
                yield from sitelink_pairs(entity, sites)

    # Dumps (``wikidata-*-all.json.bz2``, ``*.jsonl``) hold one entity per line and are
    # split across tasks; EntityData files are one pretty-printed document each.
    if "-all.json" in path or path.endswith((".jsonl", ".jsonl.gz", ".jsonl.bz2")):
        lines = sc.textFile(path).map(lambda s: (None, s))
    else:
        lines = sc.wholeTextFiles(path)
    return spark.createDataFrame(lines.mapPartitions(pairs),
                                 "wiki STRING, title STRING, pivot_title STRING")
