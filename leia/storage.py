"""Files written atomically on a local disk or any file system pyarrow knows (s3://,
hdfs://, gs://): a file is either absent or complete, never half-written."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from typing import Iterable
from urllib.parse import urlparse


def filesystem(uri: str):
    """(pyarrow FileSystem, path in it) for a local path or a URI. Hadoop's ``s3a://``
    is S3 to pyarrow, and its ``file:/x`` a local path."""
    from pyarrow import fs as pafs

    if uri.startswith("file:"):  # file:///x, and Hadoop's own file:/x
        return pafs.LocalFileSystem(), urlparse(uri).path
    if "://" not in uri:
        return pafs.LocalFileSystem(), os.path.abspath(uri)
    if uri.startswith("s3a://") or uri.startswith("s3n://"):
        uri = "s3://" + uri.split("://", 1)[1]
    return pafs.FileSystem.from_uri(uri)


def join(root: str, name: str) -> str:
    return root.rstrip("/") + "/" + name


class AtomicFile:
    """A file written under a temporary name next to its final one and renamed on
    ``commit``, so it is either absent or complete; ``abort`` removes the temporary."""

    def __init__(self, fs, path: str):
        folder, name = path.rsplit("/", 1)
        self.fs, self.path = fs, path
        self.tmp = join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
        self.sha = hashlib.sha256()
        self.out = fs.open_output_stream(self.tmp)

    def write(self, chunk: bytes) -> None:
        self.sha.update(chunk)
        self.out.write(chunk)

    def commit(self) -> str:
        self.out.close()
        self.fs.move(self.tmp, self.path)
        return self.sha.hexdigest()

    def abort(self) -> None:
        try:
            self.out.close()
            self.fs.delete_file(self.tmp)
        except Exception:  # noqa: BLE001 - cleanup must not hide the error that led here
            pass


def write_bytes_atomic(fs, path: str, chunks: Iterable[bytes]) -> str:
    """Write ``chunks`` to ``path`` atomically; returns the sha256."""
    f = AtomicFile(fs, path)
    try:
        for chunk in chunks:
            f.write(chunk)
        return f.commit()
    except BaseException:
        f.abort()
        raise


def write_json_atomic(fs, path: str, obj) -> None:
    write_bytes_atomic(fs, path, [json.dumps(obj, indent=1, sort_keys=True).encode()])


def read_json(fs, path: str):
    """The parsed file, or None when it is missing or unreadable (an unfinished write)."""
    from pyarrow import fs as pafs

    if fs.get_file_info(path).type != pafs.FileType.File:
        return None
    try:
        with fs.open_input_stream(path) as f:
            return json.loads(f.read().decode())
    except (OSError, ValueError):
        return None


def file_sha256(fs, path: str) -> str:
    h = hashlib.sha256()
    with fs.open_input_stream(path) as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()
