"""Which strata can match a line, decided before its fact is sent to the engine.

The engine parses every fact it is sent and walks it through its network, yet most strata hold
rules for lines most orders never have: foreign-made items, the FDP prongs, de minimis.  Each
rule's line pattern is a conjunction, and some of its top-level tests can be read off the fact
as sent: an equality (a text, a boolean, a probe's answer), a property that must be present or
absent, a ``$neq`` (which fails on an absent property, see the durable-rules notes), the day
against the rule's window.  A stratum is sent a line only when one of its rules passes every such
test.  Tests the filter does not read (an ``$or``) it leaves to the engine, so it skips only facts
on which every rule of the stratum would certainly fail: the firings are the same.
"""
from __future__ import annotations

from typing import NamedTuple

_BOOKKEEPING = frozenset({"kind", "stratum"})  # every line pattern tests them; the fact always passes
_DAY = frozenset({"day"})


class Gate(NamedTuple):
    """The tests of one rule's line pattern that a fact fails on sight, as sets: checking them is a few
    set comparisons (a fact's values are texts, booleans and integers, all hashable).  A named tuple:
    a bundle of a thousand rules makes a thousand, and a frozen dataclass is several times slower to make."""

    equal: frozenset[tuple[str, object]] = frozenset()
    unequal: frozenset[tuple[str, object]] = frozenset()  # present, and not this value
    present: frozenset[str] = frozenset()
    absent: frozenset[str] = frozenset()
    first_day: int = -1
    end_day: int | None = None  # exclusive

    @property
    def size(self) -> int:
        return len(self.equal) + len(self.present) + len(self.absent)


def gate_of(line_pattern: dict) -> Gate:
    """The gate of a compiled line pattern (``{"$and": [tests]}``): the tests it can read, the rest ignored."""
    equal, unequal, present, absent = [], [], [], []
    first_day, end_day = -1, None
    for test in line_pattern.get("$and", (line_pattern,)):
        (op, operand), = test.items()
        if not op.startswith("$"):
            if op not in _BOOKKEEPING:
                equal.append((op, operand))
        elif op == "$ex":
            present.extend(operand)
        elif op == "$nex":
            absent.extend(operand)
        elif op == "$neq":
            unequal.extend(operand.items())
        elif op == "$gte" and operand.keys() == _DAY:
            first_day = operand["day"]
        elif op == "$lt" and operand.keys() == _DAY:
            end_day = operand["day"]
    return Gate(frozenset(equal), frozenset(unequal), frozenset(present), frozenset(absent), first_day, end_day)


class StratumFilter:
    """Per stratum, the gates of its rules; a line fact is worth sending if any gate admits it.

    Gates are grouped by their ``$neq`` tests, which most rules of a stratum share (the FDP rules
    all ask for a line not of U.S. origin and not exported from the U.S.): a group is passed over
    after one failed test, not after each of its rules."""

    def __init__(self, gates_by_stratum: list[list[Gate]]):
        self._groups: list[list[tuple[frozenset, frozenset, tuple[Gate, ...]]]] = []
        for gates in gates_by_stratum:
            grouped: dict[frozenset, list[Gate]] = {}
            for gate in set(gates):
                grouped.setdefault(gate.unequal, []).append(gate)
            # the most permissive gates first: a fact most rules may match is admitted after few tests
            groups = [(unequal, frozenset(name for name, _ in unequal),
                       tuple(sorted(members, key=lambda g: g.size))) for unequal, members in grouped.items()]
            self._groups.append(sorted(groups, key=lambda group: group[2][0].size))

    def admits(self, stratum: int, fact: dict, day: int) -> bool:
        """Whether any rule of ``stratum`` may match ``fact`` (the line's properties, a superset of
        what the stratum reads: the gates test only properties the stratum reads) on ``day``.

        A group's ``unequal`` tests are tested once for all its gates, then each gate's others, inline: this
        runs for every new line and stratum, and a method call per gate cost more than its tests."""
        keys, items = fact.keys(), fact.items()
        for unequal, named, gates in self._groups[stratum]:
            if keys >= named and items.isdisjoint(unequal):
                for equal, _, present, absent, first_day, end_day in gates:
                    if (first_day <= day and (end_day is None or day < end_day) and items >= equal
                            and keys >= present and keys.isdisjoint(absent)):
                        return True
        return False
