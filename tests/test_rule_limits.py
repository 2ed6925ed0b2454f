"""What a rule pack may ask of the process: every limit refused at load with its file and line
(exit 2), on both sides of each threshold, and never a hang, a crash or memory exhausted.

Inputs are sized so that the code before each limit took minutes (or forever): a test that
returns at all proves the refusal comes first.
"""
import os

import orjson
import pytest
from click.testing import CliRunner
from conftest import REPO, order
from conftest import rule_pack as pack
from conftest import rule_problems as problems

from cli import main
from controls import Engine, RuleError
from controls.errors import InputError
from controls.facts.catalog import LINE_FIELDS
from controls.rulebook import bundle, conditions, loader, tables
from controls.rulebook.conditions import MAX_CONDITION_DEPTH, MAX_CONDITION_NODES, ConditionError, Names
from controls.rulebook.loader import read_pack
from controls.rulebook.yamlsource import loads_yaml

RULE = """\
rules:
  - id: test.rule
    title: a test rule
    citation: 15 CFR 742.6
    effective: {from: 2020-01-01}
    when:
      WHEN
    then: {decision: HOLD}
"""


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


# --- numbers: bounded as an order's (item 2) ----------------------------------------------------------

@pytest.mark.parametrize("number, why", [
    ("1e999999999", "larger than 10^15"), ("1e-999999999", "more than 20 decimal places"),
    ("1000000000000001", "larger than 10^15"), ("1e16", "larger than 10^15"),
    ("0.000000000000000000001", "more than 20 decimal places"),
    ("1000000000000000.00000000000000000001", "larger than 10^15"),  # 37 digits: abs() would round it to 10^15
])
def test_a_number_out_of_range_is_refused_with_file_and_line(tmp_path, number, why):
    [p] = problems(tmp_path, RULE.replace("WHEN", f"item.chip.tpp: {{gte: {number}}}"))
    assert p.file.endswith("rules.yaml") and p.line == 7 and "out of range" in p.message and why in p.message


@pytest.mark.parametrize("number", ["1e15", "1000000000000000", "0.00000000000000000001",
                                    "1.000000000000000000000000", "0"])
def test_a_number_within_range_loads(tmp_path, number):
    Engine.load(pack(tmp_path, RULE.replace("WHEN", f"item.chip.tpp: {{gte: {number}}}")), tmp_path / "no-lists")


def test_a_huge_number_is_refused_by_every_command_that_reads_the_pack(tmp_path):
    path = pack(tmp_path / "p", RULE.replace("WHEN", "item.chip.tpp: {gte: 1e999999999}")
                + "cases:\n  - name: c\n    transaction: {id: A, date: 2026-01-01, export_from: US, destination: DE, "
                  "items: [{sku: X, quantity: 1, origin: US, chip: {tpp: 5}}]}\n    expect: NLR\n")
    orders = tmp_path / "o.json"
    orders.write_text(orjson.dumps(order(parties=[])).decode())
    for args in (["rules", "validate", path], ["rules", "lint", path], ["rules", "test", path],
                 ["check", orders, "--rules", path]):
        result = cli(*args)
        assert result.exit_code == 2 and "rules.yaml:7:" in result.output and "out of range" in result.output, args


def test_a_forged_bundle_with_a_huge_number_is_refused(tmp_path):
    path = pack(tmp_path / "p", RULE.replace("WHEN", "item.chip.tpp: {gte: 4800}"))
    built = tmp_path / "b.json"
    assert cli("rules", "build", path, "-o", built).exit_code == 0
    document = orjson.loads(built.read_bytes())
    document["body"]["rules"][0]["when"]["$leaf"][2] = {"$decimal": "1e999999999"}
    document["header"]["content_digest"] = bundle._digest(document["body"])
    built.write_bytes(orjson.dumps(document))
    with pytest.raises(InputError, match="out of range"):
        Engine.load(built, tmp_path / "no-lists")


# --- named conditions: a budget on the tree written out, and on its depth (items 3 and 4) --------------


TERMINAL = {"destination": "CN"}


def test_named_conditions_that_double_25_times_are_refused_not_expanded(tmp_path):
    # 2^25 nodes written out (50 levels: within the depth limit): the loader used to take many minutes
    text = "conditions:\n" + "".join(f"  c{i}: {{any: [{{condition: c{i + 1}}}, {{condition: c{i + 1}}}]}}\n"
                                     for i in range(25)) + "  c25: {destination: CN}\n"
    # one problem: the first condition, checked after those it uses, that is too large (c13: 2 x 2^12 uses
    # of c25 and the nodes between); those that use it, and the rule, would only repeat it
    [found] = problems(tmp_path, text + RULE.replace("WHEN", "condition: c0"))
    assert found.code == "rule.condition-too-large" and found.line == 15 and found.rule is None
    assert found.message.startswith("condition 'c13': expands to more than 20,000 conditions (MAX_CONDITION_NODES)")


def test_a_chain_of_400_named_conditions_is_exit_2_not_a_recursion_error(tmp_path):
    text = "conditions:\n" + "".join(f"  c{i}: {{condition: c{i + 1}}}\n" for i in range(400)) + \
        "  c400: {destination: CN}\n" + RULE.replace("WHEN", "condition: c0")
    path = pack(tmp_path / "p", text)
    for args in (["rules", "validate", path], ["rules", "build", path, "-o", tmp_path / "b.json"]):
        result = cli(*args)
        # said once, of the first condition (checked after those it uses) past the limit: c336, 64 above c400
        assert result.exit_code == 2 and "rules.yaml:338: condition 'c336': conditions nested deeper than 64" \
            in result.output, result.output[-500:]
        assert result.output.count("nested deeper") == 1
        assert "internal error" not in result.output
    assert not (tmp_path / "b.json").exists()


def _any_of(n):
    return {"any": [TERMINAL] * n}  # 1 + 2n nodes: the mapping, and each item's mapping and leaf


def test_the_node_budget_on_both_sides():
    assert len(conditions.parse(_any_of((MAX_CONDITION_NODES - 1) // 2), LINE_FIELDS, {}).parts) == 9_999
    with pytest.raises(ConditionError, match="more than 20,000 conditions"):
        conditions.parse(_any_of((MAX_CONDITION_NODES + 1) // 2), LINE_FIELDS, {})


def test_the_depth_limit_on_both_sides():
    def nested(levels):
        node = TERMINAL
        for _ in range(levels - 1):
            node = {"not": node}
        return node
    conditions.parse(nested(MAX_CONDITION_DEPTH), LINE_FIELDS, {})
    errors = []
    conditions.parse(nested(MAX_CONDITION_DEPTH + 1), LINE_FIELDS, {}, 7, errors)
    [error] = errors
    assert error.line == 7 and error.code == "rule.condition-too-large" and "deeper than 64" in str(error)


def test_the_pack_budget_on_both_sides():
    names = Names({}, {"big": _any_of((MAX_CONDITION_NODES - 1) // 2)})
    use = {"condition": "big"}  # 1 + 19,999 nodes a use
    for _ in range(conditions.MAX_PACK_CONDITION_NODES // MAX_CONDITION_NODES):
        conditions.parse(use, LINE_FIELDS, names)
    with pytest.raises(ConditionError, match="the pack's conditions expand to more than 200,000"):
        conditions.parse(use, LINE_FIELDS, names)


# --- decision tables: a cost budget on the analysis (item 5), malformed tables (item 6) ----------------


TABLE = """\
tables:
  - id: t.tab
    citation: test cite
    effective: {from: 2020-01-01}
    hit: collect
    inputs: INPUTS
    rules:
      - {id: t.a, title: aaa, then: {decision: HOLD, message: x}}
    rows:
ROWS"""


def table_text(rows, inputs=("item.quantity", "item.unit_value")):
    cells = "".join("      - {rule: t.a, " + ", ".join(f"{key}: {{gte: {i}}}" for key in inputs) + "}\n"
                    for i in range(rows))
    return TABLE.replace("INPUTS", f"[{', '.join(inputs)}]").replace("ROWS", cells)


def test_a_table_too_costly_to_analyse_is_an_error_naming_it(tmp_path):
    # 150 rows on 2 inputs: 90,000 examples x 300 cells, and up to 150 rows holding at once (> 60 s before)
    [p] = problems(tmp_path, table_text(150))
    assert p.code == "table.too-large" and p.rule == "t.tab" and p.line == 9 and "table 't.tab'" in p.message
    assert "MAX_ANALYSIS_STEPS" in p.message


def _analyse(rows, inputs=("item.quantity",)):
    return {p.code for p in tables.analyse(loads_yaml(table_text(rows, inputs), "x.yaml")["tables"][0], "x.yaml", {})}


def test_the_analysis_budget_on_both_sides(monkeypatch):
    # one input, rows gte 0, 1, 2: 6 examples (0, 0.5, 1, 1.5, 2, 3) x 3 cells, then 8 pairs of rows holding together
    monkeypatch.setattr(tables, "MAX_ANALYSIS_STEPS", 26)
    assert _analyse(3) == set()
    monkeypatch.setattr(tables, "MAX_ANALYSIS_STEPS", 25)
    assert _analyse(3) == {"table.too-large"}  # over on the pairs
    monkeypatch.setattr(tables, "MAX_ANALYSIS_STEPS", 17)
    assert _analyse(3) == {"table.too-large"}  # over before any example is tried


def test_the_examples_limit_on_both_sides(monkeypatch):
    monkeypatch.setattr(tables, "MAX_EXAMPLES", 6)
    assert _analyse(3) == set()
    monkeypatch.setattr(tables, "MAX_EXAMPLES", 5)
    assert _analyse(3) == {"table.too-large"}


def test_the_shipped_table_is_still_analysed(monkeypatch):
    seen = []
    monkeypatch.setattr(tables, "_too_large", lambda table, *_: seen.append(table.get("id")))
    book, found = read_pack(REPO / "rules")
    assert not seen and not [p for p in found if p.severity == "error"]


@pytest.mark.parametrize("inputs, rule_id, row_rule, message", [
    ("[item.quantity, bogus.fact]", "t.a", "t.a", "input 'bogus.fact' is no fact of an order line"),
    ("5", "t.a", "t.a", "inputs is a list of facts, not 5"),
    ("[[item.quantity]]", "t.a", "t.a", "an input is a fact's name, not ['item.quantity']"),
    ("[item.quantity]", "[t.a]", "t.a", "a rule's id is a text, not ['t.a']"),
    ("[item.quantity]", "t.a", "{x: 1}", "a row's rule is a text, not {'x': 1}"),
])
def test_a_malformed_table_is_an_error_with_file_and_line(tmp_path, inputs, rule_id, row_rule, message):
    text = (TABLE.replace("INPUTS", inputs).replace("id: t.a", f"id: {rule_id}")
            .replace("ROWS", f"      - {{rule: {row_rule}, item.quantity: {{gte: 0}}}}\n"))
    found = problems(tmp_path, text)
    assert any(message in p.message and p.file.endswith("rules.yaml") and p.line in (6, 8, 10) for p in found), found
    result = cli("rules", "validate", tmp_path)
    assert result.exit_code == 2 and message in result.output


# --- sets built from each other (item 7) ----------------------------------------------------------------

SET_RULE = RULE.replace("WHEN", "destination: {in: s0}")


def sets_text(*sets):
    return SET_RULE + "sets:\n" + "".join(f"  - {{id: {name}, title: t, {body}}}\n" for name, body in sets)


@pytest.mark.parametrize("sets, cycle", [
    ((("s0", "union: [s0]"),), "s0 -> s0"),
    ((("s0", "union: [s2]"), ("s2", "union: [s1]"), ("s1", "members: [DE], union: [s2]")), "s1 -> s2 -> s1"),
    ((("s0", "members: [DE], minus: [s1]"), ("s1", "members: [FR], minus: [s0]")), "s0 -> s1 -> s0"),
])
def test_sets_built_from_each_other_are_refused_naming_them(tmp_path, sets, cycle):
    found = problems(tmp_path, sets_text(*sets))
    [p] = [p for p in found if p.code == "set.cycle"]
    assert f"sets built from each other: {cycle}" in p.message and p.file.endswith("rules.yaml") and p.line >= 10
    orders = tmp_path / "o.json"
    orders.write_text(orjson.dumps(order(parties=[])).decode())
    result = cli("check", orders, "--rules", tmp_path)
    assert result.exit_code == 2 and cycle in result.output


def _chain(length):
    return [(f"s{i}", f"union: [s{i + 1}]") for i in range(length - 1)] + [(f"s{length - 1}", "members: [DE]")]


def test_the_set_depth_limit_on_both_sides(tmp_path):
    from controls.rulebook.loader import MAX_SET_DEPTH
    engine = Engine.load(pack(tmp_path / "ok", sets_text(*_chain(MAX_SET_DEPTH))), tmp_path / "no-lists")
    assert engine.check(order("DE", parties=[])).decision.value == "HOLD"
    found = problems(tmp_path / "deep", sets_text(*_chain(MAX_SET_DEPTH + 1)))
    assert [(p.code, p.line) for p in found] == [("set.cycle", 10)] and "more than 64 levels" in found[0].message


def test_a_chain_of_600_sets_is_refused_not_a_recursion_error_at_check(tmp_path):
    [p] = problems(tmp_path, sets_text(*_chain(600)))
    assert p.code == "set.cycle" and "built from sets more than 64 levels deep" in p.message


@pytest.mark.parametrize("window, refused", [("from: 9999-12-31, until: 0001-01-02", True),
                                             ("from: 2024-01-01, until: 2024-01-01", True),
                                             ("from: 2024-01-01, until: 2024-01-02", False)])
def test_a_member_window_must_hold_a_day(tmp_path, window, refused):
    text = SET_RULE + f"sets:\n  - id: s0\n    title: t\n    members:\n      - CN\n      - {{code: DE, {window}}}\n"
    if not refused:
        Engine.load(pack(tmp_path, text), tmp_path / "no-lists")
        return
    [p] = problems(tmp_path, text)
    assert p.code == "set.bad-member" and p.line == 14 and "member DE's window holds no day" in p.message


def test_a_forged_bundle_with_a_set_cycle_is_refused(tmp_path):
    path = pack(tmp_path / "p", sets_text(("s0", "union: [s1]"), ("s1", "members: [DE]")))
    built = tmp_path / "b.json"
    assert cli("rules", "build", path, "-o", built).exit_code == 0
    document = orjson.loads(built.read_bytes())
    [s1] = [s for s in document["body"]["sets"] if s["id"] == "s1"]
    s1["union"] = ["s0"]
    document["header"]["digest"] = bundle._book(document["body"], built).digest
    document["header"]["content_digest"] = bundle._digest(document["body"])
    built.write_bytes(orjson.dumps(document))
    with pytest.raises(InputError, match="sets built from each other: s0 -> s1 -> s0"):
        Engine.load(built, tmp_path / "no-lists")


# --- YAML: a key that is no scalar, a tag that does not fit its node (item 8) ------------------------------

@pytest.mark.parametrize("text, line, message", [
    ("? [a]\n: 1\n", 1, "a key is a text, number or date, not a sequence"),
    ("a: 1\n{b: 1}: 2\n", 2, "a key is a text, number or date, not a mapping"),
    ("a: 1\nb: !!map xy\n", 2, "expected a mapping, but found scalar"),
    ("a: !!seq xy\n", 1, "expected a sequence, but found scalar"),
])
def test_a_malformed_yaml_node_is_a_yaml_error_with_its_line(tmp_path, text, line, message):
    with pytest.raises(ValueError, match=message) as info:
        loads_yaml(text, "x.yaml")
    assert info.value.problem.line == line
    [p] = problems(tmp_path / "rules", text)
    assert p.code == "yaml.malformed" and p.line == line and message in p.message
    orders = tmp_path / "order.yaml"
    orders.write_text(text)
    result = cli("check", orders)
    assert result.exit_code == 2 and f"order.yaml:{line}: malformed YAML: {message}" in result.output


# --- odd entries in a rule directory; a size cap (item 13) ------------------------------------------------

def _dangling(path):
    path.symlink_to(path.parent / "nowhere")


def _device(path):
    path.symlink_to("/dev/zero")  # read whole, it never ends


def _sparse(path):
    with open(path, "wb") as file:
        file.truncate(2**30)  # 1 GiB of NULs, on no disk: refused unread


ODD = {"dangling": (_dangling, "a symbolic link to nothing"), "directory": (lambda p: p.mkdir(), "a directory"),
       "fifo": (os.mkfifo, "a FIFO"), "device": (_device, "a character device"),
       "huge": (_sparse, "1,073,741,824 bytes, more than the 4,194,304 a rule file may have")}


@pytest.mark.parametrize("kind", sorted(ODD))
def test_an_odd_entry_in_a_rule_directory_is_an_error_naming_it(tmp_path, kind):
    make, message = ODD[kind]
    path = pack(tmp_path / "p", RULE.replace("WHEN", "destination: CN"))
    make(path / "odd.yaml")
    [p] = problems(path, RULE.replace("WHEN", "destination: CN"))
    assert p.code == "file.unreadable" and p.file == str(path / "odd.yaml") and message in p.message
    orders = tmp_path / "o.json"
    orders.write_text(orjson.dumps(order(parties=[])).decode())
    for args in (["rules", "validate", path], ["check", orders, "--rules", path], ["rules", "lint", path],
                 ["rules", "build", path, "-o", tmp_path / "b.json"]):
        result = cli(*args)
        assert result.exit_code == 2 and "odd.yaml" in result.output and message in result.output, args
    assert not (tmp_path / "b.json").exists()


def test_an_odd_bundle_yaml_is_an_error_naming_it(tmp_path):
    path = pack(tmp_path / "p", RULE.replace("WHEN", "destination: CN"))
    (path / "bundle.yaml").unlink()
    os.mkfifo(path / "bundle.yaml")
    with pytest.raises(RuleError) as info:
        Engine.load(path, tmp_path / "no-lists")
    [p] = info.value.problems
    assert p.code == "file.unreadable" and p.file.endswith("bundle.yaml") and "a FIFO" in p.message


def test_an_odd_entry_added_after_the_pack_was_cached_is_still_refused(tmp_path):
    path = pack(tmp_path / "p", RULE.replace("WHEN", "destination: CN"))
    Engine.load(path, tmp_path / "no-lists")  # compiled and cached
    os.mkfifo(path / "late.yaml")
    with pytest.raises(RuleError, match="late.yaml: a FIFO"):
        Engine.load(path, tmp_path / "no-lists")


def test_the_file_size_cap_on_both_sides(tmp_path, monkeypatch):
    text = RULE.replace("WHEN", "destination: CN")
    monkeypatch.setattr(loader, "MAX_RULE_FILE_BYTES", len(text.encode()))
    Engine.load(pack(tmp_path / "at", text), tmp_path / "no-lists")
    monkeypatch.setattr(loader, "MAX_RULE_FILE_BYTES", len(text.encode()) - 1)
    [p] = problems(tmp_path / "over", text)
    assert p.code == "file.unreadable" and p.file.endswith("rules.yaml") and "more than the" in p.message


def test_the_shipped_rule_files_are_far_below_the_cap():
    largest = max(p.stat().st_size for p in loader.pack_files(REPO / "rules"))
    assert largest * 20 < loader.MAX_RULE_FILE_BYTES


# --- exit 2, not 1, naming the option or file (item 14) -----------------------------------------------------

def test_status_as_of_near_the_last_date_is_a_usage_error_naming_the_option(tmp_path):
    path = pack(tmp_path / "p", RULE.replace("WHEN", "destination: CN"))
    result = cli("rules", "status", path, "--as-of", "9999-12-01")
    assert result.exit_code == 2 and "'--as-of'" in result.output and "past 9999-12-31" in result.output
    result = cli("rules", "status", path, "--as-of", "9999-12-01", "--days", "30")
    assert result.exit_code == 0 and "windows ending by 9999-12-31" in result.output


def test_build_into_a_missing_directory_is_a_usage_error_naming_the_option(tmp_path):
    path = pack(tmp_path / "p", RULE.replace("WHEN", "destination: CN"))
    result = cli("rules", "build", path, "-o", tmp_path / "nowhere" / "b.json")
    assert result.exit_code == 2 and "'-o' / '--output'" in result.output and "nowhere is not a directory" \
        in result.output


def test_a_bundle_that_cannot_be_written_leaves_nothing(tmp_path):
    path = pack(tmp_path / "p", RULE.replace("WHEN", "destination: CN"))
    (tmp_path / "b.json").mkdir()  # the rename onto it fails
    with pytest.raises(InputError, match="b.json: cannot write the bundle"):
        bundle.build(path, tmp_path / "b.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json", "p"]  # no temporary file left
    assert not list((tmp_path / "b.json").iterdir())


@pytest.mark.parametrize("when", [5, {"$leaf": ["item.quantity"]}, None])
def test_a_forged_bundle_with_a_malformed_condition_is_refused_naming_it(tmp_path, when):
    path = pack(tmp_path / "p", RULE.replace("WHEN", "destination: CN"))
    built = tmp_path / "b.json"
    assert cli("rules", "build", path, "-o", built).exit_code == 0
    document = orjson.loads(built.read_bytes())
    document["body"]["rules"][0]["when"] = when
    document["header"]["content_digest"] = bundle._digest(document["body"])
    built.write_bytes(orjson.dumps(document))
    orders = tmp_path / "o.json"
    orders.write_text(orjson.dumps(order(parties=[])).decode())
    result = cli("check", orders, "--rules", built)
    assert result.exit_code == 2 and f"error: {built}: malformed bundle body" in result.output
