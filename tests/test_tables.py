"""Decision tables: rows compiled to ordinary rules, and the gap and overlap analysis."""
import pytest
from conftest import order
from test_rulebook import pack

from controls import Engine, RuleError
from controls.rulebook.lint import lint

TABLE = """\
tables:
  - id: t.tiers
    citation: 15 CFR 774 Supp. 1
    effective: {from: 2020-01-01}
    hit: {hit}
    when: {item.eccn: {exists: false}}
    inputs: [item.chip.tpp, item.chip.datacenter]
    rules:
      - {id: t.high, title: high tier, then: {derive: {item.eccn: 3A090.a}}}
      - {id: t.low, title: low tier, then: {derive: {item.outside_3a090: true}}}
    rows:
      - {rule: t.high, item.chip.tpp: {gte: 4800}}
      - {rule: t.high, item.chip.tpp: {gte: 1600, lt: 4800}, item.chip.datacenter: true}
      - {rule: t.low, item.chip.tpp: {lt: 1600}}
      - {rule: t.low, item.chip.tpp: {gte: 1600, lt: 4800}, item.chip.datacenter: false}
"""


def table(hit="unique", replace=()):
    text = TABLE.replace("{hit}", hit)
    for old, new in replace:
        text = text.replace(old, new)
    return text


def test_rows_of_a_rule_compile_to_that_rule(tmp_path):
    engine = Engine.load(pack(tmp_path, table()))
    assert set(engine.rules) == {"t.high", "t.low"}
    derived = lambda **c: {d.rule for d in engine.check(order(**{"chip": c})).lines[0].derived}
    assert derived(tpp=5000) == {"t.high"} and derived(tpp=2000, datacenter=True) == {"t.high"}
    assert derived(tpp=2000, datacenter=False) == {"t.low"} and derived(tpp=1000) == {"t.low"}
    assert derived(tpp=2000) == set()  # datacenter not given: no row holds, the line stays unclassified


def test_a_gap_is_an_error_with_an_example_input(tmp_path):
    with pytest.raises(RuleError) as info:
        Engine.load(pack(tmp_path, table(replace=[("item.chip.tpp: {lt: 1600}", "item.chip.tpp: {lt: 1000}")])))
    [gap] = info.value.problems
    assert gap.code == "table.gap" and "no row covers item.chip.tpp = 1000" in gap.message


def test_an_overlap_under_unique_is_an_error_with_an_example_input(tmp_path):
    with pytest.raises(RuleError) as info:
        Engine.load(pack(tmp_path, table(replace=[("{gte: 1600, lt: 4800}, item.chip.datacenter: true",
                                                   "{gte: 1000, lt: 4800}, item.chip.datacenter: true")])))
    [overlap] = info.value.problems
    assert overlap.code == "table.overlap" and "rows 2 (t.high) and 3 (t.low) both cover" in overlap.message
    assert "item.chip.tpp = 1000" in overlap.message and "item.chip.datacenter = true" in overlap.message


def test_collect_allows_rows_of_one_rule_to_overlap_but_not_rows_deciding_differently(tmp_path):
    same = table("collect", [("{gte: 1600, lt: 4800}, item.chip.datacenter: true", "{gte: 1600}, item.chip.datacenter: true")])
    assert not [p for p in lint(pack(tmp_path / "same", same)) if p.code.startswith("table.")]
    different = table("collect", [("item.chip.tpp: {lt: 1600}}", "item.chip.tpp: {lt: 2000}}")])
    found = [p for p in lint(pack(tmp_path / "different", different)) if p.code.startswith("table.")]
    assert [p.code for p in found] == ["table.overlap"]


def test_first_lets_a_row_hold_only_where_no_earlier_row_does(tmp_path):
    text = """\
    tables:
      - id: t.first
        citation: 15 CFR 774 Supp. 1
        effective: {from: 2020-01-01}
        hit: first
        when: {item.eccn: {exists: false}}
        inputs: [item.chip.tpp]
        rules:
          - {id: t.high, title: high tier, then: {derive: {item.eccn: 3A090.a}}}
          - {id: t.low, title: any other TPP, then: {derive: {item.outside_3a090: true}}}
        rows:
          - {rule: t.high, item.chip.tpp: {gte: 4800}}
          - {rule: t.low, item.chip.tpp: {gte: 0}}
    """
    engine = Engine.load(pack(tmp_path, text))
    derived = lambda **c: {d.rule for d in engine.check(order(**{"chip": c})).lines[0].derived}
    assert derived(tpp=5000) == {"t.high"} and derived(tpp=4799) == {"t.low"} and derived(datacenter=True) == set()


def test_the_3a090_tiers_are_a_complete_table_without_conflicts(engine):
    assert {"ear.3a090.a.classify", "ear.3a090.b.classify", "ear.3a090.ab.outside"} <= set(engine.rules)
    assert not [p for p in lint(engine.rulebook.root) if p.code.startswith("table.")]
