"""Dump files -> DataFrames: pages (parsed), SQL tables, Wikidata sitelinks.

The one place that wraps the ``leia`` parsers for Spark. A pages-articles .bz2 file is
cut into pieces (``--split-mb``), one task each, every page read exactly once (tests
check that against a sequential read): by ``leia.bz2blocks`` in the Python workers
where they can open the file (libbz2, at bzip2 block boundaries), else by Spark's text
source split on ``</page>`` (Hadoop's bzip2 codec cuts at the same boundaries, in Java).
"""

from __future__ import annotations

from urllib.parse import unquote, urlparse

import pyarrow as pa
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from leia import storage
from leia.bz2blocks import read_split
from leia.dumps import WikiDump, bz2_complete
from leia.languages import language_of
from leia.records import PAGE_FIELDS, WikiContext, parse_record, unreadable_block_row
from leia.siteinfo import SiteInfo, parse_siteinfo
from leia.sqldump import SqlDumpError, Table, parse_create_table, parse_insert
from leia.titles import sql_title
from leia.wikidata import entities_in, pivot_site, sitelink_pairs

from . import hadoopfs
from .arrow_rows import arrow_batches

# The parsed pages, in the field order of ``leia.records.parse_record``'s tuples; the
# Python side builds Arrow batches of this schema, Spark reads them as PAGES_SCHEMA.
PAGES_ARROW = pa.schema([
    ("wiki", pa.string()), ("source_file", pa.string()), ("position", pa.int64()),
    ("page_id", pa.int64()), ("ns", pa.int32()), ("title", pa.string()),
    ("is_redirect", pa.bool_()), ("redirect_ns", pa.int32()),
    ("redirect_title", pa.string()), ("revision_id", pa.int64()), ("text", pa.string()),
    ("links", pa.list_(pa.struct([("start", pa.int32()), ("end", pa.int32()),
                                  ("target", pa.string()), ("hint_lang", pa.string()),
                                  ("hint_title", pa.string())]))),
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
    except Exception as e:
        raise ValueError(f"{dump.xml[0]}: cannot read <siteinfo> ({e}); is it a "
                         "pages-articles XML dump?") from e


def read_pages(spark, dumps: dict[str, WikiDump], sites: dict[str, SiteInfo],
               split_mb: float, sizes: dict[str, int] | None = None,
               reader: str = "auto", variant: str | None = None):
    """Every page of every requested wiki, parsed: one row per page (PAGES_SCHEMA).

    Each file is cut into pieces of ``split_mb`` compressed MB, one task each. .bz2
    files the Python workers can open (``reader``: "auto" = on a local or shared disk,
    "python" = also any URI pyarrow's file systems open, "hadoop" = none) are read by
    ``leia.bz2blocks`` (libbz2); the rest by Spark's text source split on ``</page>``
    (Hadoop's bzip2 codec, in Java). ``position`` is the start of the piece the page
    was read in; ``sizes`` are the files' sizes (listed when missing). ``variant``
    (``zh-hant``...) applies to the wikis of its language."""
    def context(wiki):
        lang = language_of(wiki)
        own = variant if variant and variant.split("-")[0] == lang else None
        return WikiContext(wiki, lang, sites[wiki], own)

    contexts = {_base(path): context(wiki) for wiki, dump in dumps.items()
                for path in dump.xml}
    paths = [path for dump in dumps.values() for path in dump.xml]
    split = max(1, int(split_mb * (1 << 20)))
    limit_batches(spark)
    ours = [p for p in paths if _python_reads(p, reader)]
    frames = []
    if ours:
        if sizes is None or any(p not in sizes for p in ours):
            sizes = {**hadoopfs.file_sizes(spark, ours), **(sizes or {})}
        pieces = [(p, a, min(a + split, sizes[p])) for p in ours
                  for a in range(0, sizes[p], split)]
        if pieces:  # none when every file is empty
            frames.append(_read_pieces(spark, pieces, contexts))
    rest = [p for p in paths if p not in ours]
    if rest:
        frames.append(_read_hadoop(spark, rest, contexts, split))
    if not frames:
        frames.append(spark.createDataFrame([], PAGES_SCHEMA))
    pages = frames[0] if len(frames) == 1 else frames[0].unionByName(frames[1])
    # ``seq`` tells apart two copies of a page read in the same piece.
    return pages.withColumn("seq", F.monotonically_increasing_id())


def limit_batches(spark) -> None:
    """Arrow batches of a thousand rows or 16 MB, also the size of the cache's column
    batches, each built in one buffer: Spark's default of 10,000 rows of long articles
    (40 KB of text each) is 400 MB per task, which ran a 1 GB dump out of the default
    1 GB heap on 2 cores; and a SQL dump's lines are 1 MB each."""
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "1000")
    spark.conf.set("spark.sql.execution.arrow.maxBytesPerBatch", str(16 << 20))
    spark.conf.set("spark.sql.inMemoryColumnarStorage.batchSize", "1000")


def _python_reads(path: str, reader: str) -> bool:
    if reader == "hadoop" or not path.endswith(".bz2"):
        return False
    return reader == "python" or urlparse(path).scheme in ("", "file")


def _open(uri: str):
    """A seekable binary file in a Python worker, on any file system pyarrow knows
    (local disks, s3:// and Hadoop's s3a://, gs://, hdfs:// with libhdfs...)."""
    fs, path = storage.filesystem(uri)
    return fs.open_input_file(path)


def _read_pieces(spark, pieces: list[tuple[str, int, int]], contexts):
    """The pages of .bz2 file pieces (path, start, end), one task per piece."""
    def parse_pieces(batches):
        for batch in batches:
            for i in batch.column(0).to_pylist():
                yield from arrow_batches(_piece_rows(*pieces[i], contexts),
                                         PAGES_ARROW)

    return (spark.range(0, len(pieces), 1, len(pieces))
            .mapInArrow(parse_pieces, PAGES_SCHEMA))


def _piece_rows(path: str, start: int, end: int, contexts):
    name = _base(path)
    ctx = contexts[name]
    with _open(path) as f:
        for record in read_split(f, start, end):
            if isinstance(record, int):  # a corrupt block that begins in this piece
                yield unreadable_block_row(ctx, name, start, record // 8)
            elif b"<page" in record:
                yield from parse_record(record.decode("utf-8", "replace"), start, ctx, name)


def _read_hadoop(spark, paths: list[str], contexts, split: int):
    """The pages of files read by Spark's text source split on ``</page>``."""
    def parse_batches(batches):
        for batch in batches:
            def rows(batch=batch):
                for record, file, position in zip(*(c.to_pylist() for c in batch.columns)):
                    if "<page" in record:
                        name = _base(file)
                        yield from parse_record(record, position, contexts[name], name)
            yield from arrow_batches(rows(), PAGES_ARROW)

    # The split size is read when the scan is planned.
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(split))
    records = (spark.read.option("lineSep", "</page>").text(paths)
               .select("value", "_metadata.file_path", "_metadata.file_block_start"))
    return records.mapInArrow(parse_batches, PAGES_SCHEMA)


def read_sql_header(spark, path: str) -> Table:
    head = hadoopfs.read_head_text(spark, path, "\n) ENGINE")
    try:
        return parse_create_table(head)
    except SqlDumpError as e:
        raise ValueError(f"{path}: {e}") from e


# Every row of every SQL table of the run, in one frame: the columns of the three
# tables share slots (``table`` says which), and a line that cannot be parsed is a row
# of table "reject" with its reason.
SQL_ARROW = pa.schema([
    ("table", pa.string()), ("wiki", pa.string()), ("page_id", pa.int64()),
    ("ns", pa.int32()), ("title", pa.string()), ("is_redirect", pa.bool_()),
    ("iw", pa.string()), ("source_file", pa.string()), ("reason", pa.string())])
SQL_ROWS = from_arrow_schema(SQL_ARROW)


def _langlinks_row(v, pivot, first_letter):
    # Only the pivot language's rows are kept: the other languages are most of the file.
    return (int(v[0]), None, v[2], None, None) if v[1] == pivot else None


def _page_row(v, pivot, first_letter):
    return ((int(v[0]), 0, sql_title(v[2], first_letter), v[3] == "1", None)
            if v[1] == "0" else None)


def _redirect_row(v, pivot, first_letter):
    return (int(v[0]), int(v[1]), sql_title(v[2], first_letter), None, v[3] or None)


# table: (the columns read, by name, from each file's CREATE TABLE; values -> the
# (page_id, ns, title, is_redirect, iw) slots, or None to drop the row)
SQL_TABLES = {
    "langlinks": (("ll_from", "ll_lang", "ll_title"), _langlinks_row),
    "page": (("page_id", "page_namespace", "page_title", "page_is_redirect"), _page_row),
    "redirect": (("rd_from", "rd_namespace", "rd_title", "rd_interwiki"), _redirect_row),
}


def read_sql(spark, files: dict[str, tuple[str, str]], pivot: str,
             first_letter: dict[str, bool]):
    """The rows of every SQL file of the run (``files``: path -> (table, wiki)) as one
    frame of SQL_ROWS, read in one scan: a Spark input costs about half a second of
    driver time and each scan a job, and a run over every Wikipedia has about a
    thousand such files. Columns are mapped by name from each file's own CREATE TABLE."""
    layouts = {}
    for path, (table, wiki) in files.items():
        header = read_sql_header(spark, path)
        columns, convert = SQL_TABLES[table]
        layouts[_base(path)] = (table, wiki, header.index(columns, path),
                                len(header.columns), convert, first_letter[wiki])

    def rows(lines):
        for file, line in lines:
            if not line.startswith("INSERT INTO"):
                continue
            name = _base(file)
            table, wiki, idx, width, convert, fl = layouts[name]
            good, err = parse_insert(line, width)
            for row in good:
                try:
                    slots = convert(tuple(row[i] for i in idx), pivot, fl)
                except (TypeError, ValueError) as e:  # NULL or text in a number column
                    yield ("reject", wiki, None, None, None, None, None, name,
                           f"bad SQL row {row!r:.200}: {e}")
                    continue
                if slots is not None:
                    yield (table, wiki, *slots, None, None)
            if err:
                yield ("reject", wiki, None, None, None, None, None, name,
                       f"bad SQL line ({len(good)} rows kept before it): {err}")

    def per_batch(batches):
        for batch in batches:
            yield from arrow_batches(rows(zip(*(c.to_pylist() for c in batch.columns))),
                                     SQL_ARROW)

    limit_batches(spark)
    lines = spark.read.text(list(files)).select(F.input_file_name(), "value")
    return lines.mapInArrow(per_batch, SQL_ROWS)


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
