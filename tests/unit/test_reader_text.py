"""The text a reader sees, by MediaWiki's rules: quotes, media links under any name,
what dropped templates leave, LanguageConverter, indented tables; and, over every real
excerpt, how much markup is left."""

import pytest

from leia.fidelity import KINDS, markup_left
from leia.langconv import convert
from leia.quotes import strip_quotes, visible_apostrophes
from leia.siteinfo import SiteInfo, parse_siteinfo
from leia.wikitext import extract

EN = SiteInfo(namespaces={"file": 6, "image": 6, "category": 14, "template": 10})


def links(wikitext, lang="en", site=EN, **kw):
    ex = extract(wikitext, site, lang, **kw)
    return ex.text, [(ex.text[l.start:l.end], l.target) for l in ex.links]


@pytest.mark.parametrize("src, seen", [
    ("''Foo'''s", "Foo's"),               # italics, then an apostrophe (doQuotes)
    ("'''''foo''", "foo"),                # bold italics, italics closed, bold left open
    ("a '''b''' c ''d''", "a b c d"),
    ("''''x''''", "'x'"),                 # four: an apostrophe, then bold
    ("''''''''x''", "'''x"),              # more than five: the extra ones are text
    ("l'amour ''x''", "l'amour x"),
    ("x y'''z ''w q", "x y'z w q"),       # one bold, one italics: the bold after a
    #                                       one-letter word is an apostrophe
])
def test_quotes_leave_what_doquotes_leaves(src, seen):
    assert visible_apostrophes(src) == seen
    assert links(src)[0] == seen


@pytest.mark.parametrize("src, seen", [
    (";'''1:00''':bar", "1:00\nbar"),    # the colon inside the bold text is the term's
    (";''a:b'' c:d", "a:b c\nd"),
    ("*;'''x:y''':z", "x:y\nz"),
    (";a:b ''c:d''", "a\nb c:d"),        # the first colon outside formatting ends it
])
def test_a_term_ends_at_its_first_colon_outside_bold_and_italics(src, seen):
    assert links(src)[0] == seen


@pytest.mark.parametrize("src, seen", [
    ("a\n=== \nb", "a\n=\nb"),          # a heading whose title is "="
    ("a\n====\nb", "a\n==\nb"),
    ("a\n=======\nb", "a\n=\nb"),       # the widest run that leaves a title: ===
    ("a\n==\nb", "a\n==\nb"),           # too short for a heading: text
])
def test_a_line_of_equals_signs_shows_its_heading_title(src, seen):
    assert links(src)[0] == seen


def test_quotes_in_raw_text_and_link_targets_stay():
    assert strip_quotes("<nowiki>''a''</nowiki> ''b''") == "<nowiki>''a''</nowiki> b"
    assert links("[[Rock 'n' Roll|''the'' music]] ''x''") == (
        "the music x", [("the music", "Rock 'n' Roll")])


@pytest.mark.parametrize("prefix", ["画像", "Bild", "Imagen", "Fichier", "تصغير"])
def test_media_links_under_any_prefix_go_with_their_caption(prefix):
    src = (f"Intro [[{prefix}:Brandenburger Tor.JPG|thumb|left|360px|The [[gate]] at "
           "night]] and [[Star Wars: A New Hope]].")
    assert links(src) == ("Intro and Star Wars: A New Hope.",
                          [("Star Wars: A New Hope", "Star Wars: A New Hope")])


@pytest.mark.parametrize("src, seen", [
    ("Берли́н ( , ) — столица [[Германия|Германии]].", "Берли́н — столица Германии."),
    ("柏林（）是[[德国]]首都", "柏林是德国首都"),
    ("Berlin () ist [[Hauptstadt]].", "Berlin ist Hauptstadt."),
    ("Berlin (; ) is big", "Berlin is big"),
    ("A (b) c (, d) e", "A (b) c (d) e"),     # a bracket that held text stays...
    # ...without the separators a template left beside its neighbours
    ("Merkel (; ; born 1954) in [[Berlin]],, (Duits: Berlin, [b], ) is",
     "Merkel (born 1954) in Berlin, (Duits: Berlin, [b]) is"),
    ("ベルリン（Berlin、、伯林）は", "ベルリン（Berlin、伯林）は"),
    ("x, y; z (a, b)", "x, y; z (a, b)"),
    # blanks before a comma or full stop that ends a word, however many, at the end too
    ("[[A]] {{t}} \t, b {{t}} .", "A, b."),
    ("a .b, c ,d 1 .5", "a .b, c ,d 1 .5"),
    # blanks inside a bracket's edge, and a label's colon with nothing left to introduce
    ("Берли́н ({{lang-de|Berlin}} {{IPA|[bɛɐ̯ˈliːn]}}, {{audio|De-Berlin.ogg|x}}) — столица",
     "Берли́н (Berlin) — столица"),
    ("Berlin (en allemand : {{IPA|bɛʁlɛ̃}}) est ( [[la]] capitale ).",
     "Berlin (en allemand) est (la capitale)."),
    ("（ {{lang|de|Berlin}} ） x (2014 ~ {{now}}) y ( . z", "（Berlin） x (2014 ~) y (. z"),
    ("smile :) and 1 : 2 (a: b)", "smile :) and 1 : 2 (a: b)"),
])
def test_what_dropped_templates_leave_goes(src, seen):
    text, ls = links(src)
    assert text == seen
    assert all(a and a == a.strip() for a, _ in ls)


def test_link_offsets_survive_the_clean_up():
    text, ls = links("[[A]] ( ) [[B]] （ ）[[C]] , [[D]]")
    assert text == "A B C, D"
    assert [a for a, _ in ls] == ["A", "B", "C", "D"]


@pytest.mark.parametrize("src, variant, seen", [
    ("十六个-{zh-hans:联邦州; zh-hant:邦}-之一", None, "十六个联邦州之一"),  # the first listed
    ("十六个-{zh-hans:联邦州; zh-hant:邦}-之一", "zh-hant", "十六个邦之一"),
    ("十六个-{zh-hans:联邦州; zh-hant:邦}-之一", "zh-tw", "十六个邦之一"),  # its fallback
    ("„-{Abgeordnetenhaus}-“", None, "„Abgeordnetenhaus“"),
    ("a-{H|zh-cn:计算机; zh-tw:電腦;}-b", None, "ab"),                      # rules only
    ("a-{T|zh-cn:标题; zh-tw:標題}-b", None, "ab"),
    ("a-{-|zh-cn:x}-b", None, "ab"),
    ("-{A|zh-hans:甲;zh-hant:乙}-", "zh-hk", "乙"),
    ("-{R|zh-hans:甲}-", None, "zh-hans:甲"),
])
def test_language_converter_shows_one_variant(src, variant, seen):
    assert convert(src, variant or "zh") == seen
    assert links(src, "zh", variant=variant)[0] == seen


def test_indented_tables_go():
    assert links("Intro\n:{| class=wikitable\n! Year\n|-\n| [[X]]\n|}\nAfter") == (
        "Intro\n\nAfter", [])


def test_the_census_finds_each_kind():
    assert set(markup_left("thumb|left|x () ,, (x ) '' [[ {| -{ }- {{ <center>x")) == set(KINDS) - {
        "table syntax"}
    assert "table syntax" in markup_left("a\n{| class=x")
    assert markup_left("Plain prose (with brackets), l'apostrophe | and a pipe.") == {}


@pytest.mark.parametrize("src, seen, anchors", [
    ("known as {{lang|de|Berlin}} in German", "known as Berlin in German", []),
    ("{{Lang-de|[[Berlin]]}} and {{nowrap|10 km}}", "Berlin and 10 km", ["Berlin"]),
    ("{{仮リンク|ベルリン大聖堂|en|Berlin Cathedral}}は", "ベルリン大聖堂は", ["ベルリン大聖堂"]),
    ("{{lang|de|Berlin {{small|Mitte}}|italic=no}}.", "Berlin Mitte.", []),
    ("{{Infobox|a={{lang|de|X}}}} after", "after", []),   # inside a dropped template
    ("{{Citation|title=x}} text", "text", []),              # not in the table: dropped
])
def test_inline_templates_show_their_argument(src, seen, anchors):
    text, ls = links(src, "ja")
    assert text == seen and [a for a, _ in ls] == anchors


@pytest.mark.parametrize("src, seen", [
    ("市域面積は{{convert|891.82|km2|sqmi|sp=us}}<ref>x</ref>で", "市域面積は891.82 km²で"),
    ("{{Convert|2|to|5|km|abbr=on}}, {{cvt|6|ft|2|in|m}}, {{convert|-2|-|3|C|F}}.",
     "2 to 5 km, 6 ft 2 in, -2–3 °C."),
    ("{{convert|1,234.5|sqmi|km2|0}} of [[land]]", "1,234.5 sq mi of land"),
    # what the page shows is not the value as written, or there is none: dropped
    ("a {{convert|100|km|mi|disp=out}} b {{convert|{{#expr:1+1}}|km}} c {{convert|x|km}}",
     "a b c"),
    # the parser function: its number as written
    ("adunay {{formatnum:3426354}} ka molupyo, {{FORMATNUM: 11.9 }} km", "adunay 3426354 ka "
     "molupyo, 11.9 km"),
    ("およそ{{formatnum:{{#expr:1+1}}}}万人 {{formatnum:12|R}} {{lang:de}}", "およそ万人"),
])
def test_quantities_show_as_written(src, seen):
    assert links(src, "ja")[0] == seen


@pytest.mark.slow
def test_markup_left_in_the_real_excerpts():
    """Every ns-0 article of the real excerpts (124 languages): the census of
    bench/fidelity_bench.py, as a floor the extractor must keep."""
    from bench.fidelity_bench import REALDATA, census, ours, sources

    if not REALDATA.is_dir():
        pytest.skip(f"the real excerpts ({REALDATA}) are not beside this checkout")
    result = census({w: ours(w, lang, f) for w, lang, f in sources(REALDATA)})
    assert result["articles"] > 1400
    assert result["with_markup"] / result["articles"] < 0.005, result["examples"]
    for kind in KINDS:
        if kind == "link brackets":  # typos MediaWiki shows as text, and so do we
            assert result["by_kind"][kind] <= 2, result["examples"][kind]
            assert all("[[[The Art of Being Right]]]" in e or "([[Karlsruhe)" in e
                       for e in result["examples"][kind]), result["examples"][kind]
        else:
            assert result["by_kind"][kind] == 0, result["examples"].get(kind)


@pytest.mark.parametrize("src, seen", [
    # Malformed link and template brackets, shown as text by MediaWiki: the words
    # stay, and the brackets where they are whole or nothing closes them.
    ("College, [[Thrissur]\nNext", "College, Thrissur\nNext"),
    ("του [[Λιδωρίκι|Λιδωρικίου}}. Το", "του Λιδωρικίου. Το"),
    ("Palast\nGrips-Theater]]\nKino", "Palast\nGrips-Theater\nKino"),
    ("(bilingual) [[[The Art of Being Right]]]", "(bilingual) [[[The Art of Being Right]]]"),
    ("Καρλσρούη ([[Karlsruhe)\nNext]]", "Καρλσρούη ([[Karlsruhe)\nNext"),
    ("<nowiki>[[x]] {{y}}</nowiki>", "[[x]] {{y}}"),         # nowiki keeps its brackets
    # Nothing in <nowiki> or <pre> is a template, a reference or a comment.
    ("a <nowiki><ref></nowiki> b {{t}} c<ref>r</ref>.", "a <ref> b c."),
    ("<pre>{{y}} <!-- c --></pre>\n{{z}}after", "{{y}} <!-- c -->\nafter"),
    # A table left open ends at the page's end, or at a closing template before prose.
    ("Intro\n{|\n| a\n|-\n| b", "Intro"),
    ("Intro\n{| class=x\n| a [[L]]\n{{end}}\nProse [[M]].", "Intro\n\nProse M."),
])
def test_malformed_markup_leaves_its_words(src, seen):
    assert links(src)[0] == seen


@pytest.mark.parametrize("src, seen, anchors", [
    # A link MediaWiki cannot make shows its wikitext, its anchor rendered: a title it
    # cannot read (decoded once: "&amp;amp;" leaves an entity), a link in the anchor.
    ("[[Foo &amp;amp; bar]] [[Foo&#124;bar]] [[./foo]] [[a<b|c]]",
     "[[Foo &amp; bar]] [[Foo|bar]] [[./foo]] [[a<b|c]]", []),
    ("[[Hi|a [[Ho]] b]] [[Hi|Ho[[Category:Hiho]]]]", "[[Hi|a Ho b]] [[Hi|Ho]]",
     [("Ho", "Ho")]),
    ("[[Main<nowiki> Page</nowiki>]] and [[[[Main Page]]]]",
     "[[Main Page]] and [[Main Page]]", [("Main Page", "Main Page")]),
    # ...and an external link in an anchor shows as written, inside the link.
    ("[[Main Page|[http://example.com/ x]]]", "[http://example.com/ x]",
     [("[http://example.com/ x]", "Main Page")]),
    # A title or anchor that a dropped template or comment emptied shows nothing.
    ("a [[<!-- c -->]] [[{{t}}]] [[X|{{t}}]] b", "a b", []),
    # A wikitable's line outside its cells is shown before the table.
    ("{|\n|-\nfostered [[L]]\n| cell\n|}\nafter", "fostered L\nafter", [("L", "L")]),
    ("a\n:{|\nshown\n| x\n{|\n|-\nin a cell\n|}\n|}\nb", "a\nshown\nb", []),
    ("<pre <pre>123</pre> *irc://&#x0A;a", "123 *irc://%0Aa", []),
])
def test_links_mediawiki_cannot_make_show_as_written(src, seen, anchors):
    assert links(src) == (seen, anchors)


def test_category_links_under_names_the_header_does_not_know():
    src = ("Berlin ist [[Hauptstadt]].\n[[Star Wars: A New Hope]] stays.\n"
           "[[Kategorie:Bundesland (Deutschland)|!]]\n[[Kategorie:Hauptstadt]]\n"
           "[[fr:Berlin]]\n")
    assert links(src, "de") == ("Berlin ist Hauptstadt.\nStar Wars: A New Hope stays.",
                                [("Hauptstadt", "Hauptstadt"),
                                 ("Star Wars: A New Hope", "Star Wars: A New Hope")])


@pytest.mark.parametrize("src, seen", [
    # MediaWiki reads links before quotes: "''" in a target is part of the title.
    ("[[Lista d''e paise]] and [[''Pentecoste''|''Pentecoste'']]",
     "Lista d''e paise and Pentecoste"),
    ("([[Karlsruhe'') x'' y", "([[Karlsruhe) x y"),  # an unclosed [[ is text: quotes count
    ("[[%33%45]] [[%+]]", "3E %+"),                    # titles are shown %-decoded
    ('<div title="[[Main Page]]">x</div><span style="<nowiki>a</nowiki>">y</span>',
     "x\ny"),                                          # attributes are never text
    ("*a</div>b\n*c</p>d", "ab\nc\nd"),              # stray closers: only </p> breaks
    ("<b→> and <blockquote|>", "<b→> and <blockquote|>"),  # no tags: the name runs on
    ("<pre><nowiki><b></nowiki>x</pre>", "<b>x"),
    ("<includeonly>hidden</includeonly>== H ==<noinclude>\nseen</noinclude>", "H\n\nseen"),
    ("Text&apos;s", "Text's"),
    ("a &#8; b &#x41; &acE; &רלמ;", "a &#8; b A \u223e\u0333 \u200f"),  # Sanitizer's rules
    ("= x = y\n== H == <!-- c -->\nt", "= x = y\n\nH\n\nt"),  # a heading ends its line
    ("<style>.a { color: red }</style>b", "b"),
    ("[http://example.org/\u3000ideograms]", "ideograms"),
    ("[[http://example.org Label]]", "[Label]"),        # a URL, not a category alias
])
def test_mediawiki_rules_for_links_tags_and_entities(src, seen):
    assert links(src)[0] == seen


@pytest.mark.parametrize("src, seen", [
    ("Intro\n[[File:A (1).jpg|thumb|220px|right|Caption]\n\nNext", "Intro\n\nNext"),
    ("Intro\n[[Κατηγορία:Επτάνησα]\nNext", "Intro\nNext"),
    ("[[File:|frameless|220px|right|]]\nText", "Text"),
    ("[[File:M.svg|thumb|Map\n<br/>Legend:\n\n{{legend|x}}]]\nText", "Text"),
    ("Pop.\n{{Table head}}\n! Year\n|-\n| 1999 || 3\n|-{{Grey}}\n| 2000 || 4\n|}\nAfter.",
     "Pop.\n\nAfter."),                               # a table opened by a template
    ("Text\n|}\nmore", "Text\n|}\nmore"),            # ...but not without one
    ("{{Box}}\n| a\n\nProse.\n|}", "| a\n\nProse.\n|}"),  # nor across a paragraph
])
def test_markup_no_reader_takes_for_prose_goes(src, seen):
    assert links(src, "el")[0] == seen


def test_the_languages_own_aliases_come_with_its_siteinfo():
    header = ("<siteinfo><dbname>jawiki</dbname><case>first-letter</case><namespaces>"
              '<namespace key="6">ファイル</namespace><namespace key="14">Category</namespace>'
              "</namespaces></siteinfo>")
    site = parse_siteinfo(header)
    assert site.namespace_of("画像") == 6 and site.namespace_of("カテゴリ") == 14
    text, ls = links("[[画像:X.png|thumb|図]]東京[[カテゴリ:日本の首都|とうきょう]]は", "ja", site)
    assert (text, ls) == ("東京は", [])
    # A lone [[Prefix:Name]] line is a category only under a Category name.
    assert links("[[meatball:Soft Security]]\n[[Kategorie:X]]")[0] == "meatball:Soft Security"


@pytest.mark.parametrize("src, lang, anchor, target, hint", [
    ("{{仮リンク|ベルリン大聖堂|en|Berlin Cathedral}}は", "ja", "ベルリン大聖堂", "ベルリン大聖堂",
     ("en", "Berlin Cathedral")),
    ("{{仮リンク|ベルリン＝アードラースホーフ|label=アードラースホーフ|de|Berlin-Adlershof}}",
     "ja", "アードラースホーフ", "ベルリン＝アードラースホーフ", ("de", "Berlin-Adlershof")),
    ("{{ill|Berliner Dom|de|lt=the cathedral}} x", "en", "the cathedral", "Berliner Dom",
     ("de", "Berliner Dom")),
    ("{{link-en|柏林大教堂|Berlin Cathedral}}是", "zh", "柏林大教堂", "柏林大教堂",
     ("en", "Berlin Cathedral")),
    ("{{tsl|en|Berlin Cathedral|柏林大教堂}}是", "zh", "柏林大教堂", "柏林大教堂",
     ("en", "Berlin Cathedral")),
    # ruwiki's layouts, as its Berlin article writes them (DBpedia's ru minidump).
    ("{{нп5|Новая синагога (Берлин)|Новая синагога|de|Neue Synagoge (Berlin)}}", "ru",
     "Новая синагога", "Новая синагога (Берлин)", ("de", "Neue Synagoge (Berlin)")),
    ("{{нп5|Фотоархив прусского культурного наследия|||Prussian Heritage Image Archive}}",
     "ru", "Фотоархив прусского культурного наследия",
     "Фотоархив прусского культурного наследия", ("en", "Prussian Heritage Image Archive")),
    ("{{iw|Институт имени Отто Гана|||Max Planck Institute for Chemistry}}", "ru",
     "Институт имени Отто Гана", "Институт имени Отто Гана",
     ("en", "Max Planck Institute for Chemistry")),
])
def test_interlanguage_templates_give_a_link_with_the_foreign_title(src, lang, anchor,
                                                                    target, hint):
    ex = extract(src, EN, lang)
    [link] = ex.links
    assert (ex.text[link.start:link.end], link.target, link.hint) == (anchor, target, hint)


def test_an_interlanguage_template_that_names_no_language_or_title_aligns_nothing():
    ex = extract("{{нп5|Amerika-Gedenkbibliothek}} и {{iw|Мечеть||de}}", EN, "ru")
    assert ex.text == "Amerika-Gedenkbibliothek и Мечеть"
    assert [(l.target, l.hint) for l in ex.links] == [("Мечеть", ("de", "Мечеть"))]
