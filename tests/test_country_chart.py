"""The generated Commerce Country Chart pack, checked against the data it was generated from.

The expectations here are read straight from the chart and CCL files, not from the pack: a line the
chart marks is never cleared, and a chart finding always rests on an X the chart really has.
"""
import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from functools import lru_cache

import pytest
from conftest import DATA, REPO, fired, order

from controls import Decision
from controls.facts.sets import SetResolver

EAR = DATA / "ear"
EDITION = "2026-09-24"
DAY = "2026-11-30"
DESTINATIONS = ["CN", "MO", "RU", "IR", "DE", "IN", "AE", "SG", "VN"]
CLEARED = {Decision.NLR, Decision.NOT_SUBJECT}
AT1 = {"IR", "KP", "SY"}  # the chart file has no AT column; AT column 1 is the E:1 destinations
WORLDWIDE = ("Worldwide control", "A license is required for all destinations")


@lru_cache(maxsize=1)
def ccl() -> list[dict]:
    return json.loads((EAR / f"ccl-cat3-4-5-{EDITION}.json").read_text())["eccns"]


@lru_cache(maxsize=1)
def chart() -> dict[str, set[str]]:
    rows = json.loads((EAR / f"country-chart-{EDITION}.json").read_text())["rows"]
    return {row["iso2"]: set(row["x"]) for row in rows}


def marked(control: dict, destination: str) -> bool:
    """Does the chart mark ``destination`` for this control (an X in one of its columns, or worldwide)?"""
    if control["chart"].startswith(WORLDWIDE):
        return True
    return any(c in chart().get(destination, ()) or (c == "AT1" and destination in AT1) for c in control["columns"])


def required_lines():
    """(eccn, destination) pairs for which the data alone says a licence is required."""
    for entry in ccl():
        for control in entry["controls"]:
            if control["conditional"] or not (control["columns"] or control["chart"].startswith(WORLDWIDE)):
                continue
            if control["mode"] == "entire":
                eccns = [entry["id"]]
            elif control["mode"] == "only":  # the paragraphs the data lists are in scope (ranges lose some)
                eccns = [f"{entry['id']}.{p}" for p in control["paragraphs"]]
            else:
                continue
            for destination in DESTINATIONS:
                if marked(control, destination):
                    yield from ((eccn, destination) for eccn in eccns)


def test_a_line_the_chart_marks_is_never_cleared(engine):
    pairs = sorted(set(required_lines()))
    assert len(pairs) > 500  # the data really exercises the pack
    cleared = []
    for eccn, destination in pairs:
        result = engine.check(order(destination, date=DAY, eccn=eccn))
        if result.decision in CLEARED:
            cleared.append((eccn, destination, result.decision.value))
    assert cleared == []


def test_a_chart_finding_rests_on_an_x_the_chart_has(engine):
    """Every chart finding names a column the entry carries and the destination has an X in, or a
    special cell or conditional control the entry really has."""
    columns = {c for row in chart().values() for c in row} | {"AT1"}
    checked = 0
    for entry in ccl():
        for destination in DESTINATIONS:
            result = engine.check(order(destination, date=DAY, eccn=entry["id"]))
            for finding in (f for f in result.findings if f.rule.startswith("ear.738.chart.")):
                checked += 1
                column = finding.rule.removeprefix("ear.738.chart.").upper()
                if column in columns:
                    assert any(column in c["columns"] for c in entry["controls"]), (entry["id"], finding.rule)
                    assert column in chart().get(destination, set()) or (column == "AT1" and destination in AT1)
                else:
                    section = finding.citation.split(";")[0].removeprefix("15 CFR ")
                    assert any(c["conditional"] or section in c["chart"] or section.split("(")[0] in c["chart"]
                               or c["reason"] == "AT" for c in entry["controls"] if not c["columns"]
                               or c["conditional"]), (entry["id"], finding.rule)
    assert checked > 300


def test_no_chart_finding_where_the_entry_has_no_x(engine):
    """An AT-only entry to a destination outside E:1 (3A991 to Germany) is cleared: the chart marks nothing."""
    result = engine.check(order("DE", date=DAY, eccn="3A991.a.1"))
    assert result.decision == Decision.NLR
    assert not any(r.startswith("ear.738") for r in fired(result))


@pytest.mark.parametrize("eccn, destination, rules", [
    ("3B001.j", "CN", {"ear.738.chart.ns2"}),                                    # EUV mask substrate
    ("3B001.c.1.a", "DE", {"ear.738.chart.ns-742.4.a.5-worldwide", "ear.738.chart.rs-742.6.a.10-worldwide"}),
    ("3D006", "CN", {"ear.738.chart.ns2"}),
    ("5A002.a", "CN", {"ear.738.chart.ns1", "ear.738.chart.ei-742.15-not-canada"}),
    ("3A001.a.1.a", "CN", {"ear.738.chart.ns2"}),
    ("3B001.f.1", "CN", {"ear.738.chart.ns-742.4.a.4-macau-d5", "ear.738.chart.rs-742.6.a.6-macau-d5"}),
])
def test_orders_once_cleared_now_need_a_licence(engine, eccn, destination, rules):
    result = engine.check(order(destination, date=DAY, eccn=eccn))
    assert result.decision == Decision.LICENSE_REQUIRED
    assert rules <= fired(result)
    for finding in result.findings:
        assert finding.citation.startswith("15 CFR") or finding.jurisdiction != "US-EAR"


@pytest.mark.parametrize("eccn", ["3D001", "3E001"])
def test_a_control_on_a_condition_the_order_cannot_state_is_held(engine, eccn):
    result = engine.check(order("CN", date=DAY, eccn=eccn))
    assert result.decision == Decision.HOLD
    held = [f for f in result.findings if f.rule.startswith("ear.738.chart.conditional.")]
    assert held and all(f.effect == Decision.HOLD and "cannot be told from the order" in f.message for f in held)


def test_3b993_needs_a_licence_only_for_a_footnote_5_party(engine):
    # 15 CFR 742.6(a)(11): the RS control reaches only a footnote 5 Entity List entity
    assert engine.check(order("CN", date=DAY, eccn="3B993.f.1")).decision == Decision.NLR


@pytest.mark.parametrize("eccn, destination, expected", [
    ("3A090", "CN", Decision.LICENSE_REQUIRED), ("4A090", "CN", Decision.LICENSE_REQUIRED),
    ("3A001.z", "CN", Decision.LICENSE_REQUIRED), ("3A090", "DE", Decision.NLR),
])
def test_an_eccn_without_its_paragraph_is_read_as_the_most_restrictive(engine, eccn, destination, expected):
    result = engine.check(order(destination, date=DAY, eccn=eccn))
    assert result.decision == expected
    line = result.lines[0]
    assert line.eccn == eccn
    reading = next(d for d in line.derived if d.rule == "chipgate.most-restrictive-paragraph")
    assert reading.facts["item.eccn"].startswith(eccn + ".") or expected == Decision.NLR
    if expected == Decision.LICENSE_REQUIRED and eccn != "3A001.z":  # the paragraphs disagree: say so
        assert "chipgate.most-restrictive-paragraph" in fired(result)


@pytest.mark.parametrize("eccn, destination, day, rule", [
    ("1C010.a", "DE", DAY, "chipgate.undecided-eccn"),           # outside CCL Categories 3-5
    ("3B001.j", "DE", "2026-09-23", "chipgate.undecided-eccn"),  # before the chart pack's edition
    ("3B001.j", "SY", DAY, "chipgate.undecided-destination"),    # the data's Syria row is unreliable
])
def test_what_the_bundle_does_not_decide_is_held(engine, eccn, destination, day, rule):
    result = engine.check(order(destination, date=day, eccn=eccn))
    assert result.decision in (Decision.HOLD, Decision.LICENSE_REQUIRED, Decision.PROHIBITED)
    assert rule in fired(result)
    assert result.decision != Decision.NLR


def test_the_chart_pack_starts_on_its_edition_date(engine):
    assert engine.check(order("DE", date=EDITION, eccn="3B001.j")).decision == Decision.NLR
    assert engine.check(order("CN", date=EDITION, eccn="3B001.j")).decision == Decision.LICENSE_REQUIRED


@pytest.mark.parametrize("generated, hand_written", [
    ("ccl:rs-742.6.a.6.iii.a-ac-a-enforced", "ac-a-items"),
    ("ccl:rs-742.6.a.6.iii.b-uae-d1-d4-d5", "ac-b-items"),
    ("ccl:rs-742.6.a.6.i.b-macau-d5", "hbm-items"),
])
def test_cells_left_to_the_advanced_computing_rules_are_covered_by_them(engine, generated, hand_written):
    book = engine.rulebook
    resolver = SetResolver(book.sets, book.aliases)
    day = dt.date.fromisoformat(DAY)
    members = resolver.members(generated, day)
    assert members
    assert {m for m in members if not resolver.contains(hand_written, m, day)} == set()


def test_the_pack_is_what_the_generator_makes_of_the_data(tmp_path):
    out = tmp_path / "country-chart.yaml"
    subprocess.run([sys.executable, str(REPO / "tools" / "ccl_chart.py"), str(EAR), "-o", str(out)],
                   check=True, capture_output=True)
    assert out.read_text() == (REPO / "rules" / "ear" / "country-chart.yaml").read_text()


# --- License Exceptions LVS (15 CFR 740.3) and GBS (740.4) -----------------------------------------

@pytest.mark.parametrize("lines, expected", [
    ([3000], Decision.LICENSE_EXCEPTION),          # 3C001: LVS $3,000, to Country Group B
    ([Decimal("3000.01")], Decision.LICENSE_REQUIRED),      # a cent over the limit
    ([2000, 1000], Decision.LICENSE_EXCEPTION),    # the limit counts the ECCN's lines together
    ([2000, Decimal("1000.01")], Decision.LICENSE_REQUIRED),
    ([None], Decision.LICENSE_REQUIRED),           # no value: the exception cannot be shown to apply
])
def test_lvs_value_limit_per_eccn(engine, lines, expected):
    txn = order("SG", date=DAY, eccn="3C001")
    item = txn["items"][0]
    txn["items"] = [dict(item, sku=f"L{n}", **({} if v is None else {"unit_value": v})) for n, v in enumerate(lines)]
    result = engine.check(txn)
    assert result.decision == expected
    assert ("ear.740.3.lvs-3000" in fired(result)) == (expected == Decision.LICENSE_EXCEPTION)
    if expected == Decision.LICENSE_EXCEPTION:
        assert next(f for f in result.findings if f.rule == "ear.738.chart.ns2").overcome_by == "ear.740.3.lvs-3000"


@pytest.mark.parametrize("eccn, destination, expected", [
    ("3C005", "SG", Decision.LICENSE_EXCEPTION),       # GBS: yes
    ("3C005", "CN", Decision.LICENSE_REQUIRED),        # China is not in Country Group B
    ("3B001.j", "AE", Decision.LICENSE_EXCEPTION),     # 3B001: GBS yes, except a.3, c.1.a, c.1.c, e, f, q
    ("3B001.f.2", "AE", Decision.LICENSE_REQUIRED),    # lithography is excepted
])
def test_gbs_to_country_group_b(engine, eccn, destination, expected):
    result = engine.check(order(destination, date=DAY, eccn=eccn, unit_value=1_000_000))
    assert result.decision == expected
    assert ("ear.740.4.gbs" in fired(result)) == (expected == Decision.LICENSE_EXCEPTION)


def test_explain_shows_the_entry_s_reasons_the_column_and_the_country_s_x(tmp_path, cli_lists):
    from click.testing import CliRunner

    from cli import main
    path = tmp_path / "order.json"
    path.write_text(json.dumps(order("CN", date=DAY, eccn="3B001.j")))
    result = CliRunner().invoke(main, ["explain", str(path)])
    assert result.exit_code == 3
    assert "Commerce Country Chart: national security (NS column 2)" in result.output
    assert "3B001 (reasons for control: NS, RS, AT): NS applies to 3B001.a.1 to a.3" in result.output
    assert "the destination is China (CN), in Commerce Country Chart, column NS2" in result.output
