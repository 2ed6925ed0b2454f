"""Translate a parsed condition tree into durable-rules' JSON expression form.

Set membership never reaches the engine as a list (durable-rules has no IN operator and a long
``$or`` would hit its node limits), and no number reaches it at all (it compares C doubles, and
crashes on ``1e+16``): each distinct question (fact in set, fact >= number, ...) becomes a
*probe*, a boolean the fact builder computes before the engine runs, exactly.  Of a probe no rule
wants answered no (set membership, mostly) only a yes reaches the engine, so a fact carries a
handful of answers, not one per question the bundle asks.  ``tpp < 4800`` is
the probe ``tpp >= 4800`` answered False, so both share one probe.  Negation is pushed down to the
leaves with its missing-data meaning kept: ``not (tpp >= 4800)`` holds when the TPP is below 4800
*or unknown*.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ..rulebook.conditions import All, Cond, Leaf, Not


@dataclass(frozen=True)
class Probe:
    """A question answered in Python: is ``field`` (any of its values) in ``target`` (op ``in``),
    or is ``field`` ``gt``/``gte``/``eq`` the number ``target``?"""

    key: str
    field: str
    op: str
    target: str | frozenset | Decimal


def probe_id(leaf: Leaf) -> tuple[str, str, object]:
    """What identifies the probe that answers ``leaf``: leaves asking the same question share it."""
    return leaf.field, leaf.question[0], leaf.value


class ProbeRegistry:
    def __init__(self, all_leaves: Iterable[Leaf] = ()):
        """``all_leaves``: every leaf of the bundle's conditions."""
        self.probes: dict[tuple[str, str, object], Probe] = {}
        self.keys: dict[Leaf, str] = {}  # each probe leaf of the bundle -> the key of its answer
        # the questions some rule wants answered no (``tpp < 4800``, ``not_in``): a fact carries
        # their every answer; of the others (most: set membership), only a yes
        self.asked_no = frozenset(probe_id(leaf) for leaf in all_leaves if leaf.is_probe and not leaf.question[1])

    @property
    def sent_no(self) -> frozenset[str]:
        """The keys of the probes whose no is sent too."""
        return frozenset(probe.key for ident, probe in self.probes.items() if ident in self.asked_no)

    def key_for(self, leaf: Leaf) -> tuple[str, bool]:
        """The key of the answer to ``leaf``'s probe, and whether its every answer is sent (else only a yes)."""
        ident = probe_id(leaf)
        probe = self.probes.get(ident)
        if probe is None:
            probe = self.probes[ident] = Probe(f"{ident[1]}_{len(self.probes)}", *ident)
        self.keys[leaf] = probe.key
        return probe.key, ident in self.asked_no


def to_durable(cond: Cond, probes: ProbeRegistry, negate: bool = False) -> dict:
    if isinstance(cond, Leaf):
        return _leaf(cond, probes, negate)
    if isinstance(cond, Not):
        return to_durable(cond.part, probes, not negate)
    conjunctive = isinstance(cond, All) != negate
    parts = [to_durable(p, probes, negate) for p in cond.parts]
    if len(parts) == 1:
        return parts[0]
    return {"$and" if conjunctive else "$or": parts}


def _leaf(leaf: Leaf, probes: ProbeRegistry, negate: bool) -> dict:
    if leaf.op == "exists":
        return {"$ex" if leaf.value != negate else "$nex": {leaf.field: 1}}
    if leaf.is_probe:
        key, every_answer = probes.key_for(leaf)
        wanted = leaf.question[1]
        if every_answer:  # a no is sent too; a missing fact answers nothing
            return {"$or": [{key: not wanted}, {"$nex": {key: 1}}]} if negate else {key: wanted}
        # only a yes is sent: "not yes" is a no or a missing fact alike
        return {"$nex": {key: 1}} if negate else {key: True}
    # equality of texts and booleans, which the engine compares exactly
    field, value = leaf.field, leaf.value
    missing = {"$nex": {field: 1}}
    if leaf.op == "eq":
        return {"$or": [{"$neq": {field: value}}, missing]} if negate else {field: value}
    return {"$or": [{field: value}, missing]} if negate else {"$neq": {field: value}}
