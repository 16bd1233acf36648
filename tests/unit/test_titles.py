from conftest import read_xml

from leia.siteinfo import parse_siteinfo
from leia.titles import clean_title, normalise_target

VI = parse_siteinfo(read_xml("viwiki")[:20000])


def t(raw, site=VI, lang="vi"):
    x = normalise_target(raw, site, lang)
    return (x.kind, x.ns, x.title) if x.kind == "page" else (x.kind, x.prefix)


def test_spaces_underscores_entities_percent():
    assert t("thành_phố  Hồ Chí Minh") == ("page", 0, "Thành phố Hồ Chí Minh")
    assert t("Th&agrave;nh ph&#7889;") == ("page", 0, "Thành phố")
    assert t("Th%C3%A0nh_ph%E1%BB%91") == ("page", 0, "Thành phố")
    assert clean_title("a\u00a0\u3000b") == "a b"


def test_leading_colon_and_section():
    assert t(":Hà Nội") == ("page", 0, "Hà Nội")
    assert t("Hà Nội#Lịch sử") == ("page", 0, "Hà Nội")
    assert t("#Lịch sử")[0] == "anchor"


def test_localized_and_canonical_namespaces():
    assert t("Thể loại:Việt Nam") == ("page", 14, "Việt Nam")
    assert t("thể_loại:Việt Nam") == ("page", 14, "Việt Nam")  # case-insensitive
    assert t("Tập tin:X.jpg") == ("page", 6, "X.jpg")
    assert t("File:X.jpg") == ("page", 6, "X.jpg")  # canonical names work everywhere
    assert t("Image:X.jpg") == ("page", 6, "X.jpg")


def test_interlanguage_interwiki_and_own_language():
    assert t("en:Hanoi") == ("interlanguage", "en")
    assert t("zh-yue:河內") == ("interlanguage", "zh-yue")
    assert t("wikt:nhà") == ("interwiki", "wikt")
    assert t("vi:Hà Nội") == ("page", 0, "Hà Nội")  # own language prefix: local link


def test_first_letter_rule_and_case_sensitive_wikis():
    assert t("hà Nội") == ("page", 0, "Hà Nội")
    sensitive = parse_siteinfo(read_xml("viwiki")[:20000].replace(
        "<case>first-letter</case>", "<case>case-sensitive</case>"))
    assert t("iPhone", sensitive) == ("page", 0, "iPhone")


def test_invalid_titles():
    assert t("a[b]")[0] == "invalid"
    assert t("   ")[0] == "invalid"
