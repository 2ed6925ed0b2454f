"""Say which facts made a rule fire: the "because" lines of a finding."""
from __future__ import annotations

import ast
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

from ..facts.builder import Answers
from ..numbers import plain
from ..rulebook.conditions import All, Any_, Cond, Leaf, Not, holds, leaves
from .memo import bounded_put


def because(cond: Cond, value_of, member) -> list[str]:
    """The leaves of ``cond`` that made it true, each with the fact value it saw."""
    return _explain(cond, value_of, member, False)[1]


class Explainer:
    """``because`` with a memory: orders repeat their SKUs and destinations, so the same condition
    meets the same facts again and again.  One per engine (it keys conditions by identity).

    An explanation is a function of the condition, the values of the facts it names and the set epoch: the
    probe answers it reads are those values' answers in that epoch (``Answers.epoch``).  It is remembered
    by them, so that a line new to the engine, whose other facts (a price, a quantity) differ from every
    line before it, is mostly explained from here, without its answers being read."""

    def __init__(self, probe_keys: dict[Leaf, str], source_of=None, size: int = 16384):
        """``source_of(set id, value, epoch)``: what a set says of the member holding ``value``, or None."""
        self._probe_keys = probe_keys  # a probe leaf -> the key of its answer (see controls.compiler)
        self._source_of = source_of
        self._inputs: dict[int, _Inputs] = {}
        self._conds: dict[int, Cond] = {}  # kept alive, so that no other condition takes its id
        self._memory: OrderedDict[tuple, tuple[str, ...]] = OrderedDict()  # the oldest entry goes first when full
        self._size = size

    def __call__(self, cond: Cond, values: dict, answers: Answers, sources: bool = False) -> list[str]:
        """Why ``cond`` held, given the facts and the probe answers the engine saw; with ``sources``, also why
        the facts' values are in the sets it names, where the set says (a CCL entry's reasons, for instance)."""
        key = id(cond)
        inputs = self._inputs.get(key) or self._prepare(cond)
        facts = tuple(map(values.get, inputs.fields))
        try:
            found = self._memory.get(memory_key := (key, facts, answers.epoch, sources))
        except TypeError:  # a list among the facts (end uses, ECCNs), which cannot key the memory
            facts = tuple(map(_frozen, facts))
            found = self._memory.get(memory_key := (key, facts, answers.epoch, sources))
        if found is None:
            found = self._explained(cond, inputs, facts, answers, sources)
            bounded_put(self._memory, self._size, memory_key, found)
        return list(found)

    def _prepare(self, cond: Cond) -> "_Inputs":
        found = list(leaves(cond))
        probed = tuple(leaf for leaf in found if leaf.is_probe)
        inputs = _Inputs(tuple(sorted({leaf.field for leaf in found})), probed,
                         tuple(self._probe_keys[leaf] for leaf in probed),
                         tuple((leaf.field, leaf.value) for leaf in found
                               if leaf.op == "in" and isinstance(leaf.value, str)))
        self._inputs[id(cond)] = inputs
        self._conds[id(cond)] = cond
        return inputs

    def _explained(self, cond: Cond, inputs: "_Inputs", facts: tuple, answers: Answers,
                   sources: bool) -> tuple[str, ...]:
        values = dict(zip(inputs.fields, facts))
        known = dict(zip(inputs.probed, answers.get_all(inputs.keys)))
        reasons = because(cond, values.get, known.get)
        if sources and self._source_of is not None:
            reasons += [f"{field} {value} is in {set_id}: {source}" for field, set_id in inputs.named
                        if isinstance(value := values.get(field), str)
                        and (source := self._source_of(set_id, value, answers.epoch))]
        return tuple(reasons)


class _Inputs(NamedTuple):
    """What explaining a condition reads: the facts it names, its probes and their answers' keys, and the
    sets it names a fact's value to be in (whose sources an explanation may quote)."""

    fields: tuple[str, ...]
    probed: tuple[Leaf, ...]
    keys: tuple[str, ...]
    named: tuple[tuple[str, str], ...]  # (field, set id)


def _frozen(value):
    return tuple(value) if isinstance(value, list) else value


def _explain(cond: Cond, value_of, member, negate: bool) -> tuple[bool, list[str]]:
    """(does ``cond`` hold, the reasons that made it come out as ``not negate``)."""
    if isinstance(cond, Not):
        truth, reasons = _explain(cond.part, value_of, member, not negate)
        return not truth, reasons
    if isinstance(cond, (All, Any_)):
        parts = [_explain(part, value_of, member, negate) for part in cond.parts]
        truth = all(t for t, _ in parts) if isinstance(cond, All) else any(t for t, _ in parts)
        return truth, [reason for t, reasons in parts if t != negate for reason in reasons]
    truth = holds(cond, value_of, member)
    return truth, [_describe(cond, value_of(cond.field), negate)]


def _describe(leaf: Leaf, value, negate: bool) -> str:
    rule = leaf.text
    if negate:
        rule = f"not ({rule})"
    if value is None and leaf.op != "exists":
        return f"{leaf.field} missing, so {rule}"
    if leaf.op == "exists" or (leaf.op == "eq" and not negate):
        return rule
    if not isinstance(value, (str, bool, list, tuple)):
        value = plain(value)
    return f"{leaf.field} = {value} ({rule.replace(leaf.field + ' ', '', 1)})"


@dataclass(frozen=True)
class Reason:
    """One "because" line read back into its parts, so that a report can say it in words.

    ``value`` is the fact the rule saw (None when missing, or when the line only names the condition),
    ``op`` and ``operand`` the condition (``operand`` as written: a set's name, a list, a number).
    """

    field: str
    op: str
    operand: object
    value: object = None
    missing: bool = False


_OPS = {"=": "eq", "!=": "ne", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte", "in": "in", "not in": "not_in"}
NEGATED = {"eq": "ne", "ne": "eq", "lt": "gte", "gte": "lt", "gt": "lte", "lte": "gt", "in": "not_in",
            "not_in": "in"}
_CONDITION = re.compile(r"^(?P<neg>not \()?(?:(?!not )(?P<field>[a-z_][\w.]*) )?"
                        r"(?P<op>!=|<=|>=|=|<|>|not in|in|given|missing)(?: (?P<operand>.*?))?(?(neg)\))$")
_SEEN = re.compile(r"^(?P<field>[a-z_][\w.]*) = (?P<value>.*?) \((?P<condition>(?:not \()?(?:!=|<=|>=|=|<|>|not in|in) .*)\)$")
_MISSING = re.compile(r"^(?P<field>[a-z_][\w.]*) missing, so (?P<condition>.*)$")


def read_reason(text: str) -> Reason | None:
    """The parts of a line ``because`` wrote (the inverse of ``_describe``); None for any other text."""
    if m := _MISSING.match(text):
        condition = _condition(m["condition"], m["field"])
        return condition and Reason(condition.field, condition.op, condition.operand, None, True)
    if m := _SEEN.match(text):
        condition = _condition(m["condition"], m["field"])
        return condition and Reason(m["field"], condition.op, condition.operand, _literal(m["value"]))
    condition = _condition(text, None)
    if condition and condition.op == "eq":  # the rule's own text: the fact is the value it names
        return Reason(condition.field, "eq", condition.operand, condition.operand)
    return condition


def _condition(text: str, field: str | None) -> Reason | None:
    m = _CONDITION.match(text)
    if m is None or (m["field"] or field) is None:
        return None
    field = m["field"] or field
    word = m["op"]
    if word in ("given", "missing"):
        op, operand = "exists", (word == "given") != bool(m["neg"])
    else:
        op, operand = _OPS[word], _literal(m["operand"] or "")
        op = NEGATED[op] if m["neg"] else op
    return Reason(field, op, operand)


def _literal(text: str):
    """A value as ``_describe`` wrote it: a list or tuple, true/false, or text (numbers stay text)."""
    if text[:1] in "([":
        try:
            return list(ast.literal_eval(text))
        except (ValueError, SyntaxError):
            return text
    return {"True": True, "False": False}.get(text, text)
