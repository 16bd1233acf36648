"""Faster twins, on tiktoken, of the two kinds of BPE tokenizer LLMs use: byte-level
(GPT-2, Llama 3) and SentencePiece BPE with byte fallback (Llama 2, Mistral).

``tokenizers`` spends most of an article's time pre-tokenising (byte level) or keeping
the normalised text aligned with the original (SentencePiece); tiktoken, the engine Llama
3's own reference tokenizer runs on, splits and merges two to three times faster. The
ids are the tokenizer's ids. The two engines merge differently in principle (tiktoken
takes the adjacent pair whose *result* has the lowest rank, ``tokenizers`` the pair
listed first in ``merges``), so a twin is used only where they agree:

- :func:`twin_kind` accepts a ``tokenizer.json`` only when nothing in it can make them
  differ, and says why not otherwise. Byte level: no normalizer; the pre-tokenizer is
  ``ByteLevel`` with the GPT-2 regex, or a regex ``Split`` (isolated) then ``ByteLevel``
  without one; no prefix space; a BPE without dropout, subword prefixes or byte
  fallback, holding all 256 bytes; merge results in the vocabulary with ids rising in
  merge order. SentencePiece: spaces become ``▁`` and one is put first (the
  ``Metaspace`` pre-tokenizer or the ``Prepend`` + ``Replace`` normalizers, as Hugging
  Face writes Llama tokenizers), byte fallback with all 256 byte tokens, ``▁`` only at
  the start of a token (so the text can be split before each run of spaces), every
  merge's result in the vocabulary, the merges of one result listed together, and
  every pair of tokens that makes a token listed as a merge. Both: no added token that
  is not special (``tokenizers`` matches those before BPE), and every token coming out
  of its own merges (tiktoken takes a piece that is a whole token as it is, and so
  does a byte-level BPE with ``ignore_merges``).
- What remains is not ruled out statically: a pair of adjacent tokens that makes a
  token without being its merge (byte level), or two merges with one result competing
  for one token (SentencePiece: ``at`` ``a`` ``ta``, where tiktoken makes ``ata`` of
  the left pair and ``tokenizers`` of the pair listed first; no text in the tests or
  in the 124 languages of the real mini-dumps meets either). So the encoder job
  compares both engines on a sample of every build and encodes the build with
  ``tokenizers`` on any difference (``spark_jobs/encode.py``; ``--engine tokenizers``
  always does).
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


@lru_cache(maxsize=1)
def byte_decoder() -> dict[str, int]:
    """The byte-level alphabet (GPT-2's printable stand-in for each byte) -> the byte."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
          *range(ord("®"), ord("ÿ") + 1)]
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def _pattern(pre: dict | None) -> str | None:
    def byte_level(node, regex: bool) -> bool:
        return (node.get("type") == "ByteLevel" and not node.get("add_prefix_space")
                and bool(node.get("use_regex", True)) == regex)

    if pre is None:
        return None
    if byte_level(pre, regex=True):
        return GPT2_PATTERN
    steps = pre.get("pretokenizers") if pre.get("type") == "Sequence" else None
    if steps and len(steps) == 2 and byte_level(steps[1], regex=False):
        split = steps[0]
        if (split.get("type") == "Split" and "Regex" in (split.get("pattern") or {})
                and split.get("behavior") == "Isolated" and not split.get("invert")):
            return split["pattern"]["Regex"]
    return None


def _merges(model: dict) -> list[tuple[str, str]]:
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m)
            for m in model.get("merges", [])]


BYTE_LEVEL, SENTENCEPIECE = "byte-level", "sentencepiece"
SPACE = "\u2581"  # SentencePiece's visible space


def twin_kind(tokenizer_json: str) -> tuple[str | None, str]:
    """(``"byte-level"`` or ``"sentencepiece"``, "") when tiktoken can reproduce this
    tokenizer; (None, why not) otherwise."""
    spec = json.loads(tokenizer_json)
    model = spec.get("model") or {}
    if model.get("type") != "BPE" or model.get("dropout") \
            or model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
        return None, "its model is not a plain BPE"
    added = spec.get("added_tokens") or []
    if any(not a.get("special") for a in added):
        return None, "it has added tokens that are not special"
    added = {a["content"] for a in added}
    if model.get("byte_fallback"):
        why = _sentencepiece_refusal(spec, added)
        return (None, why) if why else (SENTENCEPIECE, "")
    why = _byte_level_refusal(spec, added)
    return (None, why) if why else (BYTE_LEVEL, "")


def _byte_level_refusal(spec: dict, added: set[str]) -> str:
    model = spec["model"]
    if spec.get("normalizer") is not None:
        return "it has a normalizer"
    if _pattern(spec.get("pre_tokenizer")) is None:
        return "its pre-tokenizer is not a byte-level regex split"
    ranks = _ranks(model["vocab"], added)
    if len({r for t, r in ranks.items() if len(t) == 1}) < 256:
        return "its vocabulary lacks some of the 256 bytes"
    merges = _merges(model)
    last = -1
    for a, b in merges:
        rid = ranks.get(a + b)
        if rid is None or a not in ranks or b not in ranks:
            return f"merge {a!r} {b!r} leaves the byte-level vocabulary"
        if rid < last:
            return "its merge order does not follow the ids of the merged tokens"
        last = rid
    if not model.get("ignore_merges"):
        return _unreachable(model, merges, ranks)
    return ""


def _unreachable(model: dict, merges, tokens) -> str:
    """Why not, if some token does not come out of its own merges: tiktoken takes a
    piece that is a whole token as it is, ``tokenizers`` merges it."""
    from tokenizers.models import BPE

    bpe = BPE(vocab=model["vocab"], merges=merges,
              byte_fallback=bool(model.get("byte_fallback")))
    for t in tokens:
        if len(t) > 1 and [x.value for x in bpe.tokenize(t)] != [t]:
            return f"token {t!r} does not come out of its own merges"
    return ""


def _ranks(vocab: dict[str, int], added: set[str]) -> dict[str, int]:
    """The model's tokens that are byte-level strings (added tokens left out)."""
    alphabet = byte_decoder()
    return {t: i for t, i in vocab.items()
            if t not in added and all(c in alphabet for c in t)}


def _sentencepiece_text(spec: dict) -> tuple[str, bool] | None:
    """How this tokenizer turns text into SentencePiece's: (prepend, split), where
    prepend is "always" (the Prepend normalizer), "unless-space" (Metaspace: not when
    the text starts with one) or "never", and split says whether each ``▁`` starts a
    new word; None when it does something else."""
    norm, pre = spec.get("normalizer"), spec.get("pre_tokenizer")
    if norm is None and pre and pre.get("type") == "Metaspace" \
            and pre.get("replacement") == SPACE:
        scheme = pre.get("prepend_scheme") or (
            "always" if pre.get("add_prefix_space", True) else "never")
        # "first" prepends to the text's first section; with no added token matched in
        # the text (markers are encoded as text) the whole text is one section.
        prepend = "never" if scheme == "never" else "unless-space"
        return prepend, bool(pre.get("split", True))
    steps = norm.get("normalizers") if norm and norm.get("type") == "Sequence" else None
    if pre is None and steps and len(steps) == 2:
        kinds = {n.get("type"): n for n in steps}
        prep, rep = kinds.get("Prepend"), kinds.get("Replace")
        if prep and rep and prep.get("prepend") == SPACE \
                and rep.get("pattern") == {"String": " "} and rep.get("content") == SPACE:
            return "always", False
    return None


def _sentencepiece_refusal(spec: dict, added: set[str]) -> str:
    model = spec["model"]
    form = _sentencepiece_text(spec)
    if form is None:
        return ("its text is not prepared as SentencePiece's (a Metaspace pre-tokenizer, "
                "or the Prepend and Replace normalizers)")
    vocab = model["vocab"]
    if any(f"<0x{b:02X}>" not in vocab for b in range(256)) or SPACE not in vocab:
        return "its vocabulary lacks some of the 256 byte tokens or ▁"
    tokens = _sentencepiece_tokens(vocab, added)
    bad = next((t for t in tokens if " " in t or (not form[1] and SPACE in t.lstrip(SPACE))),
               None)
    if bad is not None:
        return f"token {bad!r} holds a space, or a ▁ after its start"
    merges = _merges(model)
    pairs, done, last = set(merges), set(), None
    for a, b in merges:
        if a not in tokens or b not in tokens or a + b not in tokens:
            return f"merge {a!r} {b!r} leaves the vocabulary"
        if a + b != last:
            if a + b in done:
                return f"the merges that make {a + b!r} are not listed together"
            done.add(a + b)
            last = a + b
    for t in tokens:
        for j in range(1, len(t)):
            if t[:j] in tokens and t[j:] in tokens and (t[:j], t[j:]) not in pairs:
                return f"tokens {t[:j]!r} {t[j:]!r} make {t!r} but are not a merge"
    return _unreachable(model, merges, [t for t in tokens if t in done])


def _sentencepiece_tokens(vocab: dict[str, int], added: set[str]) -> dict[str, int]:
    """The model's text tokens: special tokens and byte tokens left out."""
    return {t: i for t, i in vocab.items() if t not in added
            and not (len(t) == 6 and t.startswith("<0x") and t.endswith(">"))}


def make_twin(tokenizer_json: str, kind: str):
    """The tiktoken twin of a tokenizer that :func:`twin_kind` accepted."""
    return (FastBPE if kind == BYTE_LEVEL else FastSentencePiece)(tokenizer_json)


class FastBPE:
    """tiktoken with the ids of a byte-level BPE, and the character offsets of its
    tokens computed from their byte lengths."""

    def __init__(self, tokenizer_json: str):
        import tiktoken

        spec = json.loads(tokenizer_json)
        added = {a["content"] for a in spec.get("added_tokens") or []}
        alphabet = byte_decoder()
        ranks = {bytes(alphabet[c] for c in t): i
                 for t, i in _ranks(spec["model"]["vocab"], added).items()}
        self.enc = tiktoken.Encoding("leia-twin", pat_str=_pattern(spec["pre_tokenizer"]),
                                     mergeable_ranks=ranks, special_tokens={})
        self.byte_lengths = np.zeros(max(ranks.values()) + 1, dtype=np.int64)
        for b, i in ranks.items():
            self.byte_lengths[i] = len(b)

    def encode(self, text: str) -> np.ndarray:
        # encode_ordinary: no special tokens to look for (the markers in an article are
        # text); a third faster here than encode_to_numpy, which looks for them.
        return np.asarray(self.enc.encode_ordinary(text), dtype=np.uint32)

    def offsets(self, text: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each token's (start, end) in characters, as ``tokenizers`` reports them: a
        token holding part of a character's bytes spans that whole character."""
        return _char_offsets(text, self.byte_lengths[ids])


def _char_offsets(text: str, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Character (start, end) of tokens of ``lengths`` bytes that spell ``text``; a
    token holding part of a character spans that whole character."""
    ends = np.cumsum(lengths)
    starts = ends - lengths
    if text.isascii():
        return starts, ends
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    assert len(data) == (ends[-1] if len(ends) else 0)
    char_of_byte = np.cumsum((data & 0xC0) != 0x80) - 1
    return char_of_byte[starts], char_of_byte[ends - 1] + 1


class FastSentencePiece:
    """tiktoken with the ids of a SentencePiece BPE (byte fallback), run on the text
    with its spaces as spaces (``▁`` is three bytes, a space one) and split before each
    run of spaces, which no token spans.

    tiktoken starts from bytes, SentencePiece from characters: every byte and every
    leading part of a character in the vocabulary gets a rank below all the merges, so
    characters are whole before any merge. A character outside the vocabulary may be
    left as such a part; it is spelled out as byte tokens, as byte fallback does."""

    def __init__(self, tokenizer_json: str):
        import tiktoken

        spec = json.loads(tokenizer_json)
        self.prepend, split = _sentencepiece_text(spec)
        vocab = spec["model"]["vocab"]
        tokens = _sentencepiece_tokens(vocab, {a["content"] for a in
                                               spec.get("added_tokens") or []})
        byte_id = [vocab[f"<0x{b:02X}>"] for b in range(256)]
        order = {}  # each merge result's rank: where its merges start in the list
        for a, b in _merges(spec["model"]):
            order.setdefault(a + b, len(order))
        ranks: dict[bytes, int] = {}
        spelled: list[list[int]] = []  # rank -> the ids it stands for

        def add(key: bytes, ids: list[int]) -> None:
            ranks[key] = len(spelled)
            spelled.append(ids)

        def key(t: str) -> bytes:
            return t.replace(SPACE, " ").encode()

        for b in range(256):
            char = chr(b).replace(" ", SPACE) if b < 128 else None
            add(bytes([b]), [tokens[char] if char in tokens else byte_id[b]])
        for t in (t for t in tokens if len(t) == 1 and len(key(t)) > 1):
            k = key(t)
            for j in range(2, len(k)):
                if k[:j] not in ranks:
                    add(k[:j], [byte_id[x] for x in k[:j]])
            add(k, [tokens[t]])
        for t in sorted(order, key=order.get):
            add(key(t), [tokens[t]])
        pattern = r" [^ ]*|[^ ]+" if split else r" +[^ ]*|[^ ]+"
        self.enc = tiktoken.Encoding("leia-twin-spm", pat_str=pattern,
                                     mergeable_ranks=ranks, special_tokens={})
        width = max(map(len, spelled))
        self.width = np.asarray([len(ids) for ids in spelled], dtype=np.int64)
        self.spelled = np.asarray([ids + [0] * (width - len(ids)) for ids in spelled],
                                  dtype=np.uint32)
        self.byte_lengths = np.zeros(max(vocab.values()) + 1, dtype=np.int64)
        for k, r in ranks.items():
            if self.width[r] == 1:
                self.byte_lengths[spelled[r][0]] = len(k)
        self.byte_lengths[byte_id] = 1

    def _prepared(self, text: str) -> str:
        """The text tiktoken runs on: one character per character of ``text``, plus
        the prepended space when there is one."""
        if SPACE in text:
            text = text.replace(SPACE, " ")
        if self.prepend == "always" or (self.prepend == "unless-space"
                                        and not text.startswith(" ")):
            return " " + text
        return text

    def encode(self, text: str) -> np.ndarray:
        if not text:
            return np.zeros(0, dtype=np.uint32)
        ranks = np.asarray(self.enc.encode_ordinary(self._prepared(text)), dtype=np.int64)
        width = self.width[ranks]
        if width.max() == 1:
            return self.spelled[ranks, 0]
        # Parts of characters outside the vocabulary: one byte token per byte.
        rows = np.repeat(ranks, width)
        first = np.repeat(np.cumsum(width) - width, width)
        return self.spelled[rows, np.arange(len(rows)) - first]

    def offsets(self, text: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """As ``tokenizers`` reports them: the prepended ``▁`` takes the first
        character's place."""
        prepared = self._prepared(text)
        starts, ends = _char_offsets(prepared, self.byte_lengths[ids])
        if len(prepared) == len(text):
            return starts, ends
        return np.maximum(starts - 1, 0), np.maximum(ends - 1, 1)
