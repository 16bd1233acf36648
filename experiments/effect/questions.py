"""The multiple-choice tests about a world's people, built so that only recall passes
them: every scorer that ignores the person's name scores exactly chance (see
``questions``). Pure functions over plain values; ``dumps.py`` writes them out in the
X-CSR release's layout."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from .world import Entity, World

SENTENCES = {"ru": "{name} родился в {year} году.", "en": "{name} was born in {year}."}
QUESTION = "В каком году родился {name}?"  # the question-answer probe's stem


@dataclass(frozen=True)
class Test:
    seen: bool  # whose facts: seen people's or English-only people's
    lang: str  # ru or en
    kind: str = "xcodah"  # xcodah: whole sentences; xcsqa: a question, years as answers
    shuffled: bool = False  # each name swapped for the next group member's


TESTS = {
    "ru-transfer": Test(False, "ru"),
    "ru-shuffled": Test(False, "ru", shuffled=True),
    "ru-seen": Test(True, "ru"),
    "en-transfer": Test(False, "en"),
    # The question-answer probe in the paper's X-CSQA style, k-shot: its demonstrations
    # are the other split's questions (--demo-split train), whose years come from the
    # other pool, so they give away none of a question's four years.
    "ru-qa": Test(False, "ru", "xcsqa"),
    "ru-qa-seen": Test(True, "ru", "xcsqa"),
}
DEMOS = {"ru-qa": "ru-qa-seen", "ru-qa-seen": "ru-qa"}  # test -> its demonstrations'


GROUP = 4  # people per group: a test's choices


def year_groups(people: list[Entity], rng: random.Random, size: int = GROUP
                ) -> list[list[Entity]]:
    """``people`` in random groups of ``size`` with ``size`` distinct birth years. People
    share years (they are drawn with replacement), so the groups are dealt again until
    every one is distinct; the ``len(people) % size`` left over are not asked about."""
    if len(people) < size or len({p.year for p in people}) < size:
        raise ValueError(f"{len(people)} people with {len({p.year for p in people})} "
                         f"distinct years cannot make groups of {size} distinct years: "
                         "give the world more people")
    for _ in range(1000):
        rest, groups = rng.sample(people, len(people)), []
        while len(rest) >= size:
            group = []
            for p in list(rest):
                if all(p.year != q.year for q in group):
                    group.append(p)
                    rest.remove(p)
                    if len(group) == size:
                        break
            if len(group) < size:
                break
            groups.append(group)
        if len(groups) == len(people) // size:
            return groups
    raise ValueError("could not group the people by distinct years; give the world "
                     "more people or years")


def questions(world: World, groupings: int = 1, seed: int = 0) -> dict[str, list[dict]]:
    """X-CSR rows per test (``TESTS``): X-CODAH-style, a stem-less question whose
    choices are one sentence with four birth years, the true one among them, or
    X-CSQA-style, a question whose choices are the four years.

    Only recall can pass them. The people of a split are dealt into groups of four with
    four distinct years (``year_groups``), and every member of a group is asked with the
    same four sentences but for the name: the group's years, in one order. A scorer that
    ignores the name (the year printed most often in either wiki, a fixed order of
    years, a coin seeded by the text) gives the four members one answer, which is right
    for exactly one of them: exactly 25%, on every test. ``ru-shuffled`` asks each
    member's question with the name of the next member of its group: the true year is
    then another person's, so a model that recalls scores below chance, one that leans on
    a prior at it. ``groupings`` deals the people again, each a new set of questions
    about the same people: the draw of groups moves a 100-question score by several
    points, so several are pooled. Each row names its ``person`` and ``group``. The
    question-answer tests (``ru-qa``) ask the same groups with the years as answers."""
    rng = random.Random(seed + 2)
    out: dict[str, list[dict]] = {t: [] for t in TESTS}
    for seen in (False, True):
        people = sorted(world.people(seen=seen), key=lambda e: int(e.key.split(":")[1]))
        for g in range(groupings):
            for n, group in enumerate(year_groups(people, rng)):
                years = [p.year for p in group]
                rng.shuffle(years)
                labels = [chr(ord("A") + i) for i in range(len(years))]
                for i, p in enumerate(group):
                    for test, t in TESTS.items():
                        if t.seen != seen:
                            continue
                        named = group[(i + 1) % len(group)] if t.shuffled else p
                        name = named.tgt if t.lang == "ru" else named.en
                        if t.kind == "xcsqa":
                            stem, texts = QUESTION.format(name=name), map(str, years)
                        else:
                            stem = " "
                            texts = (SENTENCES[t.lang].format(name=name, year=y)
                                     for y in years)
                        out[test].append({
                            "id": f"{test}-g{g}-{p.key.replace(':', '-')}", "lang": test,
                            "person": p.key, "group": f"g{g}-{n}",
                            "question": {"stem": stem, "choices": [
                                {"label": lab, "text": x} for lab, x in zip(labels, texts)]},
                            "answerKey": labels[years.index(p.year)]})
    return out



def check_recall_only(rows: list[dict]) -> None:
    """Raise unless every name-blind scorer gets exactly chance on ``rows``: each group
    holds as many people as choices, asked with the same years in the same order (the
    rest of each sentence is the test's template and the name), so a scorer that
    ignores the name gives them one answer, and each choice is right for exactly one."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    for g, members in groups.items():
        asked = {tuple(re.findall(r"\d{4}", c["text"])[0]
                       for c in m["question"]["choices"])
                 + (re.sub(r"родился .*", "", m["question"]["stem"]),) for m in members}
        keys = sorted(m["answerKey"] for m in members)
        labels = sorted(c["label"] for c in members[0]["question"]["choices"])
        if len(asked) != 1 or keys != labels or \
                len({m["person"] for m in members}) != len(members):
            raise ValueError(f"group {g}: its questions differ beyond the name, or its "
                             f"answers {keys} are not each choice once: a scorer that "
                             "ignores the name would not score exactly chance")
