"""LEIA corpus builder: Wikimedia dumps -> augmented Delta tables.

    spark-submit spark_jobs/augment.py --dumps DIR --wikis jawiki,zhwiki --out ROOT
    python spark_jobs/augment.py                       # the bundled sample, local[*]

Reads each wiki's pages-articles XML (many tasks per file), langlinks / page / redirect
SQL and optionally Wikidata sitelinks; writes ROOT/{articles, alignment, augmented,
rejects, stats}, replacing only the partitions of the wikis in this run.
"""

from __future__ import annotations

import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyspark import StorageLevel
from pyspark.sql import functions as F

from leia.dumps import WikiDump, plan_dumps
from leia.records import UNREADABLE
from leia.tables import SCHEMAS, columns
from spark_jobs import build, hadoopfs, read, write
from spark_jobs.config import AugmentConfig, parse_args
from spark_jobs.session import build_spark, check_executors, run_job


def plan(spark, cfg: AugmentConfig) -> tuple[dict[str, WikiDump], dict[str, int]]:
    """Find every file of the run (and their sizes) and check the arguments against
    them, before any work starts."""
    sizes = dict(hadoopfs.list_files(spark, cfg.dumps))
    wanted = cfg.wiki_list()
    dumps = plan_dumps(list(sizes), wanted, cfg.date)
    if wanted is not None:
        missing = [w for w in wanted if w not in dumps]
        if missing:
            found = sorted(plan_dumps(list(sizes), None, None))
            raise ValueError(
                f"no pages-articles dump for {', '.join(missing)} in {cfg.dumps}"
                + (f" on {cfg.date}" if cfg.date else "")
                + f"; wikis found there: {', '.join(found) or 'none'}")
    if not dumps:
        raise ValueError(f"no pages-articles dumps in {cfg.dumps} (files must be named "
                         "as Wikimedia names them: jawiki-20240101-pages-articles.xml.bz2)")
    if cfg.alignment == "langlinks":  # with "both", Wikidata covers a missing file
        for wiki, d in dumps.items():
            if d.langlinks is None:
                raise ValueError(
                    f"{wiki}: missing {cfg.dumps.rstrip('/')}/{wiki}-{d.date}-langlinks"
                    ".sql.gz, needed to align its links to the pivot language; download "
                    "it, or use --alignment wikidata --wikidata PATH")
    return dumps, sizes


def main(argv: list[str] | None = None) -> list[dict]:
    cfg = parse_args(argv)
    print("leia augment: config\n" + cfg.to_json(), flush=True)
    spark = build_spark("leia-augment", cfg.master, job_conf(cfg))
    spark.sparkContext.setLogLevel("WARN")  # the job reports its own progress
    summary = run_job(run, spark, cfg)
    print_summary(summary, cfg.out)
    return summary


def job_conf(cfg: AugmentConfig) -> dict[str, str]:
    conf = {"spark.ui.showConsoleProgress": str(sys.stdout.isatty()).lower()}
    if cfg.shuffle_partitions:
        conf["spark.sql.shuffle.partitions"] = str(cfg.shuffle_partitions)
    return conf


def run(spark, cfg: AugmentConfig) -> list[dict]:
    t0 = time.time()

    def log(msg: str) -> None:
        print(f"[{time.time() - t0:6.1f}s] {msg}", flush=True)
        spark.sparkContext.setJobDescription(msg)  # names the step's jobs in Spark's UI

    started = datetime.now(timezone.utc)
    run_id = uuid.uuid4().hex[:12]
    cfg.validate()
    check_executors(spark)
    log("listing dump files")
    dumps, sizes = plan(spark, cfg)
    wikis = sorted(dumps)
    out = cfg.out.rstrip("/")
    params = cfg.params()
    params_meta = {**params.to_json(), "variant": cfg.variant}
    inputs = {w: input_sizes(d, sizes) for w, d in dumps.items()}
    if cfg.skip_unchanged:
        done = unchanged_wikis(spark, out, dumps, params_meta, inputs)
        for wiki, run in sorted(done.items()):
            print(f"  {wiki}: unchanged since run {run} (same files and parameters); "
                  "skipped", flush=True)
            del dumps[wiki]
        if not dumps:
            log("every wiki is unchanged: nothing to do")
            return []
        wikis = sorted(dumps)
    file_rejects = []
    for wiki, d in dumps.items():
        for path in list(d.xml):
            why = read.check_bz2(spark, path, sizes.get(path, 0))
            if why:
                print(f"  {wiki}: skipping {path.rsplit('/', 1)[-1]}: {why}", flush=True)
                file_rejects.append((wiki, path.rsplit("/", 1)[-1], None, None, "read", why))
                d.xml.remove(path)
    readable = {w: d for w, d in dumps.items() if d.xml}
    if not readable:
        raise ValueError("no readable pages-articles file: " + "; ".join(
            f"{r[1]}: {r[5]}" for r in file_rejects) + ". Download them again (python "
            "spark_jobs/fetch_dumps.py verifies them against the dump's checksums)")
    log(f"planned {len(dumps)} wiki(s); reading their headers")
    sites = {w: read.read_siteinfo(spark, d) for w, d in readable.items()}
    for w, s in sites.items():
        if s.dbname and s.dbname != w:
            print(f"  warning: {w}: the dump's <siteinfo> says dbname={s.dbname}; using "
                  "its namespace names anyway (MediaWiki's canonical names always work)")
    log(f"reading {sum(len(d.xml) for d in readable.values())} XML file(s) of "
        f"{len(readable)} wiki(s)")

    pages = read.read_pages(spark, readable, sites, cfg.split_mb, sizes, cfg.xml_reader,
                            cfg.variant)
    # The two frames that hold article text are cached on disk only: Spark builds a
    # cache batch in a heap buffer that its memory manager does not count, and with the
    # text already cached in the heap a 1 GB dump ran the default 1 GB heap out.
    pages = pages.persist(StorageLevel.DISK_ONLY)
    log("reading SQL tables")
    langlinks, pages_sql, redirects_sql, sql_rejects = read_sql_tables(spark, readable,
                                                                       sites, cfg)
    wikidata = None
    if cfg.alignment in ("wikidata", "both"):
        wikidata = read.read_wikidata(spark, cfg.wikidata, cfg.pivot, wikis)

    log("parsing pages")
    # Materialise the parse once, before any join: concurrent jobs (broadcasts) would
    # otherwise each parse the same partitions while the cache is still empty.
    log(f"parsed {pages.count()} pages; deduplicating")
    # Everything but the text, in memory: the joins and counts below read these columns
    # many times, and each read of the disk cache deserialises every article's text.
    texts = pages.filter("reject IS NULL AND ns = 0 AND NOT is_redirect").select(
        "seq", "text")
    pages = persist_now(pages.drop("text"))
    ns0, dup_rejects = build.dedupe_pages(pages)
    articles = ns0.filter("NOT is_redirect")
    titles = persist_now(build.page_titles(ns0, pages_sql))
    log("resolving redirects")
    redirects, redirect_rejects = build.resolve_redirects(ns0, redirects_sql, titles)
    redirects, redirect_rejects = persist_now(redirects), persist_now(redirect_rejects)
    log("aligning titles to the pivot language")
    targets = build.link_targets(titles, redirects)
    aligned = build.alignment(titles, redirects, langlinks, wikidata, cfg.pivot)
    aligned = persist_now(aligned)
    resolved = build.resolve_links(articles, targets, aligned, cfg.pivot)
    dates = {w: d.date for w, d in dumps.items()}
    planned = build.plan_insertions(articles, resolved, params).persist(
        StorageLevel.MEMORY_AND_DISK)
    # Cached once for both tables that hold the text. The rendered text is not cached:
    # only ``augmented`` needs it, and it would double the cache on disk.
    full = build.attach_text(planned, texts, dates).persist(StorageLevel.DISK_ONLY)
    rejects = gather_rejects(spark, pages, dup_rejects, redirect_rejects, file_rejects,
                             sql_rejects).persist(StorageLevel.MEMORY_AND_DISK)

    meta = {"run_id": run_id, **params_meta, "wikis": wikis, "dump_dates": dates,
            "inputs": {w: inputs[w] for w in wikis}}
    log("writing rejects")
    write.replace_wikis(rejects, f"{out}/rejects", "rejects", wikis, meta)
    log("writing alignment")
    write.replace_wikis(aligned, f"{out}/alignment", "alignment", wikis, meta)
    log("augmenting, writing articles")
    write.replace_wikis(full, f"{out}/articles", "articles", wikis, meta)
    log("writing augmented")
    write.replace_wikis(build.add_augmented_text(full, params), f"{out}/augmented",
                        "augmented", wikis, meta)
    log("writing stats")
    stats = collect_stats(pages, planned, rejects, wikis)
    by_source = aligned_by_source(planned)
    seconds = time.time() - t0
    rows = [(w, run_id, started, dates[w], cfg.pivot, *stats.get(w, (0,) * 9), seconds,
             by_source.get(w, {})) for w in wikis]
    write.append(spark.createDataFrame(rows, SCHEMAS["stats"]), f"{out}/stats", "stats",
                 meta)
    spark.catalog.clearCache()
    spark.sparkContext.setJobDescription(None)
    return [dict(zip(columns("stats"), r)) for r in rows]


def input_sizes(d: WikiDump, sizes: dict[str, int]) -> dict[str, int]:
    """{file name: bytes} of one wiki's input files."""
    files = d.xml + d.index + [f for f in (d.langlinks, d.page, d.redirect) if f]
    return {f.rsplit("/", 1)[-1]: sizes.get(f, 0) for f in files}


def unchanged_wikis(spark, out: str, dumps: dict[str, WikiDump], params: dict,
                    inputs: dict[str, dict[str, int]]) -> dict[str, str]:
    """{wiki: run id} of the wikis whose latest run in OUT/stats read the same files
    (names and sizes) with the same parameters, and wrote articles (a wiki whose files
    were unreadable has none: it is built again)."""
    import json

    from delta.tables import DeltaTable
    from pyspark.sql import Window
    from pyspark.sql.utils import AnalysisException

    path = f"{out}/stats"
    try:
        history = DeltaTable.forPath(spark, path).history().select("userMetadata").collect()
    except AnalysisException:  # no earlier run
        return {}
    runs = {}
    for h in history:
        if h.userMetadata:
            meta = json.loads(h.userMetadata)
            runs[meta.get("run_id")] = meta
    latest = (spark.read.format("delta").load(path)
              .withColumn("n", F.row_number().over(
                  Window.partitionBy("wiki").orderBy(F.desc("run_started"))))
              .where("n = 1").select("wiki", "run_id", "dump_date", "articles").collect())

    def same(r) -> bool:
        meta = runs.get(r.run_id, {})
        return (r.wiki in dumps and r.dump_date == dumps[r.wiki].date and r.articles > 0
                and {k: meta.get(k) for k in params} == params
                and meta.get("inputs", {}).get(r.wiki) == inputs[r.wiki])
    return {r.wiki: r.run_id for r in latest if same(r)}


def gather_rejects(spark, pages, dup_rejects, redirect_rejects, file_rejects: list,
                   sql_rejects):
    """Every reject of the run as one DataFrame with the ``rejects`` schema."""
    rejects = (pages.filter("reject IS NOT NULL")
               .select("wiki", "source_file", "page_id", "position",
                       F.when(F.col("reject").startswith(UNREADABLE), "read")
                       .otherwise("parse").alias("stage"),
                       F.col("reject").alias("reason"))
               .unionByName(dup_rejects).unionByName(redirect_rejects)
               .unionByName(spark.createDataFrame(file_rejects, SCHEMAS["rejects"])))
    if sql_rejects is not None:
        rejects = rejects.unionByName(sql_rejects)
    return rejects


def read_sql_tables(spark, readable: dict[str, WikiDump], sites, cfg: AugmentConfig):
    """The langlinks (pivot rows only), page and redirect tables of every wiki as
    DataFrames (None where no wiki has that file), and the rejects of their bad lines,
    all from one scan of every SQL file, kept in memory (they are small)."""
    tables = ("page", "redirect") + (("langlinks",) if cfg.alignment != "wikidata" else ())
    files = {getattr(d, t): (t, w) for w, d in readable.items() for t in tables
             if getattr(d, t)}
    if not files:
        return None, None, None, None
    first_letter = {w: s.first_letter for w, s in sites.items()}
    rows = persist_now(read.read_sql(spark, files, cfg.pivot, first_letter))
    present = {t for t, _ in files.values()}

    def table(name, *cols):
        return rows.where(F.col("table") == name).select(*cols) if name in present else None

    langlinks = table("langlinks", "wiki", "page_id", F.col("title").alias("pivot_title"))
    pages = table("page", "wiki", "title", "page_id", "is_redirect")
    redirects = table("redirect", "wiki", F.col("page_id").alias("src"), "ns",
                      F.col("title").alias("target"), "iw")
    rejects = rows.where("table = 'reject'").select(
        "wiki", "source_file", "page_id", F.lit(None).cast("bigint").alias("position"),
        F.lit("sql").alias("stage"), "reason")
    return langlinks, pages, redirects, rejects


def persist_now(df):
    """Compute a frame once and keep it (memory, then disk). Later plans start from the
    cached rows: they never go back through a Python parser, and Spark's optimizer does
    not re-analyse the whole lineage (the iterated redirect joins made that take
    minutes). Unlike a local checkpoint, a lost executor's part is recomputed."""
    df = df.persist(StorageLevel.MEMORY_AND_DISK)
    df.count()
    return df


def collect_stats(pages, planned, rejects, wikis: list[str]) -> dict[str, tuple]:
    """Per-wiki counts (small aggregates only) of what was just written, from the
    persisted frames the writes came from (none of them holds the text)."""
    read_side = {r.wiki: r for r in pages.groupBy("wiki").agg(
        F.count("*").alias("n"), F.sum("bytes_in").alias("b"),
        F.sum("parse_seconds").alias("s")).collect()}
    links = F.col("links")
    counts = {r.wiki: r for r in planned.groupBy("wiki").agg(
        F.count("*").alias("articles"),
        F.sum(F.size(links)).alias("links"),
        F.sum(F.size(F.filter(links, lambda l: l.target_page_id.isNotNull())))
        .alias("resolved"),
        F.sum(F.size(F.filter(links, lambda l: l.pivot_title.isNotNull())))
        .alias("aligned"),
        F.sum(F.size("insertions")).alias("insertions")).collect()}
    rej = {r.wiki: r["count"] for r in rejects.groupBy("wiki").count().collect()}
    out_rows = {}
    for w in wikis:
        p, c = read_side.get(w), counts.get(w)
        out_rows[w] = (p.n if p else 0, c.articles if c else 0,
                       *((int(c.links or 0), int(c.resolved or 0), int(c.aligned or 0),
                          int(c.insertions or 0)) if c else (0, 0, 0, 0)),
                       rej.get(w, 0), int(p.b or 0) if p else 0,
                       float(p.s or 0.0) if p else 0.0)
    return out_rows


def aligned_by_source(planned) -> dict[str, dict[str, int]]:
    """{wiki: {pivot source: aligned links}}: how many links each alignment source gave."""
    rows = (planned.select("wiki", F.explode("links").alias("l"))
            .where("l.pivot_title IS NOT NULL").groupBy("wiki", "l.pivot_source").count()
            .collect())
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["wiki"], {})[r["pivot_source"]] = r["count"]
    return out


def print_summary(rows: list[dict], out: str) -> None:
    head = ("wiki", "articles", "links", "resolved", "aligned", "insertions", "rejects",
            "MB in")
    print("\n" + " ".join(f"{h:>12}" for h in head) + "   aligned by")
    for r in rows:
        links = r["links"] or 1
        print(" ".join(f"{v:>12}" for v in (
            r["wiki"], r["articles"], r["links"],
            f"{r['links_resolved']} {100 * r['links_resolved'] / links:.0f}%",
            f"{r['links_aligned']} {100 * r['links_aligned'] / links:.0f}%",
            r["insertions"], r["rejects"], f"{r['bytes_in'] / 1e6:.1f}"))
              + "   " + ", ".join(f"{k} {v}" for k, v in sorted(
                  (r.get("links_aligned_by") or {}).items())))
    print(f"\ntables written under {out}/ (articles, alignment, augmented, rejects, "
          f"stats); {rows[0]['seconds']:.0f} s" if rows else "nothing written")


if __name__ == "__main__":
    main()
