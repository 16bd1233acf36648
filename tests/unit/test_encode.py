"""The token layout (leia.encode) with two kinds of tokenizer trained at test time."""

import re

import pytest
from encode_checks import check_layout, decoded, hidden_difference, normalised

from leia.encode import MASK_MARKERS, MASK_MARKERS_AND_NAMES, MASK_NONE, Encoder
from leia.tokenizer import load_tokenizer, token_layout


@pytest.fixture(scope="module",
                params=["bpe", "bpe-tokenizers", "spm", "spm-tokenizers"])
def tok(request, bpe_tokenizer, spm_tokenizer):
    """Both tokenizers, each on its tiktoken twin and on tokenizers."""
    kind = request.param.split("-")[0]
    t = load_tokenizer(bpe_tokenizer if kind == "bpe" else spm_tokenizer)
    t.kind = kind
    t.engine = "tokenizers" if request.param.endswith("-tokenizers") else "auto"
    return t


def encoder(tok, **kw):
    enc = Encoder(token_layout(tok), engine=tok.engine, **kw)
    assert enc.engine == ("tiktoken" if tok.engine == "auto" else "tokenizers")
    return enc


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
    for p, (off, _name, s, e) in zip(doc.placements, plan):
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


# The tiktoken twins (leia.fast_bpe): the same documents as tokenizers, refused where
# they could differ, and caught by the sample check where a tokenizer hides a difference.

SCRIPTS = ["Tōkyō 東京都 🚌🚌 ok", "กรุงเทพมหานคร คือ", "naïve café e\u0301", "a\r\n\r\n\tb  c",
           "1234567 3.14 ---- ==== '''bold''' 's 'LL", "한국어 텍스트 ἀρχή", "x" * 300,
           " a leading space", "  two", "\u2581written \u2581\u2581 spaces\u2581", "\nfirst",
           "", "   ", "🚌",
           # CJK characters, most outside the vocabulary but sharing leading bytes with
           # some inside it (the twin spells those out as byte tokens)
           "".join(chr(c) for c in range(0x4E00, 0x9FFF, 7))]


def _llama2_normalizer(spec):
    """As Llama 2's tokenizer.json on the hub: SentencePiece's text made by normalizers."""
    spec["pre_tokenizer"] = None
    spec["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}


SPM_FORMS = {
    "metaspace": lambda spec: None,  # what transformers makes of a SentencePiece model
    "metaspace-never": lambda spec: spec["pre_tokenizer"].update(prepend_scheme="never"),
    "metaspace-split": lambda spec: spec["pre_tokenizer"].update(split=True),
    "prepend-replace": _llama2_normalizer,
}


@pytest.mark.parametrize("kind, form", [("bpe", None), *(("spm", f) for f in SPM_FORMS)])
def test_twin_gives_the_same_documents_on_real_articles(kind, form, bpe_tokenizer,
                                                        spm_tokenizer):
    """Every article of every sample wiki (Arabic, Greek, Hindi, Japanese, Russian,
    ...), and scripts outside the vocabulary, with an insertion every 37 characters
    (many inside tokens, inside characters' bytes), under each strategy: identical
    tokens, masks and placements. SentencePiece in each way Hugging Face writes it."""
    import dataclasses

    from conftest import SAMPLE, read_xml

    from leia.fast_bpe import twin_kind

    layout = token_layout(load_tokenizer(bpe_tokenizer if kind == "bpe" else spm_tokenizer))
    assert layout.twin == ("byte-level" if kind == "bpe" else "sentencepiece")
    if form is not None:
        spec = _mutated(layout.tokenizer_json, SPM_FORMS[form])
        layout = dataclasses.replace(layout, tokenizer_json=spec, twin=twin_kind(spec)[0])
    twin, ref = Encoder(layout), Encoder(layout, engine="tokenizers")
    assert (twin.engine, ref.engine) == ("tiktoken", "tokenizers")
    texts = list(SCRIPTS)
    for path in sorted(SAMPLE.glob("*-pages-articles.xml.bz2")):
        raw = read_xml(path.name.split("-")[0])
        texts += [m.group(1)[:20000] for m in
                  re.finditer(r"<text[^>]*>(.*?)</text>", raw, re.S)][:12]
    plans = [[(c, "Name", max(0, c - 5), c) for c in range(3, len(t), 37)] for t in texts]
    for strategy in ("right", "left", "replace"):
        got = twin.encode(texts, plans, [strategy] * len(texts))
        want = ref.encode(texts, plans, [strategy] * len(texts))
        assert sum(d.moved for d in want) > 0
        for text, a, b in zip(texts, got, want):
            assert a.same_as(b), text[:80]


def _mutated(tokenizer_json: str, change) -> str:
    import json
    spec = json.loads(tokenizer_json)
    change(spec)
    return json.dumps(spec)


def _swap_first_merges(spec):
    m = spec["model"]["merges"]
    m[0], m[-1] = m[-1], m[0]


def _one_of_two_merges(spec):
    """The index of a merge whose result another merge also makes."""
    from leia.fast_bpe import _merges

    results = [a + b for a, b in _merges(spec["model"])]
    return next(i for i, r in enumerate(results) if results.count(r) > 1)


def _scatter_merges(spec):
    merges = spec["model"]["merges"]
    merges.append(merges.pop(_one_of_two_merges(spec)))


def _drop_merge(spec):
    spec["model"]["merges"].pop(_one_of_two_merges(spec))


def _add_token(spec, token, merge=None):
    vocab = spec["model"]["vocab"]
    vocab[token] = max(vocab.values()) + 1
    if merge:
        spec["model"]["merges"].append(list(merge))


def _add_unreachable_token(spec):
    """abcd, made only by ab + cd, where bc merges first: a bc d stays apart."""
    from leia.fast_bpe import _merges

    vocab = spec["model"]["vocab"]
    rank = {a + b: r for r, (a, b) in reversed(list(enumerate(_merges(spec["model"]))))}
    pairs = [t for t in rank if len(t) == 2]
    for bc in pairs:
        for ab in (t for t in pairs if t[1] == bc[0] and rank[t] > rank[bc]):
            for cd in (t for t in pairs if t[0] == bc[1] and rank[t] > rank[bc]):
                abcd = ab + cd
                if not {ab + bc[1], bc + cd[1], abcd} & vocab.keys():
                    return _add_token(spec, abcd, (ab, cd))
    raise AssertionError("no such tokens in the fixture's vocabulary")


@pytest.mark.parametrize("kind, change, why", [
    ("byte-level", lambda s: s.update(normalizer={"type": "NFC"}), "normalizer"),
    ("byte-level", lambda s: s["pre_tokenizer"].update(add_prefix_space=True),
     "pre-tokenizer"),
    ("byte-level", lambda s: s["model"].update(dropout=0.1), "plain BPE"),
    ("byte-level", lambda s: s["added_tokens"].append(
        {**s["added_tokens"][0], "id": 99999, "content": "<extra>", "special": False}),
     "not special"),
    ("byte-level", lambda s: s["model"]["vocab"].pop("A"), "256 bytes"),
    ("byte-level", _swap_first_merges, "merge order"),
    ("byte-level", lambda s: _add_token(s, "zq"), "does not come out of its own merges"),
    ("sentencepiece", lambda s: s["pre_tokenizer"].update(replacement="_"),
     "not prepared as SentencePiece"),
    ("sentencepiece", lambda s: s["model"]["vocab"].pop("<0x41>"), "256 byte tokens"),
    ("sentencepiece", lambda s: _add_token(s, "ab\u2581c"), "after its start"),
    ("sentencepiece", lambda s: _add_token(s, "a b"), "holds a space"),
    ("sentencepiece", lambda s: s["model"]["merges"].append(["q", "<s>"]),
     "leaves the vocabulary"),
    ("sentencepiece", _scatter_merges, "not listed together"),
    ("sentencepiece", _drop_merge, "are not a merge"),
    ("sentencepiece", _add_unreachable_token, "does not come out of its own merges"),
])
def test_twin_is_refused_where_it_could_differ(bpe_tokenizer, spm_tokenizer, kind, change,
                                               why):
    from leia.fast_bpe import twin_kind

    folder = bpe_tokenizer if kind == "byte-level" else spm_tokenizer
    spec = load_tokenizer(folder).backend_tokenizer.to_str()
    assert twin_kind(spec) == (kind, "")
    refused, reason = twin_kind(_mutated(spec, change))
    assert refused is None and why in reason, reason


def test_sample_check_catches_a_difference_the_static_checks_cannot(bpe_tokenizer,
                                                                     tmp_path):
    from spark_jobs.encode import Estimate, choose_engine
    from spark_jobs.encode_config import parse_args

    texts = [TEXT, "The buses of Parisian suburbs run to Lyonnais towns and villages."]
    folder, joined = hidden_difference(bpe_tokenizer, texts, tmp_path / "tok")
    layout = token_layout(load_tokenizer(str(folder)))
    assert layout.twin is not None  # the static checks let it through
    twin = Encoder(layout).encode(texts, [[], []], ["right"] * 2)
    ref = Encoder(layout, engine="tokenizers").encode(texts, [[], []], ["right"] * 2)
    assert not all(a.same_as(b) for a, b in zip(twin, ref)), joined
    cfg = parse_args(["--tokenizer", str(folder)])
    assert choose_engine(layout, Estimate(100, 2, 1), cfg).twin is None
    assert choose_engine(layout, Estimate(100, 2, 0), cfg) is layout


def test_engine_check_cli(bpe_tokenizer, spm_tokenizer, tmp_path, capsys):
    import json
    import shutil

    from conftest import SAMPLE

    from leia.twin_check import main

    jawiki = str(next(SAMPLE.glob("jawiki-*pages-articles.xml.bz2")))
    for tokenizer in (bpe_tokenizer, spm_tokenizer):
        assert main([tokenizer, jawiki]) == 0
        out = capsys.readouterr().out
        assert "can stand in" in out and " 0 document(s) differ" in out
    normalised = shutil.copytree(bpe_tokenizer, tmp_path / "nfc")
    spec = json.loads((normalised / "tokenizer.json").read_text(encoding="utf-8"))
    spec["normalizer"] = {"type": "NFC"}
    (normalised / "tokenizer.json").write_text(json.dumps(spec), encoding="utf-8")
    assert main([str(normalised)]) == 0
    out = capsys.readouterr().out
    assert "cannot stand in" in out and "normalizer" in out
    texts = ["The buses of Parisian suburbs run to Lyonnais towns and villages. " * 3]
    folder, _ = hidden_difference(bpe_tokenizer, texts, tmp_path / "tok")
    dump = tmp_path / "x-pages-articles.xml"
    dump.write_text(f"<page><text>{texts[0]}</text></page>", encoding="utf-8")
    assert main([str(folder), str(dump)]) == 1
