"""spark_jobs/fetch_dumps.py against a local HTTP server on 127.0.0.1 that serves the
bundled sample dumps as a Wikimedia mirror lays them out (MIRROR/WIKI/DATE/NAME and
the dump's sha1sums.txt), and misbehaves on request: a connection dropped halfway, a
corrupt file, a missing wiki."""

import hashlib
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from leia.dumps import plan_dumps, select_downloads
from spark_jobs.fetch_dumps import FetchConfig, FetchError, run

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample" / "dumps"
WIKIS = {"jawiki": "20210901", "elwikivoyage": "20191101"}


class Mirror(http.server.ThreadingHTTPServer):
    """Files by URL path; ``drop``: names whose next N full responses stop halfway;
    ``corrupt``: names served with a flipped byte; ``log``: (path, Range header)."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.files: dict[str, bytes] = {}
        self.drop: dict[str, int] = {}
        self.corrupt: set[str] = set()
        self.log: list[tuple[str, str | None]] = []
        for wiki, date in WIKIS.items():
            sums = []
            for f in sorted(SAMPLE.glob(f"{wiki}-{date}-*")):
                self.files[f"/{wiki}/{date}/{f.name}"] = f.read_bytes()
                sums.append(f"{hashlib.sha1(f.read_bytes()).hexdigest()}  {f.name}")
            # A real list also names files a run does not need.
            sums.append(f"{'0' * 40}  {wiki}-{date}-stub-meta-history.xml.gz")
            self.files[f"/{wiki}/{date}/{wiki}-{date}-sha1sums.txt"] = \
                ("\n".join(sums) + "\n").encode()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        srv: Mirror = self.server
        rng = self.headers.get("Range")
        srv.log.append((self.path, rng))
        body = srv.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        name = self.path.rsplit("/", 1)[-1]
        if name in srv.corrupt:
            body = body[:100] + bytes([body[100] ^ 0xFF]) + body[101:]
        start = int(rng.split("=")[1].rstrip("-")) if rng else 0
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if srv.drop.get(name, 0) > 0:
            srv.drop[name] -= 1
            self.wfile.write(body[start:start + (len(body) - start) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body[start:])


@pytest.fixture
def mirror():
    srv = Mirror()
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def config(mirror, out, wikis="jawiki,elwikivoyage", date="20210901", **kw):
    return FetchConfig(wikis=wikis, date=date, out=str(out), mirror=mirror.url,
                       timeout=10, **kw)


def bodies(mirror, out):
    return sorted(p.name for p in Path(out).iterdir()), [
        p.read_bytes() == mirror.files[next(k for k in mirror.files if k.endswith(p.name))]
        for p in Path(out).iterdir()]


def test_select_downloads_prefers_the_whole_file():
    names = ["xwiki-20240101-pages-articles.xml.bz2", "xwiki-20240101-pages-articles1.xml-p1p9.bz2",
             "xwiki-20240101-pages-articles-multistream.xml.bz2",
             "xwiki-20240101-pages-articles-multistream-index.txt.bz2", "xwiki-20240101-langlinks.sql.gz",
             "xwiki-20240101-redirect.sql.gz", "xwiki-20240101-stub-meta-history.xml.gz", "ywiki-20240101-page.sql.gz"]
    assert select_downloads(names, "xwiki", "20240101") == [
        "xwiki-20240101-pages-articles.xml.bz2", "xwiki-20240101-langlinks.sql.gz", "xwiki-20240101-redirect.sql.gz"]
    assert select_downloads(names, "xwiki", "20240101", multistream=True, tables=()) == [
        "xwiki-20240101-pages-articles-multistream.xml.bz2",
        "xwiki-20240101-pages-articles-multistream-index.txt.bz2"]
    parts = ["xwiki-20240101-pages-articles2.xml-p10p20.bz2", "xwiki-20240101-pages-articles1.xml-p1p9.bz2"]
    assert select_downloads(parts, "xwiki", "20240101") == sorted(parts)


def test_fetch_verify_resume_and_skip(mirror, tmp_path):
    out = tmp_path / "dumps"
    mirror.drop["elwikivoyage-20191101-pages-articles.xml.bz2"] = 1
    run(config(mirror, out, wikis="jawiki", date="20210901"), say=lambda m: None)
    report = run(config(mirror, out, wikis="elwikivoyage", date="20191101"),
                 say=lambda m: None)
    assert len(report["elwikivoyage"]["downloaded"]) == 4
    names, same = bodies(mirror, out)
    assert len(names) == 8 and all(same)  # whole, byte for byte; no .part left
    # The dropped download resumed with a range request from where it stopped.
    ranges = [r for p, r in mirror.log if p.endswith("elwikivoyage-20191101-pages-articles.xml.bz2")]
    assert ranges[0] is None and ranges[1] == f"bytes={1663849 // 2}-"
    # What was fetched is what the corpus job reads.
    plan = plan_dumps([str(p) for p in out.iterdir()], None, None)
    assert set(plan) == {"jawiki", "elwikivoyage"} and plan["jawiki"].langlinks
    # A second run downloads nothing: every file is present and verified.
    mirror.log.clear()
    report = run(config(mirror, out, wikis="jawiki"), say=lambda m: None)
    assert report["jawiki"]["present"] and not report["jawiki"]["downloaded"]
    assert [p for p, _ in mirror.log] == ["/jawiki/20210901/jawiki-20210901-sha1sums.txt"]


def test_a_part_left_by_an_earlier_run_is_resumed(mirror, tmp_path):
    out = tmp_path / "dumps"
    out.mkdir()
    name = "jawiki-20210901-pages-articles.xml.bz2"
    whole = (SAMPLE / name).read_bytes()
    (out / (name + ".part")).write_bytes(whole[:10000])
    run(config(mirror, out, wikis="jawiki", optional_tables=False), say=lambda m: None)
    assert (out / name).read_bytes() == whole and not (out / (name + ".part")).exists()
    assert (f"/jawiki/20210901/{name}", "bytes=10000-") in mirror.log
    assert sorted(p.name for p in out.iterdir()) == [
        "jawiki-20210901-langlinks.sql.gz", name]  # no page/redirect tables asked for


def test_a_corrupt_file_is_deleted_and_the_rest_goes_on(mirror, tmp_path):
    out = tmp_path / "dumps"
    mirror.corrupt.add("jawiki-20210901-langlinks.sql.gz")
    with pytest.raises(FetchError, match="langlinks.sql.gz: sha1 .* does not match") as e:
        run(config(mirror, out, wikis="jawiki"), say=lambda m: None)
    assert "re-run to fetch it again" in str(e.value)
    names = sorted(p.name for p in out.iterdir())
    assert "jawiki-20210901-langlinks.sql.gz" not in names and len(names) == 3
    assert not [n for n in names if n.endswith(".part")]


def test_a_connection_that_keeps_dropping_keeps_its_part(mirror, tmp_path):
    out = tmp_path / "dumps"
    name = "jawiki-20210901-pages-articles.xml.bz2"
    mirror.drop[name] = 99
    with pytest.raises(FetchError, match="re-run to resume"):
        run(config(mirror, out, wikis="jawiki", retries=2), say=lambda m: None)
    assert not (out / name).exists() and (out / (name + ".part")).stat().st_size > 0
    mirror.drop[name] = 0
    run(config(mirror, out, wikis="jawiki", retries=2), say=lambda m: None)
    assert (out / name).read_bytes() == (SAMPLE / name).read_bytes()


def test_a_missing_wiki_or_date_is_a_clear_error(mirror, tmp_path):
    out = tmp_path / "dumps"
    with pytest.raises(FetchError, match=r"zhwiki 20210901: no checksum list .*HTTP 404"):
        run(config(mirror, out, wikis="zhwiki,jawiki"), say=lambda m: None)
    assert (out / "jawiki-20210901-pages-articles.xml.bz2").exists()  # the rest went on
    r = subprocess.run([sys.executable, "spark_jobs/fetch_dumps.py", "--wikis", "jawiki",
                        "--date", "2021-09-01", "--out", str(out)], cwd=REPO,
                       capture_output=True, text=True)
    assert r.returncode == 2 and "give the dump date as YYYYMMDD" in r.stderr


def test_remote_outputs_are_staged_and_renamed(mirror, tmp_path):
    """Any pyarrow file system URI (file:// here, s3:// or hdfs:// for users) goes
    through the upload path: staged locally, uploaded under a temporary name, renamed."""
    out = tmp_path / "bucket"
    cfg = config(mirror, f"file://{out}", wikis="jawiki", staging=str(tmp_path / "stage"))
    run(cfg, say=lambda m: None)
    names, same = bodies(mirror, out)
    assert len(names) == 4 and all(same)
    assert not list((tmp_path / "stage" / "leia-fetch").iterdir())  # nothing left staged
