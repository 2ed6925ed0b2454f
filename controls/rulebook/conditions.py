"""The ``when`` language: parse a rule's condition tree and check it against the fact catalogue.

Grammar (YAML)::

    cond  := {all: [cond, ...]} | {any: [cond, ...]} | {not: cond} | [cond, ...]   # a list is all
           | {condition: <id>}                     # a named condition of the bundle's ``conditions``
           | {<field>: <scalar>}                   # equality
           | {<field>: {<op>: <value>, ...}}       # several ops on one field are all required
           | {<field1>: ..., <field2>: ...}        # several fields are all required
    op    := eq | ne | lt | lte | gt | gte | in | not_in | exists

``in``/``not_in`` take a named set (``D:5``) or a literal list.  A comparison on a missing fact
never holds (``ne`` and ``not_in`` included); use ``exists`` or ``not`` to speak of missing data.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any, Union

from ..countries import iso_alpha2
from ..facts.catalog import END_USE_TAGS, NUMBER, FieldType, suggest, unknown_word
from ..models import ROLES, check_eccn
from ..numbers import DECIMAL_PLACES, plain, rule_number_error
from .yamlsource import LineDict, LineList, brief

OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "exists")
CONNECTORS = ("all", "any", "not", "condition")


@dataclass(frozen=True)
class Leaf:
    field: str
    op: str
    value: Any  # for in/not_in: the set name (str) or a frozenset of literals
    line: int | None = None

    @property
    def is_membership(self) -> bool:
        return self.op in ("in", "not_in")

    @cached_property
    def is_probe(self) -> bool:
        """Answered in Python before the engine runs: set membership, and every comparison of numbers
        (exactly, where the engine would compare C doubles).  Kept: compiling asks it of every leaf often."""
        return self.is_membership or (self.op != "exists" and isinstance(self.value, Decimal))

    @property
    def question(self) -> tuple[str, bool]:
        """The positive question a probe asks (``in``, ``gt``, ``gte``, ``eq``) and the answer that
        makes this leaf hold: ``tpp < 4800`` holds when ``tpp >= 4800`` is answered False."""
        return _QUESTION[self.op]

    @cached_property
    def text(self) -> str:
        """The condition in words, e.g. ``item.chip.tpp >= 4800``."""
        if self.op == "exists":
            return f"{self.field} {'given' if self.value else 'missing'}"
        value = sorted(self.value) if isinstance(self.value, frozenset) else self.value
        if isinstance(value, Decimal):
            value = plain(value)
        return f"{self.field} {_SYMBOL[self.op]} {value}"


@dataclass(frozen=True)
class All:
    parts: tuple["Cond", ...]


@dataclass(frozen=True)
class Any_:
    parts: tuple["Cond", ...]


@dataclass(frozen=True)
class Not:
    part: "Cond"


Cond = Union[Leaf, All, Any_, Not]

_SYMBOL = {"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">=",
           "in": "in", "not_in": "not in"}
_QUESTION = {"in": ("in", True), "not_in": ("in", False), "eq": ("eq", True), "ne": ("eq", False),
             "gt": ("gt", True), "lte": ("gt", False), "gte": ("gte", True), "lt": ("gte", False)}


class ConditionError(ValueError):
    """A condition that cannot be compiled; ``code`` is its stable lint code (see controls.rulebook.lint)."""

    def __init__(self, message: str, line: int | None, code: str = "rule.bad-value"):
        self.line = line
        self.code = code
        super().__init__(message)


MAX_CONDITION_NODES = 20_000    # of one condition, named conditions written out (YAML's alias budget)
MAX_PACK_CONDITION_NODES = 200_000  # of all a pack's conditions so written (the shipped pack's: some 1,600)
MAX_CONDITION_DEPTH = 64        # conditions within conditions, through named ones too (YAML's nesting limit)


# the code of a use of a named condition whose own problems are reported where it is written: the pack fails on
# those, and its uses (some conditions are named by dozens of rules) would only repeat them
BROKEN = "rule.uses-broken-condition"


class _Exhausted(ConditionError):
    """A condition past a limit: parsing stops at once (it would go on for the rest of the tree)."""


@dataclass
class _Budget:
    nodes: int = 0
    depth: int = 0


@dataclass(frozen=True)
class Names:
    """What a condition may name: sets (id -> kind of member) and named conditions (id -> YAML).

    ``pack`` counts the nodes of every condition parsed with these names (or a ``replace`` of them):
    make one ``Names`` for a pack."""

    set_kinds: dict[str, str]
    conditions: dict[str, Any] = dataclasses.field(default_factory=dict)
    using: tuple[str, ...] = ()  # the named conditions being expanded, outermost first
    broken: frozenset[str] = frozenset()  # named conditions whose own text has problems, reported where written
    budget: _Budget = dataclasses.field(default_factory=_Budget, compare=False)  # of the condition being parsed
    pack: _Budget = dataclasses.field(default_factory=_Budget, compare=False)


def parse(node: Any, fields: dict[str, FieldType], names: Names | dict[str, str], line: int | None = None,
          errors: list[ConditionError] | None = None) -> Cond:
    """Parse a YAML condition; ``names`` holds the sets and named conditions it may name (or just
    the sets, as id -> kind of member).  A named condition is expanded in place, as if written there.

    With ``errors``, every problem in the tree is appended there (the tree returned is then
    incomplete and must not be used); without it, the first problem is raised.  Named conditions
    that use another twice double at each level, and parsing recurses: the tree as expanded is held
    to ``MAX_CONDITION_NODES`` and ``MAX_CONDITION_DEPTH``, and all a pack's trees to
    ``MAX_PACK_CONDITION_NODES``; past one, the error is at ``line``, where the condition starts.
    """
    names = dataclasses.replace(names, budget=_Budget()) if isinstance(names, Names) else Names(names)
    try:
        return _parse(node, fields, names, line, errors)
    except _Exhausted as exc:
        exhausted = _Exhausted(str(exc), line or exc.line, exc.code)
        if errors is None:
            raise exhausted from None
        errors.append(exhausted)
        return All(())


def _spend(names: Names, nodes: int, line: int | None) -> None:
    """Count ``nodes`` more of the condition being parsed, refused past the budgets."""
    names.budget.nodes += nodes
    names.pack.nodes += nodes
    if names.budget.nodes > MAX_CONDITION_NODES:
        raise _Exhausted(f"expands to more than {MAX_CONDITION_NODES:,} conditions (MAX_CONDITION_NODES), with "
                         "named conditions written out where they are used", line, "rule.condition-too-large")
    if names.pack.nodes > MAX_PACK_CONDITION_NODES:
        raise _Exhausted(f"the pack's conditions expand to more than {MAX_PACK_CONDITION_NODES:,} conditions "
                         "(MAX_PACK_CONDITION_NODES), with named conditions written out where they are used", line,
                         "rule.condition-too-large")


def _parse(node: Any, fields: dict[str, FieldType], names: Names, line: int | None = None,
           errors: list[ConditionError] | None = None) -> Cond:
    _spend(names, 1, line)
    budget = names.budget
    if budget.depth >= MAX_CONDITION_DEPTH:
        raise _Exhausted(f"conditions nested deeper than {MAX_CONDITION_DEPTH} levels (MAX_CONDITION_DEPTH), "
                         "counting the named conditions they use", line, "rule.condition-too-large")
    budget.depth += 1
    try:
        return _parse_node(node, fields, names, line, errors)
    finally:
        budget.depth -= 1


def _parse_node(node: Any, fields: dict[str, FieldType], names: Names, line: int | None,
                errors: list[ConditionError] | None) -> Cond:
    line = getattr(node, "line", None) or line
    if isinstance(node, list):
        if not node:
            raise ConditionError("an empty condition list", line, "rule.bad-condition")
        return All(tuple(_parse_part(errors, _parse, n, fields, names, _item_line(node, i, line), errors)
                         for i, n in enumerate(node)))
    if not isinstance(node, dict) or not node:
        raise ConditionError(f"expected a condition (a mapping), got {brief(node)}", line, "rule.bad-condition")
    parts = []
    for key, value in node.items():
        key_line = node.lines.get(key, line) if isinstance(node, LineDict) else line
        parts.extend(_parse_part(errors, _key_conditions, key, value, fields, names, key_line, errors) or ())
    if not parts:
        return All(())
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def named_in(node) -> Iterator[str]:
    """The named conditions a YAML condition uses, as written (unparsed)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "condition" and isinstance(value, str):
                yield value
            else:
                yield from named_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from named_in(value)


def _named(name, fields, names: Names, line) -> Cond:
    """The named condition ``name``, parsed for the facts of the place that uses it."""
    if not isinstance(name, str) or name not in names.conditions:
        raise ConditionError(f"unknown condition {brief(name)!r}{suggest(str(name), names.conditions)}", line,
                             "rule.unknown-condition")
    if name in names.broken:
        raise ConditionError(f"condition {name!r} has problems, reported where it is written", line, BROKEN)
    if name in names.using:
        raise ConditionError("named conditions use each other: " + " -> ".join((*names.using, name)), line,
                             "rule.condition-cycle")
    inner = dataclasses.replace(names, using=(*names.using, name))
    try:
        return _parse(names.conditions[name], fields, inner, line)
    except ConditionError as exc:
        if exc.code == "rule.condition-cycle" or names.using or isinstance(exc, _Exhausted):
            raise
        raise ConditionError(f"condition {name!r}: {exc}", line, exc.code) from None


def _parse_part(errors, parse_one, *args):
    """``parse_one(*args)``; with an ``errors`` list, a problem is kept there and parsing goes on."""
    if errors is None:
        return parse_one(*args)
    try:
        return parse_one(*args)
    except _Exhausted:
        raise
    except ConditionError as exc:
        errors.append(exc)
        return All(()) if parse_one is _parse else []


def _key_conditions(key, value, fields, names: Names, key_line, errors) -> list[Cond]:
    if key in ("all", "any"):
        if not isinstance(value, list) or not value:
            raise ConditionError(f"'{key}' needs a non-empty list of conditions", key_line, "rule.bad-condition")
        children = tuple(_parse_part(errors, _parse, v, fields, names, _item_line(value, i, key_line), errors)
                         for i, v in enumerate(value))
        return [All(children) if key == "all" else Any_(children)]
    if key == "not":
        return [Not(_parse(value, fields, names, key_line, errors))]
    if key == "condition":
        return [_named(value, fields, names, key_line)]
    found = _field_conditions(key, value, fields, names.set_kinds, key_line)
    _spend(names, len(found), key_line)
    return found


def _item_line(seq, index: int, default: int | None) -> int | None:
    return seq.lines[index] if isinstance(seq, LineList) else default


def _field_conditions(field, spec, fields, set_kinds, line) -> list[Leaf]:
    if field not in fields:
        raise ConditionError(f"unknown fact {field!r}{suggest(str(field), list(fields) + list(CONNECTORS))}", line,
                             "rule.unknown-fact")
    ftype = fields[field]
    if not isinstance(spec, dict):
        return [Leaf(field, "eq", check_value(field, ftype, spec, line), line)]
    if not spec:
        raise ConditionError(f"{field}: empty operator mapping", line)
    leaves = []
    for op, value in spec.items():
        op_line = spec.lines.get(op, line) if isinstance(spec, LineDict) else line
        if op not in OPS:
            raise ConditionError(f"{field}: unknown operator {op!r}{suggest(str(op), OPS)}; "
                                 f"operators are {', '.join(OPS)}", op_line, "rule.unknown-operator")
        leaves.append(Leaf(field, op, _operand(field, ftype, op, value, set_kinds, op_line), op_line))
    return leaves


def _operand(field, ftype: FieldType, op, value, set_kinds, line):
    if op == "exists":
        if not isinstance(value, bool):
            raise ConditionError(f"{field}: 'exists' takes true or false", line)
        return value
    if op in ("in", "not_in"):
        if ftype is NUMBER:
            raise ConditionError(f"{field}: '{op}' tests names and codes; compare numbers with eq, ne, lt, "
                                 "lte, gt or gte", line)
        if isinstance(value, str):
            if value not in set_kinds:
                raise ConditionError(f"{field}: unknown set {value!r}{suggest(value, set_kinds)}", line,
                                     "rule.unknown-set")
            if set_kinds[value] != ftype.name:
                raise ConditionError(f"{field}: set {value!r} holds {set_kinds[value]} values, "
                                     f"the fact is a {ftype.name}", line)
            return value
        if isinstance(value, list) and value:
            return frozenset(check_value(field, FieldType(ftype.name), v, line) for v in value)
        raise ConditionError(f"{field}: '{op}' takes a set name or a non-empty list", line)
    if ftype.many:
        raise ConditionError(f"{field} holds a list; test it with in, not_in or exists", line)
    if op in ("lt", "lte", "gt", "gte") and ftype is not NUMBER:
        raise ConditionError(f"{field}: '{op}' compares numbers; {field} is a {ftype.name}", line)
    return check_value(field, ftype, value, line)


def check_value(field, ftype: FieldType, value, line):
    """Constants must have the fact's type: durable-rules compares mixed types as text."""
    kind = ftype.name
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise ConditionError(f"{field}: expected a number, got {value!r}", line)
        number = Decimal(str(value))  # YAML gives a Decimal already; a float only through the Python API
        if not number.is_finite():
            raise ConditionError(f"{field}: expected a finite number, got {value}", line)
        if number < 0:
            raise ConditionError(f"{field}: negative threshold {brief(str(value))}", line)
        error = rule_number_error(number)
        if error:
            raise ConditionError(f"{field}: {brief(str(value))} is out of range ({error}; a rule's number is at "
                                 f"most 10^15 with at most {DECIMAL_PLACES} decimal places, as an order's)", line)
        return number
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConditionError(f"{field}: expected true or false, got {value!r}", line)
        return value
    if not isinstance(value, str):
        raise ConditionError(f"{field}: expected text, got {value!r}", line)
    if kind == "country" and value not in iso_alpha2():
        raise ConditionError(f"{field}: unknown country code {value!r}", line)
    if kind == "eccn":
        try:
            check_eccn(value)
        except ValueError as exc:
            raise ConditionError(f"{field}: {exc}", line) from None
    error = unknown_word("role", value, ROLES) if kind == "role" else (
        unknown_word("end-use tag", value, END_USE_TAGS) if kind == "end_use" else None)
    if error:
        raise ConditionError(f"{field}: {error}", line)
    return value


def leaves(cond: Cond) -> list[Leaf]:
    """Every leaf of a condition tree, in order."""
    found: list[Leaf] = []
    _add_leaves(cond, found)
    return found


def _add_leaves(cond: Cond, found: list[Leaf]) -> None:
    # appends rather than yields: compiling asks for the leaves of every rule, and a chain of
    # generators costs a frame per level for each leaf
    if isinstance(cond, Leaf):
        found.append(cond)
    elif isinstance(cond, Not):
        _add_leaves(cond.part, found)
    else:
        for part in cond.parts:
            _add_leaves(part, found)


def holds(cond: Cond, value_of, member) -> bool:
    """Evaluate in Python, for explanations only (durable-rules decides what fires).

    ``value_of(field)`` returns the fact or None; ``member(leaf)`` returns the answer the fact
    builder computed for a probe leaf (membership, number comparison), or None when the fact is missing.
    """
    if isinstance(cond, All):
        return all(holds(p, value_of, member) for p in cond.parts)
    if isinstance(cond, Any_):
        return any(holds(p, value_of, member) for p in cond.parts)
    if isinstance(cond, Not):
        return not holds(cond.part, value_of, member)
    value = value_of(cond.field)
    if cond.op == "exists":
        return (value is not None) == cond.value
    if value is None:
        return False
    if cond.is_probe:
        answer = member(cond)
        return answer is not None and answer == cond.question[1]
    return value == cond.value if cond.op == "eq" else value != cond.value


