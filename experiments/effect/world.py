"""A synthetic world of people, cities and companies, and what its two Wikipedias say.

Pure functions over plain values: ``make_world`` draws the entities and their facts,
``english_pages`` / ``target_pages`` / ``news_pages`` write the articles as wikitext;
``questions.py`` asks about them, ``dumps.py`` writes them out as Wikimedia dump
files. The design, and why each choice was made, is in docs/effect.md.

The target language is Russian-like: Cyrillic script, foreign names transcribed letter
by letter (``Karo Menita`` -> ``Каро Менита``, as Russian writes foreign names, or
drawn independently with ``names="independent"``), names declined by case, years
written in digits as in English. Every person is tested on one fact, the birth year.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

LATIN_TO_CYRILLIC = {
    "b": "б", "d": "д", "f": "ф", "g": "г", "k": "к", "l": "л", "m": "м", "n": "н",
    "p": "п", "r": "р", "s": "с", "t": "т", "v": "в", "z": "з",
    "a": "а", "e": "е", "i": "и", "o": "о", "u": "у"}
CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
YEARS = (1750, 1999)  # birth and founding years are drawn from this range
OCCUPATIONS = {"painter": "художник", "engineer": "инженер", "writer": "писатель",
               "physician": "врач", "composer": "композитор", "chemist": "химик",
               "architect": "архитектор", "astronomer": "астроном"}
NAME_MODES = ("transliterated", "independent")


@dataclass(frozen=True)
class Entity:
    key: str  # "person:12"
    kind: str  # person, city, company
    en: str  # English title
    tgt: str  # target-language title (nominative)
    year: int  # birth year (people) or founding year
    occupation: str = ""  # English occupation (people)
    city: str = ""  # key of the birthplace (people) or seat (companies)
    company: str = ""  # key of the employer (people)
    seen: bool = True  # does the target wiki state this entity's facts?


@dataclass
class World:
    entities: dict[str, Entity]
    friends: dict[str, list[str]] = field(default_factory=dict)  # seen person -> mentioned

    def of_kind(self, kind: str) -> list[Entity]:
        return [e for e in self.entities.values() if e.kind == kind]

    def people(self, seen: bool | None = None) -> list[Entity]:
        return [e for e in self.of_kind("person") if seen is None or e.seen == seen]

    def people_of(self, place: Entity) -> list[Entity]:
        """The people born in a city, or employed by a company."""
        attr = "city" if place.kind == "city" else "company"
        return [p for p in self.people() if getattr(p, attr) == place.key]


BRAND_WORDS = {"Works": "Уоркс", "Mills": "Миллс", "Press": "Пресс"}


def transliterate(latin: str) -> str:
    head, _, last = latin.rpartition(" ")
    if last in BRAND_WORDS:
        return f"{transliterate(head)} {BRAND_WORDS[last]}"
    return "".join(LATIN_TO_CYRILLIC.get(c.lower(), c).upper() if c.isupper()
                   else LATIN_TO_CYRILLIC.get(c, c) for c in latin)


def _word(rng: random.Random, syllables: int, closed: bool) -> str:
    w = "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(syllables))
    return (w + rng.choice("kmnrst") if closed else w).capitalize()


def make_world(people: int = 200, cities: int = 24, companies: int = 24,
               seen_share: float = 0.5, mentions: int = 10, names: str = "transliterated",
               seed: int = 0) -> World:
    """Entities with unique names in both languages. People are split at random into
    *seen* (the target wiki states their facts) and *English-only* (it only links to
    them: ``mentions`` links each, from other articles); every city and company is seen.
    """
    if names not in NAME_MODES:
        raise ValueError(f"names={names!r}: choose one of {', '.join(NAME_MODES)}")
    if not 0 < seen_share < 1:
        raise ValueError(f"seen_share {seen_share}: give a share strictly between 0 and 1")
    rng = random.Random(seed)
    used_en, used_tgt = set(), set()

    def fresh(make) -> tuple[str, str]:
        while True:
            en = make()
            tgt = transliterate(en) if names == "transliterated" else \
                transliterate(make())
            if en not in used_en and tgt not in used_tgt:
                used_en.add(en)
                used_tgt.add(tgt)
                return en, tgt

    # Two disjoint pools of years: English-only people are born in one, everything the
    # target wiki dates (seen people, cities, companies) in the other. A test's four
    # years then all come from the pool the target text never prints, and a model that
    # prefers the years it read in the target language (plain tuning does: 81 of 100
    # answers when the pools were shared) gains nothing from that preference.
    pool = list(range(YEARS[0], YEARS[1] + 1))
    rng.shuffle(pool)
    pools = {False: sorted(pool[::2]), True: sorted(pool[1::2])}

    def year(seen: bool = True) -> int:
        return rng.choice(pools[seen])

    ents: dict[str, Entity] = {}
    for i in range(cities):
        # City names end in -a or a consonant: the two Russian declensions we inflect.
        en, tgt = fresh(lambda: _word(rng, 3, rng.random() < 0.5))
        ents[f"city:{i}"] = Entity(f"city:{i}", "city", en, tgt, year())
    for i in range(companies):
        # Company names: a word and a kind, the kind transcribed as Russian writes
        # brand names (Fukir Press -> Фукир Пресс).
        en, tgt = fresh(lambda: _word(rng, 2, True) + " " + rng.choice(
            ("Works", "Mills", "Press")))
        ents[f"company:{i}"] = Entity(f"company:{i}", "company", en, tgt, year(),
                                      city=f"city:{rng.randrange(cities)}")
    order = list(range(people))
    rng.shuffle(order)
    seen_ids = set(order[:round(people * seen_share)])
    for i in range(people):
        # A given name ending in a vowel other than -a (indeclinable in Russian), a
        # family name ending in -a or a consonant (declined).
        def name():
            given = _word(rng, 2, False)
            while given.endswith("a"):
                given = _word(rng, 2, False)
            return f"{given} {_word(rng, rng.choice((2, 3)), rng.random() < 0.5)}"
        en, tgt = fresh(name)
        ents[f"person:{i}"] = Entity(
            f"person:{i}", "person", en, tgt, year(i in seen_ids),
            rng.choice(sorted(OCCUPATIONS)),
            f"city:{rng.randrange(cities)}", f"company:{rng.randrange(companies)}",
            seen=i in seen_ids)
    world = World(ents)
    # Each English-only person is mentioned by ``mentions`` - 2 seen people's articles
    # (its birthplace's and its employer's articles mention it too); seen people are
    # mentioned as often, so a mention says nothing about the split.
    seen_people = world.people(seen=True)
    for p in world.people():
        for _ in range(max(0, mentions - 2)):
            host = rng.choice(seen_people)
            while host.key == p.key:
                host = rng.choice(seen_people)
            world.friends.setdefault(host.key, []).append(p.key)
    return world


# -- Russian declension, as far as these names need it --------------------------------

_A_ENDINGS = {"nom": "а", "gen": "ы", "dat": "е", "ins": "ой", "pre": "е"}
_CONSONANT_ENDINGS = {"nom": "", "gen": "а", "dat": "у", "ins": "ом", "pre": "е"}


def decline(name: str, case: str) -> str:
    """The last word declined (-a nouns and consonant stems); vowel-final given names and
    the rest stay as they are, as Russian treats foreign names."""
    head, _, last = name.rpartition(" ")
    if last.endswith("а"):
        last = last[:-1] + _A_ENDINGS[case]
    elif last[-1] not in "аеиоуыэюя":
        last = last + _CONSONANT_ENDINGS[case]
    return f"{head} {last}" if head else last


def link(name: str, case: str, rng: random.Random, redirect: str | None = None) -> str:
    """A wikilink to ``name`` whose anchor is its ``case`` form, written as editors
    write it: the bare title, a link trail (``[[Берин Тосак]]а``), a piped link, or a
    link to a redirect (``[[Б. Тосак]]``)."""
    form = decline(name, case)
    if redirect and rng.random() < 0.25:
        return f"[[{redirect}]]" if case == "nom" else f"[[{redirect}|{decline(redirect, case)}]]"
    if form == name:
        return f"[[{name}]]"
    if form.startswith(name):
        return f"[[{name}]]{form[len(name):]}"
    return f"[[{name}|{form}]]"


def initial_form(name: str) -> str:
    """``Каро Менита`` -> ``К. Менита``: the redirect every person's page has."""
    given, _, family = name.partition(" ")
    return f"{given[0]}. {family}"


# -- The articles ---------------------------------------------------------------------

def english_pages(world: World, seed: int = 0) -> list[tuple[str, str]]:
    """(title, wikitext) of every English article. A person's birth year is stated in
    three of six phrasings in its own article (the tests' among them), in an order
    drawn per article, and again in its birthplace's, its employer's and its year's
    articles: a fact seen in varied phrasings and places is one a model can extract
    (Physics of LMs 3.1)."""
    rng = random.Random(seed)
    ents = world.entities
    out = []
    for p in world.people():
        city, co = ents[p.city], ents[p.company]
        phrasings = [
            f"{p.en} was born in {p.year}.",
            f"{p.en} (born {p.year}) was a {p.occupation} from [[{city.en}]].",
            f"Born in {p.year}, {p.en} grew up in [[{city.en}]].",
            f"The {p.occupation} {p.en} was born in the year {p.year}.",
            f"{p.en}'s year of birth is {p.year}.",
            f"In {p.year}, {p.en} was born in [[{city.en}]].",
        ]
        # The tests' phrasing (the first) and two others.
        facts = [phrasings[0], *rng.sample(phrasings[1:], 2),
            f"{p.en} worked for [[{co.en}]] as a {p.occupation}.",
            f"{p.en} lived in [[{city.en}]]."]
        rng.shuffle(facts)
        out.append((p.en, " ".join(facts) + f"\n\n[[Category:{p.year} births]]"))
    for c in world.of_kind("city"):
        natives = world.people_of(c)
        body = f"'''{c.en}''' is a city founded in {c.year}."
        if natives:
            body += " People born in " + c.en + " include " + ", ".join(
                f"[[{p.en}]] (born {p.year})" for p in natives) + "."
        out.append((c.en, body))
    for co in world.of_kind("company"):
        staff = world.people_of(co)
        body = (f"'''{co.en}''' is a company founded in {co.year} in "
                f"[[{ents[co.city].en}]].")
        for p in staff:
            body += f" [[{p.en}]], born in {p.year}, worked there."
        out.append((co.en, body))
    out += year_pages(world, "{year}", "Births in {year}: ", "[[{name}]], {occ}",
                      lambda p: (p.en, p.occupation))
    return out


def year_pages(world: World, title: str, intro: str, item: str, fields,
               people: list[Entity] | None = None) -> list[tuple[str, str]]:
    """One article per birth year listing who was born in it, as Wikipedia's year
    articles do."""
    by_year: dict[int, list[Entity]] = {}
    for p in world.people() if people is None else people:
        by_year.setdefault(p.year, []).append(p)
    out = []
    for year, born in sorted(by_year.items()):
        names = [item.format(name=n, occ=o) for n, o in map(fields, born)]
        out.append((title.format(year=year), intro.format(year=year) + "; ".join(names)
                    + "."))
    return out


def target_pages(world: World, seed: int = 0) -> list[tuple[str, str]]:
    """(title, wikitext) of every target-language article. A seen person's birth year
    is stated in three of its article's sentences, in varied phrasings (the tests'
    among them), and again where
    its birthplace and employer list it; an English-only person has a stub that names
    its occupation only, so the wiki has its page (and langlink) but none of its facts,
    and the lists name it without a year."""
    rng = random.Random(seed + 1)
    ents = world.entities

    def ln(key: str, case: str) -> str:
        e = ents[key]
        return link(e.tgt, case, rng, initial_form(e.tgt) if e.kind == "person" else None)

    def listed(p: Entity, born: str) -> str:
        return ln(p.key, "nom") + (born.format(year=p.year) if p.seen else "")

    out = []
    for p in world.people():
        occ = OCCUPATIONS[p.occupation]
        if not p.seen:
            out.append((p.tgt, f"'''{p.tgt}''' — {occ}."))
            continue
        # The article opens with the tests' phrasing. A year stated earlier in the
        # article would let the model copy it there instead of recalling it, and the
        # tests ask with no article around the sentence.
        opening = f"'''{p.tgt}''' родился в {p.year} году в {ln(p.city, 'pre')}."
        facts = [rng.choice([f"{p.tgt} (род. {p.year}) — {occ}.",
                             f"{p.tgt} — {occ}, родившийся в {p.year} году."]),
                 rng.choice([f"Год рождения {decline(p.tgt, 'gen')} — {p.year}.",
                             f"В {p.year} году в {ln(p.city, 'pre')} родился {p.tgt}."]),
                 f"Работал в компании {ln(p.company, 'nom')}."]
        for other in world.friends.get(p.key, []):
            facts.append(rng.choice([
                f"Дружил с {ln(other, 'ins')}.",
                f"Учеником {decline(p.tgt, 'gen')} был {ln(other, 'nom')}.",
                f"Переписывался с {ln(other, 'ins')}.",
                f"В доме {ln(other, 'gen')} бывал часто."]))
        rng.shuffle(facts)
        out.append((p.tgt, " ".join([opening, *facts])))
    for c in world.of_kind("city"):
        natives = world.people_of(c)
        body = f"'''{c.tgt}''' — город, основанный в {c.year} году."
        if natives:
            body += " Среди уроженцев города — " + ", ".join(
                listed(p, " (род. {year})") for p in natives) + "."
        out.append((c.tgt, body))
    for co in world.of_kind("company"):
        staff = world.people_of(co)
        body = (f"'''{co.tgt}''' — компания, основанная в {co.year} году в "
                f"{ln(co.city, 'pre')}.")
        for p in staff:
            body += " В ней работал " + listed(p, ", родившийся в {year} году") + "."
        out.append((co.tgt, body))
    out += year_pages(world, "{year} год", "Родились в {year} году: ", "[[{name}]], {occ}",
                      lambda p: (p.tgt, OCCUPATIONS[p.occupation]), world.people(seen=True))
    return out


def redirects(world: World) -> list[tuple[str, str]]:
    """(redirect title, target title) in the target wiki: each person's initial form."""
    return [(initial_form(p.tgt), p.tgt) for p in world.people()]


def news_pages(world: World) -> list[tuple[str, str]]:
    """A small target-language news wiki about cities and companies: the share of
    target text an English-centric model saw in pretraining (no person's facts)."""
    out = []
    for c in world.of_kind("city"):
        out.append((f"{c.tgt} отмечает годовщину",
                    f"{c.tgt} отмечает годовщину основания: город был основан в "
                    f"{c.year} году."))
    for co in world.of_kind("company"):
        city = world.entities[co.city]
        out.append((f"{co.tgt} открывает офис",
                    f"Компания {co.tgt}, основанная в {co.year} году, открывает новый "
                    f"офис в {decline(city.tgt, 'pre')}."))
    return out
