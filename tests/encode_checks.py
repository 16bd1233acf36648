"""Checks of encoded documents that the library's tests and the job's tests share."""

import re

import numpy as np

from leia.encode import render_placements
from leia.params import DEFAULT_MARKERS as MARKERS


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


def hidden_difference(tokenizer_dir, texts, out_dir):
    """A copy of the byte-level BPE with one more token: two adjacent tokens that
    tokenizers leaves apart, joined without a merge. Every static check passes (the
    model takes whole-token pieces as they are), but tiktoken joins the pair wherever it
    meets it: only comparing the engines on text finds it."""
    import collections
    import json
    import shutil

    from tokenizers import Tokenizer

    shutil.copytree(tokenizer_dir, out_dir)
    path = f"{out_dir}/tokenizer.json"
    spec = json.load(open(path, encoding="utf-8"))
    tok = Tokenizer.from_str(json.dumps(spec))
    vocab = spec["model"]["vocab"]
    pairs = collections.Counter()
    for enc in tok.encode_batch(texts, add_special_tokens=False):
        for c, d in zip(enc.tokens, enc.tokens[1:]):
            if c.isascii() and c.isalpha() and d.isascii() and d.isalpha() \
                    and c + d not in vocab:
                pairs[c, d] += 1
    (c, d), _ = pairs.most_common(1)[0]
    vocab[c + d] = max(max(vocab.values()), *(a["id"] for a in spec["added_tokens"])) + 1
    spec["model"]["ignore_merges"] = True
    json.dump(spec, open(path, "w", encoding="utf-8"), ensure_ascii=False)
    return out_dir, c + d
