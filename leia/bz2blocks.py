"""One piece of a .bz2 dump file, read by one task: bzip2's blocks found by their magic
numbers and decompressed one by one by libbz2 (Python's ``bz2``), and the
``</page>``-delimited records that piece owns.

A bzip2 stream is a header (``BZh1``..``BZh9``), blocks that each begin with the 48-bit
magic 0x314159265359 and the block's CRC, and an end-of-stream marker (0x177245385090,
the stream's CRC, padding to a byte); a multistream dump is many such streams end to
end. Blocks are not byte-aligned, so a block found at bit n is shifted onto a byte
boundary and wrapped as a stream of its own: header, block, end marker whose CRC is the
block's (a one-block stream's CRC), as ``bzip2recover`` does. libbz2 checks the block's
CRC as it decompresses it. Hadoop's bzip2 codec splits files at the same boundaries,
but decompresses in pure Java, several times slower than libbz2.

Pure functions over bytes and file objects: the Spark job (``spark_jobs/read.py``)
maps ``read_split`` over the pieces of each file.
"""

from __future__ import annotations

import bz2
from collections.abc import Iterable, Iterator
from typing import BinaryIO

BLOCK_MAGIC = 0x314159265359
EOS_MAGIC = 0x177245385090
DELIMITER = b"</page>"
_CHUNK = 1 << 20


def _patterns(magic: int) -> list[tuple[int, bytes]]:
    """For each bit offset s (0-7) at which the magic may begin inside a byte, the five
    bytes that are then wholly the magic's (bytes 1-5 of the 7-byte window)."""
    return [(s, (magic << (8 - s)).to_bytes(7, "big")[1:6]) for s in range(8)]


_PATTERNS = {m: _patterns(m) for m in (BLOCK_MAGIC, EOS_MAGIC)}


def _bits(data: bytes, start: int, n: int) -> int:
    """The ``n`` bits of ``data`` from bit ``start`` (most significant bit first)."""
    lo, hi = start // 8, (start + n + 7) // 8
    return (int.from_bytes(data[lo:hi], "big") >> (hi * 8 - start - n)) & ((1 << n) - 1)


def find_magics(data: bytes, magic: int, from_bit: int = 0) -> list[int]:
    """Bit offsets in ``data`` (at or after ``from_bit``) where the 48-bit ``magic``
    begins."""
    hits = []
    for s, pattern in _PATTERNS[magic]:
        i = data.find(pattern, max(1, from_bit // 8))
        while i != -1:
            start = (i - 1) * 8 + s
            if start >= from_bit and start + 48 <= len(data) * 8 \
                    and _bits(data, start, 48) == magic:
                hits.append(start)
            i = data.find(pattern, i + 1)
    return sorted(hits)


def block_stream(data: bytes, start: int, end: int) -> bytes:
    """The block in bits [start, end) of ``data`` as a one-block bzip2 stream."""
    nbits = end - start
    x = _bits(data, start, nbits)
    crc = (x >> (nbits - 80)) & 0xFFFFFFFF  # the 32 bits after the block's magic
    x = (x << 80) | (EOS_MAGIC << 32) | crc
    total = nbits + 80
    pad = -total % 8
    # Level 9 sizes libbz2's buffers for the largest block, so it fits any block.
    return b"BZh9" + (x << pad).to_bytes((total + pad) // 8, "big")


def iter_blocks(f: BinaryIO, start_byte: int, chunk: int = _CHUNK,
                first_before: int | None = None) -> Iterator[tuple[int, bytes | None]]:
    """(bit offset in the file, decompressed bytes) of every block whose magic begins
    at or after byte ``start_byte``, in file order, reading ``f`` lazily; none at all
    when the first begins at or after bit ``first_before``. A block that does not
    decompress (a corrupt file, or a block cut short by the end of the file) gives None
    instead of bytes."""
    base = start_byte                   # file offset of data[0]
    f.seek(base)
    data = f.read(chunk)
    eof = not data
    marks: list[int] = []               # bit offsets (in data) of magics not yet passed
    ends: set[int] = set()              # those of them that end a stream
    scanned = 0                         # magics before this bit of data are in marks

    def scan() -> None:
        nonlocal scanned
        limit = len(data) * 8 - 47      # a magic must fit whole
        if limit <= scanned:
            return
        found = set(marks)
        for magic in (BLOCK_MAGIC, EOS_MAGIC):
            for bit in find_magics(data, magic, scanned):
                if bit < limit and bit not in found:
                    marks.append(bit)
                    found.add(bit)
                    if magic == EOS_MAGIC:
                        ends.add(bit + base * 8)
        marks.sort()
        scanned = limit

    scan()
    while True:
        # Read on until the next block's end (the magic after it) is in view.
        while not eof and len(marks) < 2:
            more = f.read(chunk)  # a short read is not the end on every file system
            eof = not more
            data += more
            scan()
        if not marks:
            return
        bit = marks.pop(0)
        if bit + base * 8 in ends:
            continue
        if first_before is not None and bit + base * 8 >= first_before:
            return
        first_before = None
        # A 48-bit magic can occur by chance inside compressed data; then the block
        # only decompresses with the next piece joined on, so try that too.
        out = None
        for n in range(min(3, len(marks) + 1)):
            stop = marks[n] if n < len(marks) else len(data) * 8
            try:
                out = bz2.decompress(block_stream(data, bit, stop))
                del marks[:n]
                break
            except (OSError, ValueError, EOFError):
                continue
        yield bit + base * 8, out
        if marks:  # drop what is behind the next block, so memory stays one block
            cut = marks[0] // 8
            data = data[cut:]
            base += cut
            marks[:] = [m - cut * 8 for m in marks]
            scanned = max(0, scanned - cut * 8)


def split_records(chunks: Iterable[tuple[bytes | None, bool]], from_start: bool,
                  delimiter: bytes = DELIMITER) -> Iterator[bytes]:
    """The records a piece of a file owns, from its blocks' bytes in order: ``chunks``
    are (bytes, own), the piece's own blocks first, then the blocks after it, read only
    as far as the last record needs.

    Records are the text between delimiters, without them (Hadoop's text reader's
    records). A record belongs to the piece in whose blocks the delimiter before it
    begins (the first record of a file, to the piece that starts the file), so every
    record is read by exactly one piece. A corrupt block (None) drops the record it
    falls in; reading goes on at the next delimiter."""
    buf = b""
    pos = 0         # buf[:pos] is consumed (kept until the next block, not copied per record)
    owned = 0       # buf[:owned] came from the piece's own blocks
    started = from_start
    any_own = False
    for data, own in chunks:
        if not own and not any_own:
            return  # no block of the file begins in this piece
        any_own = any_own or own
        if data is None:
            if not own:
                return
            buf, pos, owned, started = b"", 0, 0, False
            continue
        buf, owned = buf[pos:] + data, owned - pos
        pos = 0
        if own:
            owned = len(buf)
        if not started:
            i = buf.find(delimiter)
            if i == -1:
                pos = max(0, len(buf) - len(delimiter) + 1)
                if not own and owned <= pos:
                    return
                continue
            if i >= owned:
                return
            pos, started = i + len(delimiter), True
        while (j := buf.find(delimiter, pos)) != -1:
            yield buf[pos:j]
            if j >= owned:
                return
            pos = j + len(delimiter)
    if started and pos < len(buf):
        yield buf[pos:]  # the end of the file: the last record has no delimiter after it



def read_split(f: BinaryIO, start: int, end: int, chunk: int = _CHUNK
               ) -> Iterator[bytes | int]:
    """The records of bytes [start, end) of an open .bz2 file (see ``split_records``),
    and, as ints, the bit offsets of the corrupt blocks that begin in that range."""
    bad: list[int] = []

    def chunks():
        for bit, out in iter_blocks(f, start, chunk, first_before=end * 8):
            own = bit < end * 8
            if out is None and own:
                bad.append(bit)
            yield out, own

    yield from split_records(chunks(), from_start=(start == 0))
    yield from bad
