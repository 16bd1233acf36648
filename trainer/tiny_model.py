"""A randomly initialised Llama with a given tokenizer, saved as a Hugging Face folder:
what ``--model`` names when no hub is reachable (the pipeline on the sample, the tests,
the benchmarks). Real runs name a pretrained model instead (meta-llama/Llama-2-7b-hf).

    python -m trainer.tiny_model --tokenizer out/tokenizer --out out/base-model
    python -m trainer.tiny_model --tokenizer DIR --out /tmp/llama-7b --layers 32 \
        --hidden 4096 --intermediate 11008 --heads 32 --kv-heads 32 \
        --max-positions 4096 --dtype bfloat16 --device cuda     # Llama-2-7B's shape
"""

from __future__ import annotations

import argparse
from pathlib import Path


def build_tiny_llama(tokenizer: str, out: str | Path, layers: int = 2, hidden: int = 64,
                     heads: int = 4, max_positions: int = 512, seed: int = 0,
                     intermediate: int = 0, kv_heads: int = 0, dtype: str = "float32",
                     device: str = "cpu") -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(tokenizer)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=hidden, intermediate_size=intermediate or 2 * hidden,
        num_hidden_layers=layers, num_attention_heads=heads,
        num_key_value_heads=kv_heads or max(1, heads // 2),
        max_position_embeddings=max_positions, tie_word_embeddings=False,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    # Built where and in the dtype asked: a 7B model is 27 GB in fp32 on the CPU.
    with torch.device(device):
        model = LlamaForCausalLM(config).to(getattr(torch, dtype))
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return Path(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m trainer.tiny_model", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokenizer", required=True, help="tokenizer name or folder")
    p.add_argument("--out", required=True, help="folder to write the model to")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--max-positions", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--intermediate", type=int, default=0, help="MLP width (0: 2 x hidden)")
    p.add_argument("--kv-heads", type=int, default=0, help="key/value heads (0: heads / 2)")
    p.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    p.add_argument("--device", default="cpu", help="where to build it (cuda: faster)")
    a = p.parse_args(argv)
    out = build_tiny_llama(a.tokenizer, a.out, a.layers, a.hidden, a.heads,
                           a.max_positions, a.seed, a.intermediate, a.kv_heads, a.dtype,
                           a.device)
    print(f"wrote a random {a.layers}-layer Llama (hidden {a.hidden}) to {out}")


if __name__ == "__main__":
    main()
