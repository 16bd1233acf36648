"""Small driver-side file operations on any Hadoop file system (local, HDFS, S3A...),
through the JVM Spark already runs, so the job needs no extra client libraries."""

from __future__ import annotations

import bz2
import zlib


def _fs(spark, uri: str):
    jvm = spark._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark._jsc.hadoopConfiguration()), path



def list_files(spark, uri: str) -> list[tuple[str, int]]:
    """(URI, size) of the files directly in a folder; a clear error if it is missing."""
    fs, path = _fs(spark, uri)
    if not fs.exists(path):
        raise ValueError(f"--dumps {uri}: no such folder")
    return [(str(s.getPath().toString()), int(s.getLen()))
            for s in fs.listStatus(path) if s.isFile()]



def read_range(spark, uri: str, offset: int, length: int) -> bytes:
    fs, path = _fs(spark, uri)
    stream = fs.open(path)
    try:
        if offset:
            stream.seek(offset)
        return bytes(stream.readNBytes(length))
    finally:
        stream.close()


def read_head_text(spark, uri: str, until: str, limit: int = 16 << 20) -> str:
    """The decompressed start of a file, up to and including ``until`` (or what there
    is within ``limit`` compressed bytes)."""
    if uri.endswith(".bz2"):
        dec = bz2.BZ2Decompressor()
    elif uri.endswith(".gz"):
        dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
    else:
        dec = None
    out, offset, chunk = b"", 0, 256 << 10
    while offset < limit:
        data = read_range(spark, uri, offset, chunk)
        if not data:
            break
        offset += len(data)
        try:
            out += dec.decompress(data) if dec else data
        except (OSError, EOFError, zlib.error):
            break
        if until.encode() in out or (dec is not None and getattr(dec, "eof", False)):
            break
    return out.decode("utf-8", "replace")
