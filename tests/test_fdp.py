"""Whether a foreign-made line is subject to the EAR: zero de minimis rules (15 CFR 734.4(a)) and the
foreign-direct-product rules (15 CFR 734.9), on the real engine and rule packs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import fired

from controls import Decision

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("path", sorted(p for p in EXAMPLES.glob("*.yaml") if p.name != "order.yaml"),
                         ids=lambda p: p.stem)
def test_worked_examples_get_the_decision_their_comment_gives(engine, path):
    text = path.read_text()
    expected = re.search(r"^# expect: (\w+)", text, re.M).group(1)
    assert engine.check(yaml.safe_load(text)).decision == Decision(expected)


def foreign(destination="CN", date="2026-11-28", parties=None, **item):
    """A foreign-made line shipped from abroad to an unlisted customer, with no U.S. content."""
    line = {"sku": "F-1", "quantity": 1, "unit_value": 100000, "us_content_value": 0, "origin": "KR"}
    line.update(item)
    if parties is None:
        parties = [{"role": "end_user", "name": "Example Customer Ltd", "country": destination}]
    return {"id": "F-1", "date": date, "export_from": line["origin"], "destination": destination,
            "parties": parties, "items": [line]}


def derived(result):
    return {d.rule for d in result.lines[0].derived}


SME_TOOL = {"eccn": "3B001.c.4", "direct_product_of": [], "plant_direct_product_of": []}


def test_korean_etch_tool_with_5_percent_us_content_to_china_is_no_longer_not_subject(engine):
    result = engine.check(foreign(us_content_value=5000, **SME_TOOL))
    assert result.decision == Decision.HOLD and "ear.734.4.a8.contains-us-ic-unknown" in fired(result)
    assert "contains_us_ic" in next(f.message for f in result.findings
                                    if f.rule == "ear.734.4.a8.contains-us-ic-unknown")


@pytest.mark.parametrize("contains, destination, date, subject", [
    (["3A991"], "CN", "2026-11-28", True),      # U.S.-origin Category 3 IC, to D:5
    (["3A991"], "MO", "2026-11-28", True),      # Macau
    ([], "CN", "2026-11-28", False),            # no U.S.-origin IC
    (["EAR99"], "CN", "2026-11-28", False),     # an EAR99 IC is not specified in Category 3-5
    (["3A991"], "MY", "2026-11-28", False),     # outside Macau and D:5
    (["3A991"], "CN", "2024-12-01", False),     # the day before 89 FR 96790
    (["3A991"], "CN", "2024-12-02", True),
])
def test_zero_de_minimis_a8_for_sme_set_with_a_us_ic(engine, contains, destination, date, subject):
    result = engine.check(foreign(destination=destination, date=date, contains_us_ic=contains, **SME_TOOL))
    assert result.lines[0].subject_to_ear is subject
    assert ("ear.734.4.a8.sme-with-us-ic" in derived(result)) == subject


@pytest.mark.parametrize("end_uses, end_use_country, subject", [
    (["advanced_node_ic_production"], "CN", True),
    (["advanced_node_ic_production"], "DE", False),
    ([], None, False),
])
def test_zero_de_minimis_a9_for_other_3b_equipment_at_an_advanced_node_facility(engine, end_uses, end_use_country,
                                                                               subject):
    txn = foreign(destination="CN", eccn="3B001.e", contains_us_ic=["3A001"], direct_product_of=[],
                  plant_direct_product_of=[])
    txn.update(end_uses=end_uses, **({"end_use_country": end_use_country} if end_use_country else {}))
    result = engine.check(txn)
    assert result.lines[0].subject_to_ear is subject
    assert ("ear.734.4.a9.advanced-node-facility" in derived(result)) == subject


@pytest.mark.parametrize("origin, subject", [("KR", True), ("NL", False), ("JP", False)])
def test_zero_de_minimis_a3_lithography_unless_the_exporting_country_lists_it(engine, origin, subject):
    txn = foreign(destination="CN", origin=origin, eccn="3B993.f.1", direct_product_of=[], plant_direct_product_of=[],
                  contains_us_ic=[])
    txn["end_uses"] = ["advanced_node_ic_production"]
    txn["end_use_country"] = "CN"
    assert ("ear.734.4.a3.lithography" in derived(engine.check(txn))) == subject


@pytest.mark.parametrize("cents, destination, subject", [
    (2500000, "DE", False), (2500001, "DE", True),   # exactly 25 % and just over
    (1000000, "IR", False), (1000001, "IR", True),   # exactly 10 % and just over (E:1)
])
def test_de_minimis_at_and_just_over_the_level(engine, cents, destination, subject):
    result = engine.check(foreign(destination=destination, eccn="EAR99", us_content_value=cents / 100,
                                  direct_product_of=[], plant_direct_product_of=[]))
    assert result.lines[0].subject_to_ear is subject


ACCELERATOR = {"origin": "TW", "eccn": "3A090.a", "plant_direct_product_of": [],
               "chip": {"tpp": 15832, "die_area_mm2": 814, "datacenter": True}}


@pytest.mark.parametrize("destination, date, technology, subject", [
    ("CN", "2026-11-28", ["3E001"], True),
    ("CN", "2026-11-28", ["4D090"], True),       # (h) adds 4D090
    ("CN", "2026-11-28", ["9E001"], False),      # outside the technology list
    ("JP", "2026-11-28", ["3E001"], False),      # A:5: outside the enforced scope
    ("VN", "2026-11-28", ["3E001"], True),       # D:5 from the 2023 rule
    ("VN", "2023-11-16", ["3E001"], False),      # the 2022 rule reached China only
    ("CN", "2022-10-21", ["3E001"], True),
    ("CN", "2022-10-20", ["3E001"], False),
])
def test_advanced_computing_fdp_rule(engine, destination, date, technology, subject):
    result = engine.check(foreign(destination=destination, date=date, direct_product_of=technology, **ACCELERATOR))
    assert result.lines[0].subject_to_ear is subject
    assert ("fdp:734.9(h)" in (result.lines[0].basis or "")) == subject


def test_advanced_computing_fdp_rule_reaches_a_party_headquartered_in_d5(engine):
    party = {"role": "end_user", "name": "Example Cloud Computing Co., Ltd.", "country": "MY",
             "headquarters_country": "CN"}
    result = engine.check(foreign(destination="MY", parties=[party], direct_product_of=["3E001"], **ACCELERATOR))
    assert "ear.734.9.h.headquarters-party" in derived(result)


def test_worldwide_advanced_computing_scope_is_a_warning_only(engine):
    result = engine.check(foreign(destination="JP", direct_product_of=["3E001"], **ACCELERATOR))
    assert result.decision == Decision.NOT_SUBJECT
    assert any("ear.734.9.h.worldwide" in w for w in result.warnings)


def test_several_grounds_are_each_listed(engine):
    result = engine.check(foreign(destination="CN", us_content_value=30000, direct_product_of=["3E001"], **ACCELERATOR))
    assert result.lines[0].basis == "de-minimis, fdp:734.9(h)"
    assert {"ear.734.4.d.above-de-minimis", "ear.734.9.h.destination"} <= derived(result)
    assert "chipgate.conflicting-derivation" not in fired(result)


@pytest.mark.parametrize("technology, plant, destination, subject", [
    (["3E992"], [], "CN", True),        # (k)(1)(i) direct route
    (["3E001"], [], "CN", False),       # 3E001 is in the plant route only
    ([], ["3E001"], "CN", True),        # plant route: 3E001 for 3B commodities
    ([], ["3E991"], "CN", False),       # 3E991 only for 3B991/3B992
    (["3E992"], [], "DE", False),       # outside Macau and D:5
])
def test_sme_fdp_rule(engine, technology, plant, destination, subject):
    result = engine.check(foreign(destination=destination, eccn="3B001.c.4", direct_product_of=technology,
                                  plant_direct_product_of=plant, contains_us_ic=[]))
    assert result.lines[0].subject_to_ear is subject
    assert ("ear.734.9.k.sme" in derived(result)) == subject


def test_sme_fdp_rule_holds_when_the_plant_is_not_given(engine):
    result = engine.check(foreign(eccn="3B001.c.4", direct_product_of=["3E001"], contains_us_ic=[]))
    assert result.decision == Decision.HOLD and "ear.734.9.k.sme.plant-unknown" in fired(result)


@pytest.mark.parametrize("end_use_country, subject", [("CN", True), ("MO", True), ("RU", False)])
def test_supercomputer_fdp_rule_is_china_or_macau(engine, end_use_country, subject):
    txn = foreign(destination="SG", eccn="3A991.a", direct_product_of=["3E001"], plant_direct_product_of=[])
    txn.update(end_uses=["supercomputer"], end_use_country=end_use_country)
    assert ("ear.734.9.i.supercomputer" in derived(engine.check(txn))) == subject


@pytest.mark.parametrize("destination, eccn, subject", [("RU", "3A991.a", True), ("RU", "EAR99", False),
                                                        ("KZ", "3A991.a", False)])
def test_russia_belarus_fdp_rule(engine, destination, eccn, subject):
    result = engine.check(foreign(destination=destination, eccn=eccn, direct_product_of=["3E991"],
                                  plant_direct_product_of=[]))
    assert ("ear.734.9.f.russia-belarus" in derived(result)) == subject


@pytest.mark.parametrize("date, subject", [("2023-02-23", False), ("2023-02-24", True)])
def test_iran_fdp_rule_and_its_date(engine, date, subject):
    result = engine.check(foreign(destination="IR", date=date, eccn="3A991.a", direct_product_of=["3E991"],
                                  plant_direct_product_of=[]))
    assert ("ear.734.9.j.iran" in derived(result)) == subject


def test_national_security_fdp_rule_holds_on_the_written_assurance(engine):
    result = engine.check(foreign(destination="BY", eccn="3A001.a.1", direct_product_of=["3E001"],
                                  plant_direct_product_of=[]))
    assert "ear.734.9.b.national-security.check" in fired(result)


def test_model_weights_fdp_rule_is_codified_not_enforced(engine):
    result = engine.check(foreign(destination="DE", eccn="4E091", direct_product_of=[], plant_direct_product_of=[]))
    assert any("ear.734.9.l.model-weights" in w for w in result.warnings)
