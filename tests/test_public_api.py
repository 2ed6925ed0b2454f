"""The exported surface is a contract: adding or removing a name must be a decision."""
import controls


def test_exported_names():
    assert sorted(controls.__all__) == [
        "ChipgateError", "Decision", "Determination", "Engine", "EngineError", "Finding", "InputError",
        "Item", "LineResult", "ListDataError", "Party", "Problem", "RuleError", "ScreeningResult", "Transaction",
    ]


def test_decisions_in_contract_order():
    order = [d.value for d in sorted(controls.Decision, key=lambda d: -d.rank)]
    assert order == ["PROHIBITED", "LICENSE_REQUIRED", "HOLD", "LICENSE_EXCEPTION", "NLR", "NOT_SUBJECT"]


def test_input_errors_are_value_errors():
    assert issubclass(controls.InputError, ValueError) and issubclass(controls.RuleError, ValueError)


def test_every_fact_a_rule_may_test_is_documented_for_rule_authors():
    from pathlib import Path

    from controls.facts.catalog import LINE_FIELDS, PARTY_FIELDS
    guide = (Path(__file__).resolve().parent.parent / "rules" / "README.md").read_text()
    assert [f for f in (*LINE_FIELDS, *PARTY_FIELDS) if f"`{f}`" not in guide] == []
