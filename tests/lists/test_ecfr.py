"""The eCFR part 744 importer against the real 2026-07-23 file (counts from shared/data/README.md)."""
from __future__ import annotations

import collections
import datetime as dt
import gzip
import re

import pytest

from controls.errors import ListDataError
from controls.lists import edition_date, iso2
from controls.lists.countries import iso2_or_none

from .conftest import find

D = dt.date


# --------------------------------------------------------------------------- counts

def test_three_lists_with_published_counts(ecfr_lists):
    assert {name: len(entries) for name, entries in ecfr_lists.items()} == {
        "Entity List": 3411, "Unverified List": 186, "Military End-User List": 70}


def test_entity_list_destinations(entity_list):
    by_destination = collections.Counter(e.country_as_printed for e in entity_list)
    assert len(by_destination) == 91
    assert by_destination.most_common(15) == [
        ("CHINA, PEOPLE'S REPUBLIC OF", 1106), ("RUSSIA", 1083), ("UNITED ARAB EMIRATES", 188),
        ("PAKISTAN", 183), ("IRAN", 115), ("TURKEY", 88), ("MALAYSIA", 48), ("UNITED KINGDOM", 46),
        ("SINGAPORE", 38), ("BELARUS", 35), ("AFGHANISTAN", 30), ("CRIMEA REGION OF UKRAINE", 28),
        ("CANADA", 27), ("GERMANY", 23), ("SYRIA", 20)]
    assert all(e.country and len(e.country) == 2 for e in entity_list)


def test_printed_destinations_map_to_iso(entity_list, ecfr_lists):
    codes = {e.country_as_printed: e.country for e in entity_list}
    assert codes["CHINA, PEOPLE'S REPUBLIC OF"] == "CN"
    assert codes["RUSSIA"] == "RU"
    assert codes["TURKEY"] == "TR"
    assert codes["IRAN"] == "IR"
    assert codes["SYRIA"] == "SY"
    assert codes["CRIMEA REGION OF UKRAINE"] == "UA"
    uvl_codes = {e.country_as_printed: e.country for e in ecfr_lists["Unverified List"]}
    assert uvl_codes["TÜRKIYE"] == "TR"


def test_footnote_counts(entity_list):
    counts = collections.Counter(n for e in entity_list for n in e.footnotes)
    assert counts == {1: 130, 2: 130, 3: 775, 4: 96, 5: 16}
    assert sum(1 for e in entity_list if e.footnotes) == 1017
    assert all(1 in e.footnotes for e in entity_list if 2 in e.footnotes)  # FN2 always with FN1
    fn5 = [e for e in entity_list if 5 in e.footnotes]
    assert {e.country for e in fn5} == {"CN"}


def test_footnote_markers_are_not_left_in_the_requirement_text(entity_list):
    huawei = find(entity_list, "Huawei Technologies Co., Ltd.")
    assert huawei.license_requirement == "For all items subject to the EAR, see §§ 734.9(e) and 744.11 of the EAR"


def test_review_policy_kept_verbatim(entity_list):
    policies = collections.Counter(e.license_review_policy for e in entity_list)
    assert policies["Presumption of denial"] == 2158
    assert policies["Policy of denial"] > 0 and policies["Policy of Denial"] > 0  # capitalisation as printed


def test_alias_and_former_name_counts_close_to_readme(entity_list):
    # The README counts 1,976 entries with aliases and 25 with former names; the split is heuristic.
    assert abs(sum(1 for e in entity_list if e.aliases) - 1976) <= 5
    assert abs(sum(1 for e in entity_list if e.former_names) - 25) <= 3


def test_huawei_mentions(entity_list):
    assert sum(1 for e in entity_list if "Huawei" in e.text) == 112
    assert sum(1 for e in entity_list if "Huawei" in e.name) == 109


def test_s2c_limited_is_absent_as_the_editorial_note_says(entity_list):
    assert not [e for e in entity_list if "S2C" in e.text]


# --------------------------------------------------------------------------- FR citations and dates

def test_listing_dates(entity_list):
    assert min(e.listed_on for e in entity_list) == D(1997, 6, 30)
    assert max(e.listed_on for e in entity_list) == D(2025, 10, 9)
    assert max(c.date for e in entity_list for c in e.fr_citations) == D(2025, 11, 12)
    assert all(e.listed_on == min(c.date for c in e.fr_citations if c.date) for e in entity_list)
    assert not [c for e in entity_list for c in e.fr_citations if c.date is None]
    assert not [c for e in entity_list for c in e.fr_citations if "FR FR" in c.cite]


def test_doubled_fr_typo_is_tolerated(entity_list):
    entry = find(entity_list, "Joint Stock Company Research and Production Enterprise Radar MMS")
    assert [(c.cite, c.date) for c in entry.fr_citations] == [("88 FR 12158", D(2023, 2, 27))]


def test_newest_citation_is_90_fr_50859(entity_list):
    newest = [e for e in entity_list if any(c.cite == "90 FR 50859" for c in e.fr_citations)]
    assert newest and all(c.date == D(2025, 11, 12) for e in newest for c in e.fr_citations
                          if c.cite == "90 FR 50859")


def test_unverified_list_spells_dates_out(ecfr_lists):
    entry = find(ecfr_lists["Unverified List"], "Atlas Sanatgaran")
    assert entry.country == "AM"
    assert [(c.cite, c.date) for c in entry.fr_citations] == [("85 FR 64017", D(2020, 10, 9))]
    assert entry.listed_on == D(2020, 10, 9)
    assert entry.addresses == ("Komitas 26/114, Yerevan, Armenia",)
    assert entry.license_requirement is None and entry.footnotes == ()


def test_edition_date_unknown_when_the_file_carries_none(ecfr_file):
    assert b"_SUBSTITUTE_DATE_" in gzip.decompress(ecfr_file.read_bytes())[:2000]
    assert edition_date(ecfr_file) is None


# --------------------------------------------------------------------------- sample entries

def test_huawei_technologies(entity_list):
    huawei = find(entity_list, "Huawei Technologies Co., Ltd.")
    assert huawei.entry_id == "EL-CN-huawei-technologies-co-ltd"
    assert huawei.country == "CN"
    assert huawei.aliases == ("Shenzhen Huawei Technologies", "Huawei Technology")
    assert huawei.footnotes == (1, 2)
    assert huawei.license_review_policy == "Presumption of denial"
    assert huawei.addresses[0] == "Bantian Huawei Base, Longgang District, Shenzhen, 518129, China"
    assert "Tsim Sha Tsui, Kowloon, Hong Kong" in huawei.addresses
    assert huawei.fr_citations[0].cite == "84 FR 22963" and huawei.listed_on == D(2019, 5, 21)
    assert len(huawei.fr_citations) == 10
    # the 22 affiliates are printed in the continuation row; they merge into this entry
    assert "Affiliated entities:" in huawei.text
    for affiliate in ("Huawei Marine Networks Co., Ltd.", "HMN Technologies", "Huawei Terminal (Shenzhen) Co., Ltd.",
                      "Beijing Huawei Longshine", "Zhejiang Huawei Communications Technology Co., Ltd."):
        assert affiliate in huawei.affiliates
    assert "No. 360 Jiangshu Road, Building 5, Hangzhou, Zhejiang, China" in huawei.addresses


def test_smic_with_footnote_5(entity_list):
    smic = find(entity_list, "Semiconductor Manufacturing International Corporation (SMIC)")
    assert smic.footnotes == (5,)
    assert smic.aliases == ("Semiconductor Manufacturing International (Shanghai) Corporation", "SMIC Shanghai",
                            "Semiconductor Mfg International Corp.")
    assert smic.addresses == ("No. 18 Zhang Jiang Road, Pudong New Area, Shanghai 201203, China",)
    assert smic.license_review_policy.startswith("Presumption of denial for all items to include items described")
    assert "734.9(e)(3)" in smic.license_requirement
    beijing = find(entity_list, "Semiconductor Manufacturing International (Beijing) Corporation")
    assert beijing.footnotes == (5,) and beijing.aliases == ("SMIC Beijing",)


def test_russian_entry_with_footnote_3(entity_list):
    entry = find(entity_list, "Joint Stock Company Research and Production Enterprise Radar MMS")
    assert entry.country == "RU" and entry.footnotes == (3,)
    assert entry.aliases == ("AO Nauchno-Proizvodstvennoe Predpriyatie Radar MMS", "JSC Radar MMS",
                             "NPP Radar MMS", "Scientific Production Association Radar MMS JSC")
    assert entry.addresses == ("37A Novoselkovskaya Street, Saint Petersburg, 197375, Russia",)
    assert entry.license_review_policy == "Policy of denial"


def test_address_only_entries(entity_list):
    addresses = [e for e in entity_list if re.fullmatch(r"Address \d\d", e.name)]
    assert len(addresses) == 19
    hong_kong = find(entity_list, "Address 01", "CN")
    assert hong_kong.entry_id == "EL-CN-address-01"
    assert hong_kong.addresses == ("Unit D, 16/F One Capital Place, 18 Luard Rd, Wan Chai, Hong Kong",)
    assert hong_kong.aliases == ()
    assert hong_kong.license_requirement == "For items on the CCL and listed in supplement no. 7 to part 746 of the EAR"
    turkey = find(entity_list, "Address 01", "TR")
    assert turkey.addresses == ("No: 52 Hasat Sk., Kamara Iç Kapi No: 1, Merkez Mah., Sisli, Istanbul, 34381, Turkey",)


def test_em_dash_aliases_and_italic_and_separator(entity_list):
    entry = find(entity_list, "Emal Bilal Construction Company (EBCC)")
    assert entry.aliases == ("Imal Bilal Road Construction Company", "Aimal and Balal Company")
    assert entry.addresses == ("Kolola Pushta, Charahi Gul-e-Surkh, Kabul, Afghanistan",
                               "Maidan Sahr, Hetefaq Market, Paktiya, Afghanistan")


def test_same_person_under_two_destinations(entity_list):
    afghanistan = find(entity_list, "Fazal Rahim Farid", "AF")
    pakistan = find(entity_list, "Fazal Rahim Farid", "PK")
    assert afghanistan.aliases == pakistan.aliases == ("Fazel Rahim Farid", "Farid", "Engineer Idris")
    assert afghanistan.entry_id == "EL-AF-fazal-rahim-farid" and pakistan.entry_id == "EL-PK-fazal-rahim-farid"


def test_former_name_and_typographic_fraction(entity_list):
    entry = find(entity_list, "Zorsecurity Center")
    assert entry.former_names == ("Esage Lab",)
    assert entry.aliases == ("TSOR Security",)
    assert entry.addresses == ("Luzhnetskaya Embankment ²⁄₄, Building 17, Office 444, Moscow 119270, Russia",)


def test_parenthesised_aka_group(entity_list):
    entry = find(entity_list, "Almaz-Antey Air Defense Concern Main System Design Bureau, JSC")
    assert entry.aliases[:2] == ("A.A. Raspletin Main System Design Bureau", "Almaz-Antey GSKB")
    assert "GSKB" in entry.aliases


def test_inline_aka_in_the_unverified_list(ecfr_lists):
    entry = find(ecfr_lists["Unverified List"], "Sur-Link Technology (HK) Ltd.")
    assert entry.aliases == ("Sur-Link International (HK) Ltd.", "Surlink Group")


def test_continuation_rows_merge_into_the_entry_above(entity_list):
    casic = find(entity_list, "China Aerospace Science and Industry Corporation Second Academy")
    assert casic.text.count("Subordinate institution") == 13
    assert "CASIC Second Academy" in casic.aliases
    assert {"23rd Research Institute", "Beijing Institute of Radio Measurement", "699 Factory"} <= set(casic.affiliates)
    assert "50 Yongding Road, Haidian District, Beijing, China" in casic.addresses


def test_parent_and_subsidiary_names_stay_together(entity_list):
    find(entity_list, "Tactical Missile Corporation, Smolensk Aviation Plant")
    find(entity_list, "Academy of Military Medical Sciences, Institute of Basic Medicine")
    find(entity_list, "48th Central Scientific Research Institute, Kirov")


def test_entry_ids_unique_and_readable(ecfr_lists):
    for entries in ecfr_lists.values():
        ids = [e.entry_id for e in entries]
        assert len(set(ids)) == len(ids)
        assert all(re.fullmatch(r"(EL|UVL|MEU)-[A-Z]{2}-[a-z0-9-]+", i) for i in ids)


def test_duplicate_names_are_disambiguated_by_address(entity_list):
    mills = sorted((e for e in entity_list if e.name == "People's Steel Mills"), key=lambda e: e.entry_id)
    assert len(mills) == 2
    assert all(e.entry_id.startswith("EL-PK-people-s-steel-mills-") for e in mills)
    assert {e.addresses for e in mills} == {("Javedan Nagar, Manghopir Road, Karachi 75890, Pakistan",), ("Karachi",)}


def test_verbatim_text_is_kept(entity_list):
    entry = find(entity_list, "Emal Bilal Construction Company (EBCC)")
    assert entry.text == ("Emal Bilal Construction Company (EBCC), a.k.a., the following two aliases:\n"
                          "—Imal Bilal Road Construction Company; and\n—Aimal and Balal Company.\n\n"
                          "Kolola Pushta, Charahi Gul-e-Surkh, Kabul, Afghanistan; and Maidan Sahr, Hetefaq Market, "
                          "Paktiya, Afghanistan.")


# --------------------------------------------------------------------------- MEU list

def test_meu_headings_are_not_entries(ecfr_lists):
    meu = ecfr_lists["Military End-User List"]
    assert {e.country for e in meu} == {"CN"}
    assert not [e for e in meu if e.name.startswith(("Subordinate", "The following"))]
    aecc = [e for e in meu if "subordinate institutions of Aero-Engine Company of China" in e.text]
    avic = [e for e in meu if "subordinate institutions of Aviation Industry Corporation of China" in e.text]
    assert len(aecc) == 8 and len(avic) == 7
    # 70 entities + 2 group headings + 14 "Subordinate institution:" labels = the 86 non-reserved rows
    labels = sum(1 for e in aecc + avic if re.search(r"\nSubordinate instit\w+:\n", e.text))
    assert 70 + 2 + labels == 86
    # AVIC's heading row carries the citation its subordinates share; AECC's carries none
    assert {c.cite for e in avic for c in e.fr_citations} == {"85 FR 83799"}
    assert all(e.listed_on is None for e in aecc)
    find(meu, "AVIC Aircraft Co. Ltd.")


# --------------------------------------------------------------------------- countries and bad files

def test_country_names_and_overrides():
    assert iso2("CHINA, PEOPLE'S REPUBLIC OF") == "CN"
    assert iso2("KOREA, NORTH") == "KP"
    assert iso2("TÜRKIYE") == "TR"
    assert iso2("Burma") == "MM"
    assert iso2("GERMANY") == "DE"
    assert iso2_or_none("XK") == "XK"
    with pytest.raises(ListDataError, match="NOT A COUNTRY"):
        iso2("NOT A COUNTRY", where="file.xml: row 3")


def test_a_file_that_is_not_part_744_is_refused(tmp_path, csl_file):
    from controls.lists import parse_part744

    not_xml = tmp_path / "consolidated.csv.gz"
    not_xml.write_bytes(csl_file.read_bytes())
    with pytest.raises(ListDataError, match="consolidated.csv.gz"):
        parse_part744(not_xml)


def test_footnote_texts_come_from_the_table_foot(ecfr_file):
    from controls.lists.ecfr import footnotes
    notes = footnotes(ecfr_file)
    assert sorted(notes) == [1, 2, 3, 4, 5]
    assert "§ 734.9(e)(2)" in notes[4] and "§ 734.9(e)(3)" in notes[5] and "§ 734.9(g)" in notes[3]


# --------------------------------------------------------------------------- names as listed

# What only an address holds: a P.O. box, a numbered street, a floor or room, a postcode between commas.
_ADDRESS_IN_NAME = re.compile(
    r"P\.?\s?O\.?\s*Box|\b\d+[A-Za-z]?,?\s+(?:[\w'-]+\s+){0,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Boulevard|Blvd|"
    r"Prospekt|Prospect|Ulitsa|Highway)\b|\b(?:Floor|Suite|Room|Flat)\s+\d|\bNo\.\s*\d+,|,\s*\d{5,6}\s*(?:,|$)",
    re.IGNORECASE)


def test_every_name_and_alias_of_the_july_2026_file_is_a_plausible_name(ecfr_lists):
    """No street, P.O. box or postcode in a name, no separator left at either end of one."""
    wrong = [(e.entry_id, n) for entries in ecfr_lists.values() for e in entries
             for n in (e.name, *e.aliases, *e.former_names)
             if _ADDRESS_IN_NAME.search(n) or re.search(r"(?:^|\s)(?:and|or)$|^(?:and|or)\s|^[;,—]|[;,—]$", n)]
    assert wrong == []
    assert all(e.name for entries in ecfr_lists.values() for e in entries)


def test_an_alias_ending_in_or_or_and_keeps_its_last_letters(entity_list):
    """"—Techpribor." is an alias, not "Techprib" followed by the separator "or"."""
    techpribor = find(entity_list, "Concern Radio-Electronic Technologies, Public Joint Stock Company Techpribor")
    assert techpribor.aliases == ("Techpribor",)
    assert "Semiconductor" in find(entity_list, "Yuwei Semiconductor Technology Co., Ltd.").aliases[-1]
    assert not [a for e in entity_list for a in e.aliases if a.endswith(("Semiconduct", "prib"))]


def test_a_dash_inside_a_name_does_not_split_it(entity_list):
    ufa = find(entity_list, "Public Joint Stock Company UEC-Ufa Engine Industrial Association")
    assert "Public Joint Stock Company ODK—Ufim Motor—Building Production Association" in ufa.aliases
    assert "Public Joint" not in ufa.aliases and "Building Production Association" not in ufa.aliases
