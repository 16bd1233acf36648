"""Parse speed against another revision of the library, side by side in one process.

    python bench/parse_bench.py --against HEAD~1        # or a tag, a commit
    python bench/parse_bench.py --against main --rounds 15

Extracts ``leia/`` at the given git revision into a temporary folder under another
package name, loads the real excerpts' ns-0 articles (elwikivoyage, viwiki, and the
Japanese and English DBpedia pages), and runs ``leia.wikitext.extract`` of both
revisions on them in alternating rounds in this one process (each round the whole set,
CPU time), so that the machine's drift hits both alike. Prints the best round of each
in MB of wikitext per second and their ratio; pin it to one core with ``taskset -c 1``.
"""

from __future__ import annotations

import argparse
import bz2
import html
import importlib
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fidelity_bench import REALDATA  # noqa: E402

FILES = (("elwikivoyage-2019-sample-pages-articles.xml.bz2", "el"),
         ("viwiki-2023-pages-articles-head10.xml.bz2", "vi"),
         ("dbpedia-minidumps/ja-wiki.xml.bz2", "ja"),
         ("dbpedia-minidumps/en-wiki.xml.bz2", "en"))
_ARTICLE = re.compile(r"<ns>0</ns>.*?<text[^>]*>(.*?)</text>", re.S)


def library_at(revision: str, folder: Path) -> str:
    """``leia/`` as of ``revision``, importable as ``leia_at_<sha>``; its name."""
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", revision],
                         check=True, capture_output=True, text=True).stdout.strip()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha, "leia"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    name = f"leia_at_{sha}"
    (folder / "leia").rename(folder / name)  # its imports are relative: it moves whole
    return name


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--against", required=True, help="git revision to compare with")
    p.add_argument("--rounds", type=int, default=10, help="rounds per revision")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        other = library_at(args.against, Path(tmp))
        sys.path.insert(0, tmp)
        libs = {"this tree": "leia", args.against: other}
        extract = {k: importlib.import_module(f"{v}.wikitext").extract for k, v in libs.items()}
        parse = {k: importlib.import_module(f"{v}.siteinfo").parse_siteinfo
                 for k, v in libs.items()}
        articles = []
        for name, lang in FILES:
            raw = bz2.open(REALDATA / name, "rt", encoding="utf-8").read()
            header = raw[:raw.find("<page")]
            sites = {k: f(header) for k, f in parse.items()}
            articles += [(html.unescape(m.group(1)), sites, lang)
                         for m in _ARTICLE.finditer(raw)]
        mb = sum(len(a[0].encode()) for a in articles) / 1e6
        best = dict.fromkeys(libs, float("inf"))
        for _ in range(args.rounds):
            for k in libs:
                start = time.process_time()
                for text, sites, lang in articles:
                    extract[k](text, sites[k], lang)
                best[k] = min(best[k], time.process_time() - start)
    print(f"{len(articles)} articles, {mb:.1f} MB of wikitext, best of {args.rounds} rounds")
    for k, t in best.items():
        print(f"  {k:<12} {mb / t:6.2f} MB/s")
    print(f"  this tree / {args.against}: {best[args.against] / best['this tree']:.3f}x")


if __name__ == "__main__":
    main()
