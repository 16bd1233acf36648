"""The evaluator on a tiny random Llama: scores against a plain forward pass, outputs,
torchrun data parallelism, bad input, and the cross-check with lm-evaluation-harness."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from leia import xcsr
from trainer.eval_config import parse_args
from trainer.evaluate import evaluate, score_requests

REPO = Path(__file__).resolve().parents[2]
FIXTURE = str(REPO / "data" / "xcsr-sample")
TASKS = "xcodah_ja,xcsqa_ja,xcodah_sw,xcsqa_zh"


def run_eval(model, out, *extra):
    return evaluate(parse_args(["--model", model, "--tasks", TASKS, "--data", FIXTURE,
                                "--out", str(out), "--seeds", "3", *extra]))


def reference(model, ctx, cont, max_length):
    """Summed log-likelihood by one unpadded forward pass, position by position."""
    seq = list(ctx + cont)[-(max_length + 1):]
    with torch.no_grad():
        lp = torch.log_softmax(model(torch.tensor([seq[:-1]])).logits[0].float(), -1)
    n = len(cont)
    return sum(lp[len(seq) - 1 - n + j, seq[len(seq) - n + j]].item() for j in range(n))


def test_batched_scores_equal_plain_forward_passes(tiny_model):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    g = torch.Generator().manual_seed(0)
    reqs = [(tuple(torch.randint(3, 2000, (int(a),), generator=g).tolist()),
             tuple(torch.randint(3, 2000, (int(b),), generator=g).tolist()))
            for a, b in zip(torch.randint(1, 50, (25,), generator=g),
                            torch.randint(1, 8, (25,), generator=g))]
    scores, truncated = score_requests(model, reqs, 6, 40, torch.device("cpu"))
    for (ctx, cont), s in zip(reqs, scores):
        assert s == pytest.approx(reference(model, ctx, cont, 40), abs=1e-4)
    assert truncated == [len(c) + len(k) > 41 for c, k in reqs] and any(truncated)
    with pytest.raises(ValueError, match="longer than the model's 5"):
        score_requests(model, [((1,), tuple(range(3, 9)))], 1, 5, torch.device("cpu"))


def test_metrics_and_predictions(tiny_model, tmp_path):
    metrics = run_eval(tiny_model, tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    assert list(metrics) == TASKS.split(",")
    for name, m in metrics.items():
        kind, lang = xcsr.parse_task(name)
        examples = xcsr.load_task(FIXTURE, kind, lang)
        preds = [json.loads(x) for x in open(tmp_path / "predictions" / f"{name}.jsonl")]
        assert len(preds) == 3 * len(examples) == 3 * m["examples"]
        for seed in range(3):
            rows = [p for p in preds if p["seed"] == seed]
            assert m["accuracy_per_seed"][seed] == sum(p["correct"] for p in rows) / len(rows)
        for p in preds:  # the prediction is the best-scored choice (the first on a tie)
            best = p["scores"].index(max(p["scores"]))
            ex = next(e for e in examples if e.id == p["id"])
            assert p["pred"] == ex.labels[best] and p["gold"] == ex.labels[ex.answer]
            assert len(p["demos"]) == (4 if kind == "xcsqa" else 0)
        if kind == "xcodah":  # 0-shot: every seed scores the same
            assert len(set(m["accuracy_per_seed"])) == 1 and m["ci95"] == 0
        assert m["accuracy"] == pytest.approx(sum(m["accuracy_per_seed"]) / 3)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["config"]["model"] == tiny_model and config["choices_scored"] > 0


def test_xcsqa_choice_scores_are_the_models(tiny_model, tmp_path):
    """One prediction recomputed by hand from the paper's prompt."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run_eval(tiny_model, tmp_path)
    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    examples = xcsr.load_task(FIXTURE, "xcsqa", "zh")
    pred = [json.loads(x) for x in open(tmp_path / "predictions" / "xcsqa_zh.jsonl")][8]
    q = [e.id for e in examples].index(pred["id"])
    p = xcsr.prompt("xcsqa", examples, q, 4, pred["seed"])
    assert list(p.demos) == pred["demos"]
    ctx = tok(p.context).input_ids  # BOS first, as the tokenizer prepares text
    assert ctx[0] == tok.bos_token_id
    for cont, s in zip(p.continuations, pred["scores"]):
        ids = tok(cont, add_special_tokens=False).input_ids
        assert s == pytest.approx(reference(model, tuple(ctx), tuple(ids), 512), abs=1e-4)


def test_long_contexts_are_truncated_from_the_left_and_counted(tiny_model, tmp_path):
    m = run_eval(tiny_model, tmp_path, "--max-length", "120")
    assert m["xcsqa_zh"]["truncated"] > 0 and m["xcodah_ja"]["truncated"] == 0


@pytest.mark.slow
def test_two_ranks_equal_one(tiny_model, tmp_path):
    one = run_eval(tiny_model, tmp_path / "one")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
         "--master_port", "29533", "-m", "trainer.evaluate", "--model", tiny_model,
         "--tasks", TASKS, "--data", FIXTURE, "--out", str(tmp_path / "two"), "--seeds", "3",
         "--batch-size", "4"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    two = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert {k: v["accuracy_per_seed"] for k, v in two.items()} == \
        {k: v["accuracy_per_seed"] for k, v in one.items()}
    for name in one:
        a = [json.loads(x) for x in open(tmp_path / "one" / "predictions" / f"{name}.jsonl")]
        b = [json.loads(x) for x in open(tmp_path / "two" / "predictions" / f"{name}.jsonl")]
        assert [p["pred"] for p in a] == [p["pred"] for p in b]
        for p, q in zip(a, b):
            assert p["scores"] == pytest.approx(q["scores"], rel=1e-5)


def test_bad_input(tiny_model, tmp_path):
    # A tokenizer without EOS cannot run X-CODAH's protocol; X-CSQA does not need one.
    no_eos = tmp_path / "no_eos"
    shutil.copytree(tiny_model, no_eos)
    cfg_file = no_eos / "tokenizer_config.json"
    cfg = json.loads(cfg_file.read_text())
    cfg["eos_token"] = None
    cfg_file.write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="no EOS token"):
        evaluate(parse_args(["--model", str(no_eos), "--tasks", "xcodah_ja",
                             "--data", FIXTURE, "--out", str(tmp_path / "a")]))
    evaluate(parse_args(["--model", str(no_eos), "--tasks", "xcsqa_ja", "--data", FIXTURE,
                         "--out", str(tmp_path / "b"), "--seeds", "1"]))
    # Bad data fail before the model is loaded, with every bad line named.
    bad = tmp_path / "data" / "X-CSQA" / "ja"
    bad.mkdir(parents=True)
    lines = open(f"{FIXTURE}/X-CSQA/ja/dev.jsonl").read().splitlines()
    lines[1] = lines[1].replace('"answerKey": "B"', '"answerKey": "Q"')
    lines[3] = lines[3][:40]
    (bad / "dev.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"2 bad example\(s\)[\s\S]*dev.jsonl:2: answerKey "
                                         r"'Q'[\s\S]*dev.jsonl:4: malformed JSON"):
        evaluate(parse_args(["--model", "no/such-model", "--tasks", "xcsqa_ja", "--data",
                             str(tmp_path / "data"), "--out", str(tmp_path / "c")]))
    with pytest.raises(ValueError, match="could not be loaded"):
        evaluate(parse_args(["--model", str(tmp_path / "nothing"), "--tasks", "xcsqa_ja",
                             "--data", FIXTURE, "--out", str(tmp_path / "d")]))
    assert not (tmp_path / "c" / "metrics.json").exists()


def test_cli_usage_errors(capsys):
    from trainer.evaluate import main

    for args in (["--tasks", "codah_ja"], ["--tasks", "xcodah_ja", "--seeds", "0"]):
        with pytest.raises(SystemExit) as raised:
            main(["--model", "m", *args])
        assert raised.value.code == 2 and "error:" in capsys.readouterr().err


@pytest.mark.slow
def test_accuracy_equals_lm_evaluation_harness(tiny_model, tmp_path):
    """The same model and questions through lm-eval's multiple-choice task (summed
    log-likelihood): X-CODAH 0-shot from the fixture file as it is, X-CSQA 4-shot with
    our prompts (lm-eval draws demonstrations its own way, so they are given to it)."""
    pytest.importorskip("lm_eval")
    from bench import lm_eval_peer

    ours = run_eval(tiny_model, tmp_path / "ours")
    theirs = lm_eval_peer.evaluate(tiny_model, FIXTURE, ["xcodah_ja", "xcsqa_zh"],
                                   tmp_path / "tasks", batch_size=8)
    for task, ours_name, seed_acc in (
            ("leia_xcodah_ja", "xcodah_ja", ours["xcodah_ja"]["accuracy"]),
            ("leia_xcsqa_zh", "xcsqa_zh", ours["xcsqa_zh"]["accuracy_per_seed"][0])):
        assert theirs["results"][task]["acc,none"] == pytest.approx(seed_acc)
        preds = {json.loads(x)["id"]: json.loads(x)["scores"]
                 for x in open(tmp_path / "ours" / "predictions" / f"{ours_name}.jsonl")
                 if json.loads(x)["seed"] == 0}
        for s in theirs["samples"][task]:
            assert [r[0] for r in s["filtered_resps"]] == \
                pytest.approx(preds[s["doc"]["id"]], abs=1e-3)
