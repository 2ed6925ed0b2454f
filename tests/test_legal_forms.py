"""The one table of legal forms (controls/legal_forms.py) and its two readers: screening drops the
forms from names, the eCFR cell parser reads them as the end of a listed name. Both must agree with
the table; the before/after cases are real listed names whose screening the table changed."""
from __future__ import annotations

import re
import sys

import pytest
from conftest import CSL_FILE, ECFR_FILE

from controls.legal_forms import FORMS, LINKS, LegalForm
from controls.lists._cells import split_entity
from controls.lists.csl import parse_csl
from controls.lists.ecfr import parse_part744
from controls.screening import Screener
from controls.screening.normalize import normalize, tokens

normalize_module = sys.modules["controls.screening.normalize"]
NAME = "Acme Rotor"
BARE = tokens(NAME)

_SPELLINGS = [(form, spelling) for form in FORMS for spelling in form.spellings]


def _id(case: tuple[LegalForm, str]) -> str:
    return case[1]


def _han(spelling: str) -> bool:
    return not spelling.isascii() and all("\u4e00" <= c <= "\u9fff" for c in spelling)


@pytest.mark.parametrize("case", [c for c in _SPELLINGS if c[0].only != "lists"], ids=_id)
def test_screening_drops_every_form_where_the_table_says(case):
    form, spelling = case
    if _han(spelling):
        assert tokens(f"华为{spelling}") == tokens("华为")
        return
    assert tokens(f"{NAME} {spelling}") == BARE, "a form ending a name"
    if form.where == "anywhere":
        assert tokens(f"{spelling} {NAME}") == BARE
        assert tokens(f"Acme {spelling} Rotor") == BARE
    elif form.where == "edge" and " " not in spelling:
        assert tokens(f"{spelling} {NAME}") == BARE
        assert tokens(f"Acme {spelling} Rotor") != BARE, "also a syllable: kept inside a name"
    elif form.where == "end":
        assert tokens(f"{spelling} {NAME}") != BARE, "dropped only where it ends a name"


def _spelt_out(spelling: str) -> str | None:
    """"S.A. de C.V." -> "S A de C V", "LLC" -> "L L C"; None for a form written in full."""
    words = [w for w in re.split(r"[.\s]+", spelling) if w]
    if any(len(w) > 4 for w in words if w not in LINKS):
        return None
    return " ".join(w if w in LINKS else " ".join(w) for w in words)


@pytest.mark.parametrize("case", [c for c in _SPELLINGS if c[0].spelt_out and _spelt_out(c[1])], ids=_id)
def test_spelt_out_abbreviations_are_dropped_where_they_end_a_name(case):
    letters = _spelt_out(case[1]).upper()
    assert tokens(f"{NAME} {letters}") == BARE
    assert tokens(f"{letters} {NAME}") != BARE, "single letters are initials anywhere else"


@pytest.mark.parametrize("case", [c for c in _SPELLINGS if c[0].only != "screening"], ids=_id)
def test_the_cell_parser_reads_every_form_as_part_of_the_name(case):
    _, spelling = case
    parts = split_entity(f"{NAME}, {spelling}, No. 5 Kexue Road, Beijing, China.")
    assert parts.name.rstrip(".") == f"{NAME}, {spelling}".rstrip(".")
    assert parts.addresses == ("No. 5 Kexue Road, Beijing, China",)


@pytest.mark.parametrize("spelling", sorted({s for f in FORMS if f.only != "screening" for s in f.spellings
                                             if re.fullmatch(r"[^\W\d_]+\.", s)}))
def test_a_listed_name_keeps_the_period_of_its_abbreviated_form(spelling):
    assert split_entity(f"{NAME} {spelling}, No. 5 Kexue Road, Beijing, China.").name == f"{NAME} {spelling}"


def test_a_form_one_reader_leaves_out_says_why():
    for form in FORMS:
        assert bool(form.only) == bool(form.why), form.spellings


def test_the_screening_tables_do_not_contradict_each_other():
    words, edge = normalize_module._LEGAL_WORDS, normalize_module._LEGAL_SHORT
    assert not words & edge
    assert not words & normalize_module._LEGAL_LINKS and not edge & normalize_module._LEGAL_LINKS


# --------------------------------------------------------------------------- forms left to one reader


@pytest.mark.parametrize("name, kept", [
    ("Milandr EK OOO", "ek"),  # e.K. (German sole trader) is the lists' only: EK is part of this name
    ("EK-30064", "ek"),
    ("E.K.-Ultra Financial Group Limited", "ek"),
    ("Sue Smith", "sue"),  # SUE (state unitary enterprise), a given name
    ("SMITH, Sue", "sue"),
    ("Ou Yang Trading", "ou"),  # OÜ (Estonia) is dropped only where it ends a name
    ("Alphabet International DMCC", "dmcc"),  # the free zone's name is kept as a (rare) word
    ("NPO Splav", "npo"),
])
def test_forms_left_to_the_cell_parser_stay_in_screened_names(name, kept):
    assert kept in tokens(name)


# --------------------------------------------------------------------------- before/after, real lists


@pytest.fixture(scope="module")
def entries():
    return [e for es in (*parse_part744(ECFR_FILE).values(), *parse_csl(CSL_FILE).values()) for e in es]


@pytest.fixture(scope="module")
def screener(entries):
    return Screener(entries)


def _entry(entries, list_name: str, name: str):
    (entry,) = [e for e in entries if e.list == list_name and e.name == name]
    return entry


@pytest.mark.parametrize("name, before, after", [
    # forms the cell parser knew and screening did not
    ("COCINA DE TIJUANA, S. DE R.L. DE C.V.", "cocina de tijuana s de rl", "cocina de tijuana"),
    ("GARANTEX EUROPE OU", "garantex europe ou", "garantex europe"),
    ("PETROM INTERNACIONAL TRADE, S.L.", "petrom international trade sl", "petrom international trade"),
    ("I.C.I.C. KFT.", "icic kft", "icic"),
    ("ZAT NNK", "zat nnk", "nnk"),
    ("FSUE SZ 'MORYE'", "fsue sz morye", "sz morye"),
    ("TSNIIKHM, FGUP", "tsniikhm fgup", "tsniikhm"),
])
def test_listed_names_lose_the_forms_screening_did_not_know(name, before, after):
    assert normalize(name) == after != before


def test_an_abbreviated_form_and_the_form_written_out_read_alike():
    """Entity List prints "FSUE SZ 'Morye'" beside "Federal State Unitary Enterprise SZ Morye"."""
    assert normalize("FSUE SZ 'Morye'") == normalize("Federal State Unitary Enterprise SZ Morye")


def test_a_listed_name_without_its_estonian_form_is_a_strong_match(screener, entries):
    garantex = _entry(entries, "Specially Designated Nationals", "GARANTEX EUROPE OU")
    best = screener.screen("Garantex Europe")[0]  # before: 0.82, possible
    assert best.entry == garantex and best.strength == "strong"


def test_one_party_under_two_legal_forms_is_one_name(screener, entries):
    """DPL lists Petrom as a German GmbH and a Spanish S.L.: before, each found the other as possible (0.85)."""
    gmbh = _entry(entries, "Denied Persons List", "PETROM GMBH INTERNATIONAL TRADE")
    sl = _entry(entries, "Denied Persons List", "PETROM INTERNACIONAL TRADE, S.L.")
    for query, other in ((sl.name, gmbh), (gmbh.name, sl)):
        found = {m.entry: m for m in screener.screen(query, limit=10)}
        assert found[other].strength == "strong"


def test_a_real_company_does_not_meet_a_free_zone_company_by_its_generic_words(screener):
    """Were DMCC dropped, "Alphabet International DMCC" (SDN) would be a possible match for Alphabet Inc."""
    assert screener.screen("Alphabet Inc.") == []


def test_a_korean_form_written_as_one_word_is_a_form(screener):
    """"Jusikhoesa" is "Jusik Hoesa" (주식회사) run together: before, a name with it was a possible match of
    the listed name without it (0.85), and "Jusikhoesa" alone was screened as a name."""
    from controls.screening.normalize import screenable

    [best, *_] = screener.screen("Huawei Technologies Jusikhoesa")
    assert best.entry.name == "Huawei Technologies Co., Ltd." and best.strength == "strong"
    assert tokens("Samsung Yuhanhoesa") == tokens("Samsung Yuhan Hoesa") == tokens("Samsung")
    assert not screenable("Jusikhoesa") and not screenable("Chusikhoesa")


@pytest.mark.parametrize("name", ["Huawei Technologies (주)", "(주) Huawei Technologies", "Huawei Technologies ㈜",
                                  "㈜Huawei Technologies", "Huawei Technologies (유)"])
def test_a_korean_form_abbreviated_in_brackets_is_a_form(screener, name):
    """(주) and ㈜ abbreviate 주식회사, (유) 유한회사: before, a romanised name with one was unscreenable (the one
    Hangul syllable, a script screening does not read) and a listed name with one only a possible match."""
    from controls.screening.normalize import screenable

    assert screenable(name) and tokens(name) == tokens("Huawei Technologies")
    [best, *_] = screener.screen(name)
    assert best.entry.name == "Huawei Technologies Co., Ltd." and best.strength == "strong"
    assert not screenable("(주)") and not screenable("㈜")
