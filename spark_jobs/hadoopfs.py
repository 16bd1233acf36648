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


def file_sizes(spark, uris: list[str]) -> dict[str, int]:
    """{URI: size in bytes} of the given files."""
    out = {}
    for uri in uris:
        fs, path = _fs(spark, uri)
        out[uri] = int(fs.getFileStatus(path).getLen())
    return out


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
    is within ``limit`` compressed bytes, or before the first corrupt data)."""
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
            for piece in _pieces(dec, data):
                out += piece
                if until.encode() in out:
                    return out.decode("utf-8", "replace")
        except (OSError, EOFError, zlib.error):
            break  # corrupt further on: what came before it is the head
        if dec is not None and dec.eof:  # the first stream ended (bz2 and gzip alike)
            break
    return out.decode("utf-8", "replace")


def _pieces(dec, data: bytes, size: int = 64 << 10):
    """The output of feeding ``data`` to a decompressor, ``size`` bytes at a time, so
    output before corrupt data is seen before the error."""
    if dec is None:
        yield data
    elif isinstance(dec, bz2.BZ2Decompressor):
        yield dec.decompress(data, size)
        while not dec.eof and not dec.needs_input:
            yield dec.decompress(b"", size)
    else:
        yield dec.decompress(data, size)
        while dec.unconsumed_tail:
            yield dec.decompress(dec.unconsumed_tail, size)
