"""Say which facts made a rule fire: the "because" lines of a finding."""
from __future__ import annotations

from ..rulebook.conditions import All, Any_, Cond, Leaf, Not, holds


def because(cond: Cond, value_of, member, negate: bool = False) -> list[str]:
    """The leaves of ``cond`` that made it true, each with the fact value it saw."""
    if isinstance(cond, Not):
        return because(cond.part, value_of, member, not negate)
    if isinstance(cond, (All, Any_)):
        lines: list[str] = []
        for part in cond.parts:
            if holds(part, value_of, member) != negate:
                lines.extend(because(part, value_of, member, negate))
        return lines
    return [_describe(cond, value_of(cond.field), negate)]


def _describe(leaf: Leaf, value, negate: bool) -> str:
    rule = leaf.describe()
    if negate:
        rule = f"not ({rule})"
    if value is None or leaf.op == "exists" or (leaf.op == "eq" and not negate):
        return rule
    if isinstance(value, float):
        value = int(value) if value.is_integer() else round(value, 4)
    return f"{leaf.field} = {value} ({rule.replace(leaf.field + ' ', '', 1)})"
