"""The evaluator's configuration: one typed dataclass, one flag per field. Defaults are
the paper's protocol (X-CSR validation sets, X-CSQA 4-shot, mean of 5 seeds)."""

from __future__ import annotations

from dataclasses import dataclass, field

from leia.cli import parse_config
from leia.xcsr import parse_task

SAMPLE_DATA = "data/xcsr-sample"


@dataclass
class EvalConfig:
    model: str = field(default="", metadata={
        "required": True,
        "help": "causal LM to evaluate: a hub name (meta-llama/Llama-2-7b-hf) or a local "
                "folder, such as a training run's RUN/hf"})
    tasks: str = field(default="", metadata={
        "required": True,
        "help": "comma-separated xcodah_<lang> and xcsqa_<lang> (e.g. "
                "xcodah_ja,xcodah_zh,xcsqa_ja); the paper's X-CODAH languages are "
                "ar,es,hi,ja,ru,sw,zh"})
    data: str = field(default=SAMPLE_DATA, metadata={
        "help": "X-CSR data: a folder as the X-CSR release lays it out "
                "(X-CODAH/<lang>/dev.jsonl), or as the Hugging Face dataset does "
                "(X-CODAH-<lang>/validation.jsonl), or a hub dataset name (INK-USC/xcsr); "
                "the default is a small bundled fixture for trying the pipeline"})
    out: str = field(default="out/eval", metadata={
        "help": "output folder: metrics.json, predictions/<task>.jsonl, config.json"})
    split: str = field(default="dev", metadata={
        "help": "split: dev (the paper's; 'validation' on the hub) or test"})
    demo_split: str = field(default="", metadata={
        "help": "split X-CSQA's demonstrations are drawn from (as lm-eval's "
                "fewshot_split), e.g. train; empty: the evaluated split itself, never "
                "the query (the paper's protocol)"})
    tokenizer: str = field(default="", metadata={
        "help": "tokenizer name or folder, if not the model's own"})
    shots: int = field(default=4, metadata={
        "help": "demonstrations per X-CSQA question (X-CODAH is always 0-shot)"})
    seeds: int = field(default=5, metadata={
        "help": "seeds 0..N-1 for drawing demonstrations; accuracy is their mean, with a "
                "95%% confidence interval over seeds"})
    batch_size: int = field(default=16, metadata={
        "help": "sequences per forward pass (longest first, so memory runs out at the "
                "start if at all)"})
    max_length: int = field(default=0, metadata={
        "help": "longest sequence the model reads; longer contexts lose tokens from the "
                "left (counted as 'truncated'). 0: the model's max_position_embeddings"})
    dtype: str = field(default="auto", metadata={
        "choices": ["auto", "float32", "bfloat16", "float16"],
        "help": "weights' dtype; auto: bfloat16 on GPU, float32 on CPU"})

    def task_list(self) -> list[tuple[str, str, str]]:
        """[(task name, kind, lang)] in the order given."""
        names = [t.strip() for t in self.tasks.split(",") if t.strip()]
        return [(n, *parse_task(n)) for n in dict.fromkeys(names)]

    def validate(self) -> None:
        if not self.task_list():
            raise ValueError("--tasks is empty: give e.g. xcodah_ja,xcsqa_ja")
        if self.shots < 0 or self.seeds < 1 or self.batch_size < 1 or self.max_length < 0:
            raise ValueError("--shots must be >= 0, --seeds and --batch-size >= 1, "
                             "--max-length >= 0")


def parse_args(argv: list[str] | None = None) -> EvalConfig:
    return parse_config(EvalConfig, argv, "python -m trainer.evaluate",
                        "Accuracy of a causal LM on X-CSR multiple-choice tasks, with the "
                        "LEIA paper's protocol (summed log-likelihood of each choice).")
