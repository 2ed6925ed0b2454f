"""Licence exceptions and notices that rest on facts the order carries (issue 8): NAC, HBM, TSU, VEU and
"is informed" letters, each at its thresholds and dates and on the nearest negative of every condition."""
from decimal import Decimal

import pytest
from conftest import chip, fired, order

from controls import Decision

GPU = chip(tpp=5000, die_area_mm2=600, datacenter=False)  # 3A090.a, not for datacenters: NAC/ACA-eligible
FILED = "2026-03-01"  # 25 days later is 2026-03-26


def nac(date="2026-03-26", destination="CN", parties=None, notification=None, **item):
    """A consumer GPU to China under a NAC notification filed on FILED and confirmed."""
    data = order(destination, date=date, parties=parties, **(item or GPU))
    data["exporter"] = {"headquarters_country": "US", "nac_notifications": [
        {"filed": FILED, "confirmation": "A123456", "skus": ["X-1"], **(notification or {})}]}
    return data


def test_nac_is_granted_on_the_25th_day_after_filing(engine):
    result = engine.check(nac())
    assert result.decision == Decision.LICENSE_EXCEPTION
    assert result.lines[0].license_exception == "NAC"
    assert {"ear.742.6.a6.iii.a.macau-d5", "ear.740.8.nac"} <= fired(result)


def test_nac_is_not_granted_on_the_24th_day(engine):
    result = engine.check(nac(date="2026-03-25"))
    assert result.decision == Decision.LICENSE_REQUIRED
    assert "ear.740.8.nac" not in fired(result)


def test_without_a_notification_nac_is_never_granted(engine):
    assert engine.check(order("CN", date="2026-03-26", **GPU)).decision == Decision.LICENSE_REQUIRED


@pytest.mark.parametrize("notification, item, reason", [
    ({"refused": True}, GPU, "BIS said a licence is required"),
    ({"skus": ["OTHER"]}, GPU, "the notification names another item"),
    ({"destinations": ["MO"]}, GPU, "the notification names another destination"),
    ({}, chip(tpp=15832, die_area_mm2=814, datacenter=True), "a datacenter .a item"),
    ({}, {"eccn": "3A090.c", **chip(memory_bandwidth_density=3)}, "HBM is never NAC-eligible"),
])
def test_nac_nearest_negatives(engine, notification, item, reason):
    result = engine.check(nac(notification=notification, **item))
    assert result.decision == Decision.LICENSE_REQUIRED, reason
    assert "ear.740.8.nac" not in fired(result), reason


@pytest.mark.parametrize("notification, item, missing", [
    ({"confirmation": None}, GPU, "confirmation"),
    ({"skus": [], "eccns": ["3A090.a"]}, GPU, "item.eccn"),
    ({}, chip(tpp=5000, die_area_mm2=600) | {"eccn": "3A090.a"}, "item.chip.datacenter"),
])
def test_an_undecidable_nac_is_held_and_never_granted(engine, notification, item, missing):
    result = engine.check(nac(notification=notification, **item))
    assert "ear.740.8.nac" not in fired(result)
    assert result.decision == Decision.LICENSE_REQUIRED  # the requirement stands, more restrictive than HOLD
    held = next(f for f in result.findings if f.rule == "chipgate.nac-undecided")
    assert held.effect == Decision.HOLD and missing in held.message


def test_nac_for_an_entity_headquartered_in_china_elsewhere(engine):
    # T21: 3A090.b to a Malaysian subsidiary of a Chinese parent: § 744.23(a)(3)(i)(A), overcome by NAC
    parties = [{"role": "end_user", "name": "Example DC Sdn Bhd", "country": "MY", "headquarters_country": "CN"}]
    result = engine.check(nac(destination="MY", parties=parties, eccn="3A090.b"))
    assert result.decision == Decision.LICENSE_EXCEPTION
    assert {"ear.744.23.a3.i.a.hq", "ear.740.8.nac.hq"} <= fired(result)
    early = engine.check(nac(date="2026-03-20", destination="MY", parties=parties, eccn="3A090.b"))
    assert early.decision == Decision.LICENSE_REQUIRED


def test_nac_overcomes_nothing_aca_already_decides(engine):
    # Vietnam, no Macau/D:5 headquarters: ACA, not NAC, is the exception the line uses
    result = engine.check(nac(destination="VN"))
    assert result.lines[0].license_exception == "ACA"
    assert "ear.740.8.nac" not in fired(result)


# --- HBM ------------------------------------------------------------------------------------------
HBM_FACTS = {"bought_by_copackage_designer": True, "shipped_to_packaging_site": True, "advanced_node_facility": False}
PACKAGER = [{"role": "end_user", "name": "Example Packaging Ltd", "country": "CN", "headquarters_country": "US"}]


def hbm(density="3.29", exporter_hq="US", parties=PACKAGER, **facts):
    data = order("CN", date="2025-06-01", parties=parties, eccn="3A090.c",
                 **chip(memory_bandwidth_density=Decimal(density)))
    data["exporter"] = {"headquarters_country": exporter_hq} if exporter_hq else {}
    data["hbm"] = {k: v for k, v in {**HBM_FACTS, **facts}.items() if v is not None}
    return data


def test_hbm_just_under_3_3_is_granted(engine):
    result = engine.check(hbm())
    assert result.decision == Decision.LICENSE_EXCEPTION
    assert result.lines[0].license_exception == "HBM"


@pytest.mark.parametrize("density", ["3.3", "3.5"])
def test_hbm_at_or_over_3_3_is_not(engine, density):
    result = engine.check(hbm(density))
    assert result.decision == Decision.LICENSE_REQUIRED
    assert "ear.740.25.hbm" not in fired(result)


@pytest.mark.parametrize("change", [  # Singapore is A:6, not A:5
    {"exporter_hq": "CN"}, {"exporter_hq": "SG"}, {"bought_by_copackage_designer": False},
    {"shipped_to_packaging_site": False}, {"advanced_node_facility": True},
])
def test_hbm_nearest_negatives(engine, change):
    result = engine.check(hbm(**change))
    assert result.decision == Decision.LICENSE_REQUIRED
    assert "ear.740.25.hbm" not in fired(result)


def test_hbm_exporter_in_a5_qualifies(engine):
    assert engine.check(hbm(exporter_hq="KR")).decision == Decision.LICENSE_EXCEPTION


def test_hbm_is_unavailable_for_an_end_user_headquartered_in_china(engine):
    parties = [{"role": "end_user", "name": "Example Packaging Ltd", "country": "CN", "headquarters_country": "CN"}]
    result = engine.check(hbm(parties=parties))
    assert result.decision == Decision.LICENSE_REQUIRED
    assert "ear.740.25.hbm-unavailable-hq" in fired(result)


@pytest.mark.parametrize("change, missing", [
    ({"exporter_hq": None}, "exporter.headquarters_country"),
    ({"advanced_node_facility": None}, "hbm.advanced_node_facility"),
])
def test_an_undecidable_hbm_is_held_and_never_granted(engine, change, missing):
    result = engine.check(hbm(**change))
    assert "ear.740.25.hbm" not in fired(result)
    held = next(f for f in result.findings if f.rule == "chipgate.hbm-undecided")
    assert f"not ({missing} given)" in held.because


def test_hbm_before_the_exception_existed(engine):
    data = hbm()
    data["date"] = "2024-12-01"
    assert "ear.740.25.hbm" not in fired(engine.check(data))


# --- VEU ------------------------------------------------------------------------------------------
def fab(date, veu="samsung_china_semiconductor", eccns=("EAR99",)):
    parties = [{"role": "end_user", "name": "Samsung China Semiconductor Co. Ltd.", "country": "CN",
                "headquarters_country": "KR"}]
    data = order("CN", date=date, parties=parties, eccn="EAR99")
    data.update(end_uses=["advanced_node_ic_production"], end_use_country="CN",
                veu=[{"veu": veu, "eccns": list(eccns)}])
    return data


@pytest.mark.parametrize("veu", ["samsung_china_semiconductor", "sk_hynix_semiconductor_china",
                                 "intel_semiconductor_dalian"])
def test_china_fab_veus_before_and_after_their_revocation(engine, veu):
    before = engine.check(fab("2025-12-30", veu))
    assert before.decision == Decision.LICENSE_EXCEPTION
    assert before.lines[0].license_exception == "VEU"
    after = engine.check(fab("2025-12-31", veu))
    assert after.decision == Decision.LICENSE_REQUIRED
    assert "ear.748.15.veu" not in fired(after)


def test_a_veu_covers_only_its_eligible_items(engine):
    result = engine.check(fab("2025-06-01", eccns=["3B001"]))
    assert result.decision == Decision.LICENSE_REQUIRED
    assert "ear.748.15.veu" not in fired(result)


def test_an_unknown_veu_is_held(engine):
    result = engine.check(fab("2025-06-01", veu="example_fab"))
    assert "ear.748.15.veu" not in fired(result)
    assert "chipgate.veu-unknown" in fired(result)


# --- TSU ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, expected", [("error_fix", Decision.LICENSE_EXCEPTION),
                                            ("operation", Decision.LICENSE_EXCEPTION),
                                            ("mass_market", Decision.LICENSE_REQUIRED),
                                            (None, Decision.LICENSE_REQUIRED)])
def test_tsu_for_z_software_to_china(engine, kind, expected):
    item = {"eccn": "5D992.z.1"} | ({"software_kind": kind} if kind else {})
    result = engine.check(order("CN", date="2026-10-01", **item))
    decisions = {f.rule: f for f in result.findings}
    requirement = decisions["ear.742.6.a6.iii.a.macau-d5"]
    assert (requirement.overcome_by == "ear.740.13.tsu") == (expected == Decision.LICENSE_EXCEPTION)
    if expected == Decision.LICENSE_REQUIRED:
        assert result.decision == Decision.LICENSE_REQUIRED


def test_tsu_is_not_for_hardware(engine):
    result = engine.check(order("CN", date="2026-10-01", eccn="3A090.b", software_kind="error_fix"))
    assert "ear.740.13.tsu" not in fired(result)


# --- "is informed" letters ------------------------------------------------------------------------
EDA_LETTER = {"basis": "744.23(b)", "reference": "BIS letter of 2025-05-23", "from": "2025-05-23",
              "until": "2025-07-02", "eccns": ["3D991", "3E991"], "destinations": ["CN"]}


def eda(date, letter=None, destination="CN", **item):
    data = order(destination, date=date, **(item or {"eccn": "3D991"}))
    data["exporter"] = {"headquarters_country": "US", "letters": [{**EDA_LETTER, **(letter or {})}]}
    return data


@pytest.mark.parametrize("date, applies", [("2025-05-22", False), ("2025-05-23", True), ("2025-06-15", True),
                                           ("2025-07-01", True), ("2025-07-02", False), ("2025-07-10", False)])
def test_eda_letter_inside_and_outside_its_window(engine, date, applies):
    result = engine.check(eda(date))
    assert ("ear.744.23.b.is-informed" in fired(result)) == applies
    if applies:
        finding = next(f for f in result.findings if f.rule == "ear.744.23.b.is-informed")
        assert finding.citation == "15 CFR 744.23(b)" and result.decision == Decision.LICENSE_REQUIRED


def test_eda_letter_covers_paragraphs_and_technology_but_not_other_items_or_places(engine):
    assert "ear.744.23.b.is-informed" in fired(engine.check(eda("2025-06-15", eccn="3E991")))
    assert "ear.744.23.b.is-informed" not in fired(engine.check(eda("2025-06-15", eccn="3D001")))
    assert "ear.744.23.b.is-informed" not in fired(engine.check(eda("2025-06-15", destination="DE")))
    # Hong Kong is China
    assert "ear.744.23.b.is-informed" in fired(engine.check(eda("2025-06-15", destination="HK")))


def test_a_letter_is_judged_on_the_as_of_date(engine):
    assert "ear.744.23.b.is-informed" in fired(engine.check(eda("2025-07-10"), as_of=_day("2025-06-15")))


def test_a_letter_naming_eccns_and_a_line_without_one_is_held(engine):
    result = engine.check(eda("2025-06-15", **chip(tpp=15832, die_area_mm2=814, datacenter=True)))
    assert "chipgate.letter-undecided" in fired(result)


def test_h20_letter_for_a_party_headquartered_in_china(engine):
    # April 2025: H20-class chips need a licence for Macau/D:5 and for entities headquartered there
    letter = {"basis": "744.23(b)", "reference": "BIS letter of 2025-04-09", "from": "2025-04-09",
              "skus": ["H20"], "destinations": ["CN", "MO"], "party_countries": ["CN", "MO"]}
    parties = [{"role": "end_user", "name": "Example DC Sdn Bhd", "country": "MY", "headquarters_country": "CN"}]
    data = order("MY", date="2026-03-01", parties=parties, eccn="3A991.p")
    data["items"][0]["sku"] = "H20"
    data["exporter"] = {"letters": [letter]}
    assert "ear.744.23.b.is-informed" in fired(engine.check(data))
    data["parties"][0]["headquarters_country"] = "MY"
    assert "ear.744.23.b.is-informed" not in fired(engine.check(data))
    data["date"] = "2025-04-08"
    data["parties"][0]["headquarters_country"] = "CN"
    assert "ear.744.23.b.is-informed" not in fired(engine.check(data))


def _day(text):
    import datetime as dt
    return dt.date.fromisoformat(text)
