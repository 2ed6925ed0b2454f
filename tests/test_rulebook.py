"""Rule-pack loading and compiling: every problem reported with its file and line."""
import shutil
from functools import partial

import pytest
from conftest import REPO, order, rule_pack, rule_problems

from controls import Decision, Engine

pack = partial(rule_pack, sets=True)
problems = partial(rule_problems, sets=True)


RULE = """\
rules:
  - id: test.rule
    title: a test rule
    citation: 15 CFR 742.6
    effective: {from: 2020-01-01}
    when:
      {when}
    then: {decision: HOLD}
"""


def rule(when: str) -> str:
    return RULE.replace("{when}", when)


def test_unknown_operator_names_file_line_and_suggests(tmp_path):
    [p] = problems(tmp_path, rule("item.chip.tpp: {gte: 4800, gtee: 1}"))
    assert p.file.endswith("rules.yaml") and p.line == 7 and p.rule == "test.rule"
    assert "unknown operator 'gtee'" in p.message and "did you mean 'gte'" in p.message


def test_unknown_fact_suggests_the_right_name(tmp_path):
    [p] = problems(tmp_path, rule("item.chip.tp: {gte: 4800}"))
    assert "unknown fact 'item.chip.tp'" in p.message and "item.chip.tpp" in p.message and p.line == 7


def test_malformed_yaml_names_file_and_line(tmp_path):
    [p] = problems(tmp_path, rule("destination: [CN, DE"))
    assert p.file.endswith("rules.yaml") and p.line is not None and "malformed YAML" in p.message


def test_typo_in_a_rule_key(tmp_path):
    text = rule("destination: CN").replace("    then:", "    thne:")
    found = problems(tmp_path, text)
    assert any("unknown key 'thne'" in p.message and p.line == 8 for p in found)


@pytest.mark.parametrize("when, message", [
    ("destination: XX", "unknown country code 'XX'"),
    ("destination: {in: D:9}", "unknown set 'D:9'"),
    ("item.eccn: {in: D:5}", "holds country values"),
    ("item.chip.tpp: {gte: -1}", "negative threshold"),
    ("item.chip.tpp: {gte: '4800'}", "expected a number"),
    ("destination: {gte: 5}", "compares numbers"),
    ("item.eccn: 3A90.a", "malformed ECCN"),
])
def test_bad_values_are_rejected(tmp_path, when, message):
    [p] = problems(tmp_path, rule(when))
    assert message in p.message


def test_every_problem_is_reported_at_once(tmp_path):
    text = rule("destination: XX") + rule("item.chip.tp: 1")[len("rules:\n"):].replace("test.rule", "test.other")
    assert len(problems(tmp_path, text)) == 2


def test_duplicate_rule_ids(tmp_path):
    text = rule("destination: CN") + rule("destination: DE")[len("rules:\n"):]
    [p] = problems(tmp_path, text)
    assert p.code == "rule.duplicate-id" and p.line == 9 and "already used at" in p.message and p.message.endswith(":2")


def test_derivation_cycle_is_refused(tmp_path):
    text = """\
    rules:
      - id: test.one
        title: one
        citation: none
        effective: {from: 2020-01-01}
        when: {item.basis: x}
        then: {derive: {item.eccn: EAR99}}
      - id: test.two
        title: two
        citation: none
        effective: {from: 2020-01-01}
        when: {item.eccn: EAR99}
        then: {derive: {item.basis: x}}
    """
    assert any("derivation cycle" in p.message for p in problems(tmp_path, text))


def test_too_many_tests_under_one_engine_node_is_refused_not_hung(tmp_path):
    # 300 rules testing different values of one fact would hang durable-rules at 512; we stop at 256
    rules = "rules:\n" + "".join(rule(f"item.hs_code: 'H{i}'")[len("rules:\n"):].replace("test.rule", f"test.r{i}")
                                 for i in range(300))
    assert any("distinct tests share one engine node" in p.message for p in problems(tmp_path, rules))


def test_not_pushes_down_with_missing_data_meaning(tmp_path):
    text = rule("not: {item.chip.tpp: {gte: 4800}}").replace("HOLD", "PROHIBITED")
    engine = Engine.load(pack(tmp_path, text))
    assert engine.check(order("DE")).decision == Decision.PROHIBITED                     # unknown TPP
    assert engine.check(order("DE", chip={"tpp": 100})).decision == Decision.PROHIBITED   # below
    assert not engine.check(order("DE", chip={"tpp": 5000})).findings                    # at or above


def test_conflicting_derivations_hold_the_line(tmp_path):
    text = """\
    rules:
      - id: test.a
        title: says a
        citation: none
        effective: {from: 2020-01-01}
        when: {destination: DE}
        then: {derive: {item.eccn: 3A090.a}}
      - id: test.b
        title: says b
        citation: none
        effective: {from: 2020-01-01}
        when: {destination: DE}
        then: {derive: {item.eccn: 3A090.b}}
    """
    result = Engine.load(pack(tmp_path, text)).check(order("DE"))
    assert any(f.rule == "chipgate.conflicting-derivation" and f.effect == Decision.HOLD for f in result.findings)


def test_digest_depends_on_content_not_layout(tmp_path):
    base = Engine.load(REPO / "rules").ruleset.digest
    copy = tmp_path / "copy"
    shutil.copytree(REPO / "rules", copy)
    path = copy / "ear" / "classification.yaml"
    path.write_text("# a comment changes nothing\n" + path.read_text())
    assert Engine.load(copy).ruleset.digest == base
    path.write_text(path.read_text().replace("{gte: 4800}", "{gte: 4801}", 1))
    assert Engine.load(copy).ruleset.digest != base


def test_yaml_norway_stays_a_country(tmp_path):
    engine = Engine.load(pack(tmp_path, rule("destination: {in: [NO, SE]}")))
    assert engine.check(order("NO")).findings[0].rule == "test.rule"


def test_bundled_rules_carry_citations_dates_and_pass_their_cases(engine):
    for rule in engine.rules.values():
        assert rule.rule.citation and rule.rule.effective.start
    outcomes = engine.run_cases()
    assert outcomes and all(o.passed for o in outcomes), [o for o in outcomes if not o.passed]


def test_alternative_classifications_that_both_fire_hold_the_line(tmp_path):
    # peers guarded on the same missing fact run in one stratum; if both fire the pack is wrong
    text = """\
    rules:
      - id: test.classify
        title: classifies
        citation: none
        effective: {from: 2020-01-01}
        when: {item.eccn: {exists: false}, item.chip.tpp: {gte: 100}}
        then: {derive: {item.eccn: 3A090.a}}
      - id: test.outside
        title: says outside
        citation: none
        effective: {from: 2020-01-01}
        when: {item.eccn: {exists: false}, item.chip.tpp: {lt: 5000}}
        then: {derive: {item.outside_3a090: true}}
    """
    engine = Engine.load(pack(tmp_path, text))
    assert engine._compiled.strata == 1
    clash = engine.check(order("DE", chip={"tpp": 1000}))
    assert any(f.rule == "chipgate.conflicting-derivation" for f in clash.findings)
    assert not any(f.rule == "chipgate.conflicting-derivation" for f in engine.check(order("DE", chip={"tpp": 6000})).findings)


def test_exception_must_name_what_it_overcomes(tmp_path):
    text = rule("destination: DE").replace("then: {decision: HOLD}",
                                           "then: {decision: LICENSE_EXCEPTION, license_exception: ACA, overcomes: [nope]}")
    assert any("unknown rule 'nope'" in p.message for p in problems(tmp_path / "a", text))
    text = rule("destination: DE").replace("then: {decision: HOLD}", "then: {decision: LICENSE_EXCEPTION}")
    assert any("overcomes" in p.message for p in problems(tmp_path / "b", text))


def test_the_list_store_beside_the_rules_is_not_read_as_rules(tmp_path):
    root = pack(tmp_path, rule("destination: DE"))
    (root / "lists").mkdir()
    (root / "lists" / "allow-list.yaml").write_text("- {list: Entity List, entry: X, name: Y}\n")
    assert Engine.load(root).rules.keys() == {"test.rule"}


NAMED = """\
conditions:
  big-chip:
    any:
      - item.chip.tpp: {gte: 4800}
      - all: [{item.chip.tpp: {gte: 1600}}, {item.chip.performance_density: {gte: 5.92}}]
rules:
  - id: test.rule
    title: a test rule
    citation: 15 CFR 742.6
    effective: {from: 2020-01-01}
    when:
      destination: CN
      {when}
    then: {decision: HOLD}
"""


def test_a_named_condition_compiles_as_if_written_in_place(tmp_path):
    inline = "any: [{item.chip.tpp: {gte: 4800}}, {all: [{item.chip.tpp: {gte: 1600}}, " \
             "{item.chip.performance_density: {gte: 5.92}}]}]"
    named = Engine.load(pack(tmp_path / "named", NAMED.replace("{when}", "condition: big-chip")))
    written = Engine.load(pack(tmp_path / "written", NAMED.replace("{when}", inline)))
    assert named._compiled.network == written._compiled.network
    result = named.check(order(**{"chip": {"tpp": 2000, "performance_density": 6}}))
    assert "test.rule" in {f.rule for f in result.findings}
    changed = Engine.load(pack(tmp_path / "changed", NAMED.replace("{when}", "condition: big-chip")
                               .replace("gte: 4800", "gte: 4000")))
    assert changed.ruleset.digest != named.ruleset.digest


def test_a_named_condition_is_checked_for_the_facts_of_its_place(tmp_path):
    text = NAMED.replace("{when}", "condition: big-chip").replace(
        "rules:", "  chinese-party: {party.country: CN}\nrules:").replace("destination: CN", "any: [{condition: chinese-party}]")
    [p] = problems(tmp_path / "party-in-when", text)
    assert p.code == "rule.unknown-fact" and "condition 'chinese-party'" in p.message and p.line == 13
    [p] = problems(tmp_path / "unknown", NAMED.replace("{when}", "condition: big-chp"))
    assert p.code == "rule.unknown-condition" and "did you mean 'big-chip'" in p.message


def test_a_named_condition_with_a_problem_is_reported_once_where_it_is_written(tmp_path):
    """Some conditions are named by dozens of rules: a typo in one is one problem, at its line, not one more
    for each rule that uses it; a problem of a use itself (a party's fact where a line's are) is the rule's."""
    uses = "".join(f"""
  - id: test.rule{i}
    title: a test rule
    citation: 15 CFR 742.6
    effective: {{from: 2020-01-01}}
    when: {{all: [{{condition: big-chip}}, {{destination: CN}}]}}
    then: {{decision: HOLD}}""" for i in range(3))
    text = NAMED.replace("{gte: 4800}", "{gtee: 4800}", 1).replace("      {when}\n", "      condition: big-chip\n")
    found = problems(tmp_path / "typo", text + uses)
    assert [(p.line, p.rule, p.code) for p in found] == [(4, None, "rule.unknown-operator")]
    assert "condition 'big-chip'" in found[0].message and "did you mean 'gte'" in found[0].message
    [p] = problems(tmp_path / "place", NAMED.replace("big-chip:", "listed: {party.name_screenable: true}\n  big-chip:")
                   .replace("{when}", "condition: listed"))
    assert p.rule == "test.rule" and "party.name_screenable" in p.message


def test_a_party_rule_needs_no_condition_on_the_line(tmp_path):
    text = RULE.replace("    when:\n      {when}\n", "    for_party: {party.country: CN}\n")
    engine = Engine.load(pack(tmp_path, text))
    result = engine.check(order(origin=None, eccn=None))
    assert result.findings[0].rule == "test.rule" and result.findings[0].party == "end_user"
    assert "test.rule" not in {f.rule for f in engine.check(order("DE")).findings}


def test_a_rule_without_conditions_is_refused(tmp_path):
    [p] = problems(tmp_path, RULE.replace("    when:\n      {when}\n", ""))
    assert "needs 'when'" in p.message and p.rule == "test.rule"
