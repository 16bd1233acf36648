import json

import pytest

from leia.params import DEFAULT_MARKERS, STRATEGIES, AugmentParams, NameFilter


def test_parameters_survive_their_json_record():
    p = AugmentParams(pivot="fr", strategy="replace", prob=0.25, seed=7,
                      markers=("[[en:", "]]"), alignment="both",
                      name_filter=NameFilter(skip_lists=False))
    record = json.loads(json.dumps(p.to_json()))  # as the Delta commit metadata holds it
    assert AugmentParams.from_json({**record, "run_id": "x", "wikis": ["jawiki"]}) == p


def test_the_default_record_is_the_papers_recipe():
    d = AugmentParams().to_json()
    assert (d["strategy"], d["prob"], d["seed"], d["pivot"]) == ("right", 0.5, 42, "en")
    assert d["markers"] == list(DEFAULT_MARKERS) == ["<translate>", "</translate>"]


def test_a_record_without_parameters_is_a_clear_error():
    with pytest.raises(ValueError, match="spark_jobs/augment.py"):
        AugmentParams.from_json({"run_id": "x"})


@pytest.mark.parametrize("bad, match", [
    ({"strategy": "middle"}, "right, left, replace"),
    ({"prob": 1.5}, "between 0 and 1"),
    ({"markers": ("<t>", "")}, "non-empty"),
])
def test_bad_parameters_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        AugmentParams(**bad)


def test_the_strategy_table():
    assert list(STRATEGIES) == ["right", "left", "replace"]
    assert [s.before_anchor for s in STRATEGIES.values()] == [False, True, True]
    assert [s.keeps_anchor for s in STRATEGIES.values()] == [True, True, False]
