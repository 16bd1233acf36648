"""Encoder benchmark: our encoder against the authors' approach, side by side, and the
shard reader's speed.

    python bench/encode_bench.py                 # the sample corpus x 8, byte-level BPE
    python bench/encode_bench.py --copies 2 --kind sentencepiece

1. Input: the bundled sample's augmented table (built with spark_jobs/augment.py if
   missing), its rows repeated ``--copies`` times under new page ids (a bigger table
   with the real articles' statistics, one file per wiki as the corpus builder writes
   it); a tokenizer trained on the sample
   (leia.toy_tokenizer; real hub tokenizers are not reachable here).
2. Side by side, each pinned to one core with taskset, on the same rows:
   - ours, library: leia.encode.Encoder over the rows (what each Spark task runs),
     on its default engine (the tiktoken twin, for the byte-level BPE and the
     SentencePiece alike) and on tokenizers (--engine tokenizers);
   - ours, job: spark_jobs/encode.py --master local[1], end to end (Delta in, shards
     out), on the table and on one 4x as large: the job's own `seconds` (JVM start
     excluded) of both give its fixed cost (Spark and Delta warm-up, loading the
     tokenizer, the token estimate and engine check: about 35 s here) and its
     marginal throughput, what a large build sees; default --tokens-per-shard;
   - the authors' approach: Hugging Face `datasets.map` (batched) with the same
     tokenizer and offsets, then token-level insertion of the names in Python, and the
     tokens written to one array file.
   Throughput is tokens written per second per core.
3. Reader: packed sequences of 2,049 tokens (2,048 inputs + 1 label) read from the
   job's shards through leia.shards.ShardSet.read, in order and in a seeded shuffled
   order, in one process.

Results go to bench/results/encode_KIND.json and are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data" / "encode"


def pinned() -> list[str]:
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd, check=True, env=env, text=True, capture_output=True, **kw)


def prepare(copies: int, kind: str) -> tuple[Path, Path]:
    """The replicated augmented table and the tokenizer (built once, kept in DATA)."""
    corpus = DATA / "corpus"
    if not (corpus / "augmented").exists():
        sh([sys.executable, "spark_jobs/augment.py", "--out", str(corpus)], cwd=ROOT)
    table = DATA / f"augmented_x{copies}"
    if not table.exists():
        sh([sys.executable, "-c", f"""
from pyspark.sql import functions as F
from spark_jobs.session import build_spark
spark = build_spark("bench-replicate", "local[2]")
src = spark.read.format("delta").load("{corpus}/augmented")
meta = (spark.sql("DESCRIBE HISTORY delta.`{corpus}/augmented`").orderBy("version")
        .collect()[-1].userMetadata)
copy = spark.range({copies}).withColumnRenamed("id", "copy")
df = (src.crossJoin(copy)
      .withColumn("page_id", F.col("page_id") + F.col("copy") * 1_000_000_000)
      .drop("copy"))
# One file per wiki, as the corpus builder writes them (not one per copy).
(df.repartition("wiki").write.format("delta").option("userMetadata", meta)
   .partitionBy("wiki").save("{table}"))
"""], cwd=ROOT)
    tok = DATA / f"tokenizer_{kind}"
    if not tok.exists():
        sh([sys.executable, "-m", "leia.toy_tokenizer", "--kind", kind, "--vocab-size",
            "8000", "--out", str(tok)], cwd=ROOT)
    return table, tok


def load_rows(table: Path) -> list[dict]:
    from deltalake import DeltaTable
    return DeltaTable(str(table)).to_pyarrow_table(
        columns=["wiki", "page_id", "text", "insertions"]).to_pylist()


def ours_library(table: str, tok_path: str, engine: str = "auto") -> dict:
    from leia.encode import Encoder
    from leia.tokenizer import load_tokenizer, token_layout

    rows = load_rows(Path(table))
    layout = token_layout(load_tokenizer(tok_path))
    t0 = time.perf_counter()
    enc = Encoder(layout, engine=engine)
    tokens = placed = 0
    for lo in range(0, len(rows), 256):
        batch = rows[lo:lo + 256]
        docs = enc.encode([r["text"] or "" for r in batch],
                          [[(x["offset"], x["pivot_title"], x["anchor_start"],
                             x["anchor_end"]) for x in r["insertions"] or []]
                           for r in batch], ["right"] * len(batch))
        for d in docs:
            tokens += len(d.tokens)
            placed += d.placed
            d.tokens.astype("uint16").tobytes()  # what the executors ship
    return {"seconds": time.perf_counter() - t0, "tokens": tokens, "placed": placed,
            "engine": enc.engine}


def authors(table: str, tok_path: str, out: str) -> dict:
    """The authors' approach: datasets.map with the tokenizer's offsets, then the names
    inserted token by token in Python."""
    import numpy as np
    from datasets import Dataset, disable_progress_bars
    from transformers import AutoTokenizer

    disable_progress_bars()
    rows = load_rows(Path(table))
    tok = AutoTokenizer.from_pretrained(tok_path)
    tok.add_tokens(["<translate>", "</translate>"], special_tokens=True)
    start_id, end_id = tok.convert_tokens_to_ids(["<translate>", "</translate>"])
    t0 = time.perf_counter()
    ds = Dataset.from_dict({
        "text": [r["text"] or "" for r in rows],
        "offsets": [[x["offset"] for x in r["insertions"] or []] for r in rows],
        "names": [[x["pivot_title"] for x in r["insertions"] or []] for r in rows]})

    def tokenize(batch):
        enc = tok(batch["text"], return_offsets_mapping=True)
        out_ids, out_mask = [], []
        for ids, offs, cuts, names in zip(enc["input_ids"], enc["offset_mapping"],
                                          batch["offsets"], batch["names"]):
            name_ids = [tok(n, add_special_tokens=False)["input_ids"] for n in names]
            new_ids, mask, j = [], [], 0
            for tid, (s, e) in zip(ids, offs):
                while j < len(cuts) and e > s and s >= cuts[j]:
                    new_ids += [start_id, *name_ids[j], end_id]
                    mask += [0] + [1] * len(name_ids[j]) + [0]
                    j += 1
                new_ids.append(tid)
                mask.append(1)
            for k in range(j, len(cuts)):
                new_ids += [start_id, *name_ids[k], end_id]
                mask += [0] + [1] * len(name_ids[k]) + [0]
            out_ids.append(new_ids)
            out_mask.append(mask)
        return {"input_ids": out_ids, "loss_mask": out_mask}

    ds = ds.map(tokenize, batched=True, batch_size=256,
                remove_columns=["text", "offsets", "names"])
    ids = np.concatenate([np.asarray(x, dtype=np.uint16) for x in ds["input_ids"]])
    ids.tofile(out)
    return {"seconds": time.perf_counter() - t0, "tokens": int(len(ids))}


def ours_job(table: Path, tok: Path, out: Path) -> dict:
    """The job as users run it (64M-token shards: one here). Smaller shards add a
    Python task each, which costs 0.4-0.9 s on this machine whatever it does."""
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    sh([*pinned(), sys.executable, "spark_jobs/encode.py", "--master", "local[1]",
        "--table", str(table), "--tokenizer", str(tok), "--out", str(out)], cwd=ROOT)
    wall = time.perf_counter() - t0
    m = json.loads((out / "manifest.json").read_text())
    return {"seconds": m["seconds"], "wall_with_jvm_start": wall,
            "tokens": m["totals"]["tokens"], "shards": len(m["shards"])}


def reader(out: str, seq_len: int = 2048, seed: int = 0) -> dict:
    import numpy as np

    from leia.shards import ShardSet

    shards = ShardSet(out)
    n = (shards.num_tokens - 1) // seq_len
    res = {}
    for order in ("sequential", "shuffled"):
        idx = np.arange(n) if order == "sequential" else \
            np.random.default_rng(seed).permutation(n)
        total = 0
        t0 = time.perf_counter()
        for _ in range(3):
            for i in idx:
                tokens, mask = shards.read(int(i) * seq_len, int(i) * seq_len + seq_len + 1)
                total += len(tokens) - 1
        res[order] = total / (time.perf_counter() - t0)
    return {"sequences": int(n), "tokens_per_s": res}


def in_subprocess(fn: str, *args) -> dict:
    r = sh([*pinned(), sys.executable, __file__, "--call", fn, *map(str, args)], cwd=ROOT)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--copies", type=int, default=8)
    p.add_argument("--kind", choices=("bpe", "sentencepiece"), default="bpe")
    p.add_argument("--large-copies", type=int, default=0,
                   help="also run the job end to end on a table of this many copies "
                        "(256: about 180M tokens, 4 minutes), against the authors' "
                        "rate of this run")
    p.add_argument("--call", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.call:
        fn, *rest = args.call
        print(json.dumps(globals()[fn](*rest)))
        return

    table, tok = prepare(args.copies, args.kind)
    big, _ = prepare(4 * args.copies, args.kind)
    out = DATA / f"shards_{args.kind}"
    results = {"copies": args.copies, "tokenizer": args.kind,
               "library": in_subprocess("ours_library", table, tok),
               "library_tokenizers": in_subprocess("ours_library", table, tok, "tokenizers"),
               "authors": in_subprocess("authors", table, tok, DATA / "authors.bin"),
               "job": ours_job(table, tok, out),
               "job_4x": ours_job(big, tok, DATA / f"shards_{args.kind}_4x")}
    results["reader"] = in_subprocess("reader", out)
    runs = ["library", "library_tokenizers", "authors", "job", "job_4x"]
    if args.large_copies:
        huge, _ = prepare(args.large_copies, args.kind)
        results["job_large"] = ours_job(huge, tok, DATA / f"shards_{args.kind}_large")
        shutil.rmtree(DATA / f"shards_{args.kind}_large")
        runs.append("job_large")
    for k in runs:
        r = results[k]
        r["tokens_per_s"] = r["tokens"] / r["seconds"]
    small, large = results["job"], results["job_4x"]
    marginal = (large["tokens"] - small["tokens"]) / (large["seconds"] - small["seconds"])
    results["job_marginal"] = {"tokens_per_s": marginal,
                               "fixed_seconds": small["seconds"] - small["tokens"] / marginal}
    a = results["authors"]["tokens_per_s"]
    for k in runs[:2] + runs[3:] + ["job_marginal"]:
        results[k]["vs_authors"] = results[k]["tokens_per_s"] / a
    dest = ROOT / "bench" / "results" / f"encode_{args.kind}.json"
    dest.write_text(json.dumps(results, indent=2))
    print(f"| 1 core, {args.kind}, {results['job']['tokens']:,} tokens | tokens/s | vs authors |")
    print("|---|---:|---:|")
    for k, label in (("authors", "authors: datasets.map + Python insertion"),
                     ("library", f"ours: leia.encode.Encoder "
                                 f"({results['library']['engine']})"),
                     ("library_tokenizers", "ours: leia.encode.Encoder (--engine tokenizers)"),
                     ("job", "ours: spark_jobs/encode.py local[1], end to end"),
                     ("job_4x", f"ours: the job on 4x the articles "
                                f"({results['job_4x']['tokens']:,} tokens)"),
                     *([("job_large", f"ours: the job on {args.large_copies} copies "
                         f"({results['job_large']['tokens']:,} tokens), end to end")]
                       if args.large_copies else []),
                     ("job_marginal", "ours: the job, marginal (fixed cost "
                      f"{results['job_marginal']['fixed_seconds']:.0f} s excluded)")):
        r = results[k]
        print(f"| {label} | {r['tokens_per_s']:,.0f} | {r['tokens_per_s'] / a:.2f}x |")
    rd = results["reader"]["tokens_per_s"]
    print(f"\nreader, packed 2,049-token sequences, one process: "
          f"{rd['sequential'] / 1e6:,.0f}M tokens/s in order, "
          f"{rd['shuffled'] / 1e6:,.0f}M tokens/s shuffled")
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()
