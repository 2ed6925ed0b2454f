"""China's export controls (CN-ECL) beside the EAR: reach, the item measures, No. 61's 0.1 % floor,
suspension windows and their unconfirmed ends, China's own lists, and the per-jurisdiction report."""
import datetime as dt
from decimal import Decimal

import pytest
from click.testing import CliRunner
from conftest import fired

import cli
from controls.models import Decision


def cn_order(date="2026-06-01", export_from="CN", destination="DE", parties=(), end_uses=(), **item) -> dict:
    line = {"sku": "CN-1", "quantity": 1, "origin": "CN"}
    line.update(item)
    return {"id": "CN-T", "date": date, "export_from": export_from, "destination": destination,
            "parties": list(parties), "end_uses": list(end_uses), "items": [line]}


def magnet_from_japan(content, date="2026-12-01", unit_value=10000) -> dict:
    """A Japanese-made Sm-Co magnet (Annex 1 Part 2 of No. 61) exported from Japan, made without PRC technology."""
    return cn_order(date, export_from="JP", origin="JP", material="samarium-cobalt magnet", unit_value=unit_value,
                    cn_content_value=content, cn_re_technology=False)


def cn(result):
    return result.only("CN-ECL")


def test_an_order_china_cannot_reach_is_not_subject_with_a_finding_saying_so(engine):
    result = engine.check(cn_order(export_from="JP", origin="JP", cn_content_value=0, unit_value=100,
                                   material="samarium target"))
    assert result.jurisdictions["CN-ECL"] == Decision.NOT_SUBJECT
    reach = [f for f in result.findings if f.rule == "chipgate.cn-ecl.not-reached"]
    assert len(reach) == 1 and reach[0].jurisdiction == "CN-ECL" and reach[0].line is None
    assert set(result.jurisdictions) == {"US-EAR", "CN-ECL"}
    assert result.decision == Decision.most_restrictive(result.jurisdictions.values())


def test_every_finding_carries_its_jurisdiction(engine):
    result = engine.check(cn_order(material="gallium", destination="US"))
    assert {f.jurisdiction for f in result.findings} == {"US-EAR", "CN-ECL"}
    assert all(f.jurisdiction == "CN-ECL" for f in result.findings if f.rule.startswith("cn."))


def test_a_prc_origin_item_with_no_control_number_and_no_material_is_held_naming_both(engine):
    result = cn(engine.check(cn_order()))
    assert result.decision == Decision.HOLD
    finding = next(f for f in result.findings if f.rule == "cn.scope.item-unidentified")
    assert "item.cn_control_code" in finding.message and "item.material" in finding.message


def test_unknown_origin_holds_rather_than_clears(engine):
    order = cn_order(export_from="JP", material="gallium")
    del order["items"][0]["origin"]
    assert "cn.scope.reach-unknown" in fired(cn(engine.check(order)), None)


@pytest.mark.parametrize("content, expected", [
    (Decimal("9.99"), Decision.NOT_SUBJECT),        # 0.0999 %: just under
    (Decimal("10"), Decision.LICENSE_REQUIRED),     # exactly 0.1 %: "0.1 % or more"
    (Decimal("10.01"), Decision.LICENSE_REQUIRED),  # 0.1001 %: just over
])
def test_no_61_content_floor_is_exact(engine, content, expected):
    result = cn(engine.check(magnet_from_japan(content)))
    assert result.decision == expected
    assert ("cn.2025-61.c1.prc-content" in fired(result, None)) == (expected == Decision.LICENSE_REQUIRED)


def test_no_61_floor_compares_decimals_not_floats(engine):
    # 19.78447 of 19,784.47 is exactly 0.1 %; in binary floating point it is a hair under
    assert 19.78447 / 19784.47 * 100 < 0.1
    result = cn(engine.check(magnet_from_japan(Decimal("19.78447"), unit_value=Decimal("19784.47"))))
    assert result.decision == Decision.LICENSE_REQUIRED
    under = cn(engine.check(magnet_from_japan(Decimal("19.78446"), unit_value=Decimal("19784.47"))))
    assert under.decision == Decision.NOT_SUBJECT


def test_a_magnet_with_no_prc_content_given_is_held_once_no_61_applies(engine):
    result = cn(engine.check(magnet_from_japan(None)))
    assert "cn.2025-61.c1.content-unknown" in fired(result, None) and result.decision == Decision.HOLD


@pytest.mark.parametrize("day, expected, unconfirmed", [
    ("2025-11-08", Decision.PROHIBITED, False),       # before No. 72's suspension
    ("2025-11-09", Decision.LICENSE_REQUIRED, False),  # first day of the suspension: No. 23's licence only
    ("2026-11-27", Decision.LICENSE_REQUIRED, False),  # last day of the suspension
    ("2026-11-28", Decision.PROHIBITED, True),         # after its end date, whose extension is unconfirmed
])
def test_no_46_clause_2_before_during_and_after_its_suspension(engine, day, expected, unconfirmed):
    result = cn(engine.check(cn_order(day, destination="US", material="gallium")))
    assert result.decision == expected
    assert ("cn.2024-46.c2.us-ga-ge-sb-superhard" in fired(result, None)) == (expected == Decision.PROHIBITED)
    held = [f for f in result.findings if f.rule == "chipgate.unconfirmed-end-date"]
    assert bool(held) == unconfirmed
    if held:
        assert held[0].effect == Decision.HOLD and "2026-11-28" in held[0].message and "review" in held[0].message


def test_gallium_to_a_country_other_than_the_us_is_never_caught_by_no_46(engine):
    result = cn(engine.check(cn_order("2026-12-01", destination="DE", material="gallium")))
    assert result.decision == Decision.LICENSE_REQUIRED and "cn.2024-46.c2.us-ga-ge-sb-superhard" not in fired(result, None)


@pytest.mark.parametrize("day, expected", [("2026-11-10", Decision.NOT_SUBJECT), ("2026-11-11", Decision.LICENSE_REQUIRED)])
def test_no_61_revives_the_day_after_no_70_ends(engine, day, expected):
    result = cn(engine.check(magnet_from_japan(Decimal("10"), date=day)))
    assert result.decision == expected
    assert ("chipgate.unconfirmed-end-date" in fired(result, None)) == (expected == Decision.LICENSE_REQUIRED)


def test_prc_origin_rare_earth_for_advanced_chip_production_is_case_by_case(engine):
    result = cn(engine.check(cn_order("2026-12-01", export_from="JP", destination="KR", material="dysprosium oxide",
                                      end_uses=["advanced_chip_14nm_256layer"])))
    review = next(f for f in result.findings if f.rule == "cn.2025-61.review.advanced-chips")
    assert review.review_policy.startswith("case by case")


def test_us_military_end_use_is_prohibited_and_never_suspended(engine):
    result = cn(engine.check(cn_order("2026-06-01", destination="US", material="dysprosium oxide",
                                      end_uses=["military"])))
    assert result.decision == Decision.PROHIBITED and "cn.2024-46.c1.us-military" in fired(result, None)


def test_a_cn_export_to_a_uel_listed_us_defence_company_is_prohibited_citing_the_announcement(engine):
    party = {"role": "end_user", "name": "Lockheed Martin Corporation", "country": "US"}
    result = cn(engine.check(cn_order(destination="US", material="antimony ingot", parties=[party])))
    assert result.decision == Decision.PROHIBITED
    uel = next(f for f in result.findings if f.rule == "cn.list.uel-2023-1")
    assert uel.citation.startswith("UEL Working Mechanism Announcement 2023 No. 1")
    assert uel.matches[0].list == "cn-uel-2023-1"


def test_chinas_lists_are_not_screened_for_an_order_china_cannot_reach(engine):
    party = {"role": "end_user", "name": "Lockheed Martin Corporation", "country": "US"}
    result = engine.check(cn_order(export_from="JP", origin="JP", destination="US", cn_content_value=0,
                                   unit_value=100, parties=[party]))
    assert not [m for f in result.findings for m in f.matches if m.list.startswith("cn-")]
    assert result.jurisdictions["CN-ECL"] == Decision.NOT_SUBJECT


def test_stopped_control_list_measures_no_longer_bind(engine):
    party = {"role": "end_user", "name": "Skydio", "country": "US"}
    while_listed = cn(engine.check(cn_order("2025-06-01", destination="US", material="gallium", parties=[party])))
    stopped = cn(engine.check(cn_order("2025-11-10", destination="US", material="gallium", parties=[party])))
    assert "cn.list.ecl-2025-13" in fired(while_listed, None) and while_listed.decision == Decision.PROHIBITED
    assert "cn.list.ecl-2025-13" not in fired(stopped, None) and stopped.decision == Decision.LICENSE_REQUIRED


def test_the_general_licence_covers_rare_earths_only(engine):
    exporter = {"cn_general_licences": ["rare_earths"]}
    order = cn_order(destination="US", material="dysprosium oxide")
    order["exporter"] = exporter
    assert cn(engine.check(order)).decision == Decision.LICENSE_EXCEPTION
    order = cn_order(destination="DE", material="gallium")
    order["exporter"] = {"cn_general_licences": ["gallium"]}
    assert "cn.2025.general-licence.unpublished" in fired(cn(engine.check(order)), None)


def test_the_affiliates_rule_after_its_stay_is_applied_and_held_for_review(engine):
    rule = engine.rules["ear.744.11.affiliates"]
    ends = [w.unconfirmed_end for w in rule.rule.not_enforced if w.unconfirmed_end]
    assert ends == [dt.date(2026, 11, 10)]


def test_check_narrows_to_one_jurisdiction_and_reports_each_in_its_own_section(cli_lists, tmp_path):
    import json
    path = tmp_path / "order.json"
    path.write_text(json.dumps(cn_order(destination="US", material="gallium", date="2026-06-01")))
    runner = CliRunner()
    both = runner.invoke(cli.main, ["check", str(path)])
    assert "== US-EAR:" in both.output and "== CN-ECL: LICENSE_REQUIRED" in both.output
    narrowed = runner.invoke(cli.main, ["check", str(path), "--jurisdiction", "CN-ECL", "--format", "json"])
    data = json.loads(narrowed.output)
    assert data["jurisdictions"] == {"CN-ECL": "LICENSE_REQUIRED"} and data["decision"] == "LICENSE_REQUIRED"
    assert {f["jurisdiction"] for f in data["findings"]} == {"CN-ECL"}
    assert narrowed.exit_code == 3


def test_rules_status_lists_ends_within_60_days_and_unconfirmed_ends_passed():
    runner = CliRunner()
    before = runner.invoke(cli.main, ["rules", "status", "--as-of", "2026-10-01"])
    assert before.exit_code == 0
    assert "2026-11-28  ends, extension unconfirmed: cn.2024-46.c2.us-ga-ge-sb-superhard" in before.output
    assert "2026-11-11  ends, extension unconfirmed: cn.2025-61.c1.prc-content" in before.output
    assert "last reviewed 2026-09-30" in before.output
    after = runner.invoke(cli.main, ["rules", "status", "--as-of", "2027-03-01"])
    assert "2026-11-10  ENDED, extension unconfirmed: ear.744.11.affiliates (US-EAR" in after.output
    quiet = runner.invoke(cli.main, ["rules", "status", "--as-of", "2024-01-01", "--days", "10"])
    assert quiet.output.rstrip().endswith("none")
