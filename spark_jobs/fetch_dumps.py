"""Download the dump files a corpus run needs, verified against the dump's published
checksums.

    python spark_jobs/fetch_dumps.py --wikis jawiki,zhwiki --date 20241101 --out /data/dumps
    python spark_jobs/fetch_dumps.py --wikis elwikivoyage --date 20241101 \\
        --mirror https://ftp.acc.umu.se/mirror/wikimedia.org/dumps --out s3://bucket/dumps

For each wiki it reads ``MIRROR/WIKI/DATE/WIKI-DATE-sha1sums.txt`` (md5sums.txt where
there is no sha1 list), picks the files a run needs from it (pages-articles as one file,
else its split parts, or ``--multistream`` with its index; langlinks; page and redirect
unless ``--no-optional-tables``), and downloads each one to ``NAME.part`` beside its
final name, resuming a ``.part`` left by an earlier try with an HTTP range request and
retrying a dropped connection. A file is renamed to its final name only after its
checksum matches, so a file under a dump's name is always whole; a file already there
whose checksum matches is skipped. A corrupt download is deleted and reported; the
other files go on, and the command exits non-zero naming what failed.

``--out`` is a local folder or any URI that ``pyarrow.fs`` opens (s3://, gs://,
hdfs://); remote outputs are staged in ``--staging`` (a local folder, where partial
downloads resume) and uploaded under a temporary name, then renamed.
"""

from __future__ import annotations

import hashlib
import http.client
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from leia.cli import parse_config, wiki_names
from leia.dumps import OPTIONAL_TABLES, check_wiki_names, select_downloads

CHUNK = 1 << 20


@dataclass
class FetchConfig:
    wikis: str = field(default="", metadata={
        "required": True, "help": "database names, comma-separated (jawiki,zh_yuewiki)"})
    date: str = field(default="", metadata={
        "required": True, "help": "dump date YYYYMMDD (a finished dump)"})
    out: str = field(default="out/dumps", metadata={
        "help": "folder or URI to write the files to (what augment.py --dumps reads)"})
    mirror: str = field(default="https://dumps.wikimedia.org", metadata={
        "help": "dump site or mirror: files are at MIRROR/WIKI/DATE/NAME"})
    multistream: bool = field(default=False, metadata={
        "help": "fetch pages-articles-multistream and its index instead of pages-articles"})
    optional_tables: bool = field(default=True, metadata={
        "help": "also fetch the page and redirect tables (the job reads pages and "
                "redirects from the XML without them)"})
    retries: int = field(default=5, metadata={
        "help": "tries per file after a dropped connection (each resumes where the "
                "last stopped)"})
    timeout: float = field(default=60.0, metadata={"help": "seconds before a stalled read fails"})
    staging: str = field(default="", metadata={
        "help": "local folder for partial downloads when --out is remote (default: "
                "a folder under the system's temp dir)"})

    def validate(self) -> None:
        names = wiki_names(self.wikis)
        if names is None:
            raise ValueError("--wikis all is not possible here: name the wikis to fetch")
        check_wiki_names(names)
        if not (len(self.date) == 8 and self.date.isdigit()):
            raise ValueError(f"--date {self.date!r}: give the dump date as YYYYMMDD")
        if self.retries < 1:
            raise ValueError("--retries must be at least 1")


class FetchError(Exception):
    """One file could not be fetched; the message says why and what to do."""


def url_of(cfg: FetchConfig, wiki: str, name: str) -> str:
    return f"{cfg.mirror.rstrip('/')}/{wiki}/{cfg.date}/{name}"


def read_text(url: str, timeout: float) -> str:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        raise FetchError(f"{url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError) as e:
        raise FetchError(f"{url}: {getattr(e, 'reason', e)}") from None


def checksums(cfg: FetchConfig, wiki: str) -> tuple[str, dict[str, str]]:
    """(algorithm, {file name: hex digest}) from the dump's checksum list."""
    errors = []
    for algo in ("sha1", "md5"):
        url = url_of(cfg, wiki, f"{wiki}-{cfg.date}-{algo}sums.txt")
        try:
            text = read_text(url, cfg.timeout)
        except FetchError as e:
            errors.append(str(e))
            continue
        sums = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2:
                sums[parts[1].lstrip("*")] = parts[0].lower()
        return algo, sums
    raise FetchError(f"{wiki} {cfg.date}: no checksum list ({'; '.join(errors)}). Is the "
                     f"date a finished dump of {wiki} on {cfg.mirror}?")


def digest(path: Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def download(url: str, part: Path, cfg: FetchConfig, say) -> None:
    """``url`` into ``part``, resuming what is already there; retries dropped
    connections with a range request from where the file stopped."""
    for attempt in range(1, cfg.retries + 1):
        have = part.stat().st_size if part.exists() else 0
        req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        try:
            with urllib.request.urlopen(req, timeout=cfg.timeout) as r:
                if have and r.status != 206:  # the server ignores ranges: start over
                    have = 0
                total = have + int(r.headers.get("Content-Length", 0) or 0)
                with open(part, "ab" if have else "wb") as f:
                    while chunk := r.read(CHUNK):
                        f.write(chunk)
                got = part.stat().st_size
                if total and got < total:
                    raise ConnectionError(f"connection closed at {got:,} of {total:,} bytes")
                return
        except urllib.error.HTTPError as e:
            if e.code == 416 and have:  # the part is already whole
                return
            raise FetchError(f"{url}: HTTP {e.code} {e.reason}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            reason = getattr(e, "reason", e)
            if attempt == cfg.retries:
                raise FetchError(f"{url}: {reason}; {part.name} keeps the "
                                 f"{part.stat().st_size if part.exists() else 0:,} bytes "
                                 "received: re-run to resume") from None
            say(f"  {part.name}: {reason}; resuming (try {attempt + 1} of {cfg.retries})")
            time.sleep(min(2 ** attempt, 30) * 0.1)


def fetch_file(cfg: FetchConfig, wiki: str, name: str, algo: str, expected: str,
               staging: Path, fs, root: str, say) -> str:
    """Fetch and verify one file; 'downloaded' or 'present'."""
    local = fs is None
    final_local = staging / name
    if local and final_local.exists():
        if digest(final_local, algo) == expected:
            return "present"
        say(f"  {name}: exists but its {algo} does not match the dump's; downloading again")
        final_local.unlink()
    if not local and _remote_exists(fs, f"{root}/{name}"):
        return "present"  # only whole, verified files are ever given a final name
    part = staging / (name + ".part")
    t0 = time.perf_counter()
    download(url_of(cfg, wiki, name), part, cfg, say)
    got = digest(part, algo)
    if got != expected:
        part.unlink()
        raise FetchError(f"{name}: {algo} {got} does not match the dump's {expected}; the "
                         "download was corrupt and is deleted: re-run to fetch it again")
    size = part.stat().st_size
    if local:
        part.replace(final_local)
    else:
        tmp = f"{root}/{name}.uploading"
        with open(part, "rb") as src, fs.open_output_stream(tmp) as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        fs.move(tmp, f"{root}/{name}")
        part.unlink()
    seconds = time.perf_counter() - t0
    say(f"  {name}: {size / 1e6:,.1f} MB in {seconds:.1f}s, {algo} verified")
    return "downloaded"


def _remote_exists(fs, path: str) -> bool:
    from pyarrow import fs as pafs
    return fs.get_file_info(path).type == pafs.FileType.File


def run(cfg: FetchConfig, say=print) -> dict[str, dict[str, list[str]]]:
    """Fetch every wiki's files; {wiki: {downloaded, present, failed}}. Raises
    FetchError at the end when anything failed (after trying everything else)."""
    fs, root = None, cfg.out
    if "://" in cfg.out:
        from pyarrow import fs as pafs
        fs, root = pafs.FileSystem.from_uri(cfg.out)
        root = root.rstrip("/")
        fs.create_dir(root, recursive=True)
        staging = Path(cfg.staging or tempfile.gettempdir()) / "leia-fetch"
    else:
        staging = Path(cfg.out)
    staging.mkdir(parents=True, exist_ok=True)
    report: dict[str, dict[str, list[str]]] = {}
    failures = []
    for wiki in wiki_names(cfg.wikis):
        r = report[wiki] = {"downloaded": [], "present": [], "failed": []}
        try:
            algo, sums = checksums(cfg, wiki)
        except FetchError as e:
            failures.append(str(e))
            r["failed"].append(f"{wiki}-{cfg.date}-sha1sums.txt")
            say(f"{wiki}: {e}")
            continue
        names = select_downloads(list(sums), wiki, cfg.date, cfg.multistream,
                                 ("langlinks",) + (OPTIONAL_TABLES if cfg.optional_tables
                                                   else ()))
        if not any("pages-articles" in n for n in names):
            failures.append(f"{wiki} {cfg.date}: the checksum list names no pages-articles "
                            "file (a dump still in progress?)")
            say(f"{wiki}: {failures[-1]}")
            continue
        say(f"{wiki} {cfg.date}: {len(names)} file(s)")
        for name in names:
            try:
                r[fetch_file(cfg, wiki, name, algo, sums[name], staging, fs, root, say)
                  ].append(name)
            except FetchError as e:
                failures.append(str(e))
                r["failed"].append(name)
                say(f"  {e}")
    say("\n" + "\n".join(f"{w}: {len(r['downloaded'])} downloaded, {len(r['present'])} "
                         f"already present, {len(r['failed'])} failed"
                         for w, r in report.items()))
    if failures:
        raise FetchError(f"{len(failures)} file(s) failed:\n  " + "\n  ".join(failures))
    return report


def main(argv: list[str] | None = None) -> None:
    cfg = parse_config(FetchConfig, argv, "python spark_jobs/fetch_dumps.py",
                       "Download Wikimedia dump files for a corpus run, verified against "
                       "the dump's checksums, resuming partial downloads.")
    try:
        run(cfg, say=lambda m: print(m, flush=True))
    except FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"done: python spark_jobs/augment.py --dumps {cfg.out} --wikis {cfg.wikis} "
          f"--date {cfg.date}")


if __name__ == "__main__":
    main()
