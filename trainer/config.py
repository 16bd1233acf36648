"""The trainer's configuration: one typed dataclass, one flag per field. Defaults are the
paper's recipe (LLaMA-2-7B, 50 steps x 2048 sequences x 2048 tokens)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from leia.cli import parse_config


@dataclass
class TrainConfig:
    model: str = field(default="", metadata={
        "required": True,
        "help": "Hugging Face causal LM: a hub name (meta-llama/Llama-2-7b-hf) or a local "
                "folder with config.json and safetensors weights"})
    shards: str = field(default="out/shards", metadata={
        "help": "shard folder written by spark_jobs/encode.py"})
    out: str = field(default="out/run", metadata={
        "help": "run folder: checkpoints/, hf/ (the exported model), metrics.jsonl, tb/"})
    steps: int = field(default=50, metadata={"help": "optimizer steps"})
    seq_len: int = field(default=2048, metadata={"help": "tokens per training sequence"})
    global_batch: int = field(default=2048, metadata={
        "help": "sequences per optimizer step, over all ranks"})
    micro_batch: int = field(default=1, metadata={
        "help": "sequences per forward pass per rank; gradient accumulation = "
                "global_batch / (micro_batch x world size)"})
    lr: float = field(default=5e-6, metadata={"help": "peak learning rate"})
    warmup_steps: int = field(default=0, metadata={"help": "linear warm-up steps"})
    min_lr_ratio: float = field(default=0.0, metadata={
        "help": "the cosine schedule ends at lr x this"})
    beta1: float = field(default=0.9, metadata={"help": "AdamW beta1"})
    beta2: float = field(default=0.95, metadata={"help": "AdamW beta2"})
    eps: float = field(default=1e-6, metadata={"help": "AdamW epsilon"})
    weight_decay: float = field(default=0.1, metadata={
        "help": "AdamW weight decay (matrices only; norms and biases are not decayed, "
                "as the Hugging Face Trainer the paper used does)"})
    fused_adamw: bool = field(default=True, metadata={
        "help": "AdamW's fused kernel (CPU and GPU; what the Hugging Face Trainer uses "
                "by default); --no-fused-adamw for the per-parameter loop"})
    clip: float = field(default=1.0, metadata={"help": "gradient norm clipping"})
    seed: int = field(default=42, metadata={"help": "data order and initialisation seed"})
    checkpoint_every: int = field(default=0, metadata={
        "help": "save a checkpoint every N steps (0: only at the end)"})
    final_checkpoint: bool = field(default=True, metadata={
        "help": "save a checkpoint at the last step (--no-final-checkpoint for throwaway "
                "runs such as benchmarks: a 7B model's is ~80 GB)"})
    keep_checkpoints: int = field(default=2, metadata={
        "help": "complete checkpoints to keep (older ones are deleted)"})
    log_every: int = field(default=1, metadata={"help": "log every N steps"})
    resume: bool = field(default=False, metadata={
        "help": "continue from the newest complete checkpoint in OUT/checkpoints"})
    activation_checkpointing: bool = field(default=False, metadata={
        "help": "recompute each block's activations in the backward pass (less memory)"})
    compile: bool = field(default=False, metadata={"help": "torch.compile each block"})
    reshard: str = field(default="auto", metadata={
        "choices": ("auto", "always", "never"),
        "help": "FSDP2 parameter lifetime. always: free each block's gathered parameters "
                "after its forward pass and gather them again for backward and for every "
                "micro-batch (ZeRO-3, least memory: for large models); never: keep them "
                "gathered for the whole step, gradient accumulation included (one "
                "all-gather per block per step; parameters take their full size on each "
                "rank, gradients and optimizer state stay sharded); auto: always on GPU, "
                "never on the CPU, where gloo collectives are slow and models are small"})
    dtype: str = field(default="auto", metadata={
        "choices": ("auto", "bfloat16", "float32"),
        "help": "parameter dtype in the forward pass: auto = bfloat16 on GPU (fp32 "
                "gradient reduction), float32 on CPU"})
    pin_cores: bool = field(default=True, metadata={
        "help": "on the CPU, bind each local rank to its own share of the cores this "
                "job may use (split evenly), so ranks do not compete for or migrate "
                "between cores (--no-pin-cores to leave placement to the OS)"})
    export: bool = field(default=True, metadata={
        "help": "save the final model in Hugging Face format to OUT/hf"})

    def validate(self, world: int = 1) -> None:
        if not self.model:
            raise ValueError("--model is required: a hub name or a local folder")
        for name in ("steps", "seq_len", "global_batch", "micro_batch", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
        if self.global_batch % (self.micro_batch * world):
            raise ValueError(
                f"--global-batch {self.global_batch} is not a multiple of --micro-batch "
                f"{self.micro_batch} x {world} rank(s); pick sizes that divide")

    def resharding(self, device_type: str) -> bool:
        return self.reshard == "always" or (self.reshard == "auto" and device_type != "cpu")

    def accumulation(self, world: int) -> int:
        return self.global_batch // (self.micro_batch * world)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    return parse_config(
        TrainConfig, argv, prog="torchrun --nproc_per_node N trainer/main.py",
        description="Continue training a Hugging Face causal LM on LEIA token shards "
                    "with FSDP2 (the paper's recipe by default), with exact resume and a "
                    "Hugging Face export.")
