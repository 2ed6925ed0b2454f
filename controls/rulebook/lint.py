"""``chipgate rules lint``: every problem of a rule pack in one run, each with a stable code.

Errors are what ``rules validate`` refuses (a bundle with one does not load) plus mistakes that
load but cannot be meant: versions of one rule in force on the same day, a range no number
satisfies.  Warnings are traps and gaps: ``ne``/``not_in`` on a fact that may be missing (it then
never holds), a set nothing reads, a rule no case shows firing, a threshold no case tests on
both sides.  Codes are stable; messages may change.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from decimal import Decimal

from ..errors import Problem, RuleError
from ..facts.catalog import ALWAYS_GIVEN
from ..numbers import compare, plain
from ..screening.orders import AFFILIATE_SET
from .conditions import All, Cond, Leaf, Not, leaves, named_in
from .loader import LoadedRule, RuleBook, read_pack

CODES = {
    # errors: the bundle does not load, or cannot mean what it says
    "bundle.missing": "no bundle.yaml, or no rule directory",
    "yaml.malformed": "the file is not YAML",
    "file.unreadable": "a *.yaml entry that is not a regular file (a directory, FIFO, device, a symbolic link to "
                       "nothing), or over MAX_RULE_FILE_BYTES: not read",
    "schema.invalid": "a value of the wrong shape (a date, a decision, an id)",
    "schema.unknown-key": "a key the rule language does not have (often a typo)",
    "schema.missing-key": "a required key is missing",
    "set.duplicate-id": "two sets with one id (points at the first)",
    "set.unknown-set": "a set's union or minus names no set",
    "set.cycle": "sets whose union or minus use each other, or built from sets more than MAX_SET_DEPTH levels deep",
    "set.bad-member": "a member that is no country code, ECCN or end-use tag, a set of another kind, or a member "
                      "whose window holds no day (until not after from)",
    "rule.duplicate-id": "two rules with one id (points at the first)",
    "rule.unknown-fact": "a condition on a fact the catalogue does not have",
    "rule.unknown-operator": "an operator the language does not have",
    "rule.unknown-set": "in/not_in names no set",
    "rule.unknown-condition": "{condition: id} names no named condition",
    "rule.condition-cycle": "named conditions that use each other",
    "rule.condition-too-large": "a condition, named ones written out, past MAX_CONDITION_NODES or MAX_CONDITION_DEPTH "
                                "(or a pack's past MAX_PACK_CONDITION_NODES)",
    "condition.duplicate-id": "two named conditions with one id (points at the first)",
    "rule.bad-value": "a constant of the wrong type, or an unknown code",
    "rule.bad-condition": "a condition that is not a mapping, or an empty all/any",
    "rule.not-derivable": "then.derive sets a fact rules may not derive",
    "rule.bad-window": "a not_enforced window outside the rule's effective window",
    "rule.unknown-rule": "then.overcomes names no rule",
    "rule.overlapping-window": "two versions of one rule (ids differing in a final .<year>) in force on one day",
    "rule.contradictory-range": "conditions on one fact that no value satisfies",
    "rule.derivation-cycle": "rules that derive facts from each other",
    "rule.engine-limit": "a condition or bundle past what the rule engine can hold",
    "case.unknown-rule": "a case's fires/not_fires names no rule",
    "table.bad-hit-policy": "a decision table's hit is not unique, first or collect",
    "table.unknown-rule": "a row names no rule of its table, or a rule of the table has no row",
    "table.unknown-input": "a row tests a fact that is not an input of its table",
    "table.empty-row": "a row that tests no input",
    "table.gap": "an input no row of a table covers (with an example)",
    "table.overlap": "an input two rows cover (unique), or rows deciding differently (collect)",
    "table.too-large": "a table past what the gap and overlap analysis tries (MAX_EXAMPLES, MAX_ANALYSIS_STEPS)",
    # warnings: the bundle loads, but something is likely wrong or untested
    "rule.ne-on-optional": "ne/not_in on a fact an order may leave out: silent when it does",
    "set.unused": "a set nothing reads",
    "condition.unused": "a named condition no rule uses",
    "rule.no-case": "no case names the rule in fires",
    "rule.threshold-one-side": "a number no case tests on both sides",
}

# sets screening reads by name, not through a rule
ENGINE_SETS = frozenset({AFFILIATE_SET})
# versions of one rule share an id but for a last part naming the year they began, or what they precede
_VERSION = re.compile(r"\.(?:\d{4}|before-\d{4}-\d{2}-\d{2})$")


def lint(root) -> list[Problem]:
    """Every problem of the pack at ``root``, sorted by file and line."""
    book, problems = read_pack(root)
    problems += _compile_problems(book)
    for check in (_overlapping_windows, _contradictory_ranges, _unused_sets, _unused_conditions, _ne_on_optional,
                  _without_case,
                  _one_sided_thresholds):
        problems += check(book)
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.code, p.message))


def _compile_problems(book: RuleBook) -> list[Problem]:
    """The compiler's own checks (cycles, engine limits) on the valid rules; a rule it refuses is set
    aside and the rest compiled again, so that one refusal hides no other."""
    from ..compiler import compile_rulebook
    found: list[Problem] = []
    rules = list(book.rules)
    while rules:
        try:
            compile_rulebook(dataclasses.replace(book, rules=rules))
            break
        except RuleError as exc:
            found += exc.problems
            refused = {p.rule for p in exc.problems}
            if not refused & {r.id for r in rules}:
                break
            rules = [r for r in rules if r.id not in refused]
    return found


def version_key(rule_id: str) -> str:
    """The id that versions of one rule share: ``ear.744.23.a1.supercomputer`` for ``....2022``."""
    return _VERSION.sub("", rule_id)


def _overlapping_windows(book: RuleBook) -> Iterator[Problem]:
    versions: dict[str, list[LoadedRule]] = {}
    for rule in book.rules:
        versions.setdefault(version_key(rule.id), []).append(rule)
    for group in versions.values():
        group.sort(key=lambda r: r.rule.effective.start)
        for earlier, later in zip(group, group[1:]):
            until = earlier.rule.effective.until
            if until is None or until > later.rule.effective.start:
                yield Problem(later.file, later.line, f"in force from {later.rule.effective.start}, while its other "
                              f"version {earlier.id} ({earlier.file}:{earlier.line}) is in force until "
                              f"{until or 'further notice'}", later.id, code="rule.overlapping-window",
                              fix=f"end {earlier.id} with until: {later.rule.effective.start}")


def _conjunctions(cond: Cond) -> Iterator[list[Leaf]]:
    """The leaves that must all hold together, one list per ``all`` in the tree."""
    if isinstance(cond, Leaf):
        yield [cond]
    elif isinstance(cond, Not):
        yield from _conjunctions(cond.part)
    else:
        if isinstance(cond, All):
            yield [p for p in cond.parts if isinstance(p, Leaf)]
        for part in cond.parts:
            if not isinstance(part, Leaf):
                yield from _conjunctions(part)


def _contradiction(together: list[Leaf]) -> str | None:
    """Why leaves on one fact cannot all hold, or None."""
    exists = {leaf.value for leaf in together if leaf.op == "exists"}
    if exists == {True, False}:
        return "given and missing at once"
    compared = [leaf for leaf in together if leaf.op != "exists"]
    if False in exists and compared:
        return f"missing, yet compared ({compared[0].text}): a comparison never holds on a missing fact"
    equal = {leaf.value for leaf in compared if leaf.op == "eq"}
    if len(equal) > 1:
        return "equal to two different values"
    if equal and any(leaf.op == "ne" and leaf.value in equal for leaf in compared):
        return "equal and not equal to the same value"
    low = high = None  # (bound, inclusive)
    for leaf in compared:
        if not isinstance(leaf.value, Decimal):
            continue
        if leaf.op in ("gt", "gte", "eq"):
            bound = (leaf.value, leaf.op != "gt")
            low = bound if low is None or bound[0] > low[0] or bound[0] == low[0] and not bound[1] else low
        if leaf.op in ("lt", "lte", "eq"):
            bound = (leaf.value, leaf.op != "lt")
            high = bound if high is None or bound[0] < high[0] or bound[0] == high[0] and not bound[1] else high
    if low and high and (low[0] > high[0] or low[0] == high[0] and not (low[1] and high[1])):
        return f"no number is {' and '.join(leaf.text for leaf in compared if isinstance(leaf.value, Decimal))}"
    return None


def _contradictory_ranges(book: RuleBook) -> Iterator[Problem]:
    for rule in book.rules:
        for cond in (rule.when, rule.for_party):
            if cond is None:
                continue
            for together in _conjunctions(cond):
                by_field: dict[str, list[Leaf]] = {}
                for leaf in together:
                    by_field.setdefault(leaf.field, []).append(leaf)
                for field, on_field in by_field.items():
                    why = _contradiction(on_field)
                    if why:
                        yield Problem(rule.file, on_field[-1].line or rule.line, f"{field}: {why}; the condition "
                                      "can never hold", rule.id, code="rule.contradictory-range",
                                      fix="check the bounds (lower bounds gte, upper bounds lt)")


def _unused_sets(book: RuleBook) -> Iterator[Problem]:
    used = set(ENGINE_SETS)
    for named in book.sets.values():
        used |= {*named.union, *named.minus}
    for rule in book.rules:
        used |= {leaf.value for cond in (rule.when, rule.for_party) if cond is not None
                 for leaf in leaves(cond) if leaf.is_membership and isinstance(leaf.value, str)}
    for set_id in sorted(book.sets.keys() - used):
        where = book.set_where[set_id]
        yield Problem(where.file, where.line, f"set {set_id!r} is read by no rule and no other set", code="set.unused",
                      severity="warning", fix="remove it, or name it in a rule")


def _unused_conditions(book: RuleBook) -> Iterator[Problem]:
    used = {name for node in book.conditions.values() for name in named_in(node)}
    used |= book.conditions_named_by_rules  # a rule that did not load uses its conditions too
    for name in sorted(book.conditions.keys() - used):
        where = book.condition_where[name]
        yield Problem(where.file, where.line, f"condition {name!r} is used by no rule and no other condition",
                      code="condition.unused", severity="warning", fix="remove it, or name it in a rule")


def _negated_leaves(cond: Cond, negated: bool = False) -> Iterator[tuple[Leaf, bool]]:
    if isinstance(cond, Leaf):
        yield cond, negated
    elif isinstance(cond, Not):
        yield from _negated_leaves(cond.part, not negated)
    else:
        for part in cond.parts:
            yield from _negated_leaves(part, negated)


def _ne_on_optional(book: RuleBook) -> Iterator[Problem]:
    for rule in book.rules:
        for cond in (rule.when, rule.for_party):
            if cond is None:
                continue
            given = {leaf.field for leaf in leaves(cond) if leaf.op == "exists"}
            for leaf, negated in _negated_leaves(cond):
                if leaf.op in ("ne", "not_in") and not negated and leaf.field not in ALWAYS_GIVEN | given:
                    yield Problem(rule.file, leaf.line or rule.line,
                                  f"{leaf.text} does not hold when {leaf.field} is missing, so the rule is silent "
                                  "on an order that does not give it", rule.id, code="rule.ne-on-optional",
                                  severity="warning",
                                  fix=f"say what a missing {leaf.field} means: add {leaf.field}: {{exists: true}}, "
                                      f"or write not: {{{leaf.field}: ...}}")


def _without_case(book: RuleBook) -> Iterator[Problem]:
    named = {rule_id for _, case in book.cases for rule_id in case.fires}
    for rule in book.rules:
        if rule.id not in named:
            yield Problem(rule.file, rule.line, "no case shows this rule firing", rule.id, code="rule.no-case",
                          severity="warning", fix="add a case whose fires: names it")


def case_lines(book: RuleBook) -> list[dict]:
    """The facts of every line of every case, as the fact builder gives them (before any rule derives)."""
    from ..facts.builder import line_values
    from ..orders import validate_order
    found = []
    for _, case in book.cases:
        try:
            txn = validate_order(case.transaction, case.name)
        except ValueError:
            continue  # reported by rules test
        found += [line_values(txn, item, case.as_of or txn.date) for item in txn.items]
    return found


def threshold_sides(book: RuleBook) -> dict[tuple, tuple[LoadedRule, Leaf, set[bool]]]:
    """Each number a rule compares a fact with (``item.chip.tpp >= 4800``), the first rule that does,
    and the sides of it the cases' lines fall on: True (at or beyond it), False (short of it)."""
    thresholds: dict[tuple, tuple[LoadedRule, Leaf, set[bool]]] = {}
    for rule in book.rules:
        for cond in (rule.when, rule.for_party):
            for leaf in leaves(cond) if cond is not None else ():
                if isinstance(leaf.value, Decimal) and leaf.op != "exists":
                    thresholds.setdefault((leaf.field, leaf.question[0], leaf.value), (rule, leaf, set()))
    for values in case_lines(book):
        for (field, op, target), (_, _, sides) in thresholds.items():
            if values.get(field) is not None:
                sides.add(compare(op, values[field], target))
    return thresholds


_HOLDS = {"gt": ">", "gte": ">=", "eq": "="}
_FAILS = {"gt": "<=", "gte": "<", "eq": "!="}


def untested_sides(threshold: tuple, sides: set[bool]) -> list[str]:
    """The sides of ``threshold`` (field, op, number) no case tests, as conditions: ``item.chip.tpp < 4800``."""
    field, op, target = threshold
    wanted = [(True, _HOLDS[op]), (False, _FAILS[op])]
    if op == "gte" and target == 0:  # no number is below 0: one side only
        wanted = wanted[:1]
    return [f"{field} {symbol} {plain(target)}" for side, symbol in wanted if side not in sides]


def _one_sided_thresholds(book: RuleBook) -> Iterator[Problem]:
    if not book.cases:
        return
    for threshold, (rule, leaf, sides) in threshold_sides(book).items():
        missing = untested_sides(threshold, sides)
        if missing:
            yield Problem(rule.file, leaf.line or rule.line, f"threshold {leaf.text}: no case has "
                          + " or ".join(missing), rule.id, code="rule.threshold-one-side", severity="warning",
                          fix=f"add a case with {' and one with '.join(missing)}")


def render(problems: list[Problem]) -> str:
    """One line per problem: ``file:line: severity code [rule] message (fix: ...)``, and a summary."""
    lines = []
    for p in problems:
        where = p.file if p.line is None else f"{p.file}:{p.line}"
        lines.append(f"{where}: {p.severity} {p.code}" + (f" [{p.rule}]" if p.rule else "") + f" {p.message}"
                     + (f" (fix: {p.fix})" if p.fix else ""))
    errors = sum(p.severity == "error" for p in problems)
    lines.append(f"{errors} errors, {len(problems) - errors} warnings")
    return "\n".join(lines)


def as_json(problems: list[Problem]) -> list[dict]:
    return [{"file": p.file, "line": p.line, "severity": p.severity, "code": p.code, "rule": p.rule,
             "message": p.message, "fix": p.fix} for p in problems]


__all__ = ["as_json", "case_lines", "lint", "render", "threshold_sides", "untested_sides", "version_key"]
