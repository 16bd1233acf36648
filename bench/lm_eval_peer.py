"""lm-evaluation-harness as the evaluator's peer: X-CSR tasks written as lm-eval
multiple-choice tasks (summed log-likelihood of each choice), for the cross-check test
(tests/distributed/test_evaluate.py) and the benchmark (bench/eval_bench.py).

X-CODAH goes to lm-eval as the file is (its blank stem gives an empty context, and the
model's EOS is the prefix token); X-CSQA's k-shot prompt is built by our ``leia.xcsr``
for one seed and handed to lm-eval as the document's context, since lm-eval draws
demonstrations its own way.
"""

from __future__ import annotations

import json
from pathlib import Path

from leia import xcsr

TASK_YAML = """task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    validation: {file}
validation_split: validation
output_type: multiple_choice
doc_to_text: "{text}"
doc_to_choice: "{{{{question.choices | map(attribute='text') | map('trim') | list}}}}"
doc_to_target: "{{{{(question.choices | map(attribute='label') | list).index(answerKey)}}}}"
target_delimiter: "{delimiter}"
metric_list:
  - metric: acc
"""


def write_tasks(data: str | Path, tasks: list[str], out: str | Path, shots: int = 4,
                seed: int = 0) -> dict[str, str]:
    """lm-eval task files under ``out`` for our task names (``xcodah_ja``...):
    {our name: lm-eval task name}."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = {}
    for task in tasks:
        kind, lang = xcsr.parse_task(task)
        src = xcsr.local_file(data, kind, lang, "dev")
        name = f"leia_{task}"
        if kind == "xcodah":
            text, delimiter, file = "", "", src
        else:
            examples = xcsr.load_task(str(data), kind, lang)
            file = out / f"{task}.jsonl"
            with open(file, "w") as f:
                for q, line in enumerate(open(src, encoding="utf-8")):
                    doc = json.loads(line)
                    doc["context"] = xcsr.prompt(kind, examples, q, shots, seed).context
                    f.write(json.dumps(doc, ensure_ascii=False) + "\n")
            text, delimiter = "{{context}}", " "
        (out / f"{name}.yaml").write_text(TASK_YAML.format(
            name=name, file=file, text=text, delimiter=delimiter))
        names[task] = name
    return names


def evaluate(model: str, data: str | Path, tasks: list[str], work: str | Path,
             batch_size: int = 16, shots: int = 4, seed: int = 0) -> dict:
    """lm-eval's ``simple_evaluate`` on the CPU; its results dict (with samples)."""
    import os

    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    from transformers import AutoTokenizer

    names = write_tasks(data, tasks, work, shots, seed)
    eos = AutoTokenizer.from_pretrained(model).eos_token_id
    lm = HFLM(pretrained=model, prefix_token_id=eos, batch_size=batch_size, device="cpu")
    res = simple_evaluate(model=lm, tasks=list(names.values()),
                          task_manager=TaskManager(include_path=str(work)),
                          log_samples=True)
    res["task_names"] = names
    return res
