"""The effect experiment's world: the target wiki never states an English-only fact,
the tests carry nothing the augmentation inserts and only recall passes them, and the
names decline as written."""

import copy
import random
import re

import pytest

from experiments.effect.questions import (
    DEMOS,
    TESTS,
    check_recall_only,
    questions,
    year_groups,
)
from experiments.effect.world import (
    decline,
    english_pages,
    initial_form,
    make_world,
    news_pages,
    target_pages,
    transliterate,
)
from leia.params import DEFAULT_MARKERS

YEAR = re.compile(r"\b1[789]\d\d\b")


@pytest.fixture(scope="module")
def world():
    return make_world(people=60, cities=5, companies=5, seed=3)


def test_target_wiki_states_only_seen_facts(world):
    """Every year in a target article belongs to its subject (a city, a company, a seen
    person) or to a seen person the article links: none is an English-only person's,
    and an English-only person's own page states no year."""
    by_title = {e.tgt: e for e in world.entities.values()}
    people = world.people()
    for title, text in target_pages(world) + news_pages(world):
        linked = {p.year for p in people if p.seen and (
            f"[[{p.tgt}" in text or f"[[{initial_form(p.tgt)}" in text)}
        if re.fullmatch(r"\d{4} год", title):  # a year's births: only seen people
            assert not any(f"[[{p.tgt}]]" in text for p in world.people(seen=False))
            own = {int(title[:4])}
        else:
            subject = by_title.get(title) or next(
                e for e in world.entities.values() if title.startswith(e.tgt))
            own = set() if subject.kind == "person" and not subject.seen else {subject.year}
        years = {int(y) for y in YEAR.findall(text)}
        assert years <= own | linked, (title, years - own - linked)
    stubs = {p.tgt for p in world.people(seen=False)}
    assert all(not YEAR.search(t) for title, t in target_pages(world) if title in stubs)
    # Nor does any year the target text prints belong to the English-only pool.
    printed = {int(y) for _, t in target_pages(world) + news_pages(world)
               for y in YEAR.findall(t)}
    assert printed and not printed & {p.year for p in world.people(seen=False)}


def test_english_wiki_states_every_fact_in_several_phrasings(world):
    text = "\n".join(t for _, t in english_pages(world))
    for p in world.people():
        assert text.count(str(p.year)) >= 3  # own article twice, birthplace, employer
        assert f"[[{p.en}]]" in text


def test_questions_name_no_english_and_no_marker(world):
    tests = questions(world, groupings=2)
    assert set(tests) == set(TESTS) >= {"ru-transfer", "ru-shuffled", "ru-seen",
                                        "en-transfer", "ru-qa", "ru-qa-seen"}
    # Every person of the split, once per grouping (60 people: 30 and 30, 7 groups each).
    assert len(tests["ru-transfer"]) == 2 * 4 * (len(world.people(seen=False)) // 4)
    for lang, rows in tests.items():
        for row in rows:
            texts = [c["text"] for c in row["question"]["choices"]]
            assert len(set(texts)) == 4 and row["answerKey"] in "ABCD"
            years = {int(YEAR.search(t).group()) for t in texts}
            assert years <= {p.year for p in world.people(seen=TESTS[lang].seen)}
            if lang.startswith("ru"):
                assert not any(re.search("[A-Za-z]", t) for t in texts), texts
                assert not re.search("[A-Za-z]", row["question"]["stem"])
            assert not any(m in t for t in texts for m in DEFAULT_MARKERS)


def test_the_answer_is_the_true_year_and_sits_anywhere(world):
    people = {p.tgt: p for p in world.people()}
    keys = set()
    for row in questions(world)["ru-transfer"]:
        gold = next(c["text"] for c in row["question"]["choices"]
                    if c["label"] == row["answerKey"])
        name = gold.split(" родился")[0]
        assert str(people[name].year) in gold and people[name].key == row["person"]
        keys.add(row["answerKey"])
    assert keys == set("ABCD")


def _years(row) -> list[int]:
    """What a scorer that ignores the name sees of a question: its years, in order."""
    return [int(YEAR.search(c["text"]).group()) for c in row["question"]["choices"]]


def _accuracy(rows, pick) -> float:
    """``pick(years) -> index``: a scorer that never reads the name."""
    labels = "ABCD"
    return sum(labels[pick(_years(r))] == r["answerKey"] for r in rows) / len(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_name_blind_scorer_scores_exactly_chance(seed):
    """The shortcut a prior offers is closed: the year each wiki prints most often, a
    fixed order of years or positions, and a coin seeded by what the scorer sees all get
    exactly 25% on every test, on several worlds; recall gets 100% (0% on the shuffled
    test), so the tests can tell the two apart."""
    world = make_world(people=120, cities=6, companies=6, seed=seed)
    tests = questions(world, groupings=3, seed=seed)
    counts = {}
    for wiki, pages in {"en": english_pages(world, seed),
                        "ru": target_pages(world, seed) + news_pages(world)}.items():
        text = " ".join(t for _, t in pages)
        counts[wiki] = {int(y): text.count(y) for y in set(YEAR.findall(text))}
    blind = {
        "most printed in English": lambda ys: max(
            range(4), key=lambda i: (counts["en"].get(ys[i], 0), -ys[i])),
        "least printed in English": lambda ys: min(
            range(4), key=lambda i: (counts["en"].get(ys[i], 0), ys[i])),
        "most printed in the target wiki": lambda ys: max(
            range(4), key=lambda i: (counts["ru"].get(ys[i], 0), -ys[i])),
        "earliest year": lambda ys: ys.index(min(ys)),
        "latest year": lambda ys: ys.index(max(ys)),
        "first choice": lambda ys: 0,
        "a coin seeded by the years": lambda ys: hash(tuple(ys)) % 4,
    }
    for test, rows in tests.items():
        for name, pick in blind.items():
            assert _accuracy(rows, pick) == 0.25, (test, name)
    # The question-answer probe's demonstrations (the other split) show none of its years.
    for test, demos in DEMOS.items():
        shown = {y for r in tests[demos] for y in _years(r)}
        assert not shown & {y for r in tests[test] for y in _years(r)}, test
    by_name = {p.tgt: p.year for p in world.people()} | {
        p.en: p.year for p in world.people()}

    def recall(row) -> str:
        stem = row["question"]["stem"].strip()
        for c in row["question"]["choices"]:
            name = stem.removeprefix("В каком году родился ").removesuffix("?") or \
                re.split(r" (?:родился|was born)", c["text"])[0]
            if str(by_name[name]) in c["text"]:
                return c["label"]

    for test, want in {"ru-transfer": 1, "ru-seen": 1, "en-transfer": 1,
                       "ru-shuffled": 0, "ru-qa": 1, "ru-qa-seen": 1}.items():
        rows = tests[test]
        assert sum(recall(r) == r["answerKey"] for r in rows) / len(rows) == want, test


def test_a_group_is_four_people_with_four_years_asked_alike(world):
    """Why every name-blind scorer gets exactly chance: in a group, the four questions
    are one question but for the name, and each of the four answers is right once."""
    for rows in questions(world, groupings=2).values():
        check_recall_only(rows)
        assert all(len([r for r in rows if r["group"] == g]) == 4
                   for g in {r["group"] for r in rows})
        # A question asked with its years in another order breaks it.
        bad = copy.deepcopy(rows)
        choices = bad[0]["question"]["choices"]
        choices[0]["text"], choices[1]["text"] = choices[1]["text"], choices[0]["text"]
        with pytest.raises(ValueError, match="exactly chance"):
            check_recall_only(bad)


def test_year_groups_say_when_they_cannot_be_made():
    world = make_world(people=8, cities=1, companies=1, seed=0)
    with pytest.raises(ValueError, match="more people"):
        year_groups(world.people()[:3], random.Random(0))


def test_names_are_transliterated_or_independent():
    assert transliterate("Karo Menita") == "Каро Менита"
    assert transliterate("Fukir Press") == "Фукир Пресс"
    w = make_world(people=20, cities=2, companies=2, names="independent", seed=1)
    assert all(e.tgt != transliterate(e.en) for e in w.people())
    with pytest.raises(ValueError, match="names"):
        make_world(names="random")


def test_declension():
    assert decline("Каро Менита", "ins") == "Каро Менитой"
    assert decline("Берин Тосак", "gen") == "Берин Тосака"
    assert decline("Лодоре", "gen") == "Лодоре"  # a vowel other than -a: indeclinable
    assert initial_form("Каро Менита") == "К. Менита"
