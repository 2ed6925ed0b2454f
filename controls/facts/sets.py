"""Named sets on a date: country groups change, and a transaction is judged by the groups of its day."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

from ..rulebook.schema import Alias, NamedSet


class SetResolver:
    def __init__(self, sets: dict[str, NamedSet], aliases: list[Alias]):
        self._sets = sets
        self._aliases = aliases
        self.members = lru_cache(maxsize=4096)(self._members)

    def _members(self, set_id: str, day: dt.date) -> frozenset[str]:
        named = self._sets[set_id]
        found: set[str] = set()
        for member in named.members:
            if isinstance(member, str):
                found.add(member)
            elif member.start <= day and (member.until is None or day < member.until):
                found.add(member.code)
        for ref in named.union:
            found |= self.members(ref, day)
        for ref in named.minus:
            found -= self.members(ref, day)
        return frozenset(found)

    def kind(self, set_id: str) -> str:
        return self._sets[set_id].kind

    def canonical(self, code: str, day: dt.date) -> str:
        """The destination a country code stands for on ``day`` (Hong Kong is China from 2020-12-23)."""
        for alias in self._aliases:
            if alias.code == code and alias.start <= day:
                return alias.as_
        return code

    def contains(self, set_id: str, value: str, day: dt.date) -> bool:
        if self._sets[set_id].kind == "country":
            value = self.canonical(value, day)
        return value in self.members(set_id, day)
