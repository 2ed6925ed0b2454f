"""Say which facts made a rule fire: the "because" lines of a finding."""
from __future__ import annotations

from functools import lru_cache

from ..numbers import plain
from ..rulebook.conditions import All, Any_, Cond, Leaf, Not, holds, leaves


def because(cond: Cond, value_of, member) -> list[str]:
    """The leaves of ``cond`` that made it true, each with the fact value it saw."""
    return _explain(cond, value_of, member, False)[1]


class Explainer:
    """``because`` with a memory: orders repeat their SKUs and destinations, so the same condition
    meets the same facts again and again.  One per engine (it keys conditions by identity)."""

    def __init__(self, probe_keys: dict[Leaf, str], size: int = 16384):
        self._probe_keys = probe_keys  # a probe leaf -> the key of its answer (see controls.compiler)
        self._inputs: dict[int, tuple[tuple[str, ...], tuple[Leaf, ...], tuple[str, ...]]] = {}
        self._explain = lru_cache(maxsize=size)(self._uncached)
        self._conds: dict[int, Cond] = {}

    def __call__(self, cond: Cond, values: dict, answers: dict[str, bool]) -> list[str]:
        """Why ``cond`` held, given the facts and the probe answers the engine saw."""
        key = id(cond)
        if key not in self._inputs:
            found = list(leaves(cond))
            probed = tuple(leaf for leaf in found if leaf.is_probe)
            self._inputs[key] = (tuple(sorted({leaf.field for leaf in found})), probed,
                                 tuple(self._probe_keys[leaf] for leaf in probed))
            self._conds[key] = cond
        fields, _, keys = self._inputs[key]
        facts, answered = tuple(map(values.get, fields)), tuple(map(answers.get, keys))
        try:
            return list(self._explain(key, facts, answered))
        except TypeError:  # a list among the facts (end uses, ECCNs), which cannot key the memory
            return list(self._explain(key, tuple(map(_frozen, facts)), answered))

    def _uncached(self, key: int, facts: tuple, answers: tuple) -> tuple[str, ...]:
        fields, probed, _ = self._inputs[key]
        values = dict(zip(fields, facts))
        known = dict(zip(probed, answers))
        return tuple(because(self._conds[key], values.get, known.get))


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
