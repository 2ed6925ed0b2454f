"""Spellings that once screened a listed party as "no match" (issue 7), on the real imported lists."""
from __future__ import annotations

import random
import re

import pytest
from conftest import order

from controls import Decision
from controls.lists.store import ListStore
from controls.screening.normalize import key_tokens

HUAWEI = "Huawei Technologies Co., Ltd."
# Cyrillic and Greek letters drawn like Latin ones: every letter that has one is swapped.
LOOK_ALIKES = str.maketrans({
    "a": "\u0430", "c": "\u0441", "e": "\u0435", "o": "\u043e", "p": "\u0440", "x": "\u0445", "y": "\u0443",
    "i": "\u0456", "j": "\u0458", "s": "\u0455", "A": "\u0410", "B": "\u0412", "C": "\u0421", "E": "\u0415",
    "H": "\u041d", "I": "\u0406", "K": "\u041a", "M": "\u041c", "N": "\u039d", "O": "\u041e", "P": "\u0420",
    "S": "\u0405", "T": "\u0422", "X": "\u0425", "Y": "\u03a5", "Z": "\u0396",
})


@pytest.fixture(scope="module")
def entity_list(list_store):
    return ListStore(list_store).screening_lists()["Entity List"]


def sample(entries, n, seed=7, min_words=1):
    names = sorted({e.name for e in entries if len(set(key_tokens(e.name))) >= min_words})
    return random.Random(seed).sample(names, n)


def test_a_listed_name_in_look_alike_letters_is_the_listed_name(engine):
    result = engine.screen("Hu\u0430w\u0435i Technologies Co., Ltd.", country="CN")
    assert result.decision == Decision.LICENSE_REQUIRED
    assert result.matches[0].entry == HUAWEI and result.matches[0].strength == "strong"


def test_no_look_alike_spelling_of_an_entity_list_name_is_clear(engine, entity_list):
    spoofed = [name.translate(LOOK_ALIKES) for name in sample(entity_list, 150)]
    clear = [name for name in spoofed if engine.screen(name).decision == Decision.NLR]
    assert not clear


def test_a_listed_name_with_a_department_added_is_a_possible_match(engine):
    result = engine.screen(f"{HUAWEI} Procurement Department", country="CN")
    assert result.decision == Decision.HOLD
    assert any(m.entry == HUAWEI and m.strength == "possible" for m in result.matches)


@pytest.mark.parametrize("added", ["Purchasing Department", "Zorvika", "Moscow Office Kelidu"])
def test_listed_names_of_several_words_with_words_added_are_never_clear(engine, entity_list, added):
    queries = [f"{name} {added}" for name in sample(entity_list, 100, min_words=2)]
    clear = [q for q in queries if engine.screen(q).decision == Decision.NLR]
    assert not clear


def test_a_listed_name_of_two_words_inside_a_longer_name_is_found(engine):
    result = engine.screen("Khalil Zadran Company Purchasing Department")  # listed as "Khalil Zadran Company"
    assert result.decision == Decision.HOLD
    assert {m.entry for m in result.matches} >= {"Khalil Zadran Company"}


@pytest.mark.parametrize("name", ["Siemens AG Purchasing Department", "Toyota Motor Corporation Procurement Office",
                                  "Nestle S.A. Zorvika"])
def test_unrelated_companies_with_words_added_stay_clear(engine, name):
    assert engine.screen(name).decision == Decision.NLR


def order_with(name, country="CN"):
    return {"id": "T-1", "date": "2026-11-28", "export_from": "US", "destination": country,
            "parties": [{"role": "end_user", "name": name, "country": country}],
            "items": [{"sku": "X-1", "quantity": 1, "origin": "US", "eccn": "EAR99"}]}


UNSCREENABLE = ["-", "N/A", "???", "\u200b", "Co., Ltd.", "TBD", "n.a."]


@pytest.mark.parametrize("name", UNSCREENABLE)
def test_a_name_that_names_no_one_is_hold_in_checks(engine, name):
    result = engine.check(order_with(name))
    assert result.decision == Decision.HOLD
    assert "screening.name-unscreenable" in {f.rule for f in result.findings}


@pytest.mark.parametrize("name", UNSCREENABLE)
def test_a_name_that_names_no_one_is_hold_when_screened(engine, name):
    result = engine.screen(name, country="CN")
    assert result.decision == Decision.HOLD
    assert any("screening.name-unscreenable" in w for w in result.warnings)


def test_an_empty_name_is_bad_input_not_a_screening(engine):
    from controls.errors import InputError

    with pytest.raises(InputError, match="name"):
        engine.screen("  ")


@pytest.fixture(scope="module")
def ecfr_only_engine(tmp_path_factory):
    """A store holding only the eCFR import: the Treasury and State lists (and the DPL) are missing."""
    from conftest import ECFR_FILE

    from controls import Engine

    path = tmp_path_factory.mktemp("ecfr-only")
    ListStore(path).import_file(ECFR_FILE)
    return Engine.load(lists=path)


def test_a_missing_list_holds_every_party(ecfr_only_engine, list_store):
    denied = ListStore(list_store).screening_lists()["Denied Persons List"][0]
    for name, country in ((denied.name, "DE"), ("Siemens AG", "DE")):
        result = ecfr_only_engine.check(order_with(name, country))
        assert result.decision == Decision.HOLD
        missing = next(f for f in result.findings if f.rule == "screening.list-missing")
        assert any("denied-persons-list" in b and "specially-designated-nationals" in b for b in missing.because)


def test_a_missing_list_holds_a_screened_name(ecfr_only_engine):
    result = ecfr_only_engine.screen("Siemens AG", country="DE")
    assert result.decision == Decision.HOLD
    assert any("screening.list-missing" in w and "denied-persons-list" in w for w in result.warnings)


def test_a_missing_list_does_not_hide_a_listed_party(ecfr_only_engine):
    assert ecfr_only_engine.check(order_with(HUAWEI)).decision == Decision.LICENSE_REQUIRED


def test_with_every_list_imported_nothing_is_missing(engine):
    result = engine.check(order_with("Siemens AG", "DE"))
    assert result.decision == Decision.NLR
    assert "screening.list-missing" not in {f.rule for f in result.findings}


# ----------------------------------------------------------- names only legal forms, one letter, hidden characters

LEGAL_FORMS_ONLY = ["AG", "S.A.", "K.K.", "ЗАО", "株式会社", "주식회사", "Co", "有限公司", "Ltd", "有限責任公司",
                    "S.A. de C.V.", "GmbH & Co. KG", "OOO", "B.V."]


@pytest.mark.parametrize("country", [None, "DE", "CN"])
@pytest.mark.parametrize("name", [*LEGAL_FORMS_ONLY, "A", "7"])
def test_a_name_of_legal_forms_or_one_letter_is_hold_whatever_the_country(engine, name, country):
    """A name that is only a legal form, in any script the table covers, or one letter, names no one: it was
    cleared ("AG", "S.A.", "ЗАО", "株式会社"; "A" where its one weak match's country differed)."""
    if country:  # an order's party has a country
        result = engine.check(order_with(name, country))
        assert result.decision == Decision.HOLD
        assert "screening.name-unscreenable" in {f.rule for f in result.findings}
    screened = engine.screen(name, country=country)
    assert screened.decision == Decision.HOLD
    assert any("screening.name-unscreenable" in w for w in screened.warnings)


@pytest.mark.parametrize("name", ["Siemens AG", "Bayer AG", "Nestle S.A.", "Renault S.A.", "Toyota Motor Corporation",
                                  "Samsung Electronics 주식회사", "Sony Group Kabushiki Kaisha", "3M Company"])
def test_names_with_a_legal_form_and_a_name_are_screened_and_clear(engine, name):
    result = engine.check(order_with(name, "DE"))
    assert result.decision == Decision.NLR
    assert "screening.name-unscreenable" not in {f.rule for f in result.findings}


# format characters (category Cf) and the Hangul filler, which show no glyph
INVISIBLE = ["\u200b", "\u00ad", "\u2060", "\u200c", "\u200d", "\u180e", "\ufeff", "\u202e", "\u3164"]


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_a_listed_name_with_an_invisible_character_between_or_inside_words_is_matched(engine, char):
    for name in (f"Huawei{char}Technologies", f"Hua{char}wei Tech{char}nologies Co., Ltd.",
                 f"Huawei{char}Technologies{char}Co.,{char}Ltd."):
        result = engine.screen(name, country="CN")
        assert result.decision == Decision.LICENSE_REQUIRED, name
        assert result.matches[0].entry == HUAWEI and result.matches[0].strength == "strong", name


def test_no_entity_list_name_with_zero_width_spaces_between_its_words_is_clear(engine, entity_list):
    hidden = [name.replace(" ", "\u200b") for name in sample(entity_list, 100, min_words=2)]
    assert not [name for name in hidden if engine.screen(name).decision == Decision.NLR]


@pytest.mark.parametrize("name", ["HuaweiTechnologies", "HUAWEITECHNOLOGIESCOLTD", "huaweitechnologies co ltd",
                                  "HuaweiTechnologies Shenzhen Branch"])
def test_a_listed_name_with_its_words_run_together_is_matched(engine, name):
    result = engine.screen(name, country="CN", explain=True)
    assert result.decision in (Decision.LICENSE_REQUIRED, Decision.HOLD)
    assert any(m.entry == HUAWEI for m in result.matches)
    assert any("words run together" in line for line in result.explanation)


def test_a_listed_name_run_together_is_a_strong_match(engine):
    result = engine.screen("HuaweiTechnologies", country="CN")
    assert result.decision == Decision.LICENSE_REQUIRED
    assert result.matches[0].strength == "strong" and result.matches[0].score <= 0.97  # as spacing, never exact


def test_entity_list_names_with_their_spaces_removed_are_mostly_found(engine, entity_list):
    """Not all yet (4 of these 100 stay clear, 7 before a piece could be the listed name's words run together;
    the bench found 63 % of such names before words run together were read): a word of one or two letters run
    in with others ("BeijingTi-Tech", "TradingL.L.C.", "afterA.E.") is no piece a run-together word is split
    into (RUN_MIN_PIECE), nor is a word read as another only by its spelling ("Electronica")."""
    joined = [name.replace(" ", "") for name in sample(entity_list, 100, min_words=2)]
    clear = [name for name in joined if engine.screen(name).decision == Decision.NLR]
    assert len(clear) <= 4, clear


@pytest.mark.parametrize("name, listed", [
    # the fewest pieces, "northwestern", is one word; the listed name has two
    ("JointStockCompanyNorthWesternRegionalCenterofAlmazAnteyConcernObukhovskyPlant", "Joint Stock Company North"),
    # "loans mall" and "loan small" split alike: the commoner words are read
    ("ShenzhenHuayiLoanSmallLoanCo.,Ltd.", "Shenzhen Huayi Loan Small Loan"),
    # 70 letters, longer than a word was tried before
    ("FederalStateUnitaryEnterpriseStateResearchandProductionEnterpriseBazalt", "Federal State Unitary Enterprise")])
def test_a_listed_name_run_together_is_found_however_its_pieces_could_be_cut(engine, name, listed):
    result = engine.screen(name)
    assert result.decision != Decision.NLR and any(m.entry.startswith(listed) for m in result.matches)


@pytest.mark.parametrize("name", ["AppliedMaterials", "TexasInstruments", "SiemensHealthineers", "Bluestar Trading",
                                  "Starlink Services", "GeneralElectric", "Microsoft\u200bCorporation",
                                  "Robert\u00adBosch GmbH", "Westinghouse Electric"])
def test_unrelated_names_run_together_or_with_invisible_characters_stay_clear(engine, name):
    assert engine.screen(name, country="DE").decision == Decision.NLR


@pytest.mark.parametrize("name, script", [
    ("조선광선은행", "HANGUL"), ("هواوي للتكنولوجيا", "ARABIC"), ("ファーウェイ", "KATAKANA"), ("הואווי", "HEBREW"),
    ("Χουαγουέι Τεχνολογίες", "GREEK"), ("Samsung 삼성전자", "HANGUL"),
    # were cleared as "screened": their legal forms are read, their names are not
    ("トヨタ自動車株式会社", "KATAKANA"), ("삼성전자 주식회사", "HANGUL"),
    # in ASCII, escaped: read as the Hangul it stands for (the script was judged on the text as given)
    ("\\uc870\\uc120\\uad11\\uc120\\uc740\\ud589", "HANGUL"),
])
def test_a_name_in_a_script_screening_does_not_read_is_held_not_cleared(engine, name, script):
    """The lists spell names in Latin letters; a word of a script screening neither reads nor transliterates
    matched nothing, and the party was cleared (NLR) whoever it named ("조선광선은행" is Korea Kwangson
    Banking Corp, on the SDN list)."""
    from controls.screening.normalize import unread_scripts

    assert script in unread_scripts(name)
    result = engine.check(order("US", eccn="EAR99", parties=[{"role": "end_user", "name": name, "country": "KR"}]))
    assert result.decision == Decision.HOLD
    assert any(f.rule == "screening.name-unscreenable" for f in result.findings)


def test_scripts_screening_reads_stay_screenable_and_a_latin_name_beside_another_script_is_matched(engine):
    """Latin letters NFKD leaves whole (þ, ð, ŋ) and apostrophes written as modifier letters (Saʿid, Huaweiʼ)
    are read; Cyrillic and Chinese characters are transliterated; a listed name written beside a word of an
    unread script is still found, and the match decides."""
    from controls.screening.normalize import screenable, tokens

    assert tokens("Þór Guðrún Saʿid Huaweiʼ") == ("thor", "gudrun", "said", "huawei")
    for name in ("Þór Guðrún", "ООО Техприбор", "华为技术有限公司", "Ｈｕａｗｅｉ", "Samsung Electronics 주식회사"):
        assert screenable(name), name
    parties = [{"role": "end_user", "name": "Korea Kwangson Banking Corp 조선광선은행", "country": "KP"}]
    assert engine.check(order("KP", eccn="EAR99", parties=parties)).decision == Decision.PROHIBITED


@pytest.mark.parametrize("traditional, simplified", [("華為技術有限公司", "华为技术有限公司"),
                                                     ("中芯國際集成電路製造有限公司", "中芯国际集成电路制造有限公司"),
                                                     ("海康威視數字技術股份有限公司", "海康威视数字技术股份有限公司")])
def test_a_name_in_traditional_characters_is_read_as_in_simplified(engine, traditional, simplified):
    """Customers in Taiwan and Hong Kong write traditional characters; the glossary is in simplified ones, so
    華為技術 was read as one pinyin word ("huaweijishu") and Huawei Technologies Co., Ltd. cleared."""
    from controls.screening.normalize import tokens

    assert tokens(traditional) == tokens(simplified)
    assert engine.screen(traditional).decision == engine.screen(simplified).decision != Decision.NLR


@pytest.mark.parametrize("name", ["🅷🆄🅰🆆🅴🅸 Technologies Co., Ltd.", "ʜᴜᴀᴡᴇɪ ᴛᴇᴄʜɴᴏʟᴏɢɪᴇꜱ Co., Ltd.",
                                  "🇭🇺🇦🇼🇪🇮 Technologies Co., Ltd.", "Huɐwei Technologies Co., Ltd."],
                         ids=["negative squared", "small capitals", "regional indicators", "turned a"])
def test_latin_letters_drawn_as_other_characters_are_the_letters(engine, name):
    """Characters Unicode names as Latin letters drawn another way, which NFKD leaves whole: negative squared
    letters (symbols) were dropped and small capitals kept as they are, and the listed name cleared."""
    result = engine.screen(name)
    assert result.decision == Decision.LICENSE_REQUIRED and result.matches[0].entry == HUAWEI


@pytest.mark.parametrize("name", ["Hu@wei Technologies Co., Ltd.", "Huawei%20Technologies%20Co.,%20Ltd.",
                                  "Hua\\u0077ei Technologies Co., Ltd.", "Huawei&#32;Technologies&nbsp;Co., Ltd.",
                                  "Hu&#97;wei Technologies Co., Ltd."],
                         ids=["at sign", "URL escapes", "JSON escape", "HTML entities", "HTML letter"])
def test_a_listed_name_behind_an_escape_or_a_sign_is_the_listed_name(engine, name):
    """What an integration's escaping leaves in a name, and @ for a, hid the listed name: 'Hu@wei' and
    'Huawei%20Technologies' screened as no match."""
    result = engine.screen(name)
    assert result.decision == Decision.LICENSE_REQUIRED and result.matches[0].entry == HUAWEI


@pytest.mark.parametrize("name, words", [("AT&T Inc.", ("at", "and", "t")), ("100% Pure Trading", ("100", "pure", "trading")),
                                         ("Procter & Gamble", ("procter", "and", "gamble"))])
def test_names_with_signs_of_their_own_read_as_before(name, words):
    from controls.screening.normalize import tokens

    assert tokens(name) == words


@pytest.mark.parametrize("name", ["Acme Logistics c/o Huawei Technologies Co., Ltd.",
                                  "Acme Logistics, attn: Huawei Technologies Co., Ltd.",
                                  "Acme Logistics on behalf of Huawei Technologies Co., Ltd.",
                                  "ACME LOGISTICS O/B/O HUAWEI TECHNOLOGIES CO LTD"])
def test_a_listed_party_named_as_the_one_an_intermediary_acts_for_is_matched(engine, name):
    """Words in front of a listed name make another name, and are not matched ("Hon Hai" Precision); but a
    name that says it is one party acting for another names both: "Acme Logistics c/o Huawei Technologies
    Co., Ltd." screened as no match."""
    result = engine.screen(name)
    assert result.decision == Decision.LICENSE_REQUIRED and result.matches[0].entry == HUAWEI


@pytest.mark.parametrize("name", ["\u202e.dtL ,.oC seigolonhceT iewauH", "Huawei \u202eseigolonhceT\u202c Co., Ltd."],
                         ids=["whole name", "one word"])
def test_a_name_reversed_behind_a_right_to_left_override_is_read_as_shown(engine, name):
    """U+202E shows the characters after it reversed: a name stored as '\u202e.dtL ,.oC seigolonhceT iewauH'
    reads 'Huawei Technologies Co., Ltd.' on every screen, and screened as no match."""
    from controls.screening.normalize import as_displayed

    assert "Huawei Technologies" in as_displayed(name)
    result = engine.screen(name)
    assert result.decision == Decision.LICENSE_REQUIRED and result.matches[0].entry == HUAWEI


@pytest.mark.parametrize("name, listed", [
    ("Huuaawwei Technologies Co., Ltd.", HUAWEI), ("Huawei Teechhnooloogiiess Co., Ltd.", HUAWEI),
    ("HUUAWEIII TECHNOLOGIES", HUAWEI), ("Hhikkvission Digital Technology", "Hangzhou Hikvision Digital Technology"),
    ("SSeemmiiccoonndduuccttoorr Manufacturing International Corporation", "Semiconductor Manufacturing")])
def test_a_listed_name_with_letters_written_twice_or_more_is_a_possible_match(engine, name, listed):
    """One doubled letter is one edit, which fuzzy look-up finds; three ("Huuaawwei") screened as no match.
    Read with its runs of letters as a listed word has them, the name is for a person to judge, as a misspelt
    one is: a possible match, never a strong one."""
    result = engine.screen(name, explain=True)
    assert result.decision == Decision.HOLD
    assert result.matches[0].entry.startswith(listed) and result.matches[0].strength == "possible"
    assert any("letters written twice or more" in line for line in result.explanation)


def test_no_entity_list_name_with_letters_of_its_longest_word_doubled_is_clear(engine, entity_list):
    """Every other letter of the name's longest word written twice ("Huuawweii"), where that word has six
    letters or more: three letters doubled at least (UNDOUBLED_MIN_DROPPED; names double one or two letters by
    themselves: Ammann, Colletta)."""
    def doubled(name: str) -> str:
        word = max(re.findall(r"[^\W\d_]+", name), key=len)
        return name.replace(word, "".join(c * (1 + k % 2) for k, c in enumerate(word)), 1)

    names = [n for n in sample(entity_list, 150) if len(max(re.findall(r"[^\W\d_]+", n) or [""], key=len)) >= 6]
    assert not [doubled(name) for name in names if engine.screen(doubled(name)).decision == Decision.NLR]


@pytest.mark.parametrize("name", ["Moog Inc.", "Booz Allen Hamilton", "Google LLC", "Illumina Inc.", "Kellogg Company",
                                  "Cummins Inc.", "Hoffmann-La Roche", "Parker Hannifin", "Merrill Lynch",
                                  "Ammann Group", "Allemann AG", "Colletta Srl", "Herrmann GmbH", "MMM Group"])
def test_unrelated_names_with_doubled_letters_stay_clear(engine, name):
    assert engine.screen(name, country="US").decision == Decision.NLR


@pytest.mark.parametrize("name", ["JointStock Company Rosoboronexport", "Rosoboronexport JointStockCompany",
                                  "RosoboronexportOJSC",
                                  "LimitedLiability Company Concord Management and Consulting"])
def test_a_legal_form_run_together_leaves_the_listed_name_a_strong_match(engine, name):
    """A run-together word of legal forms only ("JointStock") adds no word the listed name lacks."""
    result = engine.screen(name)
    assert result.decision == Decision.PROHIBITED and result.matches[0].strength == "strong"


@pytest.mark.parametrize("word", ["Albright", "Laderas", "Sabana", "Sekala", "Bellaco", "Patriotas", "Abrira", "Agoura",
                                  "Alcira", "Solidas", "Negarse", "Abidal"])
def test_an_ordinary_word_read_as_a_short_listed_name_run_together_is_never_a_strong_match(engine, word):
    """Such words were read as a stopword or legal form around a listed name or acronym and blocked: "Albright"
    as al + BRIGHT, "Laderas" as la + de + RAS, "Sabana" as S.A.B. + ANA, "Bellaco" as BELLA + co, "Patriotas"
    as PATRIOT + AS.  A legal form that is also a syllable is never a piece; a split that starts or ends with a
    stopword, or whose one listed word is short or stands with a two-letter form, is for a person to judge."""
    assert engine.screen(word).decision in (Decision.NLR, Decision.HOLD)


def test_the_party_an_intermediary_acts_for_is_read_every_way_a_name_is(engine):
    """Each party of a care-of name is screened as a name of its own: with its words run together or its letters
    doubled too (these were read only as written)."""
    assert engine.screen("Acme Logistics c/o HuaweiTechnologies Co Ltd").decision == Decision.LICENSE_REQUIRED
    doubled = engine.screen("Acme Logistics c/o Huuaawwei Technologies")
    assert doubled.decision == Decision.HOLD and doubled.matches[0].entry == HUAWEI


@pytest.mark.parametrize("name", ["0000100234 Huawei Technologies Co., Ltd.", "100234-Huawei Technologies Co., Ltd.",
                                  "[V-100234] Huawei Technologies Co., Ltd.", "Huawei Technologies Co., Ltd. #100234",
                                  "Huawei Technologies Co., Ltd. - Acct 100234"])
def test_an_account_number_beside_a_listed_name_is_read_apart(engine, name):
    """An ERP's vendor or account number in front of the name cleared it (a word no listed name has, in front)."""
    assert engine.screen(name).decision == Decision.LICENSE_REQUIRED


@pytest.mark.parametrize("name", ["Global Parts Trading Ltd dba Huawei Technologies Co., Ltd.",
                                  "Global Parts Trading Ltd t/a Huawei Technologies Co., Ltd.",
                                  "Global Parts Trading Ltd aka Huawei Technologies Co., Ltd.",
                                  "Global Parts Trading Ltd, formerly Huawei Technologies Co., Ltd.",
                                  "Global Parts Trading Ltd / Huawei Technologies Co., Ltd."])
def test_a_listed_name_given_as_another_name_of_the_party_is_matched(engine, name):
    assert engine.screen(name).decision == Decision.LICENSE_REQUIRED


@pytest.mark.parametrize("name", ["<b>Huawei Technologies Co., Ltd.</b>", "Hua<span>wei</span> Technologies Co., Ltd.",
                                  "Huawei%2520Technologies%2520Co.,%2520Ltd.", "Huawei&amp;nbsp;Technologies Co., Ltd.",
                                  "Huawei Technologies Co., Ltd. Huawei Technologies Co., Ltd.",
                                  "Huawei Huawei Technologies Co., Ltd.", "H u a w e i Technologies Co., Ltd.",
                                  "Huawei Technologies Co., Ltd. " * 3])
def test_markup_escapes_of_escapes_a_name_written_twice_and_letters_written_apart_are_read(engine, name):
    assert engine.screen(name).decision == Decision.LICENSE_REQUIRED


@pytest.mark.parametrize("name, listed", [("Hu4wei Technologies Co., Ltd.", "huawei"), ("SM1C", "semiconductor"),
                                          ("R0S0B0R0NEXP0RT", "rosoboronexport"),
                                          ("HUAWEI TECHN0L0GIES C0., LTD.", "huawei"),
                                          ("H!kvision Digital Technology", "hikvision"),
                                          ("R()soboronexport", "rosoboronexport"), ("Huavvei Technologies", "huawei"),
                                          ("lran Electronics lndustries", "iran electronics")])
def test_digits_and_signs_drawn_for_letters_are_read_as_the_letters_for_a_person_to_judge(engine, name, listed):
    result = engine.screen(name)
    assert result.decision == Decision.HOLD and listed in result.matches[0].entry.lower()


@pytest.mark.parametrize("name", ["Iran Electronics Ind.", "IRAN ELECTRONICS INDS", "Korea Kwangson Bkg Corp",
                                  "Semiconductor Manuf. International", "Semicond. Mfg. Int'l Corp."])
def test_words_as_erp_master_data_abbreviates_them_are_read(engine, name):
    assert engine.screen(name).decision in (Decision.LICENSE_REQUIRED, Decision.PROHIBITED)


@pytest.mark.parametrize("name", ["3M Company", "7-Eleven Inc", "Q1 Technologies Ltd", "1-800 Flowers Inc",
                                  "24 Hour Fitness", "AC/DC Power Systems", "Input/Output Solutions Ltd",
                                  "Walla Walla Foods", "Bora Bora Trading Ltd", "Siemens AG dba Siemens Healthineers",
                                  "Huanan Technologies", "Hawaii Technologies", "Smith Microelectronics",
                                  "7103 Group", "Lloyd Bank", "Savvy Ltd", "Yahoo! Inc", "Alloy Inc", "3Com Corporation"])
def test_names_with_numbers_signs_or_repeated_words_of_their_own_stay_clear(engine, name):
    assert engine.screen(name, country="US").decision == Decision.NLR


@pytest.mark.parametrize("name", ["Global Parts Trading Ltd (Huawei Technologies Co., Ltd.)",
                                  "Global Parts Trading Ltd & Huawei Technologies Co., Ltd.",
                                  "Global Parts Trading Ltd for Huawei Technologies Co., Ltd.",
                                  "Global Parts Trading Ltd and Huawei Technologies Co., Ltd.",
                                  "Beijing Sensetime Technology Develo", "Hangzhou Hikvision Digital Tec"])
def test_a_listed_name_in_brackets_after_another_company_or_cut_off_by_a_field_is_held(engine, name):
    """A second company in brackets, or after a legal form and "&" or "for", and a name cut off by an ERP's name
    field (SAP's NAME1 holds 35 characters) cleared; each part, and the name less its cut word, is read for a person
    to judge."""
    assert engine.screen(name).decision == Decision.HOLD


@pytest.mark.parametrize("name", ["Procter & Gamble", "Johnson & Johnson Services Inc", "Center for Strategic Studies",
                                  "Apple Computer Trading (Shanghai) Co., Ltd.", "Procter and Gamble Co",
                                  "Marks and Spencer Group plc", "Ernst and Young LLP", "Smith Ltd and Sons"])
def test_names_with_ampersands_for_or_brackets_of_their_own_stay_clear(engine, name):
    assert engine.screen(name, country="US").decision == Decision.NLR


def test_a_name_padded_as_a_fixed_width_field_is_the_name(engine):
    """Trailing spaces (an ERP's fixed-width field) once made the account-number reading backtrack for a minute."""
    padded = engine.screen("Huawei Technologies Co., Ltd." + " " * 2000 + "\t")
    assert padded.decision == Decision.LICENSE_REQUIRED
    assert engine.screen("(" * 2000 + "Huawei Technologies Co., Ltd." + ")" * 2000).decision != Decision.NLR


@pytest.mark.parametrize("name", ["Abdullah Abdullah", "Tom Tom", "John Smith dba Sunrise", "Acme Holdings aka Superior",
                                  "Sunrise / Sunset Travel"])
def test_a_reading_that_leaves_one_word_is_never_a_strong_match(engine, name):
    """One word left of a name read apart meets one-word listed names (ABDULLAH, SUNRISE, TOM) too easily."""
    assert engine.screen(name).decision in (Decision.NLR, Decision.HOLD)


@pytest.mark.parametrize("name", ["Horizon 2020", "Rainbow 2000", "Inter 1908", "lg electronics inc",
                                  "Agricultural Bank of China Limited NY"])
def test_a_year_a_name_typed_in_lower_case_and_a_closing_abbreviation_are_read_as_written(engine, name):
    assert engine.screen(name, country="US").decision == Decision.NLR


@pytest.mark.parametrize("name", ["<Huawei Technologies Co Ltd>", "Hua<!-- x -->wei Technologies Co., Ltd."])
def test_a_name_in_angle_brackets_is_no_tag_and_a_comment_is_read_as_nothing(engine, name):
    assert engine.screen(name).decision == Decision.LICENSE_REQUIRED


@pytest.mark.parametrize("name", ["ZAOSparta", "PAOZVEZDA", "Huuaawei Technologies", "Hikkvission Digital Technology"])
def test_a_legal_form_glued_to_a_listed_name_and_two_seldom_doubled_letters_are_held(engine, name):
    assert engine.screen(name).decision == Decision.HOLD
