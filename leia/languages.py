"""Wikimedia language codes, interwiki prefixes and link trails.

Database names use underscores where interwiki (langlinks) codes use hyphens:
``zh_yuewiki`` is the wiki whose langlinks code is ``zh-yue``.
"""

from __future__ import annotations

import re

# Every ``ll_lang`` value of the real wikidatawiki langlinks table (2017-03-25), i.e. the
# interlanguage prefixes MediaWiki knew then. A link ``[[xx:Title]]`` with one of these
# prefixes is an interlanguage link, never an article of the same wiki.
LANGUAGE_CODES = frozenset("""
    aa ab ace ady af ak als am an ang ar arc arz as ast av ay az azb ba bar bat-smg
    bcl be be-tarask be-x-old bg bh bi bjn bm bn bo bpy br bs bug bxr ca cbk-zam cdo
    ce ceb ch cho chr chy ckb co cr crh cs csb cu cv cy da de diq dsb dv dz ee el
    eml en eo es et eu ext fa ff fi fiu-vro fj fo fr frp frr fur fy ga gag gan gd gl
    glk gn gom got gu gv ha hak haw he hi hif ho hr hsb ht hu hy hz ia id ie ig ii
    ik ilo io is it iu ja jam jbo jv ka kaa kab kbd kg ki kj kk kl km kn ko koi kr
    krc ks ksh ku kv kw ky la lad lb lbe lez lg li lij lmo ln lo lrc lt ltg lv mai
    map-bms mdf mg mh mhr mi min mk ml mn mo mr mrj ms mt mus mwl my myv mzn na nah
    nap nb nds nds-nl ne new ng nl nn no nov nrm nso nv ny oc olo om or os pa pag
    pam pap pcd pdc pfl pi pih pl pms pnb pnt ps pt qu rm rmy rn ro roa-rup roa-tara
    ru rue rw sa sah sc scn sco sd se sg sh si simple sk sl sm sn so sq sr srn ss st
    stq su sv sw szl ta tcy te tet tg th ti tk tl tn to tpi tr ts tt tum tw ty tyv
    udm ug uk ur uz ve vec vep vi vls vo wa war wo wuu xal xh xmf yi yo za zea zh
    zh-classical zh-min-nan zh-yue zu
""".split()) | {"ary", "ban", "gor", "nqo", "shn", "skr", "smn", "tay", "trv", "guw", "mni"}

# Common interwiki prefixes of Wikimedia's interwiki map (sister projects and aliases).
INTERWIKI_PREFIXES = frozenset("""
    w wikipedia wikt wiktionary q wikiquote s wikisource b wikibooks n wikinews v
    wikiversity voy wikivoyage c commons m meta metawikimedia d wikidata species
    wikispecies mw mediawikiwiki foundation wmf phab phabricator outreach incubator
    mediazilla bugzilla gerrit testwiki wikitech toollabs wikimania
""".split())

SITE_SUFFIXES = ("wiki", "wikivoyage", "wiktionary", "wikibooks", "wikinews",
                 "wikiquote", "wikisource", "wikiversity")

_DBNAME = re.compile(r"^([a-z][a-z0-9_]*?)(" + "|".join(SITE_SUFFIXES) + r")$")


def split_dbname(dbname: str) -> tuple[str, str]:
    """``zh_yuewiki`` -> (``zh-yue``, ``wiki``); raises ValueError for a non-wiki name."""
    m = _DBNAME.match(dbname)
    if not m:
        raise ValueError(
            f"{dbname!r} is not a Wikimedia database name; expected a language code "
            f"followed by one of {', '.join(SITE_SUFFIXES)} (e.g. jawiki, zh_yuewiki, "
            "elwikivoyage)")
    return m.group(1).replace("_", "-"), m.group(2)


def language_of(dbname: str) -> str:
    """The interwiki language code of a wiki: ``zh_yuewiki`` -> ``zh-yue``."""
    return split_dbname(dbname)[0]


# MediaWiki's $linkTrail per content language (languages/messages/Messages*.php), for
# the languages checked against those files; every other language gets the default
# (English) [a-z]+, which is also what languages written without spaces inherit.
_DEFAULT_TRAIL = "a-z"
_TRAILS = {
    "de": "äöüßa-z",
    "el": "a-zαβγδεζηθικλμνξοπρστυφχψωςΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩάέήίόύώϊϋΐΰΆΈΉΊΌΎΏΪΫ",
    "fr": "a-zàâçéèêîôûäëïöüùÇÉÂÊÎÔÛÄËÏÖÜÀÈÙ",
    "ru": "a-zабвгдеёжзийклмнопрстуфхцчшщъыьэюя",
}
_TRAIL_RE: dict[str, re.Pattern] = {}


def link_trail(lang: str) -> re.Pattern:
    """Regex matching the letters that glue onto a link's anchor (``[[bus]]es``)."""
    pat = _TRAIL_RE.get(lang)
    if pat is None:
        pat = _TRAIL_RE[lang] = re.compile("[" + _TRAILS.get(lang, _DEFAULT_TRAIL) + "]+")
    return pat
