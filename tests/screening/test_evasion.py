"""Spellings that once screened a listed party as "no match" (issue 7), on the real imported lists."""
from __future__ import annotations

import random

import pytest

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
