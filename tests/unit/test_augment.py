import pytest

from leia.augment import Insertion, augmented_text, chosen, plan
from leia.params import AugmentParams, NameFilter
from leia.records import augment_article


def test_the_papers_example():
    text = "東京都新宿区にある"
    links = [(3, 6, "Shinjuku")]
    assert augmented_text(text, plan("jawiki", 1, links, "right", 1.0)) == \
        "東京都新宿区<translate>Shinjuku</translate>にある"
    assert augmented_text(text, plan("jawiki", 1, links, "left", 1.0)) == \
        "東京都<translate>Shinjuku</translate>新宿区にある"
    assert augmented_text(text, plan("jawiki", 1, links, "replace", 1.0), "replace") == \
        "東京都<translate>Shinjuku</translate>にある"


def test_unaligned_links_keep_their_ordinal():
    links = [(0, 1, None), (2, 3, "B")]
    (ins,) = plan("w", 1, links, "right", 1.0)
    assert (ins.offset, ins.name) == (3, "B")
    # the decision for link 1 is the hash of ordinal 1, whatever link 0 is
    assert chosen(42, "w", 1, 1, 0.5) == bool(plan("w", 1, links, "right", 0.5))


def test_decisions_are_deterministic_and_near_p():
    draws = [chosen(7, "jawiki", 12, i, 0.3) for i in range(20000)]
    assert draws == [chosen(7, "jawiki", 12, i, 0.3) for i in range(20000)]
    assert 0.28 < sum(draws) / len(draws) < 0.32
    assert draws != [chosen(8, "jawiki", 12, i, 0.3) for i in range(20000)]
    assert not any(chosen(7, "x", 1, i, 0.0) for i in range(100))
    assert all(chosen(7, "x", 1, i, 1.0) for i in range(100))


def test_paper_filters_and_switches():
    f = NameFilter()
    assert f.apply("Mercury (planet)") == "Mercury"
    assert f.apply("List of sovereign states") is None
    assert f.apply("Category:Cities") is None and f.apply("Wikipedia:About") is None
    assert f.apply("Star Wars: A New Hope") == "Star Wars: A New Hope"
    assert f.apply(None) is None
    off = NameFilter(skip_namespaced=False, skip_lists=False, strip_parentheses=False)
    assert off.apply("Mercury (planet)") == "Mercury (planet)"
    assert off.apply("List of X") == "List of X"
    assert off.apply("Category:Cities") == "Category:Cities"


def test_unknown_strategy_is_a_clear_error():
    with pytest.raises(ValueError, match="right, left, replace"):
        plan("w", 1, [], "middle")


def test_literal_markers_in_the_text_stay_distinguishable():
    text = "a <translate>b</translate> [c]"
    full, ins = augment_article("w", 1, [(28, 29, "C")], {0: (5, "Cee", "langlinks")},
                                AugmentParams(prob=1.0))
    assert ins == [(29, "Cee", 28, 29)]
    rendered = augmented_text(text, [Insertion(*i) for i in ins])
    assert rendered == "a <translate>b</translate> [c<translate>Cee</translate>]"
    # the offsets say which markers are real: the literal ones are at 2 and 14
    assert rendered.count("<translate>") == 2 and len(ins) == 1
    assert full == [(28, 29, "C", 5, "Cee", "langlinks")]
