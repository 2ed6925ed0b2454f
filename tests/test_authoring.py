"""Cases beside the rules: screening stubs, assertions on findings and lines, the diff, coverage."""
import shutil
import textwrap

from click.testing import CliRunner
from conftest import REPO

from cli import main
from controls import Engine
from controls.engine import authoring

CASE = """\
cases:
  - name: an Entity List end user with footnote 4, stubbed
    transaction:
      id: S-1
      date: 2026-11-28
      export_from: US
      destination: CN
      parties: [{role: end_user, name: Example Listed Co, country: CN}]
      items: [{sku: X, quantity: 1, origin: US, eccn: EAR99}]
    screening:
      end_user: {list: Entity List, entry: Example Listed Co, footnotes: [4]}
    expect: {expect}
    fires: [ear.744.11.entity-list]
    findings:
      - rule: ear.744.11.entity-list
        party: end_user
        effect: LICENSE_REQUIRED
        citation: 15 CFR 744.11; 15 CFR part 744, Supplement No. 4
        because: ["party.lists"]
    lines:
      - {line: 0, decision: LICENSE_REQUIRED, subject_to_ear: true, eccn: EAR99}
"""


def with_case(tmp_path, text: str):
    root = tmp_path / "rules"
    shutil.copytree(REPO / "rules", root, ignore=shutil.ignore_patterns("lists"))
    (root / "ear" / "case.yaml").write_text(textwrap.dedent(text))
    return root


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env)


def test_a_stubbed_entity_list_match_and_its_findings_lines_and_reasons(tmp_path):
    engine = Engine.load(with_case(tmp_path, CASE.replace("{expect}", "LICENSE_REQUIRED")), tmp_path / "no-lists")
    [outcome] = [o for o in engine.run_cases() if o.name.endswith("footnote 4, stubbed")]
    assert outcome.passed, outcome.detail
    assert "ear.744.11.entity-list" in outcome.fired


def test_a_failing_case_shows_expected_and_actual(tmp_path):
    text = CASE.replace("{expect}", "NLR").replace("effect: LICENSE_REQUIRED", "effect: HOLD") \
        .replace("eccn: EAR99}\n", "eccn: 3A090.a}\n", 1)
    result = run("rules", "test", str(with_case(tmp_path, text)), "--lists", str(tmp_path / "no-lists"))
    assert result.exit_code == 1
    assert "decision: expected NLR, actual LICENSE_REQUIRED" in result.output
    assert "finding ear.744.11.entity-list party end_user effect: expected HOLD, actual LICENSE_REQUIRED" in result.output
    assert "line 0 eccn: expected '3A090.a', actual 'EAR99'" in result.output
    assert "actual findings: " in result.output


def test_rules_test_does_not_depend_on_the_list_store(tmp_path, list_store):
    empty = run("rules", "test", env={"CHIPGATE_LISTS": str(tmp_path / "empty")})
    real = run("rules", "test", env={"CHIPGATE_LISTS": str(list_store)})
    assert empty.exit_code == real.exit_code == 0, empty.output
    assert empty.output == real.output


def test_rules_test_reports_coverage(tmp_path):
    result = run("rules", "test", "--lists", str(tmp_path / "no-lists"))
    assert "rules fired in some case" in result.output and "thresholds without a case on both sides" in result.output


def test_every_shipped_rule_fires_in_a_case_and_every_threshold_is_tested_on_both_sides(tmp_path):
    engine = Engine.load(lists=tmp_path / "no-lists")
    outcomes = engine.run_cases()
    assert all(o.passed for o in outcomes), [o.detail for o in outcomes if not o.passed]
    report = authoring.coverage(engine.rulebook, outcomes)
    assert [r.id for r in report.never_fired] == [] and report.one_sided == []
