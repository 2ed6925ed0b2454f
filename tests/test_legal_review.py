"""Corrections from the legal review of the advanced-computing, end-use and embargo packs, each
tested on both sides of its condition and date with the real engine and rule packs."""
import pytest
from conftest import chip, fired, order

from controls import Decision


def party(country, headquarters, role="end_user"):
    return {"role": role, "name": "Example Operator", "country": country, "headquarters_country": headquarters}


def finding(result, rule):
    return next(f for f in result.findings if f.rule == rule)


# --- the headquarters test reaches unclassified items ----------------------------------------------

@pytest.mark.parametrize("headquarters, day, held", [
    ("CN", "2026-06-15", True), ("MO", "2026-06-15", True), ("MY", "2026-06-15", False),
    ("CN", "2023-11-16", False), ("CN", "2023-11-17", True),  # the headquarters test began 2023-11-17
])
def test_unclassified_item_for_a_china_headquartered_operator_abroad_is_held(engine, headquarters, day, held):
    result = engine.check(order("MY", date=day, parties=[party("MY", headquarters)]))
    assert result.decision == Decision.HOLD  # unclassified: never cleared (chipgate.unclassified)
    assert ("chipgate.unclassified-advanced-computing.hq" in fired(result)) == held
    if held:
        hold = finding(result, "chipgate.unclassified-advanced-computing.hq")
        assert hold.party == "end_user" and "no ECCN" in hold.message
        assert f"party.headquarters_country = {headquarters} (in macau-or-d5)" in hold.because


def test_unclassified_item_to_china_is_held_once(engine):
    result = engine.check(order("CN", parties=[party("CN", "CN")]))
    assert fired(result) == {"chipgate.unclassified-advanced-computing"}


# --- § 744.23(a)(3)(i)(A): only outside D:1/D:4/D:5 (less A:5/A:6); review per § 744.23(d) -----------

@pytest.mark.parametrize("destination, day, reached", [
    ("MY", "2026-06-15", True),   # in no group
    ("IL", "2026-06-15", True),   # D:4 but A:6
    ("VN", "2026-06-15", False),  # D:1: the RS row decides
    ("AE", "2026-07-09", False),  # D:4 until the UAE rule
    ("AE", "2026-07-10", True),   # A:5 from 2026-07-10
])
def test_b_items_headquarters_test_only_outside_the_group_destinations(engine, destination, day, reached):
    result = engine.check(order(destination, date=day, eccn="3A090.b", parties=[party(destination, "CN")]))
    assert ("ear.744.23.a3.i.a.hq" in fired(result)) == reached
    # inside the groups the RS row requires the licence, and ACA cannot overcome it for this party
    assert ("ear.740.8.aca-unavailable-hq" in fired(result)) == (not reached)
    assert result.decision == Decision.LICENSE_REQUIRED
    if reached:
        hq = finding(result, "ear.744.23.a3.i.a.hq")
        assert hq.citation == "15 CFR 744.23(a)(3)(i)(A)" and hq.review_policy == "case-by-case (§ 744.23(d)(3)(i))"


def test_b_items_for_a_malaysian_headquartered_operator_need_no_licence(engine):
    assert engine.check(order("MY", eccn="3A090.b", parties=[party("MY", "MY")])).decision == Decision.NLR


@pytest.mark.parametrize("destination, reached", [("MY", True), ("VN", False)])
def test_2023_headquarters_test_had_the_same_destination_limit(engine, destination, reached):
    result = engine.check(order(destination, date="2024-06-15", eccn="3A090.b", parties=[party(destination, "CN")]))
    assert ("ear.744.23.a3.hq.2023" in fired(result)) == reached


def test_a_items_headquarters_test_stays_presumption_of_denial(engine):
    result = engine.check(order("MY", eccn="3A090.a", parties=[party("MY", "CN")]))
    assert finding(result, "ear.742.6.a6.iii.a.hq").review_policy == "presumption of denial"


def test_hbm_headquarters_test_is_case_by_case(engine):
    result = engine.check(order("SG", eccn="3A090.c", parties=[party("SG", "CN")]))
    assert finding(result, "ear.744.23.a3.i.b.hbm-hq").review_policy == "case-by-case (§ 744.23(d)(3)(i))"


# --- 91 FR 1684: H200-class chips exported from the U.S. to end users in China or Macau ----------------

H200 = dict(tpp=15832, die_area_mm2=814, datacenter=True, dram_bandwidth=4800)


def test_h200_for_a_customer_in_china_headquartered_in_china_is_case_by_case(engine):
    result = engine.check(order("CN", date="2026-03-01", parties=[party("CN", "CN")],
                                **chip(us_available_2026_01_15=True, **H200)))
    assert fired(result) == {"ear.742.6.b10.h200-class"}
    h200 = finding(result, "ear.742.6.b10.h200-class")
    assert h200.review_policy.startswith("case-by-case") and "50 %" in h200.message


def test_h200_for_a_china_headquartered_customer_located_elsewhere_stays_presumption_of_denial(engine):
    result = engine.check(order("MY", date="2026-03-01", parties=[party("MY", "CN")],
                                **chip(us_available_2026_01_15=True, **H200)))
    assert "ear.742.6.b10.h200-class" not in fired(result)
    assert finding(result, "ear.742.6.a6.iii.a.hq").review_policy == "presumption of denial"


@pytest.mark.parametrize("available, case_by_case", [(True, True), (False, False), (None, False)])
def test_h200_policy_needs_the_chip_on_the_us_market_on_2026_01_15(engine, available, case_by_case):
    parameters = dict(H200) if available is None else dict(H200, us_available_2026_01_15=available)
    result = engine.check(order("CN", date="2026-03-01", **chip(**parameters)))
    assert ("ear.742.6.b10.h200-class" in fired(result)) == case_by_case
    assert result.decision == Decision.LICENSE_REQUIRED
    if not case_by_case:
        denial = finding(result, "ear.742.6.a6.iii.a.macau-d5")
        assert "item.chip.us_available_2026_01_15" in denial.message


# --- citations in force on the order's date -----------------------------------------------------------

@pytest.mark.parametrize("day, rule, citation", [
    ("2025-01-12", "ear.742.6.a6.iii.macau-d5.2023", "15 CFR 742.6(a)(6)(iii)"),
    ("2025-01-13", "ear.742.6.a6.iii.a.macau-d5.2025", "15 CFR 742.6(a)(6)(iii)(A)"),
])
def test_a_items_cite_the_paragraph_numbering_of_their_day(engine, day, rule, citation):
    result = engine.check(order("CN", date=day, eccn="3A090.a"))
    assert fired(result) == {rule} and finding(result, rule).citation == citation


@pytest.mark.parametrize("day, rule", [
    ("2024-12-30", None), ("2024-12-31", "ear.744.23.a3.hbm-hq.2024"),
    ("2025-01-12", "ear.744.23.a3.hbm-hq.2024"), ("2025-01-13", "ear.744.23.a3.i.b.hbm-hq"),
])
def test_hbm_headquarters_test_from_the_compliance_date_with_its_numbering(engine, day, rule):
    result = engine.check(order("SG", date=day, eccn="3A090.c", parties=[party("SG", "CN")]))
    assert fired(result) == ({rule} if rule else set())


# --- § 744.23(a)(1)/(a)(2): where the end use takes place ---------------------------------------------

def end_use_order(destination, use, location=None, day="2026-03-01", **item):
    txn = order(destination, date=day, **item)
    txn["end_uses"] = [use]
    if location:
        txn["end_use_country"] = location
    return txn


@pytest.mark.parametrize("destination, location, required", [
    ("SG", "CN", True),   # shipped to Singapore for a supercomputer in China
    ("CN", "DE", False),  # shipped to China for a supercomputer in Germany
    ("SG", "SG", False),
])
def test_supercomputer_end_use_follows_where_the_supercomputer_is(engine, destination, location, required):
    result = engine.check(end_use_order(destination, "supercomputer", location, eccn="3A991.a.1"))
    assert ("ear.744.23.a1.supercomputer" in fired(result)) == required


def test_supercomputer_end_use_item_scope_is_the_regulations(engine):
    # § 744.23(a)(1)(i) names 3A001, 3A991, 4A994, 5A002, 5A004, 5A992 (and 4A003, 4A004): not 3A090
    result = engine.check(end_use_order("CN", "supercomputer", "CN", eccn="3A090.a"))
    assert "ear.744.23.a1.supercomputer" not in fired(result)


@pytest.mark.parametrize("use", ["supercomputer", "advanced_node_ic_production", "ic_production_node_unknown",
                                 "advanced_node_ic_design"])
def test_end_use_without_its_location_is_held_naming_the_fact(engine, use):
    result = engine.check(end_use_order("SG", use, eccn="3B001.a", ecad_tcad=True))
    hold = finding(result, "chipgate.end-use-location-missing")
    assert hold.effect == Decision.HOLD and "end_use_country" in hold.message
    assert result.decision == Decision.HOLD


@pytest.mark.parametrize("location, day, required", [
    ("CN", "2022-10-06", False), ("CN", "2022-10-07", True),
    ("MO", "2023-01-16", False), ("MO", "2023-01-17", True),
    ("RU", "2023-11-16", False), ("RU", "2023-11-17", True),  # D:5 from 2023-11-17
])
def test_advanced_node_fab_location_by_date(engine, location, day, required):
    result = engine.check(end_use_order("SG", "advanced_node_ic_production", location, day, eccn="EAR99"))
    rules = {"ear.744.23.a2.advanced-node", "ear.744.23.a2.advanced-node.2022"}
    assert bool(rules & fired(result)) == required


@pytest.mark.parametrize("eccn, required", [("3B001.a", True), ("3E991", True), ("3A991.a.1", False),
                                            ("EAR99", False)])
def test_node_unknown_reaches_category_3_b_to_e(engine, eccn, required):
    result = engine.check(end_use_order("CN", "ic_production_node_unknown", "CN", eccn=eccn))
    assert ("ear.744.23.a2.ii.node-unknown" in fired(result)) == required


def test_node_unknown_needs_the_fab_in_macau_or_d5(engine):
    result = engine.check(end_use_order("CN", "ic_production_node_unknown", "JP", eccn="3B001.a"))
    assert "ear.744.23.a2.ii.node-unknown" not in fired(result)


@pytest.mark.parametrize("ecad_tcad, location, expected", [
    (True, "CN", "ear.744.23.a2.iii.ecad-tcad"), (False, "CN", None), (None, "CN", "chipgate.ecad-tcad-unknown"),
    (True, "KR", None),
])
def test_ecad_tcad_for_designing_an_advanced_node_ic(engine, ecad_tcad, location, expected):
    item = {"eccn": "EAR99"} if ecad_tcad is None else {"eccn": "EAR99", "ecad_tcad": ecad_tcad}
    result = engine.check(end_use_order("US", "advanced_node_ic_design", location, **item))
    found = fired(result) & {"ear.744.23.a2.iii.ecad-tcad", "chipgate.ecad-tcad-unknown"}
    assert found == ({expected} if expected else set())


@pytest.mark.parametrize("headquarters, eccn, required", [("CN", "3B001.a", True), ("KR", "3B001.a", False),
                                                          ("CN", "EAR99", False)])
def test_sme_development_by_a_china_headquartered_entity_abroad(engine, headquarters, eccn, required):
    txn = end_use_order("KR", "sme_development", eccn=eccn)
    txn["parties"] = [party("KR", headquarters)]
    assert ("ear.744.23.a4.ii.sme-development-hq" in fired(engine.check(txn))) == required


def test_sme_development_in_china_is_a4_i_only(engine):
    txn = end_use_order("CN", "sme_development", eccn="3B001.a")
    txn["parties"] = [party("CN", "CN")]
    assert fired(engine.check(txn)) >= {"ear.744.23.a4.sme-development"}
    assert "ear.744.23.a4.ii.sme-development-hq" not in fired(engine.check(txn))


def test_end_use_review_policy_names_d2_and_d3(engine):
    result = engine.check(end_use_order("CN", "advanced_node_ic_production", "CN", eccn="EAR99"))
    policy = finding(result, "ear.744.23.a2.advanced-node").review_policy
    assert "(d)(1)" in policy and "(d)(2)" in policy and "(d)(3)" in policy


# --- embargoes ------------------------------------------------------------------------------------------

def test_cuba_is_a_licence_requirement_not_a_prohibition(engine):
    result = engine.check(order("CU", eccn="EAR99"))
    assert result.decision == Decision.LICENSE_REQUIRED and fired(result) == {"ear.746.2.cuba"}
    assert finding(result, "ear.746.2.cuba").review_policy.startswith("general policy of denial")
