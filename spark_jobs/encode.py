"""LEIA encoder: the augmented Delta table -> memory-mapped token shards for the trainer.

    spark-submit spark_jobs/encode.py --table out/corpus/augmented \\
        --tokenizer meta-llama/Llama-2-7b-hf --out out/shards
    python spark_jobs/encode.py --tokenizer DIR          # local[*], the sample's table

Steps: read the table (a pinned Delta version if asked) -> estimate its tokens from
its length and a deterministic sample, and choose ceil(estimate / --tokens-per-shard)
shards -> encode every article where it is read (tokenised once, names spliced in at
token boundaries, loss mask) -> send it to the shard a stable hash of (wiki, page id)
picks, so every shard holds a fair sample of every wiki -> executors write their
shards, articles in (wiki, page id) order, straight to --out -> the driver writes
manifest.json last. One pass over the tokens: they are never cached or counted first.
A re-run with the same arguments keeps the shards that are complete and verified, and
encodes only the articles of the others.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from leia import shards as fmt
from leia import storage
from leia.encode import cached_encoder
from leia.params import AugmentParams
from leia.tokenizer import describe, load_tokenizer, token_layout
from spark_jobs.arrow_rows import arrow_schema
from spark_jobs.encode_config import EncodeConfig, parse_args
from spark_jobs.encode_output import find_done, remove_stale, save_tokenizer, write_shards
from spark_jobs.session import build_spark, check_executors, run_job

ENCODED = ("wiki STRING, page_id BIGINT, shard BIGINT, n_tokens BIGINT, tokens BINARY, "
           "mask BINARY, placed INT, moved INT, dropped INT")
BATCH = 256  # articles per tokenizer call


def log(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


@dataclass
class Source:
    """The rows to encode and what the corpus builder recorded about them."""

    table: str
    version: int
    wikis: list[str]
    meta: dict[str, dict]  # per wiki: the metadata of the commit that last wrote it
    params: dict[str, AugmentParams]  # per wiki: the augmentation's, parsed from it
    markers: tuple[str, str]
    rows: object  # DataFrame: wiki, page_id, text, insertions


def read_source(spark, cfg: EncodeConfig) -> Source:
    """The table at the asked (or latest) version, its wikis, and per wiki the
    parameters of the commit that last wrote it (strategy, p, seed, markers)."""
    from delta.tables import DeltaTable
    from pyspark.sql.utils import AnalysisException

    try:
        history = (DeltaTable.forPath(spark, cfg.table).history()
                   .select("version", "userMetadata").collect())
    except AnalysisException as e:
        raise ValueError(f"--table {cfg.table}: not a Delta table ({str(e).splitlines()[0]});"
                         " give the corpus builder's OUT/augmented") from None
    latest = max(h.version for h in history)
    version = latest if cfg.version is None else cfg.version
    if version > latest:
        raise ValueError(f"--version {version}: {cfg.table} has versions 0 to {latest}")
    metas: dict[str, dict] = {}
    for h in sorted(history, key=lambda h: h.version):
        if h.version <= version and h.userMetadata:
            meta = json.loads(h.userMetadata)
            for w in meta.get("wikis", []):
                metas[w] = meta
    rows = (spark.read.format("delta").option("versionAsOf", version).load(cfg.table)
            .select("wiki", "page_id", "text", "insertions"))
    present = sorted(r.wiki for r in rows.select("wiki").distinct().collect())
    wanted = cfg.wiki_list()
    if not present:
        raise ValueError(f"{cfg.table} (version {version}) holds no articles: build the "
                         "corpus first (spark_jobs/augment.py)")
    if wanted is None:
        wikis = present
    else:
        missing = [w for w in wanted if w not in present]
        if missing:
            raise ValueError(f"no articles for {', '.join(missing)} in {cfg.table} "
                             f"(version {version}); wikis there: {', '.join(present)}")
        wikis = sorted(wanted)
        rows = rows.where(rows.wiki.isin(wikis))
    unknown = [w for w in wikis if w not in metas]
    if unknown:
        raise ValueError(f"{cfg.table}: no augmentation parameters recorded for "
                         f"{', '.join(unknown)} in the table's commit metadata; rebuild "
                         "those wikis with spark_jobs/augment.py")
    params = {w: AugmentParams.from_json(metas[w]) for w in wikis}
    markers = {params[w].markers for w in wikis}
    if len(markers) > 1:
        raise ValueError(f"the wikis use different markers ({sorted(markers)}); one "
                         "tokenizer has one pair: encode them separately (--wikis)")
    return Source(cfg.table, version, wikis, metas, params, markers.pop(), rows)


def augmentation_record(params: AugmentParams, run_id: str | None) -> dict:
    """The manifest's record of one wiki's augmentation."""
    full = params.to_json()
    record = {k: full[k] for k in ("strategy", "prob", "seed", "markers", "pivot")}
    return {**record, "run_id": run_id}


def encode_rows(spark, rows, layout, strategies: dict[str, str], cfg: EncodeConfig,
                dtype: str, shards: int, skip: set[int] = frozenset(),
                compare_engines: bool = False):
    """Every article as token and mask bytes, with its insertion counts and its shard
    (a stable hash of wiki and page id, modulo ``shards``). Articles of the shards in
    ``skip`` (complete from an earlier run) are left out before tokenising. With
    ``compare_engines``, a column ``differs`` says whether ``tokenizers`` encodes the
    article otherwise than the engine in use."""
    bc = spark.sparkContext.broadcast(layout)
    policy, off_boundary, append_eos = cfg.mask_policy, cfg.off_boundary, cfg.append_eos
    ddl = ENCODED + (", differs BOOLEAN" if compare_engines else "")
    schema = arrow_schema(ddl)

    def encode_batches(batches):
        import numpy as np
        import pyarrow as pa

        encoder = cached_encoder(bc.value, policy, off_boundary, append_eos)
        for batch in batches:
            cols = batch.to_pydict()
            shard = [doc_hash(w, p) % shards for w, p in zip(cols["wiki"], cols["page_id"])]
            keep = [i for i, s in enumerate(shard) if s not in skip]
            for lo in range(0, len(keep), BATCH):
                idx = keep[lo:lo + BATCH]
                args = ([cols["text"][i] or "" for i in idx],
                        [[(x["offset"], x["pivot_title"], x["anchor_start"], x["anchor_end"])
                          for x in (cols["insertions"][i] or [])] for i in idx],
                        [strategies[cols["wiki"][i]] for i in idx])
                docs = encoder.encode(*args)
                extra = {}
                if compare_engines:
                    ref = encoder.encode(*args, engine="tokenizers")
                    extra["differs"] = [not d.same_as(r) for d, r in zip(docs, ref)]
                yield pa.RecordBatch.from_pydict({
                    "wiki": [cols["wiki"][i] for i in idx],
                    "page_id": [cols["page_id"][i] for i in idx],
                    "shard": [shard[i] for i in idx],
                    "n_tokens": [len(d.tokens) for d in docs],
                    "tokens": [d.tokens.astype(dtype).tobytes() for d in docs],
                    "mask": [d.mask.astype(np.uint8).tobytes() for d in docs],
                    "placed": [d.placed for d in docs],
                    "moved": [d.moved for d in docs],
                    "dropped": [d.dropped for d in docs], **extra,
                }, schema=schema)

    return rows.mapInArrow(encode_batches, ddl)


def doc_hash(wiki: str, page_id: int) -> int:
    """A hash that is the same on every machine and Python (unlike ``hash()``); its
    value modulo the shard count is the article's shard."""
    h = hashlib.blake2b(f"{wiki}\x1f{page_id}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") >> 1  # fits a signed BIGINT


@dataclass
class Estimate:
    tokens: int
    """The tokens the build will hold (exact for small tables)."""
    sampled: int
    """Articles of the sample."""
    differing: int
    """Sample articles that tiktoken encodes otherwise than tokenizers (0 when
    tokenizers is the engine)."""


def estimate_tokens(spark, rows, layout, strategies: dict[str, str], cfg: EncodeConfig,
                    dtype: str, sample_docs: int = 1000) -> Estimate:
    """The tokens the build will hold, from every article's length and the tokens per
    character of a deterministic sample of about ``sample_docs`` articles (picked by a
    hash of wiki and page id), per wiki. It fixes the shard count before the one
    encoding pass, so the tokens are never cached or counted first; small tables are
    counted exactly. With the tiktoken twin, the sample is also encoded with
    tokenizers, and the articles where they differ are counted."""
    from pyspark.sql import functions as F

    docs = rows.count()
    every = max(1, docs // sample_docs)
    picked = F.pmod(F.xxhash64("wiki", "page_id"), F.lit(every)) == 0
    length = F.coalesce(F.length("text"), F.lit(0))
    chars, sampled_chars = {}, {}
    for r in rows.groupBy("wiki").agg(  # one scan for every length
            F.sum(length).alias("chars"),
            F.sum(F.when(picked, length).otherwise(0)).alias("sampled")).collect():
        chars[r.wiki], sampled_chars[r.wiki] = r.chars or 0, r.sampled or 0
    compare = layout.twin is not None
    sampled_tokens, sampled, differing = {}, 0, 0
    for r in (encode_rows(spark, rows.where(picked), layout, strategies, cfg, dtype, 1,
                          compare_engines=compare)
              .groupBy("wiki")
              .agg(F.sum("n_tokens").alias("tokens"), F.count("*").alias("docs"),
                   F.sum(F.col("differs").cast("int") if compare else F.lit(0))
                   .alias("differing"))
              .collect()):
        sampled_tokens[r.wiki] = r.tokens
        sampled += r.docs
        differing += r.differing or 0
    all_chars = sum(sampled_chars.get(w) or 0 for w in chars)
    overall = sum(sampled_tokens.values()) / all_chars if all_chars else 0.3
    total = 0.0
    for wiki, n_chars in chars.items():
        c = sampled_chars.get(wiki) or 0
        total += n_chars * (sampled_tokens.get(wiki, 0) / c if c else overall)
    return Estimate(int(round(total)), sampled, differing)


def choose_engine(layout, estimate: Estimate, cfg: EncodeConfig):
    """tiktoken when the tokenizer has a twin there and the two agreed on every sample
    article; tokenizers otherwise (the reference: what the model's tokenizer does)."""
    tokenizer = cfg.tokenizer
    if layout.twin is None:
        why = layout.twin_refusal  # the reason token_layout found, if there is one
        if not why:
            why = "as asked" if cfg.engine == "tokenizers" else (
                "tiktoken is not installed; pip install tiktoken to encode this "
                "tokenizer two to three times faster")
        log(f"engine: tokenizers ({why})")
        return layout
    if estimate.differing:
        log(f"engine: tokenizers (tiktoken encodes {estimate.differing} of "
            f"{estimate.sampled} sample articles otherwise than {tokenizer})")
        return dataclasses.replace(layout, twin=None)
    log(f"engine: tiktoken (same tokens as {tokenizer} on all {estimate.sampled} "
        "sample articles)")
    return layout


def build_fingerprint(cfg: EncodeConfig, source: Source, tokenizer_info: dict,
                      dtype: str) -> str:
    """What makes two builds the same: a shard of an earlier run is reused only when
    all of this matches."""
    key = {"format_version": fmt.FORMAT_VERSION, "table": source.table,
           "version": source.version, "wikis": source.wikis,
           "vocab_sha256": tokenizer_info["tokenizer"]["vocab_sha256"],
           "special_tokens": tokenizer_info["special_tokens"],
           "mask_policy": cfg.mask_policy, "off_boundary": cfg.off_boundary,
           "append_eos": cfg.append_eos, "tokens_per_shard": cfg.tokens_per_shard,
           "dtype": dtype, "params": {w: source.meta[w] for w in source.wikis}}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def run(spark, cfg: EncodeConfig) -> fmt.Manifest:
    """Encode and write the shard folder; returns its manifest."""
    t0 = time.time()
    source = read_source(spark, cfg)
    check_executors(spark)
    log(f"table {source.table} version {source.version}: wikis {', '.join(source.wikis)}")
    tok = load_tokenizer(cfg.tokenizer, source.markers)
    layout = token_layout(tok, source.markers)
    if cfg.engine == "tokenizers" or importlib.util.find_spec("tiktoken") is None:
        layout = dataclasses.replace(layout, twin=None)
    info = describe(tok, source.markers)
    dtype = fmt.token_dtype(info["tokenizer"]["vocab_size"])
    fingerprint = build_fingerprint(cfg, source, info, dtype)
    log(f"tokenizer {cfg.tokenizer}: {info['tokenizer']['vocab_size']:,} tokens with the "
        f"markers ({layout.start_id}, {layout.end_id}); {dtype}; BOS/prefix "
        f"{list(layout.prefix)}")

    fs, base = storage.filesystem(cfg.out)
    manifest_path = f"{base}/{fmt.MANIFEST}"
    old = storage.read_json(fs, manifest_path)
    done_before = earlier_build(old, manifest_path)
    if done_before and done_before.fingerprint == fingerprint and all(
            fmt.shard_complete(cfg.out, r, verify=False) for r in done_before.shards):
        log(f"{cfg.out} is already this build ({len(done_before.shards)} shards): "
            "nothing to do")
        return done_before
    if old:  # a rebuild must never look finished before it is
        fs.delete_file(manifest_path)
    done = find_done(spark, cfg.out, fingerprint)
    if done.records:
        log(f"keeping {len(done.records)} complete, verified shard(s) of an earlier run "
            f"({done.tokens:,} tokens); encoding the rest")
    save_tokenizer(tok, cfg.out)

    strategies = {w: source.params[w].strategy for w in source.wikis}
    estimate = estimate_tokens(spark, source.rows, layout, strategies, cfg, dtype)
    layout = choose_engine(layout, estimate, cfg)
    if done.shards:
        shards = done.shards  # the interrupted build's count keeps its shards valid
    else:
        shards = max(1, -(-estimate.tokens // cfg.tokens_per_shard))
        log(f"about {estimate.tokens:,} tokens: {shards} shard(s) of about "
            f"{estimate.tokens // shards:,}")
    log(f"encoding and writing {shards - len(done.records)} shard(s)")
    encoded = encode_rows(spark, source.rows, layout, strategies, cfg, dtype, shards,
                          done.indices)
    wiki_index = {w: i for i, w in enumerate(source.wikis)}
    records = write_shards(encoded, shards, cfg.out, dtype, wiki_index, fingerprint)
    records = sorted(done.records + records, key=lambda r: r["index"])

    totals = {k: sum(r[k] for r in records) for k in
              ("tokens", "documents", "masked", "placed", "moved", "dropped",
               "empty_documents")}
    per_wiki = {w: {"documents": 0, "tokens": 0} for w in source.wikis}
    for r in records:
        for w, (d, n) in r["per_wiki"].items():
            per_wiki[w]["documents"] += d
            per_wiki[w]["tokens"] += n
    manifest = fmt.Manifest(
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        fingerprint=fingerprint, tokenizer=info["tokenizer"],
        special_tokens=info["special_tokens"], dtype=dtype, loss_mask=cfg.mask_policy,
        layout={"prefix": list(layout.prefix), "suffix": list(layout.suffix),
                "append_eos": cfg.append_eos, "off_boundary": cfg.off_boundary,
                "engine": "tiktoken" if layout.twin else "tokenizers"},
        source={"table": source.table, "version": source.version},
        wikis=source.wikis,
        augmentation=None if not cfg.augmentation else {
            w: augmentation_record(source.params[w], source.meta[w].get("run_id"))
            for w in source.wikis},
        tokens_per_shard=cfg.tokens_per_shard, totals=totals, per_wiki=per_wiki,
        shards=records, seconds=round(time.time() - t0, 1))
    storage.write_json_atomic(fs, manifest_path, manifest.to_json())
    keep = {fmt.MANIFEST} | {fmt.record_name(r["name"]) for r in records} | {
        f for r in records for f in r["files"].values()}
    removed = remove_stale(cfg.out, keep)
    if removed:
        log(f"removed {removed} stale file(s) of an earlier build")
    return manifest


def earlier_build(old: dict | None, where: str) -> fmt.Manifest | None:
    """The manifest an earlier build left, if this reader can use it."""
    try:
        return fmt.Manifest.from_json(old, where) if old else None
    except fmt.ShardError:
        return None  # another format: rebuilt from scratch


def print_summary(manifest: fmt.Manifest, out: str) -> None:
    t = manifest.totals
    print(f"\nwrote {out}: {len(manifest.shards)} shard(s), {t['documents']:,} "
          f"documents, {t['tokens']:,} tokens ({manifest.dtype}), {manifest.seconds} s")
    print(f"{'wiki':<16}{'documents':>12}{'tokens':>14}")
    for w, s in manifest.per_wiki.items():
        print(f"{w:<16}{s['documents']:>12,}{s['tokens']:>14,}")
    print(f"insertions: {t['placed']:,} placed ({t['moved']:,} moved to the nearest token "
          f"boundary), {t['dropped']:,} dropped; {t['masked']:,} tokens masked from the "
          f"loss; {t['empty_documents']:,} empty article(s) skipped")
    print(f"inspect: python -m leia.shards {out}")


def main(argv: list[str] | None = None) -> fmt.Manifest:
    cfg = parse_args(argv)
    print("leia encode: config\n" + cfg.to_json(), flush=True)
    # One task per core already; the tokenizer's own thread pool would oversubscribe.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    spark = build_spark("leia-encode", cfg.master,
                        {"spark.executorEnv.TOKENIZERS_PARALLELISM": "false",
                         "spark.ui.showConsoleProgress": str(sys.stdout.isatty()).lower()})
    spark.sparkContext.setLogLevel("WARN")
    manifest = run_job(run, spark, cfg)
    print_summary(manifest, cfg.out)
    return manifest


if __name__ == "__main__":
    main()
