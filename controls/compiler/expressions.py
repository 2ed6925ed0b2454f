"""Translate a parsed condition tree into durable-rules' JSON expression form.

Set membership never reaches the engine as a list (durable-rules has no IN operator and a long
``$or`` would hit its node limits): each distinct (fact, set) pair becomes a *probe*, a boolean
the fact builder computes before the engine runs.  Negation is pushed down to the leaves with
its missing-data meaning kept: ``not (tpp >= 4800)`` holds when the TPP is below 4800 *or unknown*.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..rulebook.conditions import All, Any_, Cond, Leaf, Not

_NEGATED = {"lt": "$gte", "lte": "$gt", "gt": "$lte", "gte": "$lt", "eq": "$neq", "ne": None}
_OPS = {"lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte", "ne": "$neq"}


@dataclass(frozen=True)
class Probe:
    """A set-membership question answered in Python: is ``field`` (any of its values) in ``target``?"""

    key: str
    field: str
    target: str | frozenset


class ProbeRegistry:
    def __init__(self):
        self.probes: dict[tuple[str, object], Probe] = {}

    def key_for(self, leaf: Leaf) -> str:
        ident = (leaf.field, leaf.value)
        if ident not in self.probes:
            self.probes[ident] = Probe(f"in_{len(self.probes)}", leaf.field, leaf.value)
        return self.probes[ident].key


def to_durable(cond: Cond, probes: ProbeRegistry, negate: bool = False) -> dict:
    if isinstance(cond, Not):
        return to_durable(cond.part, probes, not negate)
    if isinstance(cond, (All, Any_)):
        conjunctive = isinstance(cond, All) != negate
        parts = [to_durable(p, probes, negate) for p in cond.parts]
        if len(parts) == 1:
            return parts[0]
        return {"$and" if conjunctive else "$or": parts}
    return _leaf(cond, probes, negate)


def _leaf(leaf: Leaf, probes: ProbeRegistry, negate: bool) -> dict:
    if leaf.op == "exists":
        return {"$ex" if leaf.value != negate else "$nex": {leaf.field: 1}}
    if leaf.is_membership:
        field, wanted = probes.key_for(leaf), leaf.op == "in"
    else:
        field, wanted = leaf.field, None
    if not negate:
        if wanted is not None:
            return {field: wanted}
        return {leaf.field: leaf.value} if leaf.op == "eq" else {_OPS[leaf.op]: {leaf.field: leaf.value}}
    missing = {"$nex": {field: 1}}
    if wanted is not None:
        return {"$or": [{field: not wanted}, missing]}
    if leaf.op == "ne":
        return {"$or": [{leaf.field: leaf.value}, missing]}
    return {"$or": [{_NEGATED[leaf.op]: {leaf.field: leaf.value}}, missing]}
