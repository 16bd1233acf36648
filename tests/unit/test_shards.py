"""The shard format on its own: what the writer writes, the reader reads back."""

import json

import numpy as np
import pytest

from leia import shards as fmt
from leia.shards import DocumentTokens, ShardError, ShardSet


def docs(rng, n, vocab):
    out = []
    for i in range(n):
        length = int(rng.integers(0, 40))
        out.append(DocumentTokens(i % 2, 1000 + i, rng.integers(0, vocab, length),
                                  (rng.random(length) > 0.2).astype(np.uint8)))
    return out


def write_folder(root, shards, vocab=70000):
    """A folder as the encoder leaves it: shards, their records, then the manifest."""
    dtype = fmt.token_dtype(vocab)
    records = [fmt.write_shard(str(root), fmt.shard_name(i), d, dtype)
               for i, d in enumerate(shards)]
    manifest = fmt.Manifest(
        created="2026-01-01T00:00:00+00:00", fingerprint="f", tokenizer={},
        special_tokens={"start_marker": {"token": "<t>", "id": vocab - 2},
                        "end_marker": {"token": "</t>", "id": vocab - 1}},
        dtype=dtype, loss_mask="markers", layout={}, source={}, wikis=["jawiki", "zhwiki"],
        augmentation=None, tokens_per_shard=100, totals={}, per_wiki={}, shards=records,
        seconds=0.0)
    (root / fmt.MANIFEST).write_text(json.dumps(manifest.to_json()))
    return records


def test_write_then_read_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    written = [docs(rng, 7, 70000), docs(rng, 0, 70000), docs(rng, 5, 70000)]
    records = write_folder(tmp_path, written)
    assert records[0]["dtype"] == "uint32"
    assert all(fmt.shard_complete(str(tmp_path), r) for r in records)

    s = ShardSet(tmp_path, verify=True)
    flat = [d for shard in written for d in shard]
    assert s.num_documents == len(flat)
    assert s.num_tokens == sum(len(d.tokens) for d in flat)
    for got, want in zip(s.documents(), flat, strict=True):
        assert (got.wiki, got.page_id) == (["jawiki", "zhwiki"][want.wiki_index],
                                           want.page_id)
        assert np.array_equal(got.tokens, want.tokens)
        assert np.array_equal(got.mask, want.mask)
    # Any range of the stream, across shard boundaries too.
    stream = np.concatenate([d.tokens for d in flat])
    mask = np.concatenate([d.mask for d in flat])
    for lo, hi in [(0, 0), (0, 5), (3, s.num_tokens), (s.num_tokens - 1, s.num_tokens)]:
        toks, m = s.read(lo, hi)
        assert np.array_equal(toks, stream[lo:hi]) and np.array_equal(m, mask[lo:hi])
    with pytest.raises(IndexError):
        s.read(0, s.num_tokens + 1)


def test_the_manifest_survives_its_json(tmp_path):
    write_folder(tmp_path, [docs(np.random.default_rng(3), 2, 500)], vocab=500)
    d = json.loads((tmp_path / fmt.MANIFEST).read_text())
    assert list(d)[:2] == ["format", "format_version"]
    m = fmt.Manifest.from_json(d)
    assert m.to_json() == d and m.markers == ("<t>", "</t>")
    assert ShardSet(tmp_path).manifest == m
    with pytest.raises(ShardError, match="format version 0"):
        fmt.Manifest.from_json({**d, "format_version": 0})
    with pytest.raises(ShardError, match="no dtype"):
        fmt.Manifest.from_json({k: v for k, v in d.items() if k != "dtype"})


def test_small_vocabularies_take_two_bytes_a_token(tmp_path):
    write_folder(tmp_path, [docs(np.random.default_rng(1), 3, 500)], vocab=500)
    s = ShardSet(tmp_path)
    assert s.dtype == "uint16" and s.shards[0].tokens.dtype.itemsize == 2
    assert (tmp_path / "shard-000000.tokens.bin").stat().st_size == 2 * s.num_tokens


def test_damage_is_named(tmp_path):
    write_folder(tmp_path, [docs(np.random.default_rng(2), 4, 500)], vocab=500)
    tokens = tmp_path / "shard-000000.tokens.bin"
    data = bytearray(tokens.read_bytes())
    data[0] ^= 0xFF
    tokens.write_bytes(bytes(data))
    with pytest.raises(ShardError, match="shard-000000.tokens.bin: sha256 differs"):
        ShardSet(tmp_path, verify=True)
    tokens.write_bytes(bytes(data[:-2]))
    with pytest.raises(ShardError, match="bytes where the manifest says"):
        ShardSet(tmp_path)
    (tmp_path / fmt.MANIFEST).unlink()
    with pytest.raises(ShardError, match="no manifest.*1 shard"):
        ShardSet(tmp_path)


def test_later_epochs_pack_the_documents_anew(tmp_path):
    """Epoch 0 reads the stream as written; every later epoch reads each token exactly
    once too, with the documents in another order, the same for every run of a seed
    and for a resumed one."""
    from trainer.data import PackedSequences

    rng = np.random.default_rng(1)
    written = [docs(rng, 30, 500), docs(rng, 25, 500)]
    write_folder(tmp_path, written, vocab=500)
    s = ShardSet(tmp_path)
    assert list(s.document_starts()) == list(np.cumsum(
        [0] + [len(d.tokens) for shard in written for d in shard])[:-1])
    data = PackedSequences(s, 16, seed=5)

    def epoch_stream(e):
        return np.concatenate([data.sequence(j, e)[0] for j in range(data.total)])

    stream = s.read(0, data.total * 16)[0]
    assert np.array_equal(epoch_stream(0), stream)
    one, two = epoch_stream(1), epoch_stream(2)
    assert not np.array_equal(one, stream) and not np.array_equal(one, two)
    whole = np.sort(s.read(0, s.num_tokens)[0])
    for e in (1, 2):  # a permutation of the documents: the same tokens, all of them
        order, _ = data._pack(e)
        again = np.concatenate([written[0][i].tokens if i < 30 else
                                written[1][i - 30].tokens for i in order])
        assert np.array_equal(np.sort(again), whole)
        assert np.array_equal(again[:len(one)], epoch_stream(e))
    # A resumed run in a later epoch continues with the same sequences.
    a = PackedSequences(s, 16, seed=5)
    for _ in range(a.total // 4 + 1):
        a.next_step(4, 4)
    assert a.state.epoch == 1
    b = PackedSequences(s, 16, seed=5)
    b.load_state(a.state.to_dict())
    assert all((p[0] == q[0]).all() and (p[1] == q[1]).all()
               for p, q in zip(a.next_step(4, 2), b.next_step(4, 2)))
