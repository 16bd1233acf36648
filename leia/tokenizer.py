"""Loading a Hugging Face tokenizer with the two LEIA markers added, the same way for
the encoder and the trainer, so both give the markers the same ids."""

from __future__ import annotations

import json

from .encode import TokenLayout
from .fast_bpe import twin_kind
from .params import DEFAULT_MARKERS
from .shards import vocab_fingerprint


def load_tokenizer(name_or_path: str, markers: tuple[str, str] = DEFAULT_MARKERS):
    """``AutoTokenizer.from_pretrained`` plus the markers as special tokens. Needs a fast
    (Rust) tokenizer: splicing names in at token boundaries needs character offsets."""
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError) as e:
        raise ValueError(f"tokenizer {name_or_path!r} could not be loaded: {e}. Give a "
                         "local folder holding tokenizer.json (or tokenizer.model), or a "
                         "hub name this machine can reach") from None
    if not getattr(tok, "is_fast", False):
        raise ValueError(
            f"tokenizer {name_or_path!r} ({type(tok).__name__}) has no fast implementation,"
            " so it gives no character offsets, which the encoder needs to splice names in "
            "at token boundaries. Save a fast version first: AutoTokenizer.from_pretrained"
            "(..., use_fast=True).save_pretrained(DIR), then pass DIR")
    add_markers(tok, markers)
    return tok


def add_markers(tok, markers: tuple[str, str] = DEFAULT_MARKERS) -> list[int]:
    """Add the markers as special tokens (a no-op when they are there); their ids."""
    missing = [m for m in markers if m not in tok.get_vocab()]
    if missing:
        # add_tokens(special_tokens=True) means the same in transformers 4 and 5
        # (add_special_tokens' keyword for keeping existing extras was renamed).
        tok.add_tokens(missing, special_tokens=True)
    return tok.convert_tokens_to_ids(list(markers))


def _untrim_offsets(node: dict) -> None:
    # Byte-level post-processors may trim the leading space off a token's offsets; the
    # splice needs every character owned by the token that holds it.
    if isinstance(node, dict):
        if "trim_offsets" in node:
            node["trim_offsets"] = False
        for v in node.values():
            _untrim_offsets(v)
    elif isinstance(node, list):
        for v in node:
            _untrim_offsets(v)


def specials_around(tok) -> tuple[list[int], list[int]]:
    """The ids the tokenizer puts before and after a text for the model (BOS for Llama;
    some models also put EOS after)."""
    probe = "LEIA probe text 123"
    with_special = tok(probe).input_ids
    plain = tok(probe, add_special_tokens=False).input_ids
    for i in range(len(with_special) - len(plain) + 1):
        if with_special[i:i + len(plain)] == plain:
            return with_special[:i], with_special[i + len(plain):]
    raise ValueError(f"tokenizer {tok.name_or_path!r}: cannot tell which special tokens "
                     "it adds around a text (its ids with special tokens do not contain "
                     "those without)")


def token_layout(tok, markers: tuple[str, str] = DEFAULT_MARKERS) -> TokenLayout:
    """What the executors need: the backend tokenizer and the ids the model expects."""
    probe = "LEIA probe text 123"
    prefix, suffix = specials_around(tok)
    enc = tok.backend_tokenizer.encode(probe, add_special_tokens=False)
    if not enc.offsets or enc.offsets[-1][1] != len(probe):
        raise ValueError(f"tokenizer {tok.name_or_path!r} gives no usable character "
                         f"offsets ({enc.offsets[:4]}...); the encoder needs them")
    spec = json.loads(tok.backend_tokenizer.to_str())
    _untrim_offsets(spec.get("post_processor"))
    start_id, end_id = add_markers(tok, markers)
    tokenizer_json = json.dumps(spec)
    twin, refusal = twin_kind(tokenizer_json)
    return TokenLayout(tokenizer_json, tuple(prefix), tuple(suffix), start_id, end_id,
                       tok.eos_token_id, twin, refusal)


def describe(tok, markers: tuple[str, str] = DEFAULT_MARKERS) -> dict:
    """The manifest's record of a tokenizer, which readers check theirs against."""
    specials = {"start_marker": markers[0], "end_marker": markers[1]}
    if tok.bos_token is not None:
        specials["bos"] = tok.bos_token
    if tok.eos_token is not None:
        specials["eos"] = tok.eos_token
    vocab = tok.get_vocab()
    return {
        "tokenizer": {"name": str(tok.name_or_path), "class": type(tok).__name__,
                      "vocab_size": len(tok), "vocab_sha256": vocab_fingerprint(vocab)},
        "special_tokens": {role: {"token": t, "id": vocab[t]}
                           for role, t in specials.items()},
    }
