"""chipgate rules lint: every problem of a pack in one run, each with a stable code, file and line."""
import json
import shutil

from click.testing import CliRunner
from conftest import REPO
from test_rulebook import pack

from cli import main
from controls.rulebook.lint import CODES, lint

BROKEN = REPO / "tests" / "packs" / "broken"


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_a_pack_with_one_instance_of_every_code_yields_all_of_them_in_one_run(tmp_path):
    shutil.copytree(BROKEN, tmp_path / "broken")
    (tmp_path / "broken" / "folder.yaml").mkdir()  # file.unreadable (git keeps no empty directory)
    problems = lint(tmp_path / "broken")
    assert {p.code for p in problems} == set(CODES)
    assert problems == sorted(problems, key=lambda p: (p.file, p.line or 0, p.code, p.message))
    warnings = {"rule.ne-on-optional", "set.unused", "condition.unused", "rule.no-case", "rule.threshold-one-side"}
    assert all(p.severity == ("warning" if p.code in warnings else "error") for p in problems)


def test_schema_errors_do_not_hide_condition_errors():
    shape = [p for p in lint(BROKEN) if p.rule == "t.shape"]
    assert {p.code for p in shape} == {"schema.invalid", "schema.unknown-key", "rule.unknown-operator"}


def test_a_duplicate_points_at_the_first_definition():
    [duplicate] = [p for p in lint(BROKEN) if p.code == "rule.duplicate-id"]
    assert duplicate.line == 33 and duplicate.message.endswith("rules.yaml:2")


def test_versions_of_one_rule_in_force_on_one_day():
    [overlap] = [p for p in lint(BROKEN) if p.code == "rule.overlapping-window"]
    assert overlap.rule == "t.version" and "t.version.2022" in overlap.message and "until: 2023-11-17" in overlap.fix


def test_cli_exits_2_on_errors_and_speaks_json():
    result = run("rules", "lint", str(BROKEN), "--format", "json")
    assert result.exit_code == 2
    found = json.loads(result.output)
    assert {"file", "line", "severity", "code", "rule", "message", "fix"} <= set(found[0])
    text = run("rules", "lint", str(BROKEN))
    assert "rules.yaml:6: error rule.unknown-fact [t.fact]" in text.output and "(did you mean 'item.chip.tpp'?)" in text.output


def test_the_shipped_rules_lint_without_errors():
    result = run("rules", "lint", str(REPO / "rules"))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("0 errors")


def test_validate_reports_a_case_naming_a_missing_rule(tmp_path):
    text = """\
    rules:
      - id: t.r
        title: a rule
        citation: 15 CFR 742.6
        effective: {from: 2020-01-01}
        when: {destination: CN}
        then: {decision: HOLD}
    cases:
      - name: names a rule that is not there
        transaction: {id: C, date: 2026-01-01, destination: CN, items: [{sku: X, quantity: 1}]}
        expect: HOLD
        fires: [t.rule]
    """
    result = run("rules", "validate", str(pack(tmp_path, text)))
    assert result.exit_code == 2 and "unknown rule 't.rule' (did you mean 't.r'?)" in result.output


def test_threshold_sides_count_cases_on_each_side(tmp_path):
    text = """\
    rules:
      - id: t.r
        title: a rule
        citation: 15 CFR 742.6
        effective: {from: 2020-01-01}
        when: {item.chip.tpp: {gte: 4800}}
        then: {decision: HOLD}
    cases:
      - name: above
        transaction: {id: C, date: 2026-01-01, destination: CN, items: [{sku: X, quantity: 1, chip: {tpp: 4800}}]}
        expect: HOLD
        fires: [t.r]
    """
    [one_side] = [p for p in lint(pack(tmp_path, text)) if p.code == "rule.threshold-one-side"]
    assert one_side.fix == "add a case with item.chip.tpp < 4800"
    below = text + """\
      - name: below
        transaction: {id: C, date: 2026-01-01, destination: CN, items: [{sku: X, quantity: 1, chip: {tpp: 4799.9}}]}
        expect: HOLD
    """
    assert not [p for p in lint(pack(tmp_path / "both", below)) if p.code == "rule.threshold-one-side"]


def test_a_broken_condition_is_one_problem_wherever_it_is_used(tmp_path):
    """A typo in a condition used through another one, by a rule: one error, at the typo; no warning that
    the outer condition is unused (its rule did not load, for the typo)."""
    text = """\
    conditions:
      outer: {all: [{condition: broken}, {destination: CN}]}
      broken: {item.eccn: {inn: [3A090]}}
    rules:
      - id: test.rule
        title: a test rule
        citation: 15 CFR 742.6
        effective: {from: 2020-01-01}
        when: {condition: outer}
        then: {decision: HOLD}
    """
    found = lint(pack(tmp_path, text))
    [error] = [p for p in found if p.severity == "error" or p.code == "condition.unused"]
    assert (error.line, error.code) == (3, "rule.unknown-operator") and "condition 'broken'" in error.message
