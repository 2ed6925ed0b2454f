"""Name normalisation: spelling conventions must not decide a match. Names are real list names."""
from __future__ import annotations

import importlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controls.screening.normalize import key_tokens, normalize, screenable, tokens, word_breaks

normalize_module = importlib.import_module("controls.screening.normalize")  # the package's ``normalize`` is the function


def test_case_punctuation_and_diacritics_disappear():
    assert normalize("HUAWEI TECHNOLOGIES CO., LTD.") == normalize("huawei technologies co ltd")
    assert normalize("Société Générale S.A.") == "societe generale"
    assert normalize("Łódź Sp. z o.o.") == "lodz"
    assert normalize("Xi'an  Hi-Tech,  Co.") == "xian hitech"


def test_ampersand_becomes_and():
    assert normalize("Beijing Kvs Science & Tech. Development Co., Ltd") == (
        "beijing kvs science and technology development"
    )


@pytest.mark.parametrize(
    "form",
    [
        "Co.", "Co., Ltd.", "Co Ltd", "Company", "Company Limited", "Corp.", "Corporation",
        "Ltd.", "Limited", "Inc.", "Incorporated", "LLC", "L.L.C.", "GmbH", "AG", "S.A.", "SA",
        "S.R.L.", "B.V.", "N.V.", "PLC", "Pte. Ltd.", "Pty Ltd", "OOO", "OAO", "ZAO", "PAO", "AO",
        "JSC", "OJSC", "CJSC", "LLP", "LP", "KK", "Limited Liability Company",
        "Joint Stock Company", "FZE", "Sdn Bhd",
    ],
)
def test_legal_forms_are_dropped_after_or_before_the_name(form):
    assert normalize(f"Kronshtadt {form}") == "kronshtadt"
    assert normalize(f"{form} Kronshtadt") == "kronshtadt"


def test_chinese_legal_forms_are_dropped():
    for form in ("有限公司", "股份有限公司", "有限责任公司"):
        assert normalize("华为技术" + form) == "huawei technology"


def test_a_name_that_is_only_a_legal_form_is_kept():
    assert tokens("Limited") == ("limited",)


@pytest.mark.parametrize(
    "short, long",
    [
        ("Huawei Tech", "Huawei Technologies"),
        ("Sichuan Univ", "Sichuan University"),
        ("Shanghai Intl Trading", "Shanghai International Trading"),
        ("Harbin Inst of Tech", "Harbin Institute of Technology"),
        ("Xian Elec Mfg", "Xian Electronic Manufacturing"),
        ("Kronshtadt Grp", "Kronshtadt Group"),
        ("Shanghai Micro Electronics", "Shanghai Microelectronics"),
    ],
)
def test_abbreviations_and_compounds_share_one_spelling(short, long):
    assert normalize(short) == normalize(long)


@pytest.mark.parametrize(
    "han, listed",
    [
        ("华为技术有限公司", "Huawei Technologies Co., Ltd."),
        ("四川大学", "Sichuan University"),
        ("哈尔滨工程大学", "Harbin Engineering University"),
        ("上海微电子装备(集团)股份有限公司", "Shanghai Micro Electronics Equipment (Group) Co., Ltd."),
        ("长江存储科技有限责任公司", "Yangtze Memory Technologies Co., Ltd."),
        ("上海高性能集成电路设计中心", "Shanghai High-Performance Integrated Circuit Design Center"),
    ],
)
def test_han_names_meet_the_listed_english(han, listed):
    assert normalize(han) == normalize(listed)


def test_han_words_become_pinyin_and_glossary_words():
    assert normalize("华为") == "huawei"
    assert tokens("深圳市大疆创新科技有限公司") == ("shenzhen", "dji", "innovation", "technology")  # a brand: its listed name
    assert tokens("深圳市大宝创新科技有限公司") == ("shenzhen", "dabao", "innovation", "technology")
    # same words as the English name, in another order: the matcher ignores order
    assert sorted(key_tokens("国防科技大学")) == sorted(
        key_tokens("National University of Defense Technology")
    )


def test_full_width_forms_are_folded():
    assert normalize("ＨＵＡＷＥＩ　Ｔｅｃｈ．，Ｌｔｄ") == "huawei technology"


def test_key_tokens_drop_stopwords_but_tokens_keep_them():
    name = "Beijing University of Aeronautics and Astronautics"
    assert "of" in tokens(name) and "and" in tokens(name)
    assert key_tokens(name) == ("beijing", "university", "aeronautics", "astronautics")


@pytest.mark.parametrize(
    "spoofed",
    [
        "Hu\u0430w\u0435i Technologies Co., Ltd.",  # Cyrillic a, e
        "\u041dU\u0410W\u0415\u0406 \u0422\u0415\u0421\u041dN\u041eL\u041eG\u0406\u0415\u0405",  # Cyrillic capitals
        "\u0397U\u0391W\u0395\u0399 Technologies",  # Greek capitals; TR39 draws Iota as "l", a reader as "I"
        "Hu\u0251wei Technologies",  # Latin alpha, which NFKD leaves alone
    ],
)
def test_look_alike_letters_fold_to_the_latin_name(spoofed):
    assert normalize(spoofed) == "huawei technology"


def test_real_cyrillic_words_are_transliterated_and_greek_stays_as_written():
    assert normalize("Ростех") == "rostekh"  # not every letter has a Latin look-alike: a Russian word (BGN/PCGN)
    assert normalize("ООО Ромашка") == "romashka"  # "ООО" in Cyrillic is the legal form OOO
    assert normalize("Αθήνα") == "αθηνα"


def test_invisible_characters_do_not_split_or_hide_a_name():
    assert normalize("Hua\u200bwei Tech\u00adnologies\u200d \u202eCo") == "huawei technology"
    assert normalize("\u200b\ufeff") == ""
    assert normalize("Hua\u3164wei") == "huawei"  # a Hangul filler: a letter that shows nothing


def test_invisible_characters_are_also_read_as_word_breaks():
    assert word_breaks("Huawei\u200bTechnologies\u2060Co.,\u00adLtd.") == "Huawei Technologies Co., Ltd."
    assert word_breaks("Huawei \u200b\u200dTechnologies") == "Huawei Technologies"
    assert word_breaks("华\u200b为") == "华为"  # Han text has no spaces: nothing between two Han characters
    assert word_breaks("Huawei Technologies") is None and word_breaks("Ромашка") is None


def test_japanese_korean_and_traditional_chinese_legal_forms_are_dropped():
    assert tokens("トヨタ自動車株式会社") == tokens("トヨタ自動車")
    assert tokens("삼성전자 주식회사") == tokens("삼성전자")
    assert tokens("華為技術有限責任公司") == tokens("華為技術")
    assert tokens("Sony Group Kabushiki Kaisha") == ("sony", "group")


@pytest.mark.parametrize("name", ["-", "N/A", "???", "\u200b", "\u3164", "Co., Ltd.", "TBD", "The Company",
                                  "Unknown Ltd",
                                  # legal forms that are also syllables of names, alone or together
                                  "SA", "S.A.", "AG", "K.K.", "Ao", "OÜ", "S.A. de C.V.", "S A", "Co AG",
                                  "GmbH & Co. KG",
                                  # in other scripts
                                  "ЗАО", "株式会社", "주식회사", "有限責任公司", "Kabushiki Kaisha",
                                  # one letter or digit
                                  "A", "7", "Y", "A."])
def test_names_that_name_no_one_cannot_be_screened(name):
    assert not screenable(name)


@pytest.mark.parametrize("name", ["Huawei", "A B", "Limited Liability Company Kronshtadt", "华为", "3M", "LG",
                                  "Siemens AG", "AG Siemens", "Sa Dallah", "Samsung 주식회사", "Toyota 株式会社",
                                  "Hua\u200bwei"])
def test_names_with_a_word_that_identifies_can_be_screened(name):
    assert screenable(name)


def test_cyrillic_is_transliterated_and_look_alikes_are_folded():
    assert tokens("ПАО Техприбор") == ("tekhpribor",)
    assert tokens("Объединённая авиастроительная корпорация") == ("obedinennaya", "aviastroitelnaya", "korporatsiya")
    assert tokens("\u0405\u0410\u0422\u0421\u041e") == ("satco",)  # only look-alike letters: a Latin name in disguise
    assert tokens("Hu\u0430w\u0435i") == ("huawei",)


def test_a_misspelt_legal_form_or_generic_word_is_that_word():
    assert tokens("Kitro Corporaton") == tokens("Kitro Corporation") == ("kitro",)
    assert tokens("Positive Tehnologies") == ("positive", "technology")
    assert tokens("Limitless Organziation") == ("limitless", "organziation")  # not a generic word: left to the matcher


_ASCII_NAME = st.text(alphabet="abcxyzAOS.,'`&-_/()0 \t\x1c", max_size=30) | st.sampled_from([
    "S.A. de C.V.", "O'Brien & Sons Co.,Ltd.", "A.B.C.D.E", "x.y .z.", "Hi-Tech.Co", "'s.a.", "l.l.c.&co",
])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ASCII_NAME)
def test_an_ascii_name_reads_alike_a_part_at_a_time_and_whole(name):
    """A new ASCII name is read one space-separated part at a time, the parts cached: the same words as
    reading the whole name at once."""
    assert [w for part in name.split() for w in normalize_module._read_part(part)] == normalize_module._read(name)
