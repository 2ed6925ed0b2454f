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
