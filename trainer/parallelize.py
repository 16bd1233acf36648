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
    if mesh.device_type == "cpu":
        for module in [*blocks, model]:
            module.set_custom_reduce_scatter(GlooReduceScatter())
    return model


class GlooReduceScatter:
    """Gradient reduce-scatter for gloo as an all-reduce of the whole buffer, each rank
    keeping its chunk: gloo's own reduce-scatter is slower (16 MB over 2 ranks here:
    22.7 ms, against 17.7 ms for the all-reduce and the copy; bench/comm_bench.py), and
    on the CPU FSDP waits for it in every block's backward."""

    def allocate(self, size, *, dtype, device):
        return torch.empty(*size, dtype=dtype, device=device)

    def __call__(self, output_tensor, input_tensor, group, op, async_op=False):
        import torch.distributed as dist

        average = op == dist.ReduceOp.AVG
        if async_op or not (average or op == dist.ReduceOp.SUM):
            return dist.reduce_scatter_tensor(output_tensor, input_tensor, op=op,
                                              group=group, async_op=async_op)
        dist.all_reduce(input_tensor, op=dist.ReduceOp.SUM, group=group)
        # FSDP lays the input out rank-major: row r is what rank r keeps.
        mine = input_tensor.view(group.size(), -1)[group.rank()]
        if average:
            torch.div(mine, group.size(), out=output_tensor)
        else:
            output_tensor.copy_(mine)
        return None


def gather_all(model: nn.Module) -> None:
    """Start the all-gathers of every block's parameters at once, asynchronously, in
    the order the forward pass needs them: on gloo, FSDP's own all-gather in each
    block's pre-forward blocks the compute, while these run in gloo's threads behind
    the first blocks' forward (each pre-forward waits for its own)."""
    from torch.distributed.fsdp import FSDPModule

    for module in [model, *transformer_blocks(model)]:
        if isinstance(module, FSDPModule):
            module.unshard(async_op=True)


@torch.no_grad()
def clip_grad_norm_(parameters, max_norm: float, group=None) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` for sharded gradients, computed on each rank's
    local shards: the squared norms of the shards summed over ranks (FSDP's shards are
    disjoint) is the squared global norm. The same result as torch's, without sending
    every per-parameter op through DTensor's dispatcher (70 ms a step on the CPU
    benchmark's 39 parameters, 3% of the step)."""
    from torch.distributed.tensor import DTensor

    grads = [p.grad.to_local() if isinstance(p.grad, DTensor) else p.grad
             for p in parameters if p.grad is not None]
    if not grads:
        return torch.zeros(())
    squares = torch.stack(torch._foreach_norm(grads)).double().pow(2).sum()
    if torch.distributed.is_initialized():
        torch.distributed.all_reduce(squares, group=group)
    total = squares.sqrt().to(grads[0].dtype)
    torch._foreach_mul_(grads, (max_norm / (total + 1e-6)).clamp(max=1.0))
    return total
