"""FSDP2, applied from outside: the model code knows nothing of it."""

from __future__ import annotations

import torch
from torch import nn


BLOCK_PATHS = ("model.layers", "transformer.h", "gpt_neox.layers", "model.decoder.layers")


def transformer_blocks(model: nn.Module) -> nn.ModuleList:
    """The decoder layers of a Hugging Face causal LM (Llama, Mistral, Qwen, GPT-2...)."""
    for path in BLOCK_PATHS:
        mod = model
        for part in path.split("."):
            mod = getattr(mod, part, None)
        if isinstance(mod, nn.ModuleList):
            return mod
    raise ValueError(f"{type(model).__name__}: cannot find its transformer blocks "
                     f"(looked for {', '.join(BLOCK_PATHS)})")


def parallelize(model: nn.Module, mesh, param_dtype: torch.dtype,
                activation_checkpointing: bool = False, compile: bool = False,
                reshard: bool = True) -> nn.Module:
    """``fully_shard`` each transformer block, then the root. On GPU parameters are
    gathered in ``param_dtype`` (bf16) and gradients reduced in fp32. ``reshard``:
    free a block's gathered parameters after its forward pass and gather them again in
    backward (least memory); without it they stay gathered until the step's last
    backward (one all-gather per block per step: the trainer also keeps them across
    gradient accumulation with ``set_reshard_after_backward``)."""
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    mp = MixedPrecisionPolicy(param_dtype=param_dtype, reduce_dtype=torch.float32)
    blocks = transformer_blocks(model)
    if activation_checkpointing:
        # The model's own switch keeps parameter names (a wrapper module would rename
        # them, and the checkpoint's keys with them).
        model.gradient_checkpointing_enable(
            gradient_checkpointing_kwargs={"use_reentrant": False})
    for i, block in enumerate(blocks):
        if compile:
            block.compile()
        # The last block's parameters are needed first in backward: keep them gathered.
        fully_shard(block, mesh=mesh, mp_policy=mp,
                    reshard_after_forward=reshard and i < len(blocks) - 1)
    fully_shard(model, mesh=mesh, mp_policy=mp)
    return model
