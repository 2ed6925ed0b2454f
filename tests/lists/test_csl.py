"""The CSL importer against ITA's real consolidated.csv (snapshot of ~April 2022)."""
from __future__ import annotations

import datetime as dt
import gzip

import pytest

from controls.errors import ListDataError
from controls.lists import parse_csl
from controls.lists.csl import SOURCES, footnotes_in, list_name_for

from .conftest import find

D = dt.date

README_ROWS_PER_SOURCE = {
    "Specially Designated Nationals (SDN) - Treasury Department": 10026,
    "Entity List (EL) - Bureau of Industry and Security": 2001,
    "ITAR Debarred (DTC) - State Department": 727,
    "Denied Persons List (DPL) - Bureau of Industry and Security": 462,
    "Sectoral Sanctions Identifications List (SSI) - Treasury Department": 290,
    "Unverified List (UVL) - Bureau of Industry and Security": 201,
    "Nonproliferation Sanctions (ISN) - State Department": 163,
    "Palestinian Legislative Council List (PLC) - Treasury Department": 78,
    "Military End User (MEU) List - Bureau of Industry and Security": 71,
    "Non-SDN Chinese Military-Industrial Complex Companies List (CMIC) - Treasury Department": 68,
    "Capta List (CAP) - Treasury Department": 53,
    "Non-SDN Menu-Based Sanctions List (NS-MBS List) - Treasury Department": 17,
    "Foreign Sanctions Evaders (FSE) - Treasury Department": 3,
}


def test_per_source_counts_match_the_readme(csl_lists):
    expected = {list_name_for(source): rows for source, rows in README_ROWS_PER_SOURCE.items()}
    assert {name: len(entries) for name, entries in csl_lists.items()} == expected
    assert sum(len(entries) for entries in csl_lists.values()) == 14160


def test_short_list_names(csl_lists):
    assert set(csl_lists) == set(SOURCES.values())
    assert {"Entity List", "Denied Persons List", "Specially Designated Nationals", "Unverified List",
            "Military End-User List", "Nonproliferation Sanctions", "ITAR Debarred",
            "Sectoral Sanctions Identifications"} <= set(csl_lists)


def test_entity_list_row_with_flattened_footnote(csl_lists):
    entry = find(csl_lists["Entity List"], "140 Repair Plant JSC")
    assert entry.entry_id == "EL-BY-140-repair-plant-jsc"
    assert entry.aliases == ("Open Joint Stock Company 140 Repair Plant", "JSC 140 Repair Plant")  # "and " dropped
    assert entry.addresses == ("19 Luysi Chalovskoy St., Borisov, 222512, BY",)
    assert entry.country == "BY"
    assert entry.footnotes == (3,)
    assert entry.license_requirement == ("For all items subject to the EAR. (See §§734.9(g),3 746.8(a)(3), "
                                         "and 744.21(b) of the EAR.)")
    assert entry.license_review_policy == "Policy of denial."
    assert [c.cite for c in entry.fr_citations] == ["87 FR 20299"]
    assert entry.listed_on == D(2022, 4, 7)
    assert "alt_names: Open Joint Stock Company 140 Repair Plant; and JSC 140 Repair Plant" in entry.text


def test_footnote_3_recovered_on_every_734_9_g_row(csl_lists):
    el = csl_lists["Entity List"]
    with_g = [e for e in el if "734.9(g)" in (e.license_requirement or "")]
    assert len(with_g) == 147
    assert all(e.footnotes == (3,) for e in with_g)
    assert sum(1 for e in el if e.footnotes) == 147
    assert footnotes_in("For all items subject to the EAR, see §§ 736.2(b)(3)(vi), and 744.11 of the EAR") == ()


def test_entity_list_aliases_and_huawei(csl_lists):
    el = csl_lists["Entity List"]
    assert sum(1 for e in el if e.aliases) == 926
    assert sum(1 for e in el if "Huawei" in e.name) == 136


def test_malformed_start_dates_become_none(csl_lists):
    el = csl_lists["Entity List"]
    [oriental] = [e for e in el if "start_date: 0017-05-26" in e.text]
    assert oriental.name == "Oriental Engineers" and oriental.listed_on is None
    vniief = find(el, "All-Russian Scientific Research Institute of Experimental Physics (VNIIEF)")
    assert "start_date: 0097-06-30" in vniief.text and vniief.listed_on is None
    assert sum(1 for e in el if "start_date:" not in e.text) == 174
    assert max(e.listed_on for entries in csl_lists.values() for e in entries if e.listed_on) == D(2022, 4, 21)


def test_names_are_stripped(csl_lists):
    [ash] = [e for e in csl_lists["Denied Persons List"] if "name:  I. ASH\n" in e.text]  # leading space
    assert ash.name == "I. ASH"
    assert all(e.name == e.name.strip() for entries in csl_lists.values() for e in entries)
    assert ash.country == "US"
    assert [(c.cite, c.date) for c in ash.fr_citations] == [
        ("68 FR 38290", D(2003, 6, 27)), ("71 FR 38843", D(2006, 7, 10)), ("72 FR 4236", D(2007, 1, 30))]


def test_ofac_entries_keep_their_entity_number(csl_lists):
    sdn = csl_lists["Specially Designated Nationals"]
    entry = find(sdn, "'ABBAS, Rim")
    assert entry.entry_id == "SDN-21944"
    assert entry.programs == ("SYRIA",)
    assert entry.addresses == ("SY",) and entry.country == "SY"
    multi = find(csl_lists["Capta List"], "BANCO VTB AFRICA SA")
    assert multi.programs == ("UKRAINE-EO13662", "RUSSIA-EO14024")
    assert multi.country == "AO"


def test_country_from_address_suffix(csl_lists):
    el = csl_lists["Entity List"]
    assert find(el, "HiSilicon Technologies Co., Ltd (HiSilicon), Bantian Longgang District").country == "CN"
    hong_kong = [e for e in el if e.addresses and e.addresses[0].endswith(", HK")]
    assert hong_kong and all(e.country == "HK" for e in hong_kong)


def test_state_department_citations(csl_lists):
    entry = find(csl_lists["Nonproliferation Sanctions"], "27th Scientific Center")
    assert [(c.cite, c.date) for c in entry.fr_citations] == [("Vol. 86, No. 71", D(2021, 4, 15))]
    assert entry.programs == ("E.O. 13382",)


def test_ids_unique_within_each_list(csl_lists):
    for entries in csl_lists.values():
        ids = [e.entry_id for e in entries]
        assert len(ids) == len(set(ids))


def test_plain_csv_reads_like_the_gzip(tmp_path, csl_file, csl_lists):
    lines = gzip.decompress(csl_file.read_bytes()).decode("utf-8").splitlines(keepends=True)
    fse = [line for line in lines if "Foreign Sanctions Evaders (FSE)" in line]
    plain = tmp_path / "consolidated.csv"
    plain.write_text(lines[0] + "".join(fse), encoding="utf-8")
    assert parse_csl(plain) == {"Foreign Sanctions Evaders": csl_lists["Foreign Sanctions Evaders"]}


def test_a_file_without_the_csl_columns_is_refused(ecfr_file):
    with pytest.raises(ListDataError, match="not a Consolidated Screening List"):
        parse_csl(ecfr_file)
