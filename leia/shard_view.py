"""``python -m leia.shards FOLDER``: a shard folder's summary and a few documents
decoded with the markers visible, so a person sees what the model will read."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .shards import ShardError, ShardSet


def summary(shards: ShardSet) -> str:
    """A shard folder in a few lines: sizes, tokenizer, markers, loss mask, source."""
    m = shards.manifest
    t, tok = m.totals, m.tokenizer
    lines = [
        f"{shards.root}: {len(shards.shards)} shard(s), {shards.num_documents:,} documents, "
        f"{shards.num_tokens:,} tokens ({m.dtype})",
        f"  tokenizer   {tok['name']} (vocabulary {tok['vocab_size']:,}, sha256 "
        f"{tok['vocab_sha256'][:12]})",
        "  special     " + ", ".join(f"{k}={v['token']}:{v['id']}"
                                     for k, v in m.special_tokens.items()),
        f"  loss mask   {m.loss_mask} ({t['masked']:,} tokens not trained on)",
        f"  source      {m.source['table']} version {m.source['version']}, "
        f"wikis {', '.join(shards.wikis)}",
        f"  insertions  {t['placed']:,} placed, {t['moved']:,} moved to a token "
        f"boundary, {t['dropped']:,} dropped; {t['empty_documents']:,} empty "
        "article(s) skipped",
    ]
    return "\n".join(lines)


def show(root: str, tokenizer=None, docs: int = 3, verify: bool = False,
         width: int = 600, file=None) -> ShardSet:
    """Print a shard folder's summary and a few documents decoded with the markers
    visible, so a person sees what the model will read. ``tokenizer`` defaults to the
    one saved with the shards."""
    file = file or sys.stdout
    shards = ShardSet(root, verify=verify)
    print(summary(shards), file=file)
    if verify:
        print("  verified    sha256 of every file matches the manifest", file=file)
    if docs <= 0:
        return shards
    if tokenizer is None:
        from tokenizers import Tokenizer
        path = Path(root) / "tokenizer" / "tokenizer.json"
        if not path.is_file():
            print(f"  (no {path}: pass a tokenizer to decode documents)", file=file)
            return shards
        tokenizer = Tokenizer.from_file(str(path))
    shards.check_tokenizer(tokenizer)
    for n, doc in enumerate(shards.documents()):
        if n >= docs:
            break
        text = tokenizer.decode([int(t) for t in doc.tokens], skip_special_tokens=False)
        masked = int((doc.mask == 0).sum())
        print(f"\n--- {doc.wiki} page {doc.page_id}: {len(doc.tokens)} tokens, "
              f"{masked} masked", file=file)
        print(text[:width] + (" ..." if len(text) > width else ""), file=file)
    return shards


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m leia.shards",
        description="Summarise a token shard folder and decode a few documents with the "
                    "markers visible.")
    p.add_argument("folder", help="shard folder (the encoder's --out)")
    p.add_argument("--docs", type=int, default=3, help="documents to decode")
    p.add_argument("--verify", action="store_true",
                   help="check the sha256 of every file against the manifest")
    p.add_argument("--tokenizer", default=None,
                   help="tokenizer.json to decode with (default: the one saved with "
                        "the shards)")
    args = p.parse_args(argv)
    tok = None
    if args.tokenizer:
        from tokenizers import Tokenizer
        tok = Tokenizer.from_file(args.tokenizer)
    try:
        show(args.folder, tok, args.docs, args.verify)
    except ShardError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
