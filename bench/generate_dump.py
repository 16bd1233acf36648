"""Generate a large pages-articles dump from the real sample pages, for scale benchmarks.

    python bench/generate_dump.py --mb 200 --out bench/data
    python bench/generate_dump.py --mb 50 --wiki jawiki --out bench/data   # any sample wiki

Writes ``elwikivoyage-20991231-pages-articles.xml.bz2`` (one file, as large dumps are)
plus the sample's SQL tables under that date. Pages are the real pages of a sample dump
(the Greek Wikivoyage by default), copied under new page ids and titles ("<title> 17"),
so the wikitext keeps its real size and complexity; the first copy keeps the original
ids and titles, so links still resolve and align as in the sample.
"""

from __future__ import annotations

import argparse
import bz2
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "dumps"
WIKI, DATE = "elwikivoyage", "20991231"


def real_pages(wiki: str = WIKI) -> tuple[str, list[str]]:
    raw = bz2.open(next(SAMPLE.glob(f"{wiki}-*-pages-articles.xml.bz2")), "rt",
                   encoding="utf-8").read()
    return raw[:raw.index("<page>")], re.findall(r"<page>.*?</page>\n", raw, re.S)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=200, help="uncompressed XML size, MB")
    ap.add_argument("--out", default=str(ROOT / "bench" / "data"))
    ap.add_argument("--wiki", default=WIKI, help="which wiki of data/sample/dumps to copy")
    args = ap.parse_args(argv)
    wiki = args.wiki
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    head, pages = real_pages(wiki)
    target = int(args.mb * 1e6)
    path = out / f"{wiki}-{DATE}-pages-articles.xml.bz2"
    tmp = path.with_suffix(".tmp")
    written, copy, next_id = 0, 0, 10_000_000
    with bz2.open(tmp, "wt", encoding="utf-8", compresslevel=9) as f:
        f.write(head)
        while written < target:
            for p in pages:
                if copy:
                    next_id += 1
                    p = re.sub(r"<id>\d+</id>", f"<id>{next_id}</id>", p, count=1)
                    p = re.sub(r"<title>(.*?)</title>",
                               lambda m, copy=copy: f"<title>{m.group(1)} {copy}</title>",
                               p, count=1)
                f.write(p)
                written += len(p.encode())
                if written >= target:
                    break
            copy += 1
            print(f"\r{written / 1e6:8.1f} MB", end="", file=sys.stderr, flush=True)
        f.write("</mediawiki>\n")
    tmp.rename(path)
    for kind in ("langlinks", "page", "redirect"):
        src = next(SAMPLE.glob(f"{wiki}-*-{kind}.sql.gz"))
        shutil.copy(src, out / f"{wiki}-{DATE}-{kind}.sql.gz")
    print(f"\n{path}: {written / 1e6:.0f} MB of XML, {path.stat().st_size / 1e6:.0f} MB bz2",
          file=sys.stderr)


if __name__ == "__main__":
    main()
