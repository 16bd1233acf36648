"""Parse speed against another revision of the library, side by side in one process.

    python bench/parse_bench.py --against HEAD~1        # or a tag, a commit
    python bench/parse_bench.py --against main --rounds 15
    python bench/generate_dump.py --mb 20 --out bench/data
    python bench/parse_bench.py --against main \
        --dump bench/data/elwikivoyage-20991231-pages-articles.xml.bz2

Extracts ``leia/`` at the given git revision into a temporary folder under another
package name, loads the real excerpts' ns-0 articles (elwikivoyage, viwiki, and the
Japanese and English DBpedia pages), and runs ``leia.wikitext.extract`` of both
revisions on them in alternating rounds in this one process (each round the whole set,
CPU time), so that the machine's drift hits both alike. Prints the best round of each
in MB of wikitext per second and their ratio; pin it to one core with ``taskset -c 1``.

``--dump`` times instead each revision's ``parse_record`` (XML record -> page, text,
links: the corpus bench's parse-alone line) over the pages of one dump file, such as
``bench/generate_dump.py`` writes; it is decompressed once, outside the rounds, and the
ratio is then of the library's per-page work alone, in MB of page XML per second.
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
from collections.abc import Callable
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
    p.add_argument("--dump", type=Path, help="a pages-articles .xml.bz2: time parse_record "
                   "over its pages instead of extract over the real excerpts")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        other = library_at(args.against, Path(tmp))
        sys.path.insert(0, tmp)
        libs = {"this tree": "leia", args.against: other}
        work = record_work(libs, args.dump) if args.dump else excerpt_work(libs)
        compare(libs, *work, args.rounds, args.against)


def excerpt_work(libs: dict[str, str]) -> tuple[Callable[[str], None], str, float]:
    """Each revision's ``extract`` over the excerpts' articles, and what they weigh."""
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

    def work(k: str) -> None:
        for text, sites, lang in articles:
            extract[k](text, sites[k], lang)
    return work, f"{len(articles)} articles, {mb:.1f} MB of wikitext", mb


def record_work(libs: dict[str, str], dump: Path
                ) -> tuple[Callable[[str], None], str, float]:
    """Each revision's ``parse_record`` over the dump's pages, and what they weigh."""
    raw = bz2.open(dump, "rt", encoding="utf-8").read()
    records = [r for r in raw.split("</page>") if "<page" in r]
    wiki = dump.name.split("-")[0]
    mb = sum(len(r.encode()) for r in records) / 1e6
    contexts, parse = {}, {}
    for k, v in libs.items():
        records_mod = importlib.import_module(f"{v}.records")
        site = importlib.import_module(f"{v}.siteinfo").parse_siteinfo(raw[:raw.find("<page")])
        lang = importlib.import_module(f"{v}.languages").language_of(wiki)
        contexts[k] = records_mod.WikiContext(wiki, lang, site)
        parse[k] = records_mod.parse_record

    def work(k: str) -> None:
        for record in records:
            parse[k](record, 0, contexts[k], dump.name)
    return work, f"{len(records)} pages of {dump.name}, {mb:.1f} MB of XML", mb


def compare(libs: dict[str, str], work: Callable[[str], None], what: str, mb: float,
            rounds: int, against: str) -> None:
    """``work`` of each revision in alternating rounds; the best round of each."""
    best = dict.fromkeys(libs, float("inf"))
    for _ in range(rounds):
        for k in libs:
            start = time.process_time()
            work(k)
            best[k] = min(best[k], time.process_time() - start)
    print(f"{what}, best of {rounds} rounds")
    for k, t in best.items():
        print(f"  {k:<12} {mb / t:6.2f} MB/s")
    print(f"  this tree / {against}: {best[against] / best['this tree']:.3f}x")


if __name__ == "__main__":
    main()
