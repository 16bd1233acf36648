"""The effect experiment's world: the target wiki never states an English-only fact,
the tests carry nothing the augmentation inserts, and the names decline as written."""

import re

import pytest

from experiments.effect.world import (
    decline,
    english_pages,
    initial_form,
    make_world,
    news_pages,
    questions,
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
    tests = questions(world)
    assert set(tests) == {"ru-transfer", "ru-seen", "en-transfer"}
    assert len(tests["ru-transfer"]) == len(world.people(seen=False))
    for lang, rows in tests.items():
        for row in rows:
            texts = [c["text"] for c in row["question"]["choices"]]
            assert len(set(texts)) == 4 and row["answerKey"] in "ABCD"
            years = {int(YEAR.search(t).group()) for t in texts}
            assert years <= {p.year for p in world.people(seen=lang == "ru-seen")}
            if lang.startswith("ru"):
                assert not any(re.search("[A-Za-z]", t) for t in texts), texts
            assert not any(m in t for t in texts for m in DEFAULT_MARKERS)


def test_the_answer_is_the_true_year_and_sits_anywhere(world):
    people = {p.tgt: p for p in world.people()}
    keys = set()
    for row in questions(world)["ru-transfer"]:
        gold = next(c["text"] for c in row["question"]["choices"]
                    if c["label"] == row["answerKey"])
        name = gold.split(" родился")[0]
        assert str(people[name].year) in gold
        keys.add(row["answerKey"])
    assert keys == set("ABCD")


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
