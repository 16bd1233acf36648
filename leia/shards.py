"""The token shard format: the contract between the encoder (writer) and the trainer,
the notebooks and ``python -m leia.shards`` (readers).

A shard folder holds ``manifest.json`` and, per shard ``NAME``, four little-endian
arrays that ``numpy.memmap`` reads as they are:

    NAME.tokens.bin   uint16 or uint32 token ids (the manifest's ``dtype``)
    NAME.mask.bin     uint8 per token: 0 = never a training target (markers, ...)
    NAME.docs.bin     int64 start offset of each document in NAME.tokens.bin
    NAME.ids.bin      int64 pairs (wiki index into the manifest's ``wikis``, page id)

and ``NAME.done.json``, the shard's completion record (counts, sha256 of each file),
written after its files. The manifest, written last, lists those records. Every file is
written under a temporary name and renamed, so a crash never leaves a file that looks
complete: a shard without its record, or a folder without a manifest, is unfinished.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .storage import (
    AtomicFile,
    file_sha256,
    filesystem,
    join,
    write_bytes_atomic,
    write_json_atomic,
)

FORMAT = "leia-token-shards"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FILE_KINDS = ("tokens", "mask", "docs", "ids")
RERUN = "re-run spark_jobs/encode.py with the same arguments to rebuild it"


class ShardError(ValueError):
    """A shard folder that cannot be used as it is (missing, truncated, corrupt, or made
    for another tokenizer). The message names the file and what to do."""


@dataclass
class Manifest:
    """``manifest.json``: what a shard folder holds and how it was made. The encoder
    writes it last; every reader gets it from ``Manifest.from_json``."""

    created: str
    fingerprint: str
    """sha256 of everything that makes two builds the same; a re-run reuses only the
    shards of a build with the same fingerprint."""
    tokenizer: dict
    """name, class, vocab_size (markers included), vocab_sha256 (of the token -> id map)."""
    special_tokens: dict
    """role (start_marker, end_marker, bos, eos) -> {token, id}."""
    dtype: str
    loss_mask: str
    layout: dict
    """prefix and suffix ids around each article, append_eos, off_boundary, engine."""
    source: dict
    """The Delta table (``table``) and its ``version``."""
    wikis: list
    augmentation: dict | None
    """Per wiki: strategy, prob, seed, markers, pivot, run_id; None for a build without
    insertions (``--no-augmentation``)."""
    tokens_per_shard: int
    totals: dict
    per_wiki: dict
    shards: list
    """Each shard's completion record: name, files, sha256, dtype, counts."""
    seconds: float
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    @property
    def markers(self) -> tuple[str, str]:
        return (self.special_tokens["start_marker"]["token"],
                self.special_tokens["end_marker"]["token"])

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        return {"format": d.pop("format"), "format_version": d.pop("format_version"), **d}

    @classmethod
    def from_json(cls, d: dict, where: str = MANIFEST) -> "Manifest":
        if d.get("format") != FORMAT:
            raise ShardError(f"{where}: not a {FORMAT} manifest")
        if d.get("format_version") != FORMAT_VERSION:
            raise ShardError(f"{where}: format version {d.get('format_version')}, this "
                             f"reader reads {FORMAT_VERSION}; {RERUN}")
        names = {f.name for f in dataclasses.fields(cls)}
        missing = sorted(names - set(d))
        if missing:
            raise ShardError(f"{where}: no {', '.join(missing)}; {RERUN}")
        return cls(**{k: v for k, v in d.items() if k in names})


def shard_name(index: int) -> str:
    return f"shard-{index:06d}"


def file_names(name: str) -> dict[str, str]:
    return {kind: f"{name}.{kind}.bin" for kind in FILE_KINDS}


def record_name(name: str) -> str:
    return f"{name}.done.json"


def token_dtype(vocab_size: int) -> str:
    """uint16 when every id fits (added tokens included), else uint32."""
    return "uint16" if vocab_size <= 1 << 16 else "uint32"


def vocab_fingerprint(vocab: dict[str, int]) -> str:
    """sha256 of the token -> id map (added tokens included): two tokenizers with the
    same fingerprint give the same ids to the same tokens."""
    h = hashlib.sha256()
    for token, i in sorted(vocab.items(), key=lambda kv: kv[1]):
        h.update(f"{i}\t{token}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


@dataclass
class DocumentTokens:
    """One encoded document on its way into a shard."""

    wiki_index: int
    page_id: int
    tokens: np.ndarray
    mask: np.ndarray


def write_shard(root: str, name: str, docs: Iterable[DocumentTokens], dtype: str,
               extra=None) -> dict:
    """Write one shard's four files, streaming ``docs`` once, then its completion record;
    returns the record. Runs on executors; ``root`` may be a local path or a URI.
    ``extra``: more fields for the record, or a function giving them once ``docs`` has
    been consumed."""
    fs, base = filesystem(root)
    fs.create_dir(base, recursive=True)
    files = file_names(name)
    np_dtype = np.dtype(dtype).newbyteorder("<")
    tokens_f = AtomicFile(fs, join(base, files["tokens"]))
    mask_f = AtomicFile(fs, join(base, files["mask"]))
    starts, ids, total, masked = [], [], 0, 0
    try:
        for d in docs:
            starts.append(total)
            ids.append((d.wiki_index, d.page_id))
            tokens_f.write(np.asarray(d.tokens).astype(np_dtype, copy=False).tobytes())
            mask_f.write(np.asarray(d.mask, dtype=np.uint8).tobytes())
            total += len(d.tokens)
            masked += int(len(d.mask) - np.count_nonzero(d.mask))
        sha = {"tokens": tokens_f.commit(), "mask": mask_f.commit()}
    except BaseException:
        tokens_f.abort()
        mask_f.abort()
        raise
    sha["docs"] = write_bytes_atomic(fs, join(base, files["docs"]),
                                     [np.asarray(starts, dtype="<i8").tobytes()])
    sha["ids"] = write_bytes_atomic(fs, join(base, files["ids"]),
                                    [np.asarray(ids, dtype="<i8").reshape(-1, 2).tobytes()])
    record = {"name": name, "files": files, "sha256": sha, "dtype": dtype,
              "tokens": total, "documents": len(starts), "masked": masked,
              **((extra() if callable(extra) else extra) or {})}
    write_json_atomic(fs, join(base, record_name(name)), record)
    return record


def expected_sizes(record: dict) -> dict[str, int]:
    """Byte size of each of a shard's files, from its record."""
    n, docs = record["tokens"], record["documents"]
    return {"tokens": n * np.dtype(record["dtype"]).itemsize, "mask": n,
            "docs": docs * 8, "ids": docs * 16}


def shard_complete(root: str, record: dict, verify: bool = True) -> bool:
    """Whether a shard's files are all there with the record's sizes (and hashes)."""
    fs, base = filesystem(root)
    for kind, size in expected_sizes(record).items():
        path = join(base, record["files"][kind])
        if fs.get_file_info(path).size != size:
            return False
        if verify and file_sha256(fs, path) != record["sha256"][kind]:
            return False
    return True


# --- reading ------------------------------------------------------------------------

@dataclass
class Document:
    wiki: str
    page_id: int
    tokens: np.ndarray
    mask: np.ndarray


class Shard:
    """One shard's arrays, memory-mapped (nothing is read until it is used)."""

    def __init__(self, root: Path, record: dict):
        self.name = record["name"]
        self.record = record
        dtype = record["dtype"]
        paths = {k: root / f for k, f in record["files"].items()}
        expected = expected_sizes(record)
        for kind, path in paths.items():
            if not path.is_file():
                raise ShardError(f"{path}: missing; {RERUN}")
            size = path.stat().st_size
            if size != expected[kind]:
                raise ShardError(f"{path}: {size} bytes where the manifest says "
                                 f"{expected[kind]} (truncated or from another build); "
                                 f"{RERUN}")
        self.paths = paths
        self.tokens = _memmap(paths["tokens"], np.dtype(dtype).newbyteorder("<"))
        self.mask = _memmap(paths["mask"], np.uint8)
        self.doc_starts = _memmap(paths["docs"], np.dtype("<i8"))
        self.ids = _memmap(paths["ids"], np.dtype("<i8")).reshape(-1, 2)

    def verify(self) -> None:
        for kind, path in self.paths.items():
            h = hashlib.sha256()
            with open(path, "rb") as f:
                while chunk := f.read(8 << 20):
                    h.update(chunk)
            if h.hexdigest() != self.record["sha256"][kind]:
                raise ShardError(f"{path}: sha256 differs from the manifest's (the file "
                                 f"is corrupt); {RERUN}")

    def document_bounds(self, i: int) -> tuple[int, int]:
        start = int(self.doc_starts[i])
        end = int(self.doc_starts[i + 1]) if i + 1 < len(self.doc_starts) else len(self.tokens)
        return start, end


def _memmap(path: Path, dtype) -> np.ndarray:
    if path.stat().st_size == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r")


class ShardSet:
    """A shard folder opened for reading: the manifest, the shards (memory-mapped), and
    the stream of all their tokens in order, as one logical array."""

    def __init__(self, root: str | Path, verify: bool = False):
        self.root = Path(root)
        path = self.root / MANIFEST
        if not path.is_file():
            unfinished = sorted(p.name for p in self.root.glob("*.done.json")) \
                if self.root.is_dir() else []
            raise ShardError(
                f"{path}: no manifest, so {self.root} is not a finished shard folder"
                + (f" ({len(unfinished)} shard(s) were written before the build stopped)"
                   if unfinished else "") + f"; {RERUN}")
        try:
            self.manifest = Manifest.from_json(json.loads(path.read_text()), str(path))
        except json.JSONDecodeError as e:
            raise ShardError(f"{path}: not valid JSON ({e}); {RERUN}") from None
        self.dtype = self.manifest.dtype
        self.wikis: list[str] = self.manifest.wikis
        self.shards = [Shard(self.root, r) for r in self.manifest.shards]
        sizes = np.array([len(s.tokens) for s in self.shards], dtype=np.int64)
        self._starts = np.concatenate([[0], np.cumsum(sizes)])
        if verify:
            self.verify()

    @property
    def num_tokens(self) -> int:
        return int(self._starts[-1])

    @property
    def num_documents(self) -> int:
        return sum(len(s.doc_starts) for s in self.shards)

    def document_starts(self) -> np.ndarray:
        """Where each document begins in the stream (int64, in stream order)."""
        starts = [np.asarray(s.doc_starts, dtype=np.int64) + int(base)
                  for s, base in zip(self.shards, self._starts[:-1])]
        return np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)

    @property
    def special_ids(self) -> dict[str, int]:
        return {k: v["id"] for k, v in self.manifest.special_tokens.items()}

    def verify(self) -> None:
        """Check every file's sha256 against the manifest (reads everything)."""
        for s in self.shards:
            s.verify()

    def check_tokenizer(self, tokenizer) -> None:
        """Fail clearly unless ``tokenizer`` (a transformers tokenizer with the markers
        added, or a ``tokenizers.Tokenizer``) gives the ids these shards were made with."""
        vocab, size = _vocab_of(tokenizer)
        want = self.manifest.tokenizer
        where = f"the shards in {self.root} were made with {want['name']!r}"
        if size != want["vocab_size"]:
            raise ShardError(f"tokenizer mismatch: {where} (vocabulary {want['vocab_size']}"
                             f" tokens, markers included), the given tokenizer has {size}")
        for role, spec in self.manifest.special_tokens.items():
            got = vocab.get(spec["token"])
            if got != spec["id"]:
                raise ShardError(f"tokenizer mismatch: {where}, where {role} "
                                 f"{spec['token']!r} is id {spec['id']}; the given "
                                 f"tokenizer has it as {got}")
        if vocab_fingerprint(vocab) != want["vocab_sha256"]:
            raise ShardError(f"tokenizer mismatch: {where}; the given tokenizer has the "
                             "same size and special ids but other tokens (vocabulary "
                             "sha256 differs)")

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Tokens and mask of positions [start, stop) of the whole stream (copies only
        when the range crosses a shard boundary)."""
        if not 0 <= start <= stop <= self.num_tokens:
            raise IndexError(f"[{start}, {stop}) outside the {self.num_tokens} tokens")
        first = int(np.searchsorted(self._starts, start, side="right")) - 1
        s = self.shards[first]
        lo = start - int(self._starts[first])
        if stop <= self._starts[first + 1]:
            hi = stop - int(self._starts[first])
            return s.tokens[lo:hi], s.mask[lo:hi]
        toks, masks, i, pos = [], [], first, start
        while pos < stop:
            s, base = self.shards[i], int(self._starts[i])
            hi = min(stop, int(self._starts[i + 1])) - base
            toks.append(s.tokens[pos - base:hi])
            masks.append(s.mask[pos - base:hi])
            pos, i = base + hi, i + 1
        return np.concatenate(toks), np.concatenate(masks)

    def documents(self) -> Iterator[Document]:
        for s in self.shards:
            for i in range(len(s.doc_starts)):
                lo, hi = s.document_bounds(i)
                wiki_index, page_id = (int(x) for x in s.ids[i])
                yield Document(self.wikis[wiki_index], page_id, s.tokens[lo:hi],
                               s.mask[lo:hi])


def _vocab_of(tokenizer) -> tuple[dict[str, int], int]:
    if hasattr(tokenizer, "get_vocab_size"):  # tokenizers.Tokenizer
        return tokenizer.get_vocab(with_added_tokens=True), \
            tokenizer.get_vocab_size(with_added_tokens=True)
    return tokenizer.get_vocab(), len(tokenizer)


if __name__ == "__main__":  # the documented command; the viewer lives in shard_view
    from leia.shard_view import main

    main()
