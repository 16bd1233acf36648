"""Scaling measurements for docs/scaling.md: the corpus job on generated multi-wiki dumps
of growing size, on 1 and 2 cores, time and peak memory.

    python bench/scaling_bench.py                    # 50, 200 and 1000 MB of XML
    python bench/scaling_bench.py --sizes 50 200     # quicker

Each dump holds four wikis in four scripts, skewed as Wikipedia is (the largest holds
half the bytes), each one file, made by generate_dump.py from the sample's real pages.
Every run is pinned to its cores with taskset; peak memory is the resident set of the
job's whole process tree (driver, JVM, Python workers), sampled every 0.2 s. Spark's
default memory settings throughout.

Results go to bench/results/scaling.json and are printed as a Markdown table, with the
fixed cost and the marginal rate fitted from the sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.corpus_bench import run_ours  # noqa: E402

# Share of the dump's bytes per wiki: Greek Wikivoyage (Greek script), Japanese, Arabic,
# Vietnamese (Latin with diacritics).
MIX = {"elwikivoyage": 0.50, "jawiki": 0.25, "arwiki": 0.15, "viwiki": 0.10}


def generate(mb: float, folder: Path) -> Path:
    for wiki, share in MIX.items():
        if not any(folder.glob(f"{wiki}-*-pages-articles.xml.bz2")):
            subprocess.run([sys.executable, str(ROOT / "bench" / "generate_dump.py"),
                            "--mb", str(mb * share), "--wiki", wiki, "--out", str(folder)],
                           check=True)
    return folder


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares (fixed seconds, MB per second) of seconds = fixed + MB / rate."""
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    slope = (sum((x - mx) * (y - my) for x, y in points)
             / sum((x - mx) ** 2 for x, _ in points))
    return my - slope * mx, 1 / slope


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=float, nargs="+", default=[50, 200, 1000],
                    help="dump sizes, MB of uncompressed XML over all wikis")
    ap.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--data", default=str(ROOT / "bench" / "data"))
    ap.add_argument("--update", action="store_true",
                    help="keep the other runs of bench/results/scaling.json, replacing "
                         "those of the sizes and cores given")
    args = ap.parse_args(argv)
    out = ROOT / "bench" / "results"
    runs = []
    if args.update and (out / "scaling.json").exists():
        runs = [r for r in json.loads((out / "scaling.json").read_text())["runs"]
                if not (r["size_mb"] in args.sizes and r["cores"] in args.cores)]
    with tempfile.TemporaryDirectory() as tmp:
        for mb in args.sizes:
            folder = generate(mb, Path(args.data) / f"scale-{mb:g}mb")
            bz2_mb = sum(f.stat().st_size for f in folder.glob("*.xml.bz2")) / 1e6
            for cores in args.cores:
                r = run_ours(folder, cores, Path(tmp))
                r.update(cores=cores, size_mb=mb, bz2_mb=bz2_mb)
                runs.append(r)
                print(json.dumps(r), flush=True)
    runs.sort(key=lambda r: (r["size_mb"], r["cores"]))
    fits = {}
    for cores in sorted({r["cores"] for r in runs}):
        pts = [(r["xml_mb"], r["seconds"]) for r in runs if r["cores"] == cores]
        if len(pts) > 1:
            fixed, rate = fit(pts)
            fits[cores] = {"fixed_seconds": fixed, "marginal_mb_per_s": rate,
                           "marginal_mb_per_s_per_core": rate / cores}
    out.mkdir(exist_ok=True)
    (out / "scaling.json").write_text(json.dumps(
        {"machine": {"cores": os.cpu_count()}, "mix": MIX, "runs": runs, "fits": fits},
        indent=1))
    print("\n| XML MB (bz2 MB) | cores | seconds | MB/s | peak memory GB | articles |\n"
          "|---|---|---|---|---|---|")
    for r in runs:
        print(f"| {r['xml_mb']:.0f} ({r['bz2_mb']:.0f}) | {r['cores']} | {r['seconds']:.0f} "
              f"| {r['xml_mb'] / r['seconds']:.2f} | {r['peak_rss_gb']:.2f} | "
              f"{r['articles']:,} |")
    for cores, f in fits.items():
        print(f"\nlocal[{cores}]: fixed {f['fixed_seconds']:.0f} s + "
              f"{f['marginal_mb_per_s']:.2f} MB/s ({f['marginal_mb_per_s_per_core']:.2f} "
              "per core)")


if __name__ == "__main__":
    main()
