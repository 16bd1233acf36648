"""spark_jobs/encode.py on the corpus of the bundled sample, read back with leia.shards."""

import os
import shutil

import numpy as np
import pytest
from encode_checks import check_layout, decoded, hidden_difference, normalised

from leia.encode import Encoder
from leia.shard_view import show
from leia.shards import ShardError, ShardSet
from leia.tokenizer import load_tokenizer, token_layout
from spark_jobs.encode import run
from spark_jobs.encode_config import parse_args


def load(path, kind="bpe"):
    tok = load_tokenizer(path)
    tok.kind = kind  # how test_encode.normalised compares decoded text
    return tok


def encode(spark, table, tokenizer, out, *flags):
    cfg = parse_args(["--table", str(table), "--tokenizer", tokenizer, "--out", str(out),
                      *flags])
    return run(spark, cfg)


@pytest.fixture(scope="module")
def table(sample_run):
    return sample_run[0] / "augmented"


@pytest.fixture(scope="module")
def rows(table):
    from deltalake import DeltaTable
    return {(r["wiki"], r["page_id"]): r
            for r in DeltaTable(str(table)).to_pyarrow_table().to_pylist()}


@pytest.fixture(scope="module")
def bpe_build(bpe_shards):
    return bpe_shards


def expected_docs(tok, rows, policy="markers"):
    """The pure encoder on the table's rows, on the tokenizer's own engine (the
    reference for the tiktoken twin): what every shard document must hold."""
    enc = Encoder(token_layout(tok), mask_policy=policy, engine="tokenizers")
    out = {}
    for key, r in rows.items():
        plan = [(x["offset"], x["pivot_title"], x["anchor_start"], x["anchor_end"])
                for x in r["insertions"] or []]
        out[key] = (enc.encode([r["text"]], [plan], ["right"])[0], enc)
    return out


def check_build(out, tok, rows, policy, mask_names=False):
    shards = ShardSet(out, verify=True)
    shards.check_tokenizer(tok)
    expected = expected_docs(tok, rows, policy)
    seen = set()
    for doc in shards.documents():
        key = (doc.wiki, doc.page_id)
        seen.add(key)
        want, enc = expected[key]
        assert doc.tokens.tolist() == want.tokens.tolist()
        assert doc.mask.tolist() == want.mask.tolist()
        check_layout(tok, enc, rows[key]["text"], want, mask_names=mask_names)
        if want.moved == 0 and policy != "none":
            # Nothing moved: the tokens spell the table's own augmented_text.
            assert normalised(tok, decoded(tok, doc.tokens)) == normalised(
                tok, rows[key]["augmented_text"])
    empty = {k for k, r in rows.items() if not r["text"]}
    assert seen == set(rows) - empty, "every non-empty article exactly once"
    assert shards.manifest.totals["empty_documents"] == len(empty)
    return shards


def test_bpe_shards_hold_the_augmented_articles(bpe_build, bpe_tokenizer, rows):
    out, manifest = bpe_build
    tok = load(bpe_tokenizer)
    shards = check_build(out, tok, rows, "markers")
    assert shards.dtype == "uint16" and shards.shards[0].tokens.dtype == np.dtype("<u2")
    totals = manifest.totals
    assert totals["placed"] > 100
    assert totals["placed"] + totals["dropped"] == sum(
        len(r["insertions"] or []) for r in rows.values() if r["text"])
    assert totals["masked"] == 2 * totals["placed"]
    assert manifest.augmentation["jawiki"]["strategy"] == "right"
    assert manifest.source["version"] == 0
    assert manifest.layout["engine"] == "tiktoken"


@pytest.mark.slow
def test_engines_write_the_same_shards(spark, table, bpe_tokenizer, bpe_build, tmp_path):
    """--engine tokenizers (the reference) and the tiktoken twin: the same bytes."""
    src, manifest = bpe_build
    out = tmp_path / "reference"
    again = encode(spark, table, bpe_tokenizer, out, "--engine", "tokenizers",
                   "--tokens-per-shard", str(manifest.tokens_per_shard))
    assert again.layout["engine"] == "tokenizers"
    assert again.fingerprint == manifest.fingerprint
    files = sorted(f for r in manifest.shards for f in r["files"].values())
    assert files == sorted(f for r in again.shards for f in r["files"].values())
    for f in files:
        assert (out / f).read_bytes() == (src / f).read_bytes(), f


@pytest.mark.slow
def test_twin_that_differs_on_the_sample_is_not_used(spark, table, bpe_tokenizer, rows,
                                                     tmp_path):
    texts = [r["text"] for k, r in rows.items() if r["text"] and k[0] == "eswiki"]
    folder, _ = hidden_difference(bpe_tokenizer, texts, tmp_path / "tok")
    manifest = encode(spark, table, str(folder), tmp_path / "shards", "--wikis", "eswiki")
    assert manifest.layout["engine"] == "tokenizers"
    check_build(tmp_path / "shards", load(str(folder)),
                {k: r for k, r in rows.items() if k[0] == "eswiki"}, "markers")


def test_shards_are_balanced_and_reproducible(bpe_build):
    from spark_jobs.encode import doc_hash

    out, manifest = bpe_build
    shards = ShardSet(out)
    target = manifest.tokens_per_shard
    sizes = [len(s.tokens) for s in shards.shards]
    assert len(sizes) == -(-shards.num_tokens // target)  # ceil(total / target) shards
    longest = max(s.document_bounds(i)[1] - s.document_bounds(i)[0]
                  for s in shards.shards for i in range(len(s.doc_starts)))
    mean = shards.num_tokens / len(sizes)
    # Shards are hash samples of the articles: each within a few of the longest
    # articles of the mean (the sample has few, very unequal articles).
    assert all(abs(size - mean) <= 3 * longest for size in sizes), (sizes, longest)
    # Which shard an article is in and its order there depend only on (wiki, page id),
    # never on partitioning: the build is reproducible.
    for s in shards.shards:
        keys = [(shards.wikis[int(w)], int(p)) for w, p in s.ids]
        assert keys == sorted(keys)
        assert {doc_hash(*k) % len(sizes) for k in keys} == {s.record["index"]}


@pytest.mark.slow
def test_sentencepiece_with_masked_names(spark, table, spm_tokenizer, rows, tmp_path):
    manifest = encode(spark, table, spm_tokenizer, tmp_path / "spm", "--mask-names",
                      "--wikis", "jawiki,elwikivoyage,ruwiki")
    assert manifest.layout["engine"] == "tiktoken"  # checked against tokenizers below
    tok = load(spm_tokenizer, "spm")
    some = {k: r for k, r in rows.items() if k[0] in ("jawiki", "elwikivoyage", "ruwiki")}
    shards = check_build(tmp_path / "spm", tok, some, "markers+names", mask_names=True)
    assert shards.wikis == ["elwikivoyage", "jawiki", "ruwiki"]
    assert shards.manifest.loss_mask == "markers+names"


@pytest.mark.slow
def test_no_augmentation_baseline(spark, table, bpe_tokenizer, rows, tmp_path):
    manifest = encode(spark, table, bpe_tokenizer, tmp_path / "plain", "--no-augmentation")
    tok = load(bpe_tokenizer)
    check_build(tmp_path / "plain", tok, rows, "none")
    assert manifest.totals["masked"] == 0 and manifest.augmentation is None
    for doc in ShardSet(tmp_path / "plain").documents():
        assert doc.tokens.tolist() == tok(rows[(doc.wiki, doc.page_id)]["text"]).input_ids
        break


@pytest.mark.slow
def test_uint32_when_the_vocabulary_does_not_fit(spark, table, rows, tmp_path):
    from conftest import _sample_texts

    from leia.toy_tokenizer import train_bpe

    big = str(train_bpe(_sample_texts(1 << 20), tmp_path / "big", 1000,
                        extra_tokens=65_000))
    manifest = encode(spark, table, big, tmp_path / "u32", "--wikis", "jawiki")
    tok = load(big)
    assert manifest.dtype == "uint32" and len(tok) > 65536
    assert manifest.special_tokens["end_marker"]["id"] > 65535
    shards = check_build(tmp_path / "u32", tok, {k: r for k, r in rows.items()
                                                 if k[0] == "jawiki"}, "markers")
    assert shards.shards[0].tokens.dtype == np.dtype("<u4")
    assert shards.manifest.special_tokens["start_marker"]["id"] in shards.shards[0].tokens


@pytest.mark.slow
def test_rerun_after_a_crash_keeps_complete_shards(spark, table, bpe_tokenizer, bpe_build,
                                                   tmp_path):
    src, manifest = bpe_build
    out = tmp_path / "crashed"
    shutil.copytree(src, out)
    names = [r["name"] for r in manifest.shards]
    # The state a crash leaves: no manifest, one shard without its completion record,
    # one with a truncated file, and a temporary file of an unfinished write.
    (out / "manifest.json").unlink()
    (out / f"{names[1]}.done.json").unlink()
    tokens = out / f"{names[2]}.tokens.bin"
    tokens.write_bytes(tokens.read_bytes()[:100])
    (out / f".{names[3]}.mask.bin.0123.tmp").write_bytes(b"half")
    with pytest.raises(ShardError, match="no manifest"):
        ShardSet(out)
    kept = {n: os.stat(out / f"{n}.tokens.bin").st_mtime_ns for n in names}

    again = encode(spark, table, bpe_tokenizer, out, "--tokens-per-shard", "60000")
    assert [r["sha256"] for r in again.shards] == [r["sha256"] for r in manifest.shards]
    assert again.totals == manifest.totals
    rewritten = {n for n in names if os.stat(out / f"{n}.tokens.bin").st_mtime_ns != kept[n]}
    assert rewritten == {names[1], names[2]}
    assert not list(out.glob(".*.tmp"))
    ShardSet(out, verify=True)
    # A third run finds the build complete and writes nothing.
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    encode(spark, table, bpe_tokenizer, out, "--tokens-per-shard", "60000")
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


@pytest.mark.slow
def test_other_arguments_rebuild_and_remove_stale_shards(spark, table, bpe_tokenizer,
                                                         bpe_build, tmp_path):
    src, manifest = bpe_build
    out = tmp_path / "rebuilt"
    shutil.copytree(src, out)
    again = encode(spark, table, bpe_tokenizer, out, "--tokens-per-shard", "200000")
    assert again.fingerprint != manifest.fingerprint
    assert len(again.shards) < len(manifest.shards)
    listed = {f for r in again.shards for f in r["files"].values()}
    on_disk = {p.name for p in out.glob("shard-*.bin")}
    assert on_disk == listed
    ShardSet(out, verify=True)


def test_reader_names_a_corrupt_or_truncated_file(bpe_build, tmp_path):
    src, manifest = bpe_build
    out = tmp_path / "bad"
    shutil.copytree(src, out)
    name = manifest.shards[0]["name"]
    mask = out / f"{name}.mask.bin"
    data = bytearray(mask.read_bytes())
    data[10] ^= 1
    mask.write_bytes(bytes(data))
    ShardSet(out)  # sizes are right: opening is cheap and does not hash
    with pytest.raises(ShardError, match=f"{name}.mask.bin: sha256 differs.*re-run"):
        ShardSet(out, verify=True)
    tokens = out / f"{name}.tokens.bin"
    tokens.write_bytes(tokens.read_bytes()[:-2])
    with pytest.raises(ShardError, match=f"{name}.tokens.bin: .* bytes where the manifest"):
        ShardSet(out)


def test_manifest_of_another_tokenizer_is_refused(bpe_build, spm_tokenizer, bpe_tokenizer):
    out, _ = bpe_build
    shards = ShardSet(out)
    with pytest.raises(ShardError, match="tokenizer mismatch.*made with"):
        shards.check_tokenizer(load_tokenizer(spm_tokenizer))
    plain = load_tokenizer(bpe_tokenizer, markers=("<a>", "</a>"))
    with pytest.raises(ShardError, match="marker '</?translate>' is id .*has it as None"):
        shards.check_tokenizer(plain)


def test_read_across_shard_boundaries(bpe_build):
    out, _ = bpe_build
    shards = ShardSet(out)
    allt = np.concatenate([s.tokens for s in shards.shards])
    allm = np.concatenate([s.mask for s in shards.shards])
    b = len(shards.shards[0].tokens)
    for lo, hi in [(0, 10), (b - 5, b + 5), (b - 1, b + 2 * b), (0, shards.num_tokens)]:
        t, m = shards.read(lo, hi)
        assert t.tolist() == allt[lo:hi].tolist() and m.tolist() == allm[lo:hi].tolist()
    with pytest.raises(IndexError):
        shards.read(0, shards.num_tokens + 1)


def test_show_decodes_documents_with_markers(bpe_build, capsys):
    out, manifest = bpe_build
    show(str(out), docs=50, verify=True)
    text = capsys.readouterr().out
    assert f"{manifest.totals['documents']:,} documents" in text
    assert "<translate>" in text and "</translate>" in text and "verified" in text


def test_unknown_wiki_and_bad_table_are_clear_errors(spark, table, bpe_tokenizer, tmp_path):
    with pytest.raises(ValueError, match="no articles for dewiki.*wikis there: arwiki"):
        encode(spark, table, bpe_tokenizer, tmp_path / "x", "--wikis", "dewiki")
    with pytest.raises(ValueError, match="not a Delta table"):
        encode(spark, tmp_path, bpe_tokenizer, tmp_path / "x")
    with pytest.raises(ValueError, match="has versions 0 to"):
        encode(spark, table, bpe_tokenizer, tmp_path / "x", "--version", "7")
    assert not (tmp_path / "x").exists()


def test_empty_table_is_a_clear_error(spark, bpe_tokenizer, tmp_path):
    from leia.tables import SCHEMAS
    from spark_jobs.write import replace_wikis

    empty = spark.createDataFrame([], SCHEMAS["augmented"])
    replace_wikis(empty, str(tmp_path / "augmented"), "augmented", ["jawiki"],
                  {"wikis": ["jawiki"], "strategy": "right", "markers": ["<t>", "</t>"]})
    with pytest.raises(ValueError, match="holds no articles"):
        encode(spark, tmp_path / "augmented", bpe_tokenizer, tmp_path / "x")


def test_cli_help_and_usage_errors(capsys):
    with pytest.raises(SystemExit) as e:
        parse_args(["--help"])
    assert e.value.code == 0
    assert "--tokens-per-shard" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        parse_args(["--table", "t"])
    assert e.value.code == 2
    assert "--tokenizer" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--tokenizer", "t", "--mask-names", "--no-augmentation"])



def test_token_estimate_from_a_sample(spark, table, bpe_tokenizer, bpe_build):
    """The shard count comes from an estimate made on a hash sample of the articles;
    on the sample's 1,300 articles a 1-in-4 sample lands near the real count."""
    from spark_jobs.encode import estimate_tokens, read_source

    cfg = parse_args(["--table", str(table), "--tokenizer", bpe_tokenizer])
    source = read_source(spark, cfg)
    tok = load_tokenizer(bpe_tokenizer)
    strategies = {w: "right" for w in source.wikis}
    exact = bpe_build[1].totals["tokens"]
    full = estimate_tokens(spark, source.rows, token_layout(tok), strategies, cfg,
                           "uint16", sample_docs=10_000)
    # A table smaller than the sample is counted exactly; the twin agreed on all of it.
    assert (full.tokens, full.differing) == (exact, 0)
    assert full.sampled == bpe_build[1].totals["documents"] + bpe_build[1].totals[
        "empty_documents"]
    sampled = estimate_tokens(spark, source.rows, token_layout(tok), strategies, cfg,
                              "uint16", sample_docs=300)
    assert sampled.tokens != exact and abs(sampled.tokens - exact) / exact < 0.25
    assert 200 < sampled.sampled < 600
