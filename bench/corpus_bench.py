"""Corpus build benchmark: our job against the authors' pipeline, side by side.

    python bench/corpus_bench.py                  # 50 MB and 400 MB side by side, scaling
    python bench/corpus_bench.py --mb 20 --scale-mb 0   # quick
    python bench/corpus_bench.py --speedup-mb 1000 2000  # 1 vs 2 cores on large files only
    python bench/corpus_bench.py --speedup-mb 1000 --authors  # and the authors' pipeline

Every run is pinned to its cores with taskset.

1. Side by side, one core each, on the same generated dump (real Greek Wikivoyage pages,
   see generate_dump.py): our job end to end (dump -> Delta, `local[1]`) against
   WikiExtractor 3.1.0 `--links --no-templates` (1 process) plus the link
   post-processing that turns its output into text and link spans (BeautifulSoup, as
   the authors did). Throughput is MB of XML read per second per core, and articles/s.
2. Scaling: our job on one large file with `local[1]` and `local[2]`: the speed-up
   shows that one file is read by several tasks. Spark's default memory settings.
   ``--speedup-mb`` repeats this on larger files, where the job's fixed part (JVM,
   session, small jobs, commits: the same on one core or two) weighs less.

Results go to bench/results/corpus.json (``--speedup-mb 1000 2000``:
corpus_speedup_1000_2000.json) and are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.generate_dump import DATE, WIKI  # noqa: E402

# Real dumps are GBs and the default 64 MB split gives them many tasks; these files are
# 8-32 MB of bz2, so a smaller split gives them several tasks too.
SPLIT_MB = 4


def parse_only(xml: Path) -> dict:
    """The library's per-page work alone (XML record -> text + links), one process."""
    import bz2

    from leia.records import WikiContext, parse_record
    from leia.siteinfo import parse_siteinfo
    t0 = time.perf_counter()
    raw = bz2.open(xml, "rt", encoding="utf-8").read()
    ctx = WikiContext(WIKI, "el", parse_siteinfo(raw[:50_000]))
    articles = links = 0
    for rec in raw.split("</page>"):
        if "<page" in rec:
            for row in parse_record(rec, 0, ctx, xml.name):
                if row[10] is not None:
                    articles += 1
                    links += len(row[11])
    return {"seconds": time.perf_counter() - t0, "articles": articles, "links": links}


def generate(mb: float, folder: Path) -> Path:
    xml = folder / f"{WIKI}-{DATE}-pages-articles.xml.bz2"
    if not xml.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate_dump.py"),
                        "--mb", str(mb), "--out", str(folder)], check=True)
    return xml


def pinned(cores: int) -> list[str]:
    """Run on exactly ``cores`` CPUs: Spark's JVM threads (bz2 decompression, the
    feeder of each Python worker) otherwise use spare cores beside local[1]'s task."""
    if shutil.which("taskset"):
        return ["taskset", "-c", ",".join(str(c) for c in range(cores))]
    return []


def run_ours(dumps: Path, cores: int, work: Path, reader: str = "auto") -> dict:
    """Our job on every wiki in ``dumps``, pinned to ``cores``: wall time, peak memory of
    the whole process tree (driver, JVM, Python workers), and the run's totals."""
    import psutil
    from deltalake import DeltaTable

    out = work / f"corpus-{cores}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen([*pinned(cores), sys.executable,
                             str(ROOT / "spark_jobs" / "augment.py"), "--dumps", str(dumps),
                             "--out", str(out), "--master", f"local[{cores}]",
                             "--split-mb", str(SPLIT_MB), "--xml-reader", reader],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0]

    def sample() -> None:
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    log, _ = proc.communicate()
    seconds = time.perf_counter() - t0
    sampler.join()
    if proc.returncode:
        raise RuntimeError(log[-3000:])
    stats = DeltaTable(str(out / "stats")).to_pyarrow_table().to_pylist()
    run = [r for r in stats if r["run_id"] == stats[-1]["run_id"]]
    return {"seconds": seconds, "peak_rss_gb": peak[0] / 2**30,
            "wikis": len(run), **{k: sum(r[k] for r in run) for k in
                                  ("articles", "links", "links_aligned")},
            "xml_mb": sum(r["bytes_in"] for r in run) / 1e6}


def authors_postprocess(folder: Path) -> tuple[int, int]:
    """The authors' step after WikiExtractor: each article's HTML-ish text -> plain
    text and (start, end, target) link spans."""
    from bs4 import BeautifulSoup, NavigableString
    articles = links = 0
    for path in sorted(folder.rglob("wiki_*")):
        for line in path.open(encoding="utf-8"):
            doc = json.loads(line)
            # WikiExtractor's JSON escapes its own <a> tags as &lt;a ...&gt;
            soup = BeautifulSoup(html.unescape(doc["text"]), "html.parser")
            parts, spans, pos = [], [], 0
            for node in soup.children:
                if isinstance(node, NavigableString):
                    s = str(node)
                else:
                    s = node.get_text()
                    if node.name == "a" and node.get("href"):
                        spans.append((pos, pos + len(s), unquote(node["href"])))
                parts.append(s)
                pos += len(s)
            "".join(parts)
            articles += 1
            links += len(spans)
    return articles, links


def run_authors(xml: Path, work: Path) -> dict:
    out = work / "wikiextractor"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([*pinned(1), sys.executable, "-m", "wikiextractor.WikiExtractor", str(xml),
                    "--links", "--no-templates", "--json", "--processes", "1",
                    "-q", "-o", str(out)], check=True, capture_output=True)
    t1 = time.perf_counter()
    articles, links = authors_postprocess(out)
    t2 = time.perf_counter()
    return {"seconds": t2 - t0, "extract_seconds": t1 - t0, "postprocess_seconds": t2 - t1,
            "articles": articles, "links": links}


def line(small: dict, large: dict) -> dict:
    """Fixed seconds and marginal MB/s of a pipeline, from runs at two dump sizes."""
    rate = (large["xml_mb"] - small["xml_mb"]) / (large["seconds"] - small["seconds"])
    return {"marginal_mb_per_s": rate, "fixed_seconds": small["seconds"] - small["xml_mb"] / rate}


def scaling(one: dict, two: dict) -> dict:
    """One file's local[1] and local[2] runs, and the speed-up between them."""
    return {"xml_mb": one["xml_mb"], "local1": one, "local2": two,
            "speedup": one["seconds"] / two["seconds"]}


def speedups(sizes: list[float], data: Path, authors: bool = False) -> None:
    """local[1] against local[2] on one generated file per size, one after the other;
    with ``authors``, the authors' pipeline on one core too, on the same file."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for mb in sizes:
            folder = data / f"{mb:g}mb"
            xml = generate(mb, folder)
            one = run_ours(folder, 1, Path(tmp))
            two = run_ours(folder, 2, Path(tmp))
            runs.append(scaling(one, two))
            print(f"{one['xml_mb']:.0f} MB: local[1] {one['seconds']:.0f} s, local[2] "
                  f"{two['seconds']:.0f} s, speed-up {runs[-1]['speedup']:.2f}x", flush=True)
            if authors:
                theirs = run_authors(xml, Path(tmp))
                runs[-1]["authors"] = theirs
                runs[-1]["ratio_ours_over_authors"] = theirs["seconds"] / one["seconds"]
                print(f"  authors, 1 core: {theirs['seconds']:.0f} s; ours / authors "
                      f"{runs[-1]['ratio_ours_over_authors']:.2f}x", flush=True)
    if len(runs) > 1:  # fixed + per-MB time on each core count, from the two extremes
        for n in ("local1", "local2"):
            fit = line(runs[0][n], runs[-1][n])
            print(f"{n}: {fit['fixed_seconds']:.0f} s fixed + "
                  f"{fit['marginal_mb_per_s']:.2f} MB/s")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    name = "corpus_speedup_" + "_".join(f"{mb:g}" for mb in sizes) + ".json"
    (out / name).write_text(json.dumps(
        {"machine": {"cores": os.cpu_count()}, "runs": runs}, indent=1))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=50, help="dump size for the side by side")
    # 400 MB: at 200 MB the fixed part (about 90 s on one core, which two cores barely
    # shorten) is half of the run and hides how the reading itself scales.
    ap.add_argument("--scale-mb", type=float, default=400,
                    help="the larger dump: side by side again, and 1 vs 2 cores (0 to skip)")
    ap.add_argument("--speedup-mb", type=float, nargs="+", default=None,
                    help="only measure local[1] vs local[2], on one file of each size")
    ap.add_argument("--authors", action="store_true",
                    help="with --speedup-mb: the authors' pipeline too, on one core")
    ap.add_argument("--data", default=str(ROOT / "bench" / "data"))
    args = ap.parse_args(argv)
    data = Path(args.data)
    if args.speedup_mb:
        return speedups(args.speedup_mb, data, args.authors)
    results = {"machine": {"cores": os.cpu_count()}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        small = data / f"{args.mb:g}mb"
        xml = generate(args.mb, small)
        run_ours(small, 1, work)  # warm-up: JVM, Ivy cache, OS file cache
        ours = run_ours(small, 1, work)
        theirs = run_authors(xml, work)
        lib = parse_only(xml)
        mb = ours["xml_mb"]
        results["side_by_side"] = {
            "xml_mb": mb, "ours": ours, "authors": theirs, "library_parse_only": lib,
            "library_mb_per_s_per_core": mb / lib["seconds"],
            "ours_mb_per_s_per_core": mb / ours["seconds"],
            "authors_mb_per_s_per_core": mb / theirs["seconds"],
            "ours_articles_per_s_per_core": ours["articles"] / ours["seconds"],
            "authors_articles_per_s_per_core": theirs["articles"] / theirs["seconds"],
            "ratio_ours_over_authors": theirs["seconds"] / ours["seconds"]}
        if args.scale_mb:
            big = data / f"{args.scale_mb:g}mb"
            big_xml = generate(args.scale_mb, big)
            one = run_ours(big, 1, work)
            theirs_big = run_authors(big_xml, work)
            hadoop = run_ours(big, 1, work, reader="hadoop")
            two = run_ours(big, 2, work)
            # Same XML as ours reads, measured by our job (WikiExtractor does not say).
            theirs["xml_mb"], theirs_big["xml_mb"] = mb, one["xml_mb"]
            ours_line, their_line = line(ours, one), line(theirs, theirs_big)
            gain = ours_line["marginal_mb_per_s"] / their_line["marginal_mb_per_s"]
            # The dump size from which our end-to-end time is the shorter one.
            even = None
            if gain > 1:
                even = ((ours_line["fixed_seconds"] - their_line["fixed_seconds"])
                        / (1 / their_line["marginal_mb_per_s"]
                           - 1 / ours_line["marginal_mb_per_s"]))
            results["large"] = {
                "xml_mb": one["xml_mb"], "ours": one, "authors": theirs_big,
                "ours_hadoop_reader": hadoop,
                "python_over_hadoop_reader": hadoop["seconds"] / one["seconds"],
                "ratio_ours_over_authors": theirs_big["seconds"] / one["seconds"],
                "ours_line": ours_line, "authors_line": their_line,
                "marginal_ratio_ours_over_authors": gain, "break_even_xml_mb": even}
            results["scaling"] = scaling(one, two)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "corpus.json").write_text(json.dumps(results, indent=1))
    s = results["side_by_side"]
    lib = s["library_parse_only"]
    print(f"\n| pipeline (1 core, {s['xml_mb']:.0f} MB XML) | seconds | MB/s/core | "
          "articles/s/core | links |\n|---|---|---|---|---|")
    print(f"| ours: dump -> Delta, end to end | {s['ours']['seconds']:.1f} | "
          f"{s['ours_mb_per_s_per_core']:.2f} | {s['ours_articles_per_s_per_core']:.0f} | "
          f"{s['ours']['links']} |")
    print(f"| WikiExtractor + link post-processing | {s['authors']['seconds']:.1f} | "
          f"{s['authors_mb_per_s_per_core']:.2f} | "
          f"{s['authors_articles_per_s_per_core']:.0f} | {s['authors']['links']} |")
    print(f"| ours, library parse only (bz2 -> text + links, no Spark) | "
          f"{lib['seconds']:.1f} | {s['library_mb_per_s_per_core']:.2f} | "
          f"{lib['articles'] / lib['seconds']:.0f} | {lib['links']} |")
    print(f"\nours / authors speed, end to end: {s['ratio_ours_over_authors']:.2f}x")
    if "large" in results:
        g = results["large"]
        print(f"\n{g['xml_mb']:.0f} MB, 1 core: ours {g['ours']['seconds']:.1f} s "
              f"(Hadoop's reader {g['ours_hadoop_reader']['seconds']:.1f} s, "
              f"{g['python_over_hadoop_reader']:.2f}x), authors "
              f"{g['authors']['seconds']:.1f} s: {g['ratio_ours_over_authors']:.2f}x")
        for who in ("ours", "authors"):
            ln = g[f"{who}_line"]
            print(f"{who}: {ln['fixed_seconds']:.0f} s fixed + "
                  f"{ln['marginal_mb_per_s']:.2f} MB/s")
        print(f"marginal rate, ours / authors: {g['marginal_ratio_ours_over_authors']:.2f}x"
              + (f"; ours is faster end to end from {g['break_even_xml_mb']:.0f} MB of XML"
                 if g["break_even_xml_mb"] else ""))
    if "scaling" in results:
        sc = results["scaling"]
        print(f"\nscaling, {sc['xml_mb']:.0f} MB XML in one file: local[1] "
              f"{sc['local1']['seconds']:.0f} s, local[2] {sc['local2']['seconds']:.0f} s, "
              f"speed-up {sc['speedup']:.2f}x")


if __name__ == "__main__":
    main()
