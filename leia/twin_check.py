"""Can tiktoken stand in for a tokenizer in the encoder? ``python -m leia.twin_check
TOKENIZER [DUMPS...]`` says why not (``leia.fast_bpe``'s static checks), or encodes the
pages of the dumps given with both engines and counts the documents that differ."""

from __future__ import annotations


def compare_engines(tokenizer: str, texts: list[str], every: int = 101) -> dict:
    """Encode ``texts`` with the twin and with ``tokenizers``, an insertion every
    ``every`` characters, under ``right`` and ``replace``: the documents that differ
    and each engine's tokens per second."""
    import time

    from .encode import Encoder
    from .tokenizer import load_tokenizer, token_layout

    layout = token_layout(load_tokenizer(tokenizer))
    if layout.twin is None:
        return {"twin": False, "why": layout.twin_refusal}
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
        prog="python -m leia.twin_check",
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
