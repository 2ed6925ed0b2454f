"""Licence requirements by destination, headquarters and date, on the real bundled rules."""
import pytest
from conftest import chip, fired, on, order

from controls import Decision

H100 = chip(tpp=15832, die_area_mm2=814, datacenter=True)


def test_h100_to_china_needs_a_licence_citing_742_6(engine):
    result = engine.check(order("CN", **H100))
    assert result.decision == Decision.LICENSE_REQUIRED
    finding = next(f for f in result.findings if f.rule == "ear.742.6.a6.iii.a.macau-d5")
    assert finding.citation.startswith("15 CFR 742.6(a)(6)")
    assert finding.review_policy == "presumption of denial"
    assert "destination = CN (in macau-or-d5)" in finding.because
    assert result.lines[0].eccn == "3A090.a"


def test_h100_to_germany_is_nlr(engine):
    result = engine.check(order("DE", **H100))
    assert result.decision == Decision.NLR
    assert fired(result) == set()


def test_hong_kong_is_china(engine):
    assert engine.check(order("HK", **H100)).decision == Decision.LICENSE_REQUIRED


@pytest.mark.parametrize("destination, expected", [("VN", Decision.LICENSE_REQUIRED), ("SG", Decision.NLR),
                                                   ("IL", Decision.NLR), ("MY", Decision.NLR)])
def test_a_items_to_d1_d4_outside_a5_a6(engine, destination, expected):
    # Vietnam is D:1 only; Singapore (A:6) and Israel (A:6, D:4) are carved out; Malaysia is in no group
    assert engine.check(order(destination, eccn="3A090.a")).decision == expected


def test_headquarters_test_reaches_a_subsidiary_abroad(engine):
    parties = [{"role": "end_user", "name": "Example DC Sdn Bhd", "country": "MY", "headquarters_country": "CN"}]
    result = engine.check(order("MY", parties=parties, eccn="3A090.a", date="2026-06-15"))
    assert result.decision == Decision.LICENSE_REQUIRED
    finding = next(f for f in result.findings if f.rule == "ear.742.6.a6.iii.a.hq")
    assert finding.party == "end_user"
    # before 2025-01-13 the same requirement sat in § 744.23(a)(3)
    earlier = engine.check(order("MY", parties=parties, eccn="3A090.a", date="2024-06-15"))
    assert "ear.744.23.a3.hq.2023" in fired(earlier)


def test_ai_diffusion_worldwide_scope_is_a_warning_not_a_requirement(engine):
    result = engine.check(order("MY", eccn="3A090.a", date="2026-06-15"))
    assert result.decision == Decision.NLR
    assert any(f.rule == "ear.742.6.a6.iii.a.worldwide" and not f.enforced for f in result.findings)
    assert any("not enforced" in w for w in result.warnings)
    # before the AI Diffusion rule the worldwide text did not exist at all
    assert not any(f.rule == "ear.742.6.a6.iii.a.worldwide"
                   for f in engine.check(order("MY", eccn="3A090.a", date="2024-06-15")).findings)


@pytest.mark.parametrize("day", ["2026-07-09", "2026-07-10"])
def test_uae_b_items_before_and_after_the_uae_rule(engine, day):
    # before: AE was in D:4 and not in A:5/A:6; after: named expressly; ACA overcomes it either way
    result = engine.check(order("AE", eccn="3A090.b", date=day))
    requirement = next(f for f in result.findings if f.rule == "ear.742.6.a6.iii.b")
    assert requirement.effect == Decision.LICENSE_REQUIRED and requirement.overcome_by == "ear.740.8.aca"
    assert result.decision == Decision.LICENSE_EXCEPTION and result.lines[0].license_exception == "ACA"


CONSUMER_5000 = chip(tpp=5000, die_area_mm2=600, datacenter=False)


@pytest.mark.parametrize("day, expected", [("2024-04-03", Decision.LICENSE_REQUIRED),
                                           ("2024-04-04", Decision.LICENSE_EXCEPTION)])
def test_aca_for_a_consumer_chip_to_vietnam_from_2024_04_04(engine, day, expected):
    result = engine.check(order("VN", date=day, **CONSUMER_5000))
    assert result.lines[0].eccn == "3A090.a" and result.decision == expected


def test_aca_is_not_for_datacenter_a_items_or_unknown_datacenter_status(engine):
    assert engine.check(order("VN", **chip(tpp=5000, die_area_mm2=600, datacenter=True))).decision \
        == Decision.LICENSE_REQUIRED
    assert engine.check(order("VN", eccn="3A090.a")).decision == Decision.LICENSE_REQUIRED


def test_aca_does_not_overcome_the_headquarters_requirement(engine):
    parties = [{"role": "end_user", "name": "Example Systems JSC", "country": "VN", "headquarters_country": "CN"}]
    result = engine.check(order("VN", parties=parties, **CONSUMER_5000))
    assert result.decision == Decision.LICENSE_REQUIRED
    hq = next(f for f in result.findings if f.rule == "ear.740.8.aca-unavailable-hq")
    assert hq.overcome_by is None and hq.party == "end_user"


def test_an_exception_with_nothing_to_overcome_changes_nothing(engine):
    result = engine.check(order("MY", date="2024-06-01", **CONSUMER_5000))  # Malaysia: no requirement
    assert result.decision == Decision.NLR and result.lines[0].license_exception is None


def test_uae_a_items_move_from_group_formula_to_named_rule(engine):
    assert "ear.742.6.a6.iii.a.d1-d4" in fired(engine.check(order("AE", eccn="3A090.a", date="2026-07-09")))
    after = engine.check(order("AE", eccn="3A090.a", date="2026-07-10"))
    assert fired(after) == {"ear.742.6.a6.iii.a.uae"} and after.decision == Decision.LICENSE_REQUIRED


@pytest.mark.parametrize("day, expected", [("2023-01-16", Decision.NLR), ("2023-01-17", Decision.LICENSE_REQUIRED)])
def test_macau_joined_the_2022_controls_on_2023_01_17(engine, day, expected):
    assert engine.check(order("MO", eccn="3A090", date=day)).decision == expected


def test_no_advanced_computing_requirement_before_october_2022(engine):
    # 3A090 did not exist yet: the bundle decides nothing for it, so it is held, never cleared
    before = engine.check(order("CN", eccn="3A090.a", date="2022-10-20"))
    assert before.decision == Decision.HOLD
    assert fired(before) == {"chipgate.undecided-eccn"}
    assert engine.check(order("CN", eccn="3A090.a", date="2022-10-21")).decision == Decision.LICENSE_REQUIRED


@pytest.mark.parametrize("mbd, day, expected", [
    (2.5, "2024-12-31", Decision.LICENSE_REQUIRED), (1.9, "2024-12-31", Decision.HOLD),
    (2.5, "2024-12-30", Decision.NLR), (1.9, "2024-12-30", Decision.HOLD),
])
def test_hbm_to_china_from_the_2024_12_31_compliance_date(engine, mbd, day, expected):
    # 89 FR 96790 is in force from 2024-12-02 (3A090.c exists) but compliance is due from 2024-12-31
    result = engine.check(order("CN", date=day, **chip(memory_bandwidth_density=mbd)))
    assert result.decision == expected
    if expected == Decision.LICENSE_REQUIRED:
        assert "ear.742.6.a6.hbm.2024" in fired(result)
    elif expected == Decision.HOLD:  # not high-bandwidth memory, and no ECCN: unclassified, never cleared
        assert "chipgate.unclassified" in fired(result)


@pytest.mark.parametrize("day, expected", [("2025-06-01", Decision.LICENSE_REQUIRED), ("2026-03-01", Decision.NLR)])
def test_cambodia_left_d5_on_2026_02_03(engine, day, expected):
    # HBM is controlled to Macau/D:5 only; Cambodia stays in D:1, which does not reach 3A090.c
    assert engine.check(order("KH", eccn="3A090.c", date=day)).decision == expected


def test_hbm_for_a_chinese_headquartered_packager_abroad(engine):
    parties = [{"role": "ultimate_consignee", "name": "Example Packaging Pte Ltd", "country": "SG",
                "headquarters_country": "CN"}]
    result = engine.check(order("SG", parties=parties, eccn="3A090.c"))
    assert "ear.744.23.a3.i.b.hbm-hq" in fired(result)


@pytest.mark.parametrize("destination", ["KP", "IR"])
def test_embargoed_destination_is_prohibited(engine, destination):
    result = engine.check(order(destination, eccn="EAR99"))
    assert result.decision == Decision.PROHIBITED
    assert "ear.746.embargo" in fired(result)


def test_syria_before_and_after_the_2025_relaxation(engine):
    assert engine.check(order("SY", eccn="EAR99", date="2025-09-01")).decision == Decision.PROHIBITED
    after = engine.check(order("SY", eccn="EAR99", date="2025-09-02"))
    assert after.decision == Decision.LICENSE_EXCEPTION and after.lines[0].license_exception == "SPP"
    assert engine.check(order("SY", eccn="3A991.a.1", date="2025-09-02")).decision == Decision.LICENSE_REQUIRED


def test_item_without_eccn_or_parameters_is_held_where_it_matters(engine):
    held = engine.check(order("CN"))
    assert held.decision == Decision.HOLD
    assert fired(held) == {"chipgate.unclassified-advanced-computing"}
    elsewhere = engine.check(order("DE"))  # closed world: no ECCN, nothing decided
    assert elsewhere.decision == Decision.HOLD
    assert fired(elsewhere) == {"chipgate.unclassified"}


def test_unknown_jurisdiction_is_held_not_cleared(engine):
    txn = order("DE")
    txn["export_from"] = "KR"
    txn["items"][0].update(origin="KR")  # foreign-made, U.S. content unknown
    result = engine.check(txn)
    assert result.decision == Decision.HOLD
    assert result.lines[0].subject_to_ear is None


def test_foreign_made_under_de_minimis_is_not_subject(engine):
    txn = order("VN", eccn="4A090.a", unit_value=100000, us_content_value=25000, direct_product_of=[])
    txn.update(export_from="TW")
    txn["items"][0]["origin"] = "TW"
    result = engine.check(txn)
    assert result.decision == Decision.NOT_SUBJECT
    assert result.lines[0].basis == "foreign-made-under-de-minimis"
    txn["items"][0]["us_content_value"] = 25001
    assert engine.check(txn).decision == Decision.LICENSE_REQUIRED


def test_as_of_overrides_the_transaction_date(engine):
    txn = order("CN", eccn="3A090.c", date="2026-11-28")
    assert engine.check(txn, as_of=on("2024-01-01")).decision == Decision.HOLD  # 3A090.c did not exist yet
    assert engine.check(txn).decision == Decision.LICENSE_REQUIRED


def review_policies(result):
    return {f.rule: f.review_policy for f in result.findings if f.enforced and f.jurisdiction == "US-EAR"}


@pytest.mark.parametrize("tpp, dram, day, case_by_case", [
    (20999.9, 6499.9, "2026-01-15", True),
    (21000, 6499.9, "2026-01-15", False),
    (20999.9, 6500, "2026-01-15", False),
    (20999.9, 6499.9, "2026-01-14", False),
])
def test_2026_review_policy_thresholds_for_china(engine, tpp, dram, day, case_by_case):
    item = chip(tpp=tpp, die_area_mm2=814, datacenter=True, dram_bandwidth=dram, us_available_2026_01_15=True)
    policies = review_policies(engine.check(order("CN", date=day, **item)))
    assert ("ear.742.6.b10.h200-class" in policies) == case_by_case
    if case_by_case:
        assert policies["ear.742.6.b10.h200-class"].startswith("case-by-case")
    else:
        assert set(policies.values()) == {"presumption of denial"}


def test_2026_review_policy_needs_the_dram_bandwidth(engine):
    # without the bandwidth the case-by-case test cannot be made: presumption of denial stands
    policies = review_policies(engine.check(order("CN", date="2026-03-01", eccn="3A090.a", chip={"tpp": 15832})))
    assert policies == {"ear.742.6.a6.iii.a.macau-d5": "presumption of denial"}


@pytest.mark.parametrize("day, policy", [("2026-01-14", "presumption of denial"), ("2026-03-01", "case-by-case")])
def test_b_items_to_china_follow_the_same_review_policy(engine, day, policy):
    item = chip(tpp=3000, performance_density=4.0, datacenter=True, dram_bandwidth=1000, us_available_2026_01_15=True)
    result = engine.check(order("CN", date=day, **item))
    assert result.lines[0].eccn == "3A090.b"
    assert any(p.startswith(policy) for p in review_policies(result).values())


@pytest.mark.parametrize("destination, day, expected", [
    ("CN", "2022-10-06", Decision.NLR), ("CN", "2022-10-07", Decision.LICENSE_REQUIRED),
    ("MO", "2023-01-16", Decision.NLR), ("MO", "2023-01-17", Decision.LICENSE_REQUIRED),
    ("RU", "2023-11-16", Decision.NLR), ("RU", "2023-11-17", Decision.LICENSE_REQUIRED),  # D:5 from 2023-11-17
    ("DE", "2026-03-01", Decision.NLR),
])
def test_advanced_node_end_use_reaches_ear99(engine, destination, day, expected):
    txn = order(destination, date=day, eccn="EAR99")
    txn.update(end_uses=["advanced_node_ic_production"], end_use_country=destination)
    if destination == "RU":  # Russia has its own EAR99 hold; look at the end-use rule alone
        assert ("ear.744.23.a2.advanced-node" in fired(engine.check(txn))) == (expected == Decision.LICENSE_REQUIRED)
    else:
        assert engine.check(txn).decision == expected


def test_supercomputer_end_use_covers_an_eccn_entry_and_its_paragraphs(engine):
    txn = order("CN", eccn="3A991.a.1")
    txn.update(end_uses=["supercomputer"], end_use_country="CN")
    assert "ear.744.23.a1.supercomputer" in fired(engine.check(txn))
    txn["items"][0]["eccn"] = "3A992.a"
    assert "ear.744.23.a1.supercomputer" not in fired(engine.check(txn))


def test_military_end_use(engine):
    txn = order("RU", eccn="EAR99", date="2026-03-01")
    txn["end_uses"] = ["military"]
    assert "ear.744.21.military-russia-belarus" in fired(engine.check(txn))
    txn = order("CN", eccn="3A991.a.1")
    txn["end_uses"] = ["military"]
    assert engine.check(txn).decision == Decision.LICENSE_REQUIRED  # Supplement No. 2 to part 744


def test_an_exception_with_nothing_to_overcome_is_not_reported(engine):
    result = engine.check(order("MY", date="2024-06-01", **CONSUMER_5000))
    assert "ear.740.8.aca" not in {f.rule for f in result.findings}


@pytest.mark.parametrize("day, flagged", [("2025-05-12", False), ("2025-05-13", True)])
def test_prc_made_3a090_chip_is_a_gp10_hold_from_2025_05_13(engine, day, flagged):
    txn = order("MY", date=day, eccn="3A090.a")
    txn.update(export_from="CN")
    txn["items"][0]["origin"] = "CN"
    result = engine.check(txn)
    assert ("ear.736.2.b10.prc-advanced-ic" in fired(result)) == flagged
    assert result.decision == Decision.HOLD  # the jurisdiction is unknown either way (no U.S. content given)


def test_gp10_reaches_a_classified_prc_chip(engine):
    txn = order("SG", date="2026-03-01", chip={"tpp": 5000, "die_area_mm2": 600, "datacenter": True},
                us_content_value=0, unit_value=10000, direct_product_of=[])
    txn.update(export_from="CN")
    txn["items"][0]["origin"] = "CN"
    result = engine.check(txn)
    assert result.lines[0].eccn == "3A090.a" and result.lines[0].subject_to_ear is False
    assert "ear.736.2.b10.prc-advanced-ic" in fired(result) and result.decision == Decision.HOLD
