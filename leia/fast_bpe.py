"""A faster twin of a byte-level BPE tokenizer (GPT-2, Llama-3 style) on tiktoken.

Pre-tokenising with the byte-level regex is most of what ``tokenizers`` spends on an
article; tiktoken (the engine Llama 3's own reference tokenizer runs on) does the same
split and merges about three times faster. The two merge differently in principle
(tiktoken takes the adjacent pair whose *result* has the lowest id, ``tokenizers`` the
pair listed first in ``merges``), so the twin is used only where they agree:

- :func:`twin_pattern` accepts a ``tokenizer.json`` only when nothing in it can make
  them differ: no normalizer; the pre-tokenizer is ``ByteLevel`` with the GPT-2 regex,
  or a regex ``Split`` (isolated) then ``ByteLevel`` without one; no prefix space; a
  BPE model without dropout, subword prefixes or byte fallback, holding all 256 bytes;
  no added token that is not special (``tokenizers`` matches those before BPE); every
  merge's result in the vocabulary with ids rising in merge order; and, unless the
  model takes a piece that is a whole token as it is (``ignore_merges``, as tiktoken
  does), every token coming out of its own merges. It says why not otherwise.
- What remains (a pair of adjacent tokens that make a token without being its merge)
  does not arise in practice, but it is not ruled out statically, so the encoder job
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


def twin_pattern(tokenizer_json: str) -> tuple[str | None, str]:
    """(the pre-tokenizer regex, "") when nothing in this tokenizer keeps tiktoken from
    reproducing it; (None, why not) otherwise."""
    spec = json.loads(tokenizer_json)
    model = spec.get("model") or {}
    if spec.get("normalizer") is not None:
        return None, "it has a normalizer"
    pattern = _pattern(spec.get("pre_tokenizer"))
    if pattern is None:
        return None, "its pre-tokenizer is not a byte-level regex split"
    if model.get("type") != "BPE" or model.get("dropout") or model.get("byte_fallback") \
            or model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
        return None, "its model is not a plain BPE"
    added = spec.get("added_tokens") or []
    if any(not a.get("special") for a in added):
        return None, "it has added tokens that are not special"
    ranks = _ranks(model["vocab"], {a["content"] for a in added})
    if len({r for t, r in ranks.items() if len(t) == 1}) < 256:
        return None, "its vocabulary lacks some of the 256 bytes"
    merges = _merges(model)
    last = -1
    for a, b in merges:
        rid = ranks.get(a + b)
        if rid is None or a not in ranks or b not in ranks:
            return None, f"merge {a!r} {b!r} leaves the byte-level vocabulary"
        if rid < last:
            return None, "its merge order does not follow the ids of the merged tokens"
        last = rid
    if not model.get("ignore_merges"):
        from tokenizers.models import BPE

        bpe = BPE(vocab=model["vocab"], merges=merges)
        for t in ranks:
            if len(t) > 1 and [x.value for x in bpe.tokenize(t)] != [t]:
                return None, f"token {t!r} does not come out of its own merges"
    return pattern, ""


def _ranks(vocab: dict[str, int], added: set[str]) -> dict[str, int]:
    """The model's tokens that are byte-level strings (added tokens left out)."""
    alphabet = byte_decoder()
    return {t: i for t, i in vocab.items()
            if t not in added and all(c in alphabet for c in t)}


class FastBPE:
    """tiktoken with the ids of a byte-level BPE, and the character offsets of its
    tokens computed from their byte lengths."""

    def __init__(self, tokenizer_json: str, pattern: str):
        import tiktoken

        spec = json.loads(tokenizer_json)
        added = {a["content"] for a in spec.get("added_tokens") or []}
        alphabet = byte_decoder()
        ranks = {bytes(alphabet[c] for c in t): i
                 for t, i in _ranks(spec["model"]["vocab"], added).items()}
        self.enc = tiktoken.Encoding("leia-twin", pat_str=pattern,
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
        lengths = self.byte_lengths[ids]
        ends = np.cumsum(lengths)
        starts = ends - lengths
        if text.isascii():
            return starts, ends
        data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        assert len(data) == (ends[-1] if len(ends) else 0)
        char_of_byte = np.cumsum((data & 0xC0) != 0x80) - 1
        return char_of_byte[starts], char_of_byte[ends - 1] + 1


def compare_engines(tokenizer: str, texts: list[str], every: int = 101) -> dict:
    """Encode ``texts`` with the twin and with ``tokenizers``, an insertion every
    ``every`` characters, under ``right`` and ``replace``: the documents that differ
    and each engine's tokens per second."""
    import time

    from .encode import Encoder
    from .tokenizer import load_tokenizer, token_layout

    layout = token_layout(load_tokenizer(tokenizer))
    if layout.bpe_pattern is None:
        return {"twin": False, "why": twin_pattern(layout.tokenizer_json)[1]}
    engines = {"tiktoken": Encoder(layout), "tokenizers": Encoder(layout, engine="tokenizers")}
    plans = [[(c, "Name", max(0, c - 5), c) for c in range(3, len(t), every)] for t in texts]
    seconds = dict.fromkeys(engines, 0.0)
    differing, tokens = 0, 0
    for strategy in ("right", "replace"):
        docs = {}
        for name, enc in engines.items():
            t0 = time.perf_counter()
            docs[name] = enc.encode(texts, plans, [strategy] * len(texts))
            seconds[name] += time.perf_counter() - t0
        differing += sum(not a.same_as(b) for a, b in zip(*docs.values()))
        tokens += sum(len(d.tokens) for d in docs["tokenizers"])
    return {"twin": True, "documents": len(texts), "characters": sum(map(len, texts)),
            "differing": differing,
            "tokens_per_s": {k: round(tokens / s) for k, s in seconds.items()}}


def _dump_texts(paths: list[str]) -> list[str]:
    import bz2
    import html
    import re
    from pathlib import Path

    files = []
    for p in map(Path, paths):
        files += sorted(p.glob("*.xml*")) if p.is_dir() else [p]
    texts = []
    for f in files:
        opener = bz2.open if f.suffix == ".bz2" else open
        with opener(f, "rt", encoding="utf-8", errors="replace") as fh:
            texts += [html.unescape(m.group(1)) for m in
                      re.finditer(r"<text[^>]*>(.*?)</text>", fh.read(), re.S)]
    return texts


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(
        prog="python -m leia.fast_bpe",
        description="Can tiktoken stand in for this tokenizer in the encoder? Says why "
                    "not, or encodes the pages of the given dumps with both engines "
                    "(an insertion every --every characters, strategies right and "
                    "replace) and counts the documents that differ. Exit status 1 when "
                    "any does.")
    p.add_argument("tokenizer", help="Hugging Face tokenizer: hub name or local folder")
    p.add_argument("dumps", nargs="*", help="pages-articles XML files (.bz2 or not) "
                   "or folders of them")
    p.add_argument("--every", type=int, default=101)
    args = p.parse_args(argv)
    texts = _dump_texts(args.dumps)
    r = compare_engines(args.tokenizer, texts, args.every)
    if not r["twin"]:
        print(f"tiktoken cannot stand in for {args.tokenizer}: {r['why']}")
        return 0
    print(f"tiktoken can stand in for {args.tokenizer} (static checks pass)")
    if texts:
        rate = r["tokens_per_s"]
        print(f"{r['documents']:,} pages, {r['characters']:,} characters: "
              f"{r['differing']} document(s) differ; tokens/s tiktoken "
              f"{rate['tiktoken']:,}, tokenizers {rate['tokenizers']:,}")
    return 1 if r.get("differing") else 0


if __name__ == "__main__":
    raise SystemExit(main())
