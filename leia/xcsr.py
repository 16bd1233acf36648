"""X-CSR multiple-choice data and the paper's prompts, as plain Python values.

The evaluator (``trainer/evaluate.py``) scores what this module builds; the rules here
are the protocol of the LEIA paper:

- X-CODAH, 0-shot: each choice (a whole sentence) is scored by its summed log-likelihood
  after a lone EOS token (``Prompt.context`` is empty; the scorer puts the EOS).
- X-CSQA, k-shot (4 in the paper): ``Question: {stem}\\nAnswer:`` with the continuation
  `` {choice}``; k demonstrations, each ``Question: {stem}\\nAnswer: {answer}``, joined by
  a blank line, drawn with a seed from the same split, never the query itself.

Data come as the X-CSR release lays them out (``X-CODAH/<lang>/dev.jsonl``, a choice is
``{"label": "A", "text": ...}``) or as the Hugging Face ``xcsr`` dataset does (configs
``X-CODAH-<lang>``, split ``validation``, choices as ``{"label": [...], "text": [...]}``).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

KINDS = {"xcodah": "X-CODAH", "xcsqa": "X-CSQA"}
# Split names: the X-CSR release's file names, and the Hugging Face split each maps to.
SPLITS = {"dev": "validation", "test": "test", "train": "train"}
DEMO_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Example:
    id: str
    stem: str
    choices: tuple[str, ...]
    labels: tuple[str, ...]
    answer: int  # index into choices


@dataclass(frozen=True)
class Prompt:
    """One question as the model sees it. An empty context means 'a lone EOS token'."""
    context: str
    continuations: tuple[str, ...]
    demos: tuple[str, ...] = ()  # ids of the demonstrations, for the predictions file


def parse_task(name: str) -> tuple[str, str]:
    """``xcodah_ja`` -> ("xcodah", "ja")."""
    kind, _, lang = name.strip().partition("_")
    if kind not in KINDS or not lang:
        raise ValueError(f"unknown task {name!r}: tasks are xcodah_<lang> or xcsqa_<lang> "
                         f"(e.g. xcodah_ja,xcsqa_zh)")
    return kind, lang


def parse_example(obj) -> Example:
    """One X-CSR row, in either layout; a ValueError says what is wrong with it."""
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    q = obj.get("question")
    if not isinstance(q, dict):
        raise ValueError("no 'question' object")
    raw = q.get("choices")
    if isinstance(raw, dict):  # Hugging Face layout: columns
        labels, texts = list(raw.get("label") or []), list(raw.get("text") or [])
        if len(labels) != len(texts):
            raise ValueError("question.choices has different numbers of labels and texts")
    elif isinstance(raw, list):
        try:
            labels, texts = [c["label"] for c in raw], [c["text"] for c in raw]
        except (TypeError, KeyError):
            raise ValueError("each of question.choices needs 'label' and 'text'") from None
    else:
        raise ValueError("no question.choices")
    if len(texts) < 2:
        raise ValueError(f"{len(texts)} choice(s); a question needs at least 2")
    if not all(isinstance(t, str) and t.strip() for t in texts):
        raise ValueError("a choice text is empty or not a string")
    key = obj.get("answerKey")
    if key not in labels:
        raise ValueError(f"answerKey {key!r} is not among the choice labels {labels}")
    stem = q.get("stem") or ""
    if not isinstance(stem, str):
        raise ValueError("question.stem is not a string")
    return Example(id=str(obj.get("id", "")), stem=stem, choices=tuple(texts),
                   labels=tuple(str(x) for x in labels), answer=labels.index(key))


def parse_rows(rows, source: str, bad: list[tuple[int, str]] | None = None
               ) -> list[Example]:
    """Parse every ``(position, row)``; all bad rows (with the ``(position, message)``
    ones the caller found, such as undecodable lines) are reported together, in order,
    up to 10, so one run shows every line to fix. Accuracy over a silently smaller set
    would not be the paper's number, so bad rows are an error, not a skip."""
    out, bad = [], list(bad or [])
    for n, row in rows:
        try:
            out.append(parse_example(row))
        except ValueError as e:
            bad.append((n, str(e)))
    if bad:
        lines = [f"{source}:{n}: {msg}" for n, msg in sorted(bad)]
        more = f"\n  ... and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise ValueError(f"{len(bad)} bad example(s); fix or remove them:\n  "
                         + "\n  ".join(lines[:10]) + more)
    if not out:
        raise ValueError(f"{source} holds no examples")
    ids = [e.id for e in out]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{source}: example ids are not unique; demonstrations and "
                         f"predictions are keyed by id")
    return out


def read_jsonl(path: str | Path) -> list[Example]:
    rows, bad = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append((n, json.loads(line)))
            except json.JSONDecodeError as e:
                bad.append((n, f"malformed JSON: {e.msg}, column {e.colno}"))
    return parse_rows(rows, str(path), bad)


def local_file(data: str | Path, kind: str, lang: str, split: str) -> Path | None:
    """The task's file under ``data`` in either layout, or None."""
    root = Path(data)
    hf_split = SPLITS.get(split, split)
    for p in (root / KINDS[kind] / lang / f"{split}.jsonl",
              root / f"{KINDS[kind]}-{lang}" / f"{hf_split}.jsonl",
              root / f"{KINDS[kind]}-{lang}" / f"{split}.jsonl"):
        if p.is_file():
            return p
    return None


def load_task(data: str, kind: str, lang: str, split: str = "dev") -> list[Example]:
    """A task's examples from a local folder (either layout) or, when ``data`` is not a
    local folder, from the Hugging Face dataset of that name (``INK-USC/xcsr``)."""
    if Path(data).is_dir():
        f = local_file(data, kind, lang, split)
        if f is None:
            raise ValueError(
                f"no {KINDS[kind]} {lang} {split} data under {data}: expected "
                f"{KINDS[kind]}/{lang}/{split}.jsonl (X-CSR release) or "
                f"{KINDS[kind]}-{lang}/{SPLITS.get(split, split)}.jsonl (Hugging Face)")
        return read_jsonl(f)
    if Path(data).exists() or data.startswith((".", "/")):
        raise ValueError(f"--data {data} is not a folder: give the X-CSR folder or a "
                         f"Hugging Face dataset name such as INK-USC/xcsr")
    import datasets  # only for the hub path

    ds = datasets.load_dataset(data, f"{KINDS[kind]}-{lang}", split=SPLITS.get(split, split))
    return parse_rows(enumerate(ds, 1), f"{data}:{KINDS[kind]}-{lang}")


def demo_ids(examples: list[Example], query: int, shots: int, seed: int,
             pool: list[Example] | None = None) -> list[int]:
    """Indices into ``pool`` (default: ``examples`` itself) of ``shots`` demonstrations
    for ``examples[query]``: a seeded draw from the pool's examples other than the
    query. The draw depends only on (seed, the ids), so it does not change with the
    order of the file or of evaluation, the number of ranks, or the other tasks run."""
    if shots == 0:
        return []
    pool = examples if pool is None else pool
    qid = examples[query].id
    others = sorted((i for i in range(len(pool)) if pool[i].id != qid),
                    key=lambda i: pool[i].id)
    if shots > len(others):
        raise ValueError(f"{shots} shots need more than {shots} examples to draw "
                         f"demonstrations from; there are {len(others)}: lower --shots")
    h = hashlib.blake2b(f"{seed}\x00{qid}".encode(), digest_size=8)
    rng = random.Random(int.from_bytes(h.digest(), "little"))
    return rng.sample(others, shots)


def qa(stem: str) -> str:
    return f"Question: {stem.strip()}\nAnswer:"


def prompt(kind: str, examples: list[Example], query: int, shots: int = 0,
           seed: int = 0, pool: list[Example] | None = None) -> Prompt:
    """``examples[query]`` as the model sees it; X-CSQA's demonstrations come from
    ``pool`` (another split, see ``demo_ids``) or, by default, the same examples."""
    ex = examples[query]
    if kind == "xcodah":
        if shots:
            raise ValueError("X-CODAH is evaluated 0-shot (each choice after a lone EOS); "
                             "--shots applies to X-CSQA only")
        # X-CSR's X-CODAH stems are blank: each choice is the whole sentence. A non-blank
        # stem (other CODAH-style data) becomes the context.
        if ex.stem.strip():
            return Prompt(ex.stem.strip(), tuple(" " + c.strip() for c in ex.choices))
        return Prompt("", tuple(c.strip() for c in ex.choices))
    pool = examples if pool is None else pool
    picked = demo_ids(examples, query, shots, seed, pool)
    demos = [f"{qa(pool[i].stem)} {pool[i].choices[pool[i].answer].strip()}"
             for i in picked]
    context = DEMO_SEPARATOR.join(demos + [qa(ex.stem)])
    return Prompt(context, tuple(" " + c.strip() for c in ex.choices),
                  tuple(pool[i].id for i in picked))
