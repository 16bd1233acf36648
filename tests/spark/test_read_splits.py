"""One dump file is read by many tasks, every page exactly once, in every layout
Wikimedia publishes (single file, split parts, multistream with its index)."""

import bz2
import re

import pytest
from conftest import read_xml, sample_xml

from leia.dumps import plan_dumps
from spark_jobs import read

EL = read_xml("elwikivoyage")
HEAD = EL[:EL.index("<page>")]
PAGES = re.findall(r"<page>.*?</page>\n", EL, re.S)
IDS = sorted(int(re.search(r"<id>(\d+)</id>", p).group(1)) for p in PAGES)


def pages(spark, files, split_mb, reader="auto"):
    """The files' pages as the job reads them: planned, headers read, split."""
    dumps = plan_dumps([str(f) for f in files], None, None)
    sites = {w: read.read_siteinfo(spark, d) for w, d in dumps.items()}
    return read.read_pages(spark, dumps, sites, split_mb, reader=reader)


def read_ids(spark, files, split_mb, reader="auto"):
    df = pages(spark, files, split_mb, reader)
    return df.rdd.getNumPartitions(), sorted(r.page_id for r in df.select("page_id").collect())


@pytest.fixture(scope="module")
def both_readers(spark):
    """{reader: (tasks, rows)}: the elwikivoyage file read in 0.1 MB splits by libbz2 in
    the Python workers and by Hadoop's codec in the JVM."""
    got = {}
    for reader in ("python", "hadoop"):
        df = pages(spark, [sample_xml("elwikivoyage")], 0.1, reader)
        got[reader] = (df.rdd.getNumPartitions(),
                       sorted(df.drop("seq", "position", "parse_seconds").collect()))
    return got


@pytest.mark.parametrize("reader", ["python", "hadoop"])
def test_one_bz2_file_is_read_by_many_tasks(both_readers, reader):
    tasks, rows = both_readers[reader]
    assert tasks >= 10
    assert sorted(r.page_id for r in rows) == IDS and len(rows) == 2040


def test_python_reader_rows_equal_hadoop_reader_rows(both_readers):
    assert both_readers["python"][1] == both_readers["hadoop"][1]


@pytest.mark.slow
def test_split_parts(spark, tmp_path):
    parts = [PAGES[:700], PAGES[700:1400], PAGES[1400:]]
    files = []
    for i, chunk in enumerate(parts, 1):
        lo = re.search(r"<id>(\d+)</id>", chunk[0]).group(1)
        hi = re.search(r"<id>(\d+)</id>", chunk[-1]).group(1)
        f = tmp_path / f"elwikivoyage-20191101-pages-articles{i}.xml-p{lo}p{hi}.bz2"
        f.write_bytes(bz2.compress((HEAD + "".join(chunk) + "</mediawiki>\n").encode()))
        files.append(f)
    tasks, ids = read_ids(spark, files, 0.1)
    assert tasks >= 3 and ids == IDS


@pytest.mark.slow
def test_multistream_with_index(spark, tmp_path):
    """As Wikimedia builds them: the header, then 100 pages per bz2 stream, then the
    footer, and an index of ``offset:page_id:title`` lines."""
    streams = [bz2.compress(HEAD.encode())]
    index = []
    offset = len(streams[0])
    for i in range(0, len(PAGES), 100):
        block = "".join(PAGES[i:i + 100])
        for p in PAGES[i:i + 100]:
            pid = re.search(r"<id>(\d+)</id>", p).group(1)
            title = re.search(r"<title>(.*?)</title>", p).group(1)
            index.append(f"{offset}:{pid}:{title}")
        data = bz2.compress(block.encode())
        streams.append(data)
        offset += len(data)
    streams.append(bz2.compress(b"</mediawiki>\n"))
    f = tmp_path / "elwikivoyage-20191101-pages-articles-multistream.xml.bz2"
    f.write_bytes(b"".join(streams))
    (tmp_path / "elwikivoyage-20191101-pages-articles-multistream-index.txt.bz2"
     ).write_bytes(bz2.compress("\n".join(index).encode()))
    plan = plan_dumps([str(p) for p in tmp_path.iterdir()], None, None)
    assert plan["elwikivoyage"].index  # found and kept beside the XML
    tasks, ids = read_ids(spark, [f], 0.1)
    assert tasks >= 10 and ids == IDS
    assert sorted(int(line.split(":")[1]) for line in index) == IDS


def test_a_real_id_range_slice(spark, tmp_path):
    from conftest import REPO
    src = REPO / "tests" / "data" / "elwikivoyage-2019-pages-articles-p2566p2583.xml.bz2"
    dst = tmp_path / "elwikivoyage-20191101-pages-articles1.xml-p2566p2583.bz2"
    dst.write_bytes(src.read_bytes())
    tasks, ids = read_ids(spark, [dst], 64)
    assert len(ids) == 17 and all(2566 <= i <= 2583 for i in ids)
