"""Say which facts made a rule fire: the "because" lines of a finding."""
from __future__ import annotations

from ..rulebook.conditions import All, Any_, Cond, Leaf, Not, holds


def because(cond: Cond, value_of, member) -> list[str]:
    """The leaves of ``cond`` that made it true, each with the fact value it saw."""
    return _explain(cond, value_of, member, False)[1]


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
    if value is None or leaf.op == "exists" or (leaf.op == "eq" and not negate):
        return rule
    if isinstance(value, float):
        value = int(value) if value.is_integer() else round(value, 4)
    return f"{leaf.field} = {value} ({rule.replace(leaf.field + ' ', '', 1)})"
