"""Decision tables: rows of cells on a few input facts, compiled to ordinary rules, and checked for
gaps and overlaps the way DMN's completeness check and GoRules Zen's table analysis do.

A table names its inputs and the rules its rows decide; each row names its rule and gives a cell
(a condition on one input, or nothing: any value) per input::

    tables:
      - id: ear.3a090.tiers
        citation: 15 CFR 774 Supp. 1, ECCN 3A090
        effective: {from: 2023-11-17}
        hit: collect                      # unique | first | collect
        when: {item.eccn: {exists: false}}  # holds for every row
        inputs: [item.chip.tpp, item.chip.datacenter]
        rules:
          - {id: ear.3a090.a.classify, title: ..., then: {derive: {item.eccn: 3A090.a}}}
        rows:
          - {rule: ear.3a090.a.classify, item.chip.tpp: {gte: 4800}}

Rows of one rule are alternatives (the rule's ``when`` is the table's ``when`` and any of its rows).
``unique``: no two rows may hold for one input; ``first``: a row holds only where no earlier row
does; ``collect``: every row that holds fires, and rows that hold together must decide alike.
The analysis splits each input's values at the numbers and names its cells mention, tries one
value of each piece, and reports an input no row covers (a gap), or one that rows of different
rules both cover (an overlap).  It speaks of given values: a missing input matches no cell that
tests it, which the closed-world rules hold.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..errors import Problem
from ..facts.catalog import LINE_FIELDS, suggest
from ..numbers import compare
from . import conditions
from .yamlsource import LineDict, LineList, brief

HITS = ("unique", "first", "collect")
RULE_KEYS = ("citation", "sources", "effective", "not_enforced", "verification")  # a rule inherits from its table
MAX_EXAMPLES = 100_000  # input combinations the analysis tries
MAX_ANALYSIS_STEPS = 1_000_000  # cells tested on the examples, and pairs of rows compared: some 1.5 s at most


@dataclass(frozen=True)
class _Row:
    index: int
    rule: str
    line: int | None
    cells: dict[str, list[conditions.Leaf]]  # input -> the leaves of its cell (all must hold)


def expand(table: Any, file: str, problems: list[Problem]) -> list[LineDict]:
    """The ordinary rules (as YAML nodes, lines kept) that ``table``'s rows decide."""
    line = getattr(table, "line", None)
    if not isinstance(table, dict):
        problems.append(Problem(file, line, "a table is a mapping (id, inputs, rules, rows ...)",
                                code="schema.invalid"))
        return []
    where = f"table {table.get('id')!r}"
    known = {"id", "title", "hit", "when", "inputs", "rules", "rows", *RULE_KEYS}
    for key in table.keys() - known:
        problems.append(Problem(file, _line(table, key), f"{where}: unknown key {key!r}", code="schema.unknown-key",
                                fix="remove or correct the key"))
    hit, inputs = table.get("hit", "unique"), table.get("inputs") or []
    if hit not in HITS:
        problems.append(Problem(file, _line(table, "hit"), f"{where}: hit policy {brief(hit)!r}; it is one of "
                                f"{', '.join(HITS)}", code="table.bad-hit-policy",
                                fix="write hit: unique, first or collect"))
        return []
    shape = _shape_problems(table, file, where)
    if shape:
        problems += shape
        return []
    rules = {r.get("id"): r for r in table.get("rules") or [] if isinstance(r, dict)}
    rows = [r for r in table.get("rows") or [] if isinstance(r, dict)]
    for index, row in enumerate(rows):
        if row.get("rule") not in rules:
            problems.append(Problem(file, getattr(row, "line", line), f"{where}: row {index + 1} names no rule of the "
                                    f"table ({row.get('rule')!r})", code="table.unknown-rule",
                                    fix="name one of the table's rules"))
        if not any(key in row for key in inputs):
            problems.append(Problem(file, getattr(row, "line", line), f"{where}: row {index + 1} tests no input",
                                    code="table.empty-row", fix="give the row a cell (the table's when holds for all)"))
        for key in row.keys() - {"rule", *inputs}:
            problems.append(Problem(file, _line(row, key), f"{where}: row {index + 1} tests {key!r}, not an input of "
                                    "the table", code="table.unknown-input",
                                    fix="add it to inputs, or remove the cell"))
    expanded = []
    for rule_id, rule in rules.items():
        node = LineDict({k: v for k, v in table.items() if k in RULE_KEYS})
        node.update(rule)
        node.line, node.lines = rule.line, {**getattr(table, "lines", {}), **rule.lines}
        alternatives = [_row_condition(rows, i, inputs, hit) for i, row in enumerate(rows)
                        if row.get("rule") == rule_id and any(key in row for key in inputs)]
        if not alternatives:
            problems.append(Problem(file, rule.line, f"{where}: no row decides {rule_id!r}", rule_id,
                                    code="table.unknown-rule", fix="add a row for it, or remove the rule"))
            continue
        rows_line = _line(table, "rows")
        alternative = alternatives[0] if len(alternatives) == 1 else \
            _with_line(LineDict(any=_with_line(LineList(alternatives), rows_line)), rows_line)
        when = _with_line(LineList([table["when"], alternative] if table.get("when") else [alternative]), rows_line)
        node["when"] = _with_line(LineDict(all=when), rows_line)
        node.lines["when"] = rows_line
        expanded.append(node)
    return expanded


def _shape_problems(table: dict, file: str, where: str) -> list[Problem]:
    """What makes a table unreadable before its rows are: inputs that are not facts of a line, rules
    and rows that are not lists, a rule's id or a row's rule that is not a text."""
    found = []

    def bad(key, message, code="schema.invalid", fix="see rules/README.md, 'Decision tables'"):
        found.append(Problem(file, _line(table, key), f"{where}: {message}", code=code, fix=fix))

    inputs = table.get("inputs") or []
    if not isinstance(inputs, list):
        bad("inputs", f"inputs is a list of facts, not {brief(inputs)}")
    else:
        for key in inputs:
            if not isinstance(key, str):
                bad("inputs", f"an input is a fact's name, not {brief(key)}")
            elif key not in LINE_FIELDS:
                bad("inputs", f"input {brief(key)!r} is no fact of an order line{suggest(key, LINE_FIELDS)}",
                    "rule.unknown-fact", "use a fact of the catalogue (rules/README.md, 'Facts of an order line')")
    for section, name in (("rules", "id"), ("rows", "rule")):
        items = table.get(section) or []
        if not isinstance(items, list):
            bad(section, f"{section} is a list, not {brief(items)}")
            continue
        for item in items:
            if isinstance(item, dict) and name in item and not isinstance(item[name], str):
                found.append(Problem(file, _line(item, name), f"{where}: a {section[:-1]}'s {name} is a text, not "
                                     f"{brief(item[name])}", code="schema.invalid", fix="write the rule's id"))
    return found


def _row_condition(rows: list, index: int, inputs: list, hit: str) -> LineDict:
    """A row's cells as a condition; under ``first``, also that no earlier row holds."""
    row = rows[index]
    cells = _cells(row, inputs)
    if hit == "first":  # earlier rows of other rules that may hold too (negating every row would outgrow the engine)
        cells += [_with_line(LineDict({"not": _with_line(LineDict(all=_with_line(LineList(_cells(earlier, inputs)),
                                                                                   earlier.line)), earlier.line)}),
                             earlier.line) for earlier in rows[:index]
                  if earlier.get("rule") != row.get("rule") and any(key in earlier for key in inputs)
                  and not _disjoint(earlier, row, inputs)]
    return _with_line(LineDict(all=_with_line(LineList(cells), row.line)), row.line)


def _disjoint(first: dict, second: dict, inputs: list) -> bool:
    """Whether no input can satisfy both rows, as far as their plain cells (values, number bounds) tell."""
    for key in inputs:
        if key not in first or key not in second:
            continue
        a, b = first[key], second[key]
        if not isinstance(a, dict) and not isinstance(b, dict):
            if a != b:
                return True
            continue
        first_bounds, second_bounds = _bounds(a), _bounds(b)
        if first_bounds and second_bounds:
            low = max(first_bounds[0], second_bounds[0])  # (value, excluded): the higher lower bound
            high = min(first_bounds[1], second_bounds[1], key=lambda end: (end[0], not end[1]))
            if low[0] > high[0] or low[0] == high[0] and (low[1] or high[1]):
                return True
    return False


def _bounds(cell) -> tuple | None:
    """A number cell as ((lowest, excluded), (highest, excluded)), or None if it is not one."""
    if not isinstance(cell, dict) or not cell.keys() <= {"gt", "gte", "lt", "lte"}:
        return None
    if not all(isinstance(v, (int, Decimal)) and not isinstance(v, bool) for v in cell.values()):
        return None
    low = (Decimal(cell["gt"]), True) if "gt" in cell else (Decimal(cell.get("gte", "-Infinity")), False)
    high = (Decimal(cell["lt"]), True) if "lt" in cell else (Decimal(cell.get("lte", "Infinity")), False)
    return low, high


def _cells(row, inputs: list) -> list[LineDict]:
    return [_with_line(LineDict({key: row[key]}), _line(row, key)) for key in inputs if key in row]


def _with_line(node, line):
    node.line = line
    if isinstance(node, LineDict):
        node.lines = {key: line for key in node}
    else:
        node.lines = [line] * len(node)
    return node


def _line(node, key) -> int | None:
    return node.lines.get(key, node.line) if isinstance(node, LineDict) else getattr(node, "line", None)


def analyse(table: Any, file: str, set_kinds: dict[str, str]) -> list[Problem]:
    """Gaps (an input no row covers) and overlaps (one that rows of two rules cover, or, under
    ``unique``, two rows), each with an example input."""
    if not isinstance(table, dict) or table.get("hit", "unique") not in HITS or _shape_problems(table, file, ""):
        return []  # reported where the table is expanded
    hit, inputs, where = table.get("hit", "unique"), list(table.get("inputs") or []), f"table {table.get('id')!r}"
    outputs = {r.get("id"): _output(r) for r in table.get("rules") or [] if isinstance(r, dict)}
    rows = []
    for index, row in enumerate(r for r in table.get("rows") or [] if isinstance(r, dict)):
        try:
            cells = {key: list(conditions.leaves(conditions.parse({key: row[key]}, LINE_FIELDS, set_kinds)))
                     for key in inputs if key in row}
        except conditions.ConditionError:
            return []  # reported where the rule is loaded
        rows.append(_Row(index, row.get("rule"), getattr(row, "line", None), cells))
    domains = [_examples(key, [leaf for row in rows for leaf in row.cells.get(key, [])]) for key in inputs]
    if not rows or any(not d for d in domains):
        return []
    examples, cells = _size(domains), sum(len(leaves) for row in rows for leaves in row.cells.values())
    if examples > MAX_EXAMPLES or examples * cells > MAX_ANALYSIS_STEPS:
        return [_too_large(table, file, f"{examples:,} example inputs x {cells:,} cells")]
    steps = examples * cells
    problems: list[Problem] = []
    seen: set[tuple] = set()
    for values in itertools.product(*domains):
        example = dict(zip(inputs, values))
        holding = [row for row in rows if all(_holds(leaf, example[key]) for key, leaves in row.cells.items()
                                              for leaf in leaves)]
        steps += len(holding) * (len(holding) - 1) // 2 if hit != "first" else 0
        if steps > MAX_ANALYSIS_STEPS:  # rows that hold together, compared in pairs
            return problems + [_too_large(table, file, f"{examples:,} example inputs, each held by up to "
                                          f"{len(holding)} rows compared in pairs")]
        text = ", ".join(f"{key} = {_show(value)}" for key, value in example.items())
        if not holding and ("gap",) not in seen:
            seen.add(("gap",))
            problems.append(Problem(file, _line(table, "rows"), f"{where}: no row covers {text}",
                                    table.get("id"), code="table.gap",
                                    fix="add a row for it (a table decides every input it is given)"))
        if hit == "first":
            continue
        for first, second in itertools.combinations(holding, 2):
            clash = hit == "unique" or outputs.get(first.rule) != outputs.get(second.rule)
            if clash and (first.index, second.index) not in seen:
                seen.add((first.index, second.index))
                problems.append(Problem(file, second.line, f"{where}: rows {first.index + 1} ({first.rule}) and "
                                        f"{second.index + 1} ({second.rule}) both cover {text}", table.get("id"),
                                        code="table.overlap", fix="narrow a cell of one of the rows"
                                        + (", or use hit: first" if hit == "unique" else "")))
    return problems


def _too_large(table: dict, file: str, why: str) -> Problem:
    """The analysis refused: it would take longer than any real table needs (the shipped one: 0.02 s)."""
    return Problem(file, _line(table, "rows"), f"table {table.get('id')!r}: too large to analyse for gaps and "
                   f"overlaps ({why}: more than MAX_ANALYSIS_STEPS, {MAX_ANALYSIS_STEPS:,}, or MAX_EXAMPLES, "
                   f"{MAX_EXAMPLES:,})", table.get("id"), code="table.too-large",
                   fix="split the table, or cut its inputs at fewer numbers and names")


def _output(rule: dict):
    then = rule.get("then") or {}
    return repr(sorted((then.get("derive") or {}).items())), then.get("decision")


def _examples(field: str, leaves: list[conditions.Leaf]) -> list:
    """One value of each piece the cells' numbers and names cut the input's values into."""
    kind = LINE_FIELDS[field].name
    if kind == "bool":
        return [True, False]
    if kind == "number":
        points = sorted({leaf.value for leaf in leaves if isinstance(leaf.value, Decimal)})
        found = [points[0] / 2] if points and points[0] > 0 else [] if points else [Decimal(1)]
        for low, high in zip(points, points[1:]):
            found += [low, (low + high) / 2]
        return found + ([points[-1], points[-1] + 1] if points else [])
    names = sorted({v for leaf in leaves for v in (leaf.value if isinstance(leaf.value, frozenset) else [leaf.value])
                    if isinstance(v, str)})
    return names + ["(any other)"]


def _holds(leaf: conditions.Leaf, value) -> bool:
    if leaf.op == "exists":
        return leaf.value
    if leaf.op in ("in", "not_in"):
        inside = value in leaf.value if isinstance(leaf.value, frozenset) else value == leaf.value
        return inside == (leaf.op == "in")
    if isinstance(leaf.value, Decimal):
        op, wanted = leaf.question
        return compare(op, value, leaf.value) == wanted
    return (value == leaf.value) == (leaf.op == "eq")


def _show(value) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value).lower() \
        if isinstance(value, bool) else str(value)


def _size(domains: list[list]) -> int:
    size = 1
    for domain in domains:
        size *= len(domain)
    return size
