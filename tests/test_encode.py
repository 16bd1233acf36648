"""The token layout (leia.encode) with two kinds of tokenizer trained at test time."""

import re

import numpy as np
import pytest

from leia.encode import (MASK_MARKERS, MASK_MARKERS_AND_NAMES, MASK_NONE, Encoder,
                         render_placements)
from leia.tokenizer import load_tokenizer, token_layout

MARKERS = ("<translate>", "</translate>")


@pytest.fixture(scope="module", params=["bpe", "spm"])
def tok(request, bpe_tokenizer, spm_tokenizer):
    path = bpe_tokenizer if request.param == "bpe" else spm_tokenizer
    t = load_tokenizer(path)
    t.kind = request.param
    return t


def encoder(tok, **kw):
    return Encoder(token_layout(tok), **kw)


def decoded(tok, ids):
    text = tok.decode([int(i) for i in ids], skip_special_tokens=False)
    return text.replace(tok.bos_token, "", 1) if tok.bos_token else text


def normalised(tok, s):
    """SentencePiece gives a stand-alone name its word-initial space ("▁Shinjuku"), as
    the paper's tokenizer.encode(name) does, and drops a leading space when decoding."""
    if tok.kind == "bpe":
        return s
    return re.sub(r"\s*(<translate>|</translate>)\s*", r"\1", s).strip()


def check_layout(tok, enc, text, doc, mask_names=False):
    """decode(tokens) spells the text with the placed names; each marker pair encloses
    exactly the name's own tokens; the mask is 0 exactly on markers (and names)."""
    assert normalised(tok, decoded(tok, doc.tokens)) == normalised(
        tok, render_placements(text, doc.placements, MARKERS))
    ids = doc.tokens.tolist()
    starts = [i for i, t in enumerate(ids) if t == enc.layout.start_id]
    ends = [i for i, t in enumerate(ids) if t == enc.layout.end_id]
    assert len(starts) == len(ends) == doc.placed
    expect_mask = np.ones(len(ids), np.uint8)
    for s, e, p in zip(starts, ends, doc.placements):
        assert s < e
        assert ids[s + 1:e] == tok(p.name, add_special_tokens=False).input_ids
        expect_mask[s] = expect_mask[e] = 0
        if mask_names:
            expect_mask[s + 1:e] = 0
    assert doc.mask.tolist() == expect_mask.tolist()
    assert ids[:1] == ([tok.bos_token_id] if tok.bos_token_id is not None else ids[:1])


TEXT = "東京都新宿区にある. The buses go to Paris, then to Lyon."


def ins_right(text, anchor, name):
    s = text.index(anchor)
    return (s + len(anchor), name, s, s + len(anchor))


@pytest.mark.parametrize("strategy", ["right", "left", "replace"])
def test_names_spliced_at_token_boundaries(tok, strategy):
    enc = encoder(tok)
    plan = [ins_right(TEXT, "新宿区", "Shinjuku"), ins_right(TEXT, "buses", "Bus"),
            ins_right(TEXT, "Paris", "Paris"), ins_right(TEXT, "Lyon", "Lyon")]
    if strategy != "right":
        plan = [(s, n, s, e) for _, n, s, e in plan]
    doc = enc.encode([TEXT], [plan], [strategy])[0]
    assert doc.placed + doc.dropped == 4
    check_layout(tok, enc, TEXT, doc)
    # What the tokens spell is the augmented text, up to moves to token boundaries.
    for p, (off, name, s, e) in zip(doc.placements, plan):
        if not p.moved:
            assert (p.start, p.end) == ((s, e) if strategy == "replace" else (off, off))


def test_literal_marker_text_stays_text(tok):
    enc = encoder(tok)
    text = "The tag <translate>x</translate> marks text for [[Translation]]."
    doc = enc.encode([text], [[]], ["right"])[0]
    assert enc.layout.start_id not in doc.tokens and enc.layout.end_id not in doc.tokens
    assert normalised(tok, decoded(tok, doc.tokens)) == normalised(tok, text)
    assert doc.mask.all()


def test_offset_inside_a_token_is_moved_or_dropped(tok):
    text = "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας και η μεγαλύτερη πόλη της χώρας."
    offsets = tok(text, add_special_tokens=False, return_offsets_mapping=True)[
        "offset_mapping"]
    s, e = next((s, e) for s, e in offsets if e - s >= 3 and text[s] != " ")
    cut = s + 1  # inside that token
    plan = [(cut, "Name", s, cut)]
    moved = encoder(tok).encode([text], [plan], ["right"])[0]
    assert (moved.placed, moved.moved, moved.dropped) == (1, 1, 0)
    assert moved.placements[0].start in (s, e)  # the nearest boundary
    check_layout(tok, encoder(tok), text, moved)
    dropped = encoder(tok, off_boundary="drop").encode([text], [plan], ["right"])[0]
    assert (dropped.placed, dropped.moved, dropped.dropped) == (0, 0, 1)
    assert dropped.tokens.tolist() == tok(text).input_ids


def test_mask_policies(tok):
    plan = [ins_right(TEXT, "Paris", "Paris"), ins_right(TEXT, "Lyon", "Lyon")]
    names = encoder(tok, mask_policy=MASK_MARKERS_AND_NAMES)
    doc = names.encode([TEXT], [plan], ["right"])[0]
    check_layout(tok, names, TEXT, doc, mask_names=True)
    base = encoder(tok, mask_policy=MASK_NONE)
    plain = base.encode([TEXT], [plan], ["right"])[0]
    assert plain.placed == 0 and plain.mask.all()
    assert plain.tokens.tolist() == tok(TEXT).input_ids
    default = encoder(tok, mask_policy=MASK_MARKERS).encode([TEXT], [plan], ["right"])[0]
    assert int((default.mask == 0).sum()) == 4


def test_article_is_tokenised_as_the_tokenizer_does_for_the_model(tok):
    doc = encoder(tok).encode([TEXT], [[]], ["right"])[0]
    assert doc.tokens.tolist() == tok(TEXT).input_ids  # BOS first where the model wants it


def test_empty_article_gives_no_tokens(tok):
    doc = encoder(tok).encode([""], [[(0, "X", 0, 0)]], ["right"])[0]
    assert len(doc.tokens) == 0 and len(doc.mask) == 0


def test_append_eos(tok):
    doc = encoder(tok, append_eos=True).encode([TEXT], [[]], ["right"])[0]
    assert doc.tokens[-1] == tok.eos_token_id


def test_real_articles_round_trip(tok):
    """The real sample's articles with insertions after every link of theirs."""
    from conftest import read_xml
    from leia.pages import parse_page
    from leia.siteinfo import parse_siteinfo
    from leia.wikitext import extract

    raw = read_xml("jawiki")
    site = parse_siteinfo(raw[:50000])
    enc = encoder(tok)
    checked = 0
    for m in re.finditer(r"<page>.*?</page>", raw, re.S):
        page = parse_page(m.group(0)[:-len("</page>")])
        if getattr(page, "ns", None) != 0 or not getattr(page, "text", None):
            continue
        ex = extract(page.text, site, "ja")
        plan = [(l.end, l.target, l.start, l.end) for l in ex.links]
        doc = enc.encode([ex.text], [plan], ["right"])[0]
        assert doc.placed + doc.dropped == len(plan) and doc.placed > 0
        check_layout(tok, enc, ex.text, doc)
        checked += 1
    assert checked >= 1


def test_tokenizer_without_fast_implementation_is_refused(tmp_path):
    from transformers import ByT5Tokenizer

    ByT5Tokenizer().save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="no fast implementation"):
        load_tokenizer(str(tmp_path))


def test_missing_tokenizer_says_what_to_give(tmp_path):
    with pytest.raises(ValueError, match="local folder holding tokenizer.json"):
        load_tokenizer(str(tmp_path / "nothing-here"))
