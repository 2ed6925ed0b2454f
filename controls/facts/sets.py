"""Named sets on a date: country groups change, and a transaction is judged by the groups of its day."""
from __future__ import annotations

import bisect
import datetime as dt
from functools import lru_cache

from ..rulebook.schema import Alias, NamedSet


class SetResolver:
    """Answers "is X in set S on day D?", with Hong Kong-style aliases applied to countries.

    Membership only changes on the dates some member joins or leaves, so it is computed once per
    period between such dates (an *epoch*), not once per transaction date.
    """

    def __init__(self, sets: dict[str, NamedSet], aliases: list[Alias]):
        self._sets = sets
        self._aliases = sorted(aliases, key=lambda a: a.start)
        changes = {m.start for s in sets.values() for m in s.members if not isinstance(m, str)}
        changes |= {m.until for s in sets.values() for m in s.members if not isinstance(m, str) and m.until}
        changes |= {a.start for a in aliases}
        self._changes = sorted(changes - {dt.date.min})
        self._members = lru_cache(maxsize=None)(self._members_in_epoch)

    def first_day(self, day: dt.date) -> dt.date:
        """The first day of the epoch ``day`` falls in: every day of an epoch has the same answers."""
        epoch = bisect.bisect_right(self._changes, day)
        return self._changes[epoch - 1] if epoch else dt.date.min

    def members(self, set_id: str, day: dt.date) -> frozenset[str]:
        return self._members(set_id, self.first_day(day))

    def _members_in_epoch(self, set_id: str, day: dt.date) -> frozenset[str]:
        named = self._sets[set_id]
        found: set[str] = set()
        for member in named.members:
            if isinstance(member, str):
                found.add(member)
            elif member.covers(day):
                found.add(member.code)
        for ref in named.union:
            found |= self._members(ref, day)
        for ref in named.minus:
            found -= self._members(ref, day)
        return frozenset(found)

    def source_of(self, set_id: str, value: str, day: dt.date) -> str | None:
        """The ``source`` of the member of ``set_id`` that holds ``value`` on ``day``, if it gives one.

        Explanations quote it: why an ECCN is in a chart column's set, for instance.
        """
        named = self._sets.get(set_id)
        if named is None:
            return None
        candidates = self._candidates(value, day)
        for member in named.members:
            if not isinstance(member, str) and member.source and member.code in candidates and member.covers(day):
                return member.source
        return next((found for ref in named.union if (found := self.source_of(ref, value, day))), None)

    def canonical(self, code: str, day: dt.date) -> str:
        """The destination a country code stands for on ``day`` (Hong Kong is China from 2020-12-23)."""
        for alias in self._aliases:
            if alias.code == code and alias.start <= day:
                return alias.as_
        return code

    def contains(self, target: str | frozenset, value: str, day: dt.date) -> bool:
        """Is ``value`` in the named set ``target``, or in the literal set ``target``, on ``day``?

        Not cached here: the fact builder caches the answers per fact value and epoch.
        """
        members = target if isinstance(target, frozenset) else self.members(target, day)
        return not members.isdisjoint(self._candidates(value, day))

    def _candidates(self, value: str, day: dt.date) -> set[str]:
        """What a member must be to hold ``value``: a country stands for the destination it is treated
        as; an ECCN is held by a set that names it or any entry above it ("3A001" holds 3A001.a.1)."""
        return {value, self.canonical(value, day), *_eccn_ancestors(value)}


def _eccn_ancestors(value: str) -> list[str]:
    parts = value.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]
