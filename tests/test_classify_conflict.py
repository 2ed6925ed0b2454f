"""chipgate classify when two classification rules of a pack give one chip different ECCNs:
HOLD (exit 5) naming both rules, what each derives and the facts each saw, never an internal error."""
import datetime as dt
import json

from conftest import REPO
from test_cli import run

from controls import Engine

PACK = REPO / "tests" / "packs" / "conflicting-classifiers"  # 3A090.a from 4800 TPP, 3A090.b from 4000


def test_conflicting_classifiers_give_no_classification_but_both_rules():
    result = Engine.load(PACK).classify({"tpp": 5000, "datacenter": True}, on=dt.date(2026, 1, 1))
    assert result.eccn is None and not result.outside_3a090
    assert {d.rule for d in result.derived} == {"example.3a090.a.classify", "example.3a090.b.classify"}
    assert "example.3a090.a.classify derives item.eccn = 3A090.a" in result.conflict
    assert "example.3a090.b.classify derives item.eccn = 3A090.b" in result.conflict
    assert "item.chip.tpp = 5000 (>= 4800)" in result.conflict and "item.chip.tpp = 5000 (>= 4000)" in result.conflict


def test_the_cli_holds_with_exit_5_and_names_both_rules():
    result = run("classify", "--tpp", "5000", "--datacenter", "--date", "2026-01-01", "--rules", str(PACK))
    assert result.exit_code == 5, result.output
    assert result.output.startswith("cannot classify: the rules conflict (as of 2026-01-01)")
    assert "example.3a090.a.classify" in result.output and "example.3a090.b.classify" in result.output
    assert "item.chip.tpp = 5000 (>= 4800)" in result.output and "internal error" not in result.output
    as_json = run("classify", "--tpp", "5000", "--datacenter", "--date", "2026-01-01", "--rules", str(PACK),
                  "--format", "json")
    assert as_json.exit_code == 5 and json.loads(as_json.output)["eccn"] is None


def test_below_the_overlap_one_rule_classifies_as_usual():
    result = run("classify", "--tpp", "4799", "--datacenter", "--date", "2026-01-01", "--rules", str(PACK))
    assert result.exit_code == 0 and result.output.startswith("3A090.b (as of 2026-01-01)")
