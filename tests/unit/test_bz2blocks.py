"""leia.bz2blocks: pieces of a .bz2 file, read at bzip2 block boundaries, give every
``</page>`` record of the file exactly once, whatever the piece size and layout."""

import bz2
import functools
import io
import re

import pytest
from conftest import read_xml, sample_xml

import leia.bz2blocks as bb
from leia.bz2blocks import BLOCK_MAGIC, find_magics, iter_blocks, read_split

EL = read_xml("elwikivoyage")
HEAD = EL[:EL.index("<page>")]
PAGES = re.findall(r"<page>.*?</page>\n", EL, re.S)


def pieces(data: bytes, size: int) -> list:
    """Everything ``read_split`` gives for each piece of ``size`` bytes, in order."""
    out = []
    for start in range(0, len(data), size):
        out.extend(read_split(io.BytesIO(data), start, min(start + size, len(data)),
                              chunk=64 << 10))
    return out


@functools.cache
def compressed(layout: str) -> bytes:
    if layout == "real dump":  # the bundled sample, as Wikimedia compressed it
        return sample_xml("elwikivoyage").read_bytes()
    if layout == "level 1":  # 100 KB blocks: many blocks, pages across their ends
        return bz2.compress(EL.encode(), 1)
    # multistream, as Wikimedia builds it: the header, 100 pages per stream, the footer
    streams = [bz2.compress(HEAD.encode())]
    streams += [bz2.compress("".join(PAGES[i:i + 100]).encode())
                for i in range(0, len(PAGES), 100)]
    return b"".join(streams + [bz2.compress(b"</mediawiki>\n")])


@pytest.mark.parametrize("layout", ["real dump", "level 1", "multistream"])
@pytest.mark.parametrize("piece_kb", [7, 100, 333, 100_000])
def test_pieces_give_every_record_once(layout, piece_kb):
    data = compressed(layout)
    want = bz2.decompress(data).split(b"</page>")
    got = pieces(data, piece_kb << 10)
    assert got == want  # same records, same order, no corrupt blocks
    assert len(want) == len(PAGES) + 1


def test_magic_found_at_every_bit_offset():
    for pre in range(8):  # one bits before the magic, so it begins ``pre`` bits in
        for lead in (0, 1, 5):
            n = pre + 48
            x = (((1 << pre) - 1) << 48 | BLOCK_MAGIC) << (-n % 8)
            data = b"\xff" * lead + x.to_bytes((n + 7) // 8, "big") + b"\x00"
            assert find_magics(data, BLOCK_MAGIC) == [lead * 8 + pre]
            assert find_magics(data, BLOCK_MAGIC, lead * 8 + pre + 1) == []


def test_a_magic_inside_a_block_is_joined_back(monkeypatch):
    """48 bits can look like a block's magic by chance; the piece before it then fails
    its CRC, and is decompressed again with the next piece joined on."""
    data = compressed("level 1")
    real = find_magics(data, BLOCK_MAGIC)
    fake = real[1] + 12_345
    orig = bb.find_magics

    def with_fake(buf, magic, from_bit=0):
        hits = orig(buf, magic, from_bit)
        if magic == BLOCK_MAGIC and len(buf) == len(data) and from_bit <= fake:
            hits = sorted(hits + [fake])
        return hits

    monkeypatch.setattr(bb, "find_magics", with_fake)
    blocks = list(iter_blocks(io.BytesIO(data), 0, chunk=len(data) + 1))
    assert [b for b, _ in blocks] == real
    assert b"".join(out for _, out in blocks) == EL.encode()


def test_a_corrupt_block_loses_only_its_records_and_is_reported_once():
    data = bytearray(compressed("level 1"))
    blocks = find_magics(bytes(data), BLOCK_MAGIC)
    bad = blocks[3]
    data[bad // 8 + 500] ^= 0xFF
    got = pieces(bytes(data), 50 << 10)
    assert [g for g in got if isinstance(g, int)] == [bad]
    records = [g for g in got if not isinstance(g, int)]
    # The records wholly in other blocks are all there; the ones the bad block
    # touches are gone, none is cut short or glued to another.
    texts = set(EL.encode().split(b"</page>"))
    assert set(records) <= texts
    assert 0 < len(texts) - len(set(records)) <= 30
