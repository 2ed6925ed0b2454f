"""Decision arithmetic on hand-built findings: exceptions overcoming requirements, most restrictive per
line, per jurisdiction and per order.  The real-engine tests of the same (test_exceptions.py,
test_country_chart.py, test_china.py) exercise it through the rule packs."""
import pytest
from conftest import order

from controls.engine.decisions import PARAGRAPH_RULE, Decisions, base, needed_exceptions
from controls.models import Decision, Finding, LineResult, Transaction

GBS, NS1, NS2 = "ear.740.4.gbs", "ear.738.chart.ns1", "ear.738.chart.ns2"
US, CN = "US-EAR", "CN-ECL"


@pytest.fixture(scope="module")
def decisions(engine) -> Decisions:
    """The arithmetic of the real bundle (GBS overcomes NS1 and NS2)."""
    return Decisions(engine.rules, engine.jurisdictions)


def finding(rule: str, effect: Decision, line: int | None = 0, **fields) -> Finding:
    return Finding(rule=rule, citation="test", effect=effect, line=line, **fields)


def exception(rule: str = GBS) -> Finding:
    return finding(rule, Decision.LICENSE_EXCEPTION, license_exception="GBS")


SUBJECT = {"item.subject_to_ear": True, "item.eccn": "3A001.a.1"}


def test_an_exception_overcomes_the_requirements_it_names(decisions):
    ns1, gbs = finding(NS1, Decision.LICENSE_REQUIRED), exception()
    result = decisions.line_result(0, "X", SUBJECT, [ns1, gbs], [])
    assert ns1.overcome_by == GBS
    assert result.decision == Decision.LICENSE_EXCEPTION and result.license_exception == "GBS"


def test_an_exception_does_not_overcome_what_it_does_not_name(decisions):
    other, gbs = finding("ear.744.21.military-end-use", Decision.LICENSE_REQUIRED), exception()
    result = decisions.line_result(0, "X", SUBJECT, [other, gbs], [])
    assert other.overcome_by is None
    assert result.decision == Decision.LICENSE_REQUIRED and result.license_exception is None


def test_each_requirement_must_be_overcome_on_its_own(decisions):
    """NS1 overcome, a second requirement not: the line needs a licence."""
    findings = [finding(NS1, Decision.LICENSE_REQUIRED), finding(NS2, Decision.LICENSE_REQUIRED),
                finding("ear.744.21.military-end-use", Decision.LICENSE_REQUIRED), exception()]
    assert decisions.line_result(0, "X", SUBJECT, findings, []).decision == Decision.LICENSE_REQUIRED
    assert [f.overcome_by for f in findings[:3]] == [GBS, GBS, None]


def test_an_exception_that_overcomes_nothing_counts_for_nothing(decisions):
    gbs = exception()
    effects = decisions.effects([gbs])
    assert id(gbs) not in effects
    assert decisions.line_result(0, "X", SUBJECT, [gbs], []).decision == Decision.NLR
    assert needed_exceptions([gbs]) == []


def test_needed_exceptions_keeps_those_that_overcame_something(decisions):
    ns1, gbs, hold = finding(NS1, Decision.LICENSE_REQUIRED), exception(), finding("x.hold", Decision.HOLD)
    decisions.effects([ns1, gbs])
    assert needed_exceptions([ns1, gbs, hold]) == [ns1, gbs, hold]


def test_a_finding_of_a_rule_outside_the_bundle_overcomes_nothing(decisions):
    """A synthetic finding (a conflict, a paragraph reading) is not an exception of the bundle."""
    ns1 = finding(NS1, Decision.LICENSE_REQUIRED)
    synthetic = finding("chipgate.synthetic", Decision.LICENSE_EXCEPTION)
    assert decisions.line_result(0, "X", SUBJECT, [ns1, synthetic], []).decision == Decision.LICENSE_REQUIRED
    assert ns1.overcome_by is None


def test_unenforced_findings_do_not_decide(decisions):
    held = finding("x.prohibited", Decision.PROHIBITED, enforced=False)
    assert decisions.line_result(0, "X", SUBJECT, [held], []).decision == Decision.NLR


def test_the_most_restrictive_finding_decides_the_line(decisions):
    findings = [finding("a", Decision.HOLD), finding("b", Decision.PROHIBITED), finding("c", Decision.LICENSE_REQUIRED)]
    assert decisions.line_result(0, "X", SUBJECT, findings, []).decision == Decision.PROHIBITED


@pytest.mark.parametrize("values, expected", [
    ({"item.subject_to_ear": True}, Decision.NLR),
    ({"item.subject_to_ear": False}, Decision.NOT_SUBJECT),
    ({}, Decision.HOLD),  # unknown is never clear
])
def test_the_ear_base_decision(values, expected):
    assert base(US, values) == expected


@pytest.mark.parametrize("reach, expected", [("export", Decision.NLR), ("origin", Decision.NOT_SUBJECT),
                                             (None, Decision.NOT_SUBJECT)])
def test_the_prc_base_decision(reach, expected):
    assert base(CN, {"cn_reach": reach} if reach else {}) == expected


def test_each_jurisdiction_decides_apart_and_the_order_takes_the_most_restrictive(decisions):
    findings = [finding("cn.x", Decision.LICENSE_REQUIRED, jurisdiction=CN),
                finding(NS1, Decision.LICENSE_REQUIRED), exception()]
    result = decisions.line_result(0, "X", {**SUBJECT, "cn_reach": "export"}, findings, [])
    assert result.jurisdictions == {US: Decision.LICENSE_EXCEPTION, CN: Decision.LICENSE_REQUIRED}
    assert result.decision == Decision.LICENSE_REQUIRED
    clear = decisions.line_result(1, "Y", {**SUBJECT, "cn_reach": "export"}, [], [])
    assert decisions.order([result, clear]) == (Decision.LICENSE_REQUIRED,
                                                 {US: Decision.LICENSE_EXCEPTION, CN: Decision.LICENSE_REQUIRED})


def line(decision: Decision) -> LineResult:
    return LineResult(line=0, sku="X", eccn="3A001", subject_to_ear=True, basis=None, decision=decision,
                      jurisdictions={US: decision})


def test_readings_keep_the_most_restrictive_and_hold_when_they_disagree(decisions):
    txn = Transaction.model_validate(order("CN", eccn="3A001"))
    checked = [{**SUBJECT, "item.eccn": "3A001"}, {**SUBJECT, "item.eccn": "3A001.a"},
               {**SUBJECT, "item.eccn": "3A001.b"}]
    readings = [(0, "3A001.a"), (0, "3A001.b")]
    findings = [finding("a.required", Decision.LICENSE_REQUIRED, line=2), finding("party", Decision.HOLD, line=None)]
    results, kept = decisions.most_restrictive_readings(txn, checked, readings, [line(Decision.NLR)], findings,
                                                        [[], [], []])
    assert results[0].decision == Decision.LICENSE_REQUIRED and results[0].eccn == "3A001"
    assert results[0].derived[-1].facts == {"item.eccn": "3A001.b"}
    assert {(f.rule, f.line) for f in kept} == {("party", None), ("a.required", 0), (PARAGRAPH_RULE, 0)}


def test_readings_that_agree_add_no_hold(decisions):
    txn = Transaction.model_validate(order("CN", eccn="3A001"))
    checked = [{**SUBJECT, "item.eccn": "3A001"}, {**SUBJECT, "item.eccn": "3A001.a"}]
    results, kept = decisions.most_restrictive_readings(txn, checked, [(0, "3A001.a")], [line(Decision.NLR)], [],
                                                        [[], []])
    assert results[0].decision == Decision.NLR and kept == []
