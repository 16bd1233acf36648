"""The README's main command end to end (a reduced run), stage skipping, and the
augmentation-stats notebook executed headless on its output."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from leia import corpus_stats as cs

REPO = Path(__file__).resolve().parents[2]
ARGS = ["--wikis", "jawiki,viwiki", "--steps", "4", "--global-batch", "4",
        "--tasks", "xcodah_ja,xcsqa_ja", "--seeds", "2"]


def pipeline(out, *args):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "pipeline.py", "--out", str(out), *ARGS, *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def pipeline_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("pipeline")
    r = pipeline(out)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out, r.stdout


def test_every_stage_writes_its_output(pipeline_out):
    out, log = pipeline_out
    for stage in ("corpus", "tokenizer", "model", "shards (leia)", "shards (plain)",
                  "train (leia)", "train (plain)", "evaluate (base)", "evaluate (leia)",
                  "evaluate (plain)", "report"):
        assert f"== {stage}: done in" in log, stage
    assert sorted(cs.latest_stats(out / "corpus").index) == ["jawiki", "viwiki"]
    leia = json.loads((out / "shards" / "leia" / "manifest.json").read_text())
    plain = json.loads((out / "shards" / "plain" / "manifest.json").read_text())
    assert leia["totals"]["placed"] > 0 and plain["totals"]["placed"] == 0
    assert leia["totals"]["tokens"] > plain["totals"]["tokens"]
    for run in ("leia", "plain"):
        steps = [json.loads(x)["step"]
                 for x in (out / "runs" / run / "metrics.jsonl").read_text().splitlines()]
        assert steps[-1] == 4 and (out / "runs" / run / "hf" / "model.safetensors").exists()
    for name in ("base", "leia", "plain"):
        m = json.loads((out / "eval" / name / "metrics.json").read_text())
        assert set(m) == {"xcodah_ja", "xcsqa_ja"}
    md = (out / "report" / "report.md").read_text()
    assert "| base |" in md and "| plain |" in md and "| leia |" in md


def test_complete_stages_are_skipped_and_failures_say_so(pipeline_out, tmp_path):
    out, _ = pipeline_out
    r = pipeline(out, "--stages", "train,evaluate")
    assert r.returncode == 0
    assert "== train (leia): already complete" in r.stdout
    assert "== evaluate (plain): already complete" in r.stdout
    r = pipeline(out, "--stages", "evaluate", "--force", "--eval-data", str(tmp_path))
    assert r.returncode != 0
    assert "no X-CODAH ja dev data" in r.stderr and "stage evaluate (base) failed" in r.stderr
    r = pipeline(out, "--stages", "encode")
    assert r.returncode == 2 and "unknown stage(s) ['encode']" in r.stderr


def test_corpus_stats_agree_with_the_job(pipeline_out):
    out, _ = pipeline_out
    corpus = out / "corpus"
    summary = cs.per_wiki(corpus, out / "shards" / "leia", out / "shards" / "plain")
    ins = cs.insertions(corpus)
    # The job's own counts (stats table) equal what the augmented table holds.
    assert summary["insertions"].to_dict() == ins.groupby("wiki").size().to_dict()
    per_article = cs.insertions_per_article(corpus)
    assert per_article.groupby("wiki")["insertions"].sum().to_dict() == \
        summary["insertions"].to_dict()
    leia = json.loads((out / "shards" / "leia" / "manifest.json").read_text())
    assert summary["tokens added"].sum() == leia["totals"]["tokens"] - json.loads(
        (out / "shards" / "plain" / "manifest.json").read_text())["totals"]["tokens"]
    top = cs.top_names(ins, 3)
    vi = top[top["wiki"] == "viwiki"]
    assert list(vi["count"]) == sorted(vi["count"], reverse=True)
    assert vi["count"].iloc[0] == \
        (ins[ins["wiki"] == "viwiki"]["pivot_title"] == vi["pivot_title"].iloc[0]).sum()
    ex = cs.examples(corpus, "jawiki", k=1)[0]
    assert "<translate>" in ex["passage"]
    assert '<mark style="background:#ffe08a">&lt;translate&gt;' in cs.highlight(ex["passage"])
    with pytest.raises(ValueError, match="no Delta table"):
        cs.read_table(out / "nothing", "stats")


def test_notebook_runs_on_the_pipeline_output(pipeline_out):
    import nbformat
    from nbclient import NotebookClient

    out, _ = pipeline_out
    nb = nbformat.read(REPO / "notebooks" / "augmentation_stats.ipynb", as_version=4)
    env = {"LEIA_CORPUS": str(out / "corpus"), "LEIA_SHARDS": str(out / "shards" / "leia"),
           "LEIA_PLAIN_SHARDS": str(out / "shards" / "plain")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits the environment
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "viwiki" in text and "tokens added" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 3
    assert any("<mark" in o.get("data", {}).get("text/html", "") for o in outputs)
