"""X-CSR data and the paper's prompts: pure functions on inline rows and the fixture."""

import json

import pytest

from leia import xcsr

FIXTURE = "data/xcsr-sample"


def row(key="B", choices=None, stem="Where?", id="q1"):
    return {"id": id, "question": {"stem": stem, "choices": choices or [
        {"label": "A", "text": "here"}, {"label": "B", "text": "there"}]}, "answerKey": key}


def test_both_layouts_parse_the_same():
    release = xcsr.parse_example(row())
    hub = xcsr.parse_example({"id": "q1", "question": {"stem": "Where?", "choices": {
        "label": ["A", "B"], "text": ["here", "there"]}}, "answerKey": "B"})
    assert release == hub == xcsr.Example("q1", "Where?", ("here", "there"), ("A", "B"), 1)


@pytest.mark.parametrize("bad, message", [
    (row(key="E"), "answerKey 'E' is not among the choice labels ['A', 'B']"),
    (row(choices=[{"label": "A", "text": "only"}]), "1 choice(s)"),
    (row(choices=[{"label": "A", "text": "x"}, {"label": "B"}]), "needs 'label' and 'text'"),
    (row(choices=[{"label": "A", "text": "x"}, {"label": "B", "text": " "}]), "empty"),
    ({"id": "q", "answerKey": "A"}, "no 'question' object"),
    ([1, 2], "not a JSON object"),
])
def test_bad_rows_say_what_is_wrong(bad, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        xcsr.parse_example(bad)


def test_bad_lines_are_all_named_with_file_and_line(tmp_path):
    f = tmp_path / "dev.jsonl"
    f.write_text(json.dumps(row(id="a")) + "\n{not json\n\n"
                 + json.dumps(row(key="Z", id="b")) + "\n" + json.dumps(row(id="c")) + "\n")
    with pytest.raises(ValueError) as e:
        xcsr.read_jsonl(f)
    msg = str(e.value)
    assert "2 bad example(s)" in msg
    assert f"{f}:2: malformed JSON" in msg and f"{f}:4: answerKey 'Z'" in msg


def test_duplicate_ids_and_empty_files_are_errors(tmp_path):
    f = tmp_path / "dev.jsonl"
    f.write_text(json.dumps(row()) + "\n" + json.dumps(row()) + "\n")
    with pytest.raises(ValueError, match="not unique"):
        xcsr.read_jsonl(f)
    f.write_text("\n")
    with pytest.raises(ValueError, match="holds no examples"):
        xcsr.read_jsonl(f)


def test_fixture_loads_in_both_layouts(tmp_path):
    ja = xcsr.load_task(FIXTURE, "xcsqa", "ja")
    assert len(ja) == 6 and all(len(e.choices) == 5 for e in ja)
    # The same rows written as the Hugging Face dataset lays them out.
    hub = tmp_path / "X-CSQA-ja"
    hub.mkdir()
    rows = [json.loads(line) for line in open(f"{FIXTURE}/X-CSQA/ja/dev.jsonl")]
    for r in rows:
        cs = r["question"]["choices"]
        r["question"]["choices"] = {"label": [c["label"] for c in cs],
                                    "text": [c["text"] for c in cs]}
    (hub / "validation.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert xcsr.load_task(str(tmp_path), "xcsqa", "ja") == ja
    with pytest.raises(ValueError, match="no X-CODAH ja dev data"):
        xcsr.load_task(str(tmp_path), "xcodah", "ja")
    with pytest.raises(ValueError, match="is not a folder"):
        xcsr.load_task(str(tmp_path / "missing"), "xcodah", "ja")


def test_task_names():
    assert xcsr.parse_task("xcodah_zh") == ("xcodah", "zh")
    for bad in ("codah_ja", "xcsqa", "xcsqa_"):
        with pytest.raises(ValueError, match="xcodah_<lang> or xcsqa_<lang>"):
            xcsr.parse_task(bad)


def test_xcodah_is_each_sentence_after_a_lone_eos():
    ex = xcsr.load_task(FIXTURE, "xcodah", "es")
    p = xcsr.prompt("xcodah", ex, 0)
    assert p.context == "" and p.continuations[0] == "Empezó a llover. Ella abrió su paraguas."
    with pytest.raises(ValueError, match="0-shot"):
        xcsr.prompt("xcodah", ex, 0, shots=2)


def test_xcsqa_prompt_is_the_papers():
    ex = xcsr.load_task(FIXTURE, "xcsqa", "es")
    p = xcsr.prompt("xcsqa", ex, 5, shots=2, seed=3)
    demos = [next(e for e in ex if e.id == d) for d in p.demos]
    assert p.context == (
        f"Question: {demos[0].stem}\nAnswer: {demos[0].choices[demos[0].answer]}\n\n"
        f"Question: {demos[1].stem}\nAnswer: {demos[1].choices[demos[1].answer]}\n\n"
        "Question: ¿Qué animal dice miau?\nAnswer:")
    assert p.continuations == (" gato", " perro", " vaca", " pez", " pájaro")
    assert xcsr.prompt("xcsqa", ex, 5).context == "Question: ¿Qué animal dice miau?\nAnswer:"


def test_demonstrations_are_seeded_and_never_the_query():
    ex = xcsr.load_task(FIXTURE, "xcsqa", "ja")
    for q in range(len(ex)):
        for seed in range(5):
            d = xcsr.demo_ids(ex, q, 4, seed)
            assert len(set(d)) == 4 and q not in d
            assert d == xcsr.demo_ids(ex, q, 4, seed)  # reproducible
            # The draw depends on the query's id, not on where it sits in the list.
            moved = ex[q:] + ex[:q]
            assert [moved[i].id for i in xcsr.demo_ids(moved, 0, 4, seed)] == \
                [ex[i].id for i in d]
    assert len({tuple(xcsr.demo_ids(ex, 0, 4, s)) for s in range(5)}) > 1
    with pytest.raises(ValueError, match="lower --shots"):
        xcsr.demo_ids(ex, 0, 6, 0)


def test_demonstrations_from_another_split():
    """``pool`` (the evaluator's --demo-split): demonstrations come from it, seeded as
    from the split itself, and never repeat the query."""
    ex = xcsr.load_task(FIXTURE, "xcsqa", "ja")
    pool, queries = ex[:4], ex[4:]
    for q in range(len(queries)):
        p = xcsr.prompt("xcsqa", queries, q, shots=3, seed=1, pool=pool)
        assert len(p.demos) == 3 and set(p.demos) <= {e.id for e in pool}
        assert p.demos == xcsr.prompt("xcsqa", queries, q, shots=3, seed=1, pool=pool).demos
        first = next(e for e in pool if e.id == p.demos[0])
        assert p.context.startswith(f"Question: {first.stem}\nAnswer: "
                                    f"{first.choices[first.answer]}\n\n")
    # A pool that holds the query: it is never its own demonstration.
    assert ex[0].id not in xcsr.prompt("xcsqa", ex, 0, shots=3, seed=0, pool=ex[:4]).demos
    with pytest.raises(ValueError, match="lower --shots"):
        xcsr.prompt("xcsqa", queries, 0, shots=5, pool=pool)
