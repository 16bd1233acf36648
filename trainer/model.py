"""The model: a Hugging Face causal LM with the two LEIA markers added.

It is built on the meta device (no memory), sharded by ``parallelize``, materialised
shard by shard, and its weights are loaded one tensor at a time from the safetensors
files, each rank keeping only its rows: a 7B model never sits whole in one process.

New vocabulary rows (the markers) start as the mean of the existing rows, in the input
embeddings and, when the head is untied, in the output embeddings too. The markers are
never targets (loss mask), so the output rows only enter the softmax's normaliser; the
mean row gives them an average logit instead of an arbitrary one, which keeps the first
steps' loss where the base model had it (the same choice as transformers'
``resize_token_embeddings(mean_resizing=True)``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import torch
from torch import nn

from leia.shards import Manifest


@contextlib.contextmanager
def params_on_meta():
    """Parameters are created on the meta device, buffers (rotary frequencies...) for
    real: they are small, and computed in ``__init__`` where a meta tensor would lose
    them."""
    register = nn.Module.register_parameter

    def on_meta(module, name, param):
        register(module, name, param)
        if param is not None:
            p = module._parameters[name]
            module._parameters[name] = nn.Parameter(p.to("meta"), requires_grad=p.requires_grad)

    nn.Module.register_parameter = on_meta
    try:
        yield
    finally:
        nn.Module.register_parameter = register


def build_model(model: str, vocab_size: int, dtype: torch.dtype):
    """(model on meta with real buffers, its config, the checkpoint's vocabulary size)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(model)
    base_vocab = config.vocab_size
    config.vocab_size = max(vocab_size, base_vocab)  # keep a padded vocabulary
    with params_on_meta():
        m = AutoModelForCausalLM.from_config(config, dtype=dtype)
    return m, config, base_vocab


def weight_files(model: str) -> list[Path]:
    """The safetensors files of a local folder, or of a hub repository (downloaded)."""
    folder = Path(model)
    if not folder.is_dir():
        from huggingface_hub import snapshot_download
        folder = Path(snapshot_download(model, allow_patterns=["*.safetensors", "*.json"]))
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise ValueError(f"--model {model}: no .safetensors weights in {folder}; save the "
                         "model with save_pretrained(safe_serialization=True)")
    return files


def materialise(model: nn.Module, model_name: str, base_vocab: int, device) -> None:
    """Allocate this rank's shards and fill them from the checkpoint, one tensor at a
    time; extend the vocabulary rows with their mean."""
    from safetensors import safe_open
    from torch.distributed.tensor import DTensor, distribute_tensor

    buffers = {n: b.detach().clone() for n, b in model.named_buffers()}
    model.to_empty(device=device)
    with torch.no_grad():
        for name, b in model.named_buffers():
            b.copy_(buffers[name])
        params = dict(model.named_parameters())
        loaded = set()
        for path in weight_files(model_name):
            with safe_open(str(path), framework="pt") as f:
                for key in f.keys():
                    if key not in params:
                        continue
                    full = f.get_tensor(key)
                    p = params[key]
                    if full.shape[0] == base_vocab and p.shape[0] > base_vocab:
                        extra = full.float().mean(0, keepdim=True).expand(
                            p.shape[0] - base_vocab, -1)
                        full = torch.cat([full.float(), extra])
                    full = full.to(device=device, dtype=p.dtype)
                    if isinstance(p, DTensor):
                        local = distribute_tensor(full, p.device_mesh, p.placements,
                                                  src_data_rank=None)
                        p.to_local().copy_(local.to_local())
                    else:
                        p.copy_(full)
                    loaded.add(key)
        tied = {n for n, p in params.items() if n not in loaded and _is_tied(model, n)}
        missing = set(params) - loaded - tied
        if missing:
            raise ValueError(f"--model {model_name}: the checkpoint has no weights for "
                             f"{sorted(missing)[:5]}... (another architecture?)")


def flops_per_token(model: nn.Module, seq_len: int) -> float:
    """Training FLOPs per token (forward and backward), as PaLM's appendix counts them:
    6 per weight of every matrix product (the input embedding is a lookup, so not
    counted) plus the attention scores and their weighted sum, 12 x layers x width x
    sequence length (half of it with causal masking skipped is not credited)."""
    c = model.config
    matmul = sum(p.numel() for p in model.parameters())
    emb, head = model.get_input_embeddings(), model.get_output_embeddings()
    if emb is not None and (head is None or head.weight is not emb.weight):
        matmul -= emb.weight.numel()  # untied: the lookup table is no matrix product
    return 6 * matmul + 12 * c.num_hidden_layers * c.hidden_size * seq_len


def _is_tied(model, name: str) -> bool:
    out = model.get_output_embeddings()
    return (getattr(model.config, "tie_word_embeddings", False) and out is not None
            and name.startswith("lm_head"))


def export(model: nn.Module, config, tokenizer, out: Path, rank: int,
           manifest: Manifest, world: int = 1) -> None:
    """Save the model in Hugging Face format (safetensors, config, tokenizer with the
    markers), and ``leia.json``: the markers and augmentation of the shards it was
    trained on (``manifest``), and how many processes trained it (``world``). The full
    state dict is gathered to rank 0's CPU memory. Written to a temporary folder and
    renamed, so OUT/hf is either a whole model or absent."""
    from safetensors.torch import save_file
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True,
                                                                 cpu_offload=True))
    if rank != 0:
        return
    final, out = out, out.with_name(out.name + ".tmp")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if getattr(config, "tie_word_embeddings", False):
        state.pop("lm_head.weight", None)
    state = {k: v.contiguous() for k, v in state.items()}
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    config.save_pretrained(out)
    tokenizer.save_pretrained(out)
    record = {**leia_record(manifest), "training": launch_record(world)}
    (out / "leia.json").write_text(json.dumps(record, indent=1))
    shutil.rmtree(final, ignore_errors=True)
    out.rename(final)


def leia_record(manifest: Manifest) -> dict:
    """What an exported model says of its LEIA training: its markers ({token: id}), and
    the shards' augmentation (per wiki) and loss-mask policy."""
    specials = manifest.special_tokens
    return {"markers": {specials[r]["token"]: specials[r]["id"]
                        for r in ("start_marker", "end_marker")},
            "augmentation": manifest.augmentation, "loss_mask": manifest.loss_mask}


def launch_record(world: int) -> dict:
    """How the run was started: its process count, and ``torchrun`` where the ranks were
    launched by torch's elastic launcher (which sets ``TORCHELASTIC_RUN_ID``), else
    ``python`` (one process, no launcher)."""
    launcher = "torchrun" if "TORCHELASTIC_RUN_ID" in os.environ else "python"
    return {"processes": world, "launcher": launcher}
