"""Small tokenizers trained on local text, for trying the pipeline where no model hub is
reachable (and for the tests): a byte-level BPE as Llama-3 and GPT-2 use, and a
SentencePiece BPE loaded as a fast Llama tokenizer, as Llama-2 uses. Both are saved as
Hugging Face folders that ``AutoTokenizer.from_pretrained`` loads.

    python -m leia.toy_tokenizer --kind bpe --out out/tokenizer     # on the sample dumps
"""

from __future__ import annotations

import argparse
import bz2
import re
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

BPE_BOS, BPE_EOS = "<|begin_of_text|>", "<|end_of_text|>"
_TEXT = re.compile(r"<text[^>]*>(.*?)</text>", re.S)


def train_bpe(texts: Iterable[str], out_dir: str | Path, vocab_size: int = 4000,
              extra_tokens: int = 0) -> Path:
    """A byte-level BPE whose post-processor puts BOS first (Llama-3 style).
    ``extra_tokens`` pads the vocabulary with added tokens (to exceed uint16 ids)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[BPE_BOS, BPE_EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer)
    bos = tok.token_to_id(BPE_BOS)
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single=f"{BPE_BOS} $A", pair=f"{BPE_BOS} $A $B",
                                      special_tokens=[(BPE_BOS, bos)])])
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BPE_BOS,
                                 eos_token=BPE_EOS)
    if extra_tokens:
        hf.add_tokens([f"<extra_{i}>" for i in range(extra_tokens)])
    hf.save_pretrained(str(out_dir))
    return Path(out_dir)


def train_sentencepiece(texts: Iterable[str], out_dir: str | Path,
                        vocab_size: int = 4000) -> Path:
    """A SentencePiece BPE with byte fallback, loaded as a fast Llama tokenizer that
    puts BOS first (Llama-2 style)."""
    import sentencepiece as spm
    from transformers import LlamaTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        spm.SentencePieceTrainer.train(
            sentence_iterator=_lines(texts), model_prefix=f"{tmp}/tokenizer",
            vocab_size=vocab_size, model_type="bpe", byte_fallback=True,
            character_coverage=0.9995, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
            minloglevel=2)
        tok = LlamaTokenizer.from_pretrained(tmp, add_bos_token=True, add_eos_token=False)
        tok.save_pretrained(str(out_dir))
    return Path(out_dir)


def _lines(texts: Iterable[str]) -> Iterator[str]:
    for t in texts:
        for line in t.splitlines():
            if line.strip():
                yield line[:4000]


def dump_texts(folder: str | Path, limit_bytes: int = 20 << 20) -> list[str]:
    """The raw wikitext of the pages in a folder's pages-articles dumps (enough to
    train a toy vocabulary)."""
    out, total = [], 0
    for path in sorted(Path(folder).glob("*pages-articles*.xml*")):
        opener = bz2.open if path.suffix == ".bz2" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            for m in _TEXT.finditer(f.read()):
                out.append(m.group(1))
                total += len(m.group(1))
                if total > limit_bytes:
                    return out
    return out


def main(argv: list[str] | None = None) -> None:
    from .dumps import SAMPLE_DUMPS

    p = argparse.ArgumentParser(prog="python -m leia.toy_tokenizer", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", choices=("bpe", "sentencepiece"), default="bpe")
    p.add_argument("--dumps", default=SAMPLE_DUMPS,
                   help="folder of pages-articles dumps to train on")
    p.add_argument("--vocab-size", type=int, default=4000)
    p.add_argument("--out", default="out/tokenizer")
    args = p.parse_args(argv)
    texts = dump_texts(args.dumps)
    if not texts:
        raise SystemExit(f"error: no pages-articles dumps with text in {args.dumps}")
    train = train_bpe if args.kind == "bpe" else train_sentencepiece
    train(texts, args.out, args.vocab_size)
    print(f"wrote a {args.kind} tokenizer ({args.vocab_size} tokens) to {args.out}")


if __name__ == "__main__":
    main()
