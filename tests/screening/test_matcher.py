"""Screening against the real eCFR lists (Entity, Unverified, MEU): nothing here is invented.

Queries are real listed names and aliases, spellings of them, Chinese renderings of listed
Chinese parties, and real companies that are on none of the lists.
"""
from __future__ import annotations

import random

import pytest
from conftest import ECFR_FILE

from controls.lists.ecfr import parse_part744
from controls.screening import POSSIBLE, STRONG, Match, Screener
from controls.screening.normalize import key_tokens


@pytest.fixture(scope="module")
def lists():
    return parse_part744(ECFR_FILE)


@pytest.fixture(scope="module")
def entity_list(lists):
    return lists["Entity List"]


@pytest.fixture(scope="module")
def screener(lists):
    return Screener(e for entries in lists.values() for e in entries)


def _top(matches: list[Match]) -> list[Match]:
    """The matches that share the best score (several entries can carry the same name)."""
    return [m for m in matches if matches and m.score == matches[0].score]


def _found(matches: list[Match], entry) -> Match | None:
    return next((m for m in _top(matches) if m.entry == entry), None)


def _sample(entries, n, seed, pred=lambda e: True):
    pool = sorted((e for e in entries if pred(e)), key=lambda e: e.entry_id)
    return random.Random(seed).sample(pool, min(n, len(pool)))


def test_every_alias_of_sampled_entries_finds_its_entry(screener, entity_list):
    entries = _sample(entity_list, 150, seed=7, pred=lambda e: e.aliases)
    missed = []
    for entry in entries:
        for alias in entry.aliases:
            m = _found(screener.screen(alias, limit=50), entry)
            if m is None or m.score < STRONG:
                missed.append((entry.entry_id, alias))
    assert not missed, missed


def test_primary_names_score_one(screener, entity_list):
    for entry in _sample(entity_list, 300, seed=11):
        m = _found(screener.screen(entry.name, limit=50), entry)
        assert m is not None and m.score == 1.0 and m.strength == "strong", entry.name
        assert m.matched_name == entry.name and "name match" in m.reasons


def _variants(name: str) -> list[str]:
    """Spellings a customer might use for a listed name."""
    out = [name.upper(), name.lower(), name.replace(",", "").replace(".", "")]
    for listed, other in (
        ("Co., Ltd.", ""), ("Co., Ltd", "Company Limited"), ("Technologies", "Tech"),
        ("Technology", "Tech."), ("International", "Intl"), ("Limited", "Ltd"),
        ("Corporation", "Corp"), ("LLC", "L.L.C."), ("University", "Univ."),
    ):
        if listed in name:
            out.append(name.replace(listed, other))
    words = key_tokens(name)
    if len(words) > 1:
        out.append(" ".join(reversed(words)).title())
    return out


def test_spelling_variants_of_real_names_match_strongly(screener, entity_list):
    entries = _sample(entity_list, 150, seed=13, pred=lambda e: not e.name.startswith("Address"))
    weak = []
    for entry in entries:
        for variant in _variants(entry.name):
            m = _found(screener.screen(variant, limit=50), entry)
            if m is None or m.strength != "strong":
                weak.append((entry.name, variant, m and m.score))
    assert not weak, "\n".join(map(str, weak))


@pytest.mark.parametrize(
    "han, listed",
    [
        ("华为技术有限公司", "Huawei Technologies Co., Ltd."),
        ("四川大学", "Sichuan University"),
        ("哈尔滨工程大学", "Harbin Engineering University"),
        ("北京航空航天大学", "Beijing University of Aeronautics and Astronautics"),
        ("国防科技大学", "National University of Defense Technology"),
        ("上海微电子装备(集团)股份有限公司", "Shanghai Micro Electronics Equipment"),
        ("长江存储科技有限责任公司", "Yangtze Memory Technologies Co., Ltd"),
        ("上海高性能集成电路设计中心", "Shanghai High-Performance Integrated Circuit Design Center"),
        ("无锡江南计算技术研究所", "Wuxi Jiangnan Institute of Computing Technology"),
    ],
)
def test_chinese_rendering_of_a_listed_name_matches(screener, entity_list, han, listed):
    entries = [e for e in entity_list if e.name.startswith(listed)]
    assert entries, f"{listed!r} is not on the Entity List"
    matches = screener.screen(han, country="CN", limit=10)
    assert matches and matches[0].strength == "strong", matches[:1]
    assert any(m.entry in entries for m in _top(matches)), [m.matched_name for m in matches]


@pytest.mark.parametrize(
    "company",
    [
        "Siemens AG",
        "Toyota Motor Corporation",
        "Nestle S.A.",
        "Samsung Electronics Co., Ltd.",
        "Robert Bosch GmbH",
        "Taiwan Semiconductor Manufacturing Company Limited",
        "Tokyo Electron Limited",
        "ASML Holding N.V.",
        "Infineon Technologies AG",
        "Lenovo Group Limited",
        "Telefonaktiebolaget LM Ericsson",
    ],
)
def test_unrelated_real_companies_do_not_match(screener, lists, company):
    words = set(key_tokens(company))
    listed = [e.name for es in lists.values() for e in es if set(key_tokens(e.name)) == words]
    assert not listed, f"{company} is listed after all: {listed}"
    assert screener.screen(company) == []


def _typo(word: str) -> str:
    """Swap two letters in the middle of a word: a real-looking misspelling."""
    i = len(word) // 2
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def test_a_misspelt_name_is_possible_not_strong(screener, entity_list):
    def eligible(e):
        key = key_tokens(e.name)
        return len(key) >= 2 and max(map(len, key)) >= 7 and not e.name.startswith("Address")

    for entry in _sample(entity_list, 60, seed=17, pred=eligible):
        key = key_tokens(entry.name)
        rare = max(key, key=lambda t: screener.index.weight(t))
        if len(rare) < 7 or _typo(rare) == rare:
            continue
        query = " ".join(_typo(t) if t == rare else t for t in key)
        matches = screener.screen(query, limit=50)
        assert not any(m.strength == "strong" for m in matches if m.entry == entry), query
        m = next((m for m in matches if m.entry == entry), None)
        assert m is None or m.strength == "possible"


def test_one_word_replaced_is_never_strong(screener, entity_list):
    words = sorted({t for e in entity_list for t in key_tokens(e.name) if len(t) > 5})
    rng = random.Random(19)
    for entry in _sample(entity_list, 80, seed=19, pred=lambda e: len(key_tokens(e.name)) >= 3):
        key = list(key_tokens(entry.name))
        key[rng.randrange(len(key))] = rng.choice(words)
        for m in screener.screen(" ".join(key), limit=50):
            if m.entry == entry:
                assert m.strength == "possible", (entry.name, key, m.score)


def test_typo_of_huawei_is_possible(screener):
    matches = screener.screen("Huawey Technologies Co., Ltd.")
    assert matches and all(m.strength == "possible" for m in matches)
    assert matches[0].entry.name.startswith("Huawei Technologies")
    assert "spelling variant" in matches[0].reasons


def test_one_shared_generic_word_is_not_a_match(screener):
    assert screener.screen("Shenzhen Technology Co., Ltd.") == []
    assert screener.screen("Beijing International Trading Co") == []


def test_country_is_supporting_evidence_only(screener):
    name = "Huawei Technologies Co., Ltd."
    same = screener.screen(name, country="CN")[0]
    other = screener.screen(name, country="DE")
    assert "country agrees" in same.reasons and same.score == 1.0
    hit = next(m for m in other if m.entry.name == name)
    assert "country differs" in hit.reasons and hit.strength == "strong"


def test_country_nudges_a_possible_match(screener):
    plain = screener.screen("Huawey Technologies")[0]
    china = screener.screen("Huawey Technologies", country="CN")[0]
    assert china.score > plain.score and china.strength == "possible"


def test_scores_are_bounded_and_sorted(screener):
    matches = screener.screen("Huawei", limit=20)
    assert matches
    assert all(0.0 <= m.score <= 1.0 for m in matches)
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    assert all(m.score >= POSSIBLE for m in matches)


def test_bad_country_code_is_refused(screener):
    with pytest.raises(ValueError):
        screener.screen("Huawei", country="China")


def test_parenthesised_acronym_and_bare_name_match(screener, entity_list):
    nudt = next(e for e in entity_list if e.name == "National University of Defense Technology (NUDT)")
    acronym = screener.screen("NUDT")
    assert acronym[0].entry == nudt and "acronym match" in acronym[0].reasons
    bare = screener.screen("National University of Defense Technology")
    assert bare[0].entry == nudt and bare[0].strength == "strong"
    assert bare[0].matched_name == nudt.name


def test_address_is_supporting_evidence(screener, entity_list):
    huawei = next(e for e in entity_list if e.name == "Huawei Technologies Co., Ltd.")
    plain = next(m for m in screener.screen("Huawey Technologies", limit=50) if m.entry == huawei)
    near = next(
        m
        for m in screener.screen("Huawey Technologies", address=huawei.addresses[0], limit=50)
        if m.entry == huawei
    )
    assert "address agrees" in near.reasons and near.score > plain.score
    assert near.strength == "possible"  # a misspelt name stays for a person to judge


def test_matched_name_is_the_lists_own_spelling(screener):
    for query in ("Huawei Tech", "Sichuan Univ", "NUDT", "Kronshtadt"):
        for m in screener.screen(query, limit=20):
            assert m.matched_name in (m.entry.name, *m.entry.aliases, *m.entry.former_names)


def test_public_names_are_pinned():
    import controls.screening as screening

    assert sorted(screening.__all__) == [
        "Match", "POSSIBLE", "STRONG", "Screener", "normalize", "tokens",
    ]


def test_a_subsidiary_is_found_by_its_own_name(screener):
    """"<parent>, Joint Stock Company <name>": the name alone finds the entry, strong with its country."""
    alone = screener.screen("Avangard")
    assert alone and alone[0].entry.name == "Tactical Missile Corporation, Joint Stock Company Avangard"
    assert alone[0].strength == "possible" and "short form of the listed name" in alone[0].reasons
    assert screener.screen("JSC Avangard", "RU")[0].strength == "strong"
    assert screener.screen("Avangard", "DE")[0].strength == "possible"  # an exact short form stays possible
    techpribor = screener.screen("Techpribor")[0]
    assert techpribor.entry.name.endswith("Public Joint Stock Company Techpribor") and techpribor.score == 1.0


def test_parenthesised_short_forms_are_searchable_and_places_are_not():
    from controls.screening.index import name_variants

    assert ("JSC NICEVT", "short") in name_variants("Scientific Research Center for Electronic Computer Technology (JSC NICEVT)")
    assert ("HiSilicon", "short") in name_variants("Huawei Semiconductor (HiSilicon)")
    for place in ("Foo Electronics (Shanghai) Co., Ltd.", "Foo (Kunshan) Ltd.", "Foo (Pvt.) Ltd.",
                  "Foo (a subsidiary of Bar Corporation)"):
        assert [form for _, form in name_variants(place)] == ["full", "bare"]


@pytest.mark.parametrize("query, listed", [
    ("Kitro Corporaton", "Kitro Corporation"),
    ("United Aircraft Cororation", "United Aircraft Corporation"),
    ("Positive Tehnologies", "Positive Technologies"),
    ("Naura Technology Grup Co., Ltd.", "Naura Technology Group Co., Ltd."),  # a four-letter typo of a five-letter word
    ("Corad Tecnology Limited", "Corad Technology Limited"),
    ("Cwrad Technology Limited", "Corad Technology Limited"),  # one letter in five: rapidfuzz's cutoff was missing it
    ("Zurmat Fondation", "Zurmat Foundation"),  # a typo that is itself a listed word
])
def test_single_typos_are_found(screener, query, listed):
    assert listed in {m.entry.name for m in screener.screen(query)}


@pytest.mark.parametrize("name", ["Intel Corporation", "Tesla, Inc.", "SUMCO Corporation"])
def test_one_word_one_letter_from_a_listed_word_is_another_name(screener, name):
    """"Intel" is not "Inter", "Tesla" not "Tesa": one letter in five makes another word."""
    assert screener.screen(name) == []


@pytest.mark.parametrize("name", ["Wanhua Chemical Group Co., Ltd.", "Hon Hai Precision Industry Co., Ltd."])
def test_words_in_front_of_a_listed_name_make_another_name(screener, name):
    assert screener.screen(name) == []


def test_words_of_place_in_front_of_a_listed_name_do_not(screener):
    assert screener.screen("Shenzhen Huawei Technologies Co., Ltd. Purchasing")[0].entry.name.startswith("Huawei")


@pytest.mark.parametrize("query, listed", [
    ("ПАО Техприбор", "Concern Radio-Electronic Technologies, Public Joint Stock Company Techpribor"),
    ("Позитив Текнолоджиз", "Aktsionernoe Obshchestvo Pozitiv Teknolodzhiz"),
    ("АО Концерн Океанприбор", "Joint Stock Company Concern Okeanpribor"),
    ("Объединенная авиастроительная корпорация", None),  # Russian words, not the English name: not a typo of it
])
def test_names_written_in_cyrillic_are_transliterated(screener, query, listed):
    names = {m.entry.name for m in screener.screen(query)}
    assert listed in names if listed else not any("United Aircraft" in n for n in names)


@pytest.mark.parametrize("query, listed", [
    ("海康威视", "Hangzhou Hikvision Digital Technology Co., Ltd."),
    ("杭州海康威视数字技术股份有限公司", "Hangzhou Hikvision Digital Technology Co., Ltd."),
    ("浙江大华技术股份有限公司", "Dahua Technology"),
    ("中芯国际集成电路制造有限公司", "Semiconductor Manufacturing International Corporation (SMIC)"),
    ("华为技术有限公司", "Huawei Technologies Co., Ltd."),
    ("长江存储科技有限责任公司", "Yangtze Memory Technologies Co., Ltd."),
    ("寒武纪科技股份有限公司", "Cambricon Technologies Corporation Limited"),
])
def test_chinese_brand_names_are_their_english_names(screener, query, listed):
    assert listed in {m.entry.name for m in screener.screen(query)}


@pytest.mark.parametrize("name", [
    "Huawei Technologies Co., Ltd.", "Hangzhou Hikvision Digital Technology Co., Ltd.", "Positive Technologies",
    "Semiconductor Manufacturing International Corporation (SMIC)", "Yangtze Memory Technologies Co., Ltd."])
def test_confusable_and_invisible_characters_match_as_strongly_as_the_plain_name(screener, name):
    plain = screener.screen(name)[0]
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
    for variant in (name.replace("o", "\u043e").replace("e", "\u0435"),  # Cyrillic о, е
                    "\u200b".join(name),  # a zero-width space between every letter
                    "\u202e" + name.replace(" ", " \u200d"),  # bidi override, zero-width joiners
                    fullwidth):
        found = screener.screen(variant)[0]
        assert (found.entry, found.score, found.strength) == (plain.entry, plain.score, plain.strength), variant


def test_the_matcher_digest_covers_the_word_tables(monkeypatch):
    """A changed word table (a legal form, a glossary term) changes the digest, so the cached index
    and every recorded determination tell the old matcher from the new one."""
    import sys

    from controls.screening import logic

    normalize = sys.modules["controls.screening.normalize"]
    before = logic.digest()
    logic.digest.cache_clear()
    monkeypatch.setattr(normalize, "_LEGAL_WORDS", normalize._LEGAL_WORDS | {"newform"})
    try:
        assert logic.digest() != before
    finally:
        logic.digest.cache_clear()
