"""Why a foreign-made line is or is not subject to the EAR: each foreign-direct-product rule of
15 CFR 734.9 and each de minimis rule of 15 CFR 734.4 considered, prong by prong, and the de
minimis arithmetic.

The engine only says which rules fired; an analyst also wants the ones that did not and why (the
product was in scope but the destination was not).  This module re-reads the line's facts as the
rules saw them at the end of the check and evaluates each rule's conditions in Python, for
explanation only: what fired is what the engine decided.  It runs for ``chipgate explain`` alone,
never on the check path.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ..facts.builder import line_values, order_values_by_eccn, party_values
from ..models import Determination, Transaction
from ..rulebook.conditions import All, Cond, holds, leaves
from ..rulebook.loader import enforced_on
from .explain import _explain

FDP_PREFIX = "ear.734.9."
DE_MINIMIS_PREFIX = "ear.734.4."
DE_MINIMIS_FACT = "item.us_content_pct"
FOREIGN = frozenset({"item.origin", "export_from"})
DECIDED = frozenset({"item.subject_to_ear", "item.basis"})  # a rule's "not yet decided" guards
PLACE = frozenset({"destination", "end_uses", "end_use_country", "party_count"})
MADE_ABROAD, PLACE_PRONG, PARTY_PRONG = "made abroad", "the destination or end use", "a party"


@dataclass
class Prong:
    """One scope of a rule (the item's, the destination's, a party's) and whether the line met it."""

    name: str
    met: bool
    reasons: list[str]  # "because" lines (controls.words says them in words)


@dataclass
class RuleConsidered:
    rule: str
    title: str
    citation: str
    in_force: bool
    fired: bool
    prongs: list[Prong] = field(default_factory=list)


@dataclass
class DeMinimis:
    """The de minimis calculation of 15 CFR 734.4 and Supplement No. 2 to part 734, exactly."""

    content: object  # controlled U.S.-origin content, USD (None: not given)
    value: object  # the item's unit value, USD
    share: Fraction | None  # content / value x 100
    level: object  # the percentage it was compared to (None: no level rule in force)
    rule: str | None
    citation: str | None
    over: bool | None


@dataclass
class Chain:
    line: int
    rules: list[RuleConsidered]
    de_minimis: DeMinimis


def chains(engine, txn: Transaction, result: Determination) -> dict[int, Chain]:
    """For each foreign-made line of ``txn`` (made abroad and shipped from abroad), its chain."""
    day = result.as_of
    canonical = lambda code: engine._resolver.canonical(code, day)  # noqa: E731
    by_eccn = order_values_by_eccn(txn)
    lines = [line_values(txn, item, day, canonical, by_eccn) for item in txn.items]
    parties = []
    for party, screen in zip(txn.parties, engine._screening.parties(txn.parties, day, lines)):
        values = party_values(party, screen.facts())
        parties.append((values, engine._facts.answers(values, day)))
    found = {}
    for line in result.lines:
        item = txn.items[line.line]
        if item.origin == "US" or txn.export_from == "US":
            continue
        values = lines[line.line]
        # the facts the rules derived, as the check ended
        values.update({k: v for k, v in {"item.eccn": line.eccn, "item.subject_to_ear": line.subject_to_ear,
                                          "item.basis": line.basis}.items() if v is not None})
        answers = engine._facts.answers(values, day)
        member = _member(engine, answers)
        fired = {d.rule for d in line.derived} | {f.rule for f in result.findings if f.line == line.line}
        considered = [_consider(engine, loaded, values, member, parties, day, fired)
                      for loaded in engine.rulebook.rules if loaded.id.startswith((FDP_PREFIX, DE_MINIMIS_PREFIX))]
        found[line.line] = Chain(line.line, considered, _de_minimis(engine, values, member, day))
    return found


def _member(engine, answers):
    keys = engine._compiled.probe_keys
    return lambda leaf: answers.get(keys.get(leaf))


def _consider(engine, loaded, values, member, parties, day, fired) -> RuleConsidered:
    rule = loaded.rule
    considered = RuleConsidered(loaded.id, rule.title, rule.citation, enforced_on(rule, day), loaded.id in fired)
    groups: dict[str, list[Cond]] = {}
    for part in _parts(loaded.when):
        fields = {leaf.field for leaf in leaves(part)}
        if fields <= DECIDED:
            continue
        name = MADE_ABROAD if fields <= FOREIGN else PLACE_PRONG if fields <= PLACE else "the item"
        groups.setdefault(name, []).append(part)
    for name in (MADE_ABROAD, "the item", PLACE_PRONG):
        if name in groups:
            considered.prongs.append(_prong(name, All(tuple(groups[name])), values.get, member))
    if loaded.for_party is not None:
        considered.prongs.append(_party_prong(engine, loaded.for_party, parties))
    return considered


def _parts(cond: Cond) -> tuple[Cond, ...]:
    """The conjuncts of a condition, nested "all"s flattened (each may belong to a different prong)."""
    return tuple(p for part in cond.parts for p in _parts(part)) if isinstance(cond, All) else (cond,)


def _prong(name: str, cond: Cond, value_of, member) -> Prong:
    truth = holds(cond, value_of, member)
    return Prong(name, truth, _explain(cond, value_of, member, not truth)[1])


def _party_prong(engine, cond: Cond, parties) -> Prong:
    """Met if one party meets it: that party's facts; else why none did."""
    if not parties:
        return Prong(PARTY_PRONG, False, ["party_count = 0 (>= 1)"])
    failed: list[str] = []
    for values, answers in parties:
        prong = _prong(PARTY_PRONG, cond, values.get, _member(engine, answers))
        if prong.met:
            return Prong(f"a party (the {values['party.role'].replace('_', ' ')})", True, prong.reasons)
        failed += [r for r in prong.reasons if r not in failed]
    return Prong(PARTY_PRONG, False, failed)


def _de_minimis(engine, values, member, day) -> DeMinimis:
    """The level that applies to the destination (25 % or, for E:1 and E:2, 10 %) and the line's share."""
    share = values.get(DE_MINIMIS_FACT)
    for loaded in engine.rulebook.rules:
        if not (loaded.id.startswith(DE_MINIMIS_PREFIX) and loaded.rule.effective.covers(day)):
            continue
        level = next((leaf for leaf in leaves(loaded.when) if leaf.field == DE_MINIMIS_FACT and leaf.op == "gt"),
                     None)
        if level is None:
            continue
        place = All(tuple(p for p in _parts(loaded.when)
                          if {leaf.field for leaf in leaves(p)} <= PLACE))
        if holds(place, values.get, member):
            over = None if share is None else share > Fraction(level.value)
            return DeMinimis(values.get("item.us_content_value"), values.get("item.unit_value"), share,
                             level.value, loaded.id, loaded.rule.citation, over)
    return DeMinimis(values.get("item.us_content_value"), values.get("item.unit_value"), share, None, None, None,
                     None)
