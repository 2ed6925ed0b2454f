"""Screening as the rule packs ask for it: an order's parties, and the matches a party rule rested on.

Owners count toward a party's ``party.affiliate_of`` when their list is in the pack's set
``affiliate-lists``; China's list designations bind only orders PRC export control can reach.  The engine
hands the order's parties here and reads back, per party, what screening found (a PartyScreen).
"""
from __future__ import annotations

import copy
import datetime as dt
import threading
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable

from ..errors import ListDataError
from ..facts.sets import SetResolver
from ..models import ListMatch, Party
from ..rulebook.conditions import Cond, leaves
from .matcher import Screener
from .parties import PartyScreen, PartyScreener, designation_matches, designation_screener, list_tag, screened_lists

NO_LISTS = ("no restricted-party lists are imported, so parties cannot be screened "
            "(run: chipgate lists import FILE)")
AFFILIATE_SET = "affiliate-lists"  # the rule pack's set of lists whose affiliates share their restrictions
CN_SCREENED = ("export", "origin", "unknown")  # the reaches (cn_reach) under which China's lists may bind the order

# The matches behind each party fact a rule can name.
MATCH_POOLS: dict[str, Callable[[PartyScreen], list[ListMatch]]] = {
    "party.lists": lambda s: [m for m in s.matches if m.strength == "strong" and not m.allowed],
    "party.possible_lists": lambda s: [m for m in s.matches if m.strength == "possible" and not m.allowed],
    "party.affiliate_of": lambda s: [m for m in s.owners if m.strength == "strong"],
    "party.possible_affiliate_of": lambda s: s.owners,
}


def open_lists(path: Path) -> tuple[PartyScreener | None, str]:
    """The screener over the list store at ``path`` (None when it holds no list, or cannot be used: a broken
    store is screened against by nobody, and parties are HOLD) and the warning parties get without one."""
    try:
        return PartyScreener.open(path), NO_LISTS
    except ListDataError as exc:
        return None, (f"the list store cannot be used, so parties cannot be screened: {exc} "
                      "(run: chipgate lists status)")


Opener = Callable[[], "tuple[PartyScreener | None, str]"]


class OrderScreening:
    """One engine's screening: its screener (None: parties cannot be screened, ``unscreened`` says why),
    its rule pack's sets and China's designations.

    The screener is opened (``open_screener()``, e.g. :func:`open_lists`) when first needed, so that
    work on the rules alone (validate, lint, cases with stubs) neither needs nor reads the list store.
    Until then ``screener``, ``unscreened``, ``lists``, ``screened_lists`` and ``matcher`` are absent, and
    reading one opens it; afterwards they are plain attributes.
    """

    _OPENED = frozenset({"screener", "unscreened", "lists", "screened_lists", "matcher"})

    def __init__(self, open_screener: Opener, resolver: SetResolver, sets: Iterable[str], designations: Iterable):
        self._open_screener = open_screener
        self._opening = threading.Lock()
        self._resolver = resolver
        self._affiliates = AFFILIATE_SET in sets
        self._designation_list = tuple(designations)

    @cached_property
    def _designations(self) -> Screener | None:
        """China's designations as a screener, built when a line first reaches them (most checks never do)."""
        return designation_screener(self._designation_list)

    def __getattr__(self, name: str):
        if name not in OrderScreening._OPENED:
            raise AttributeError(name)
        self.open()
        return self.__dict__[name]

    def open(self) -> None:
        """Open the screener now, if it is not open yet (once, whichever thread asks first)."""
        with self._opening:
            if "screener" not in self.__dict__:
                self._use(*self._open_screener())

    def _use(self, screener: PartyScreener | None, unscreened: str = NO_LISTS) -> None:
        self.unscreened = unscreened  # the warning on every party when there is no screener
        self.lists = screener.snapshots if screener else []
        self.screened_lists = screened_lists(self.lists)  # the same for every party of every check
        self.matcher = getattr(screener, "matcher", None)
        self.screener = screener  # last: its presence says the others are set

    def with_screener(self, screener: PartyScreener) -> "OrderScreening":
        """The same screening with another screener (the cases' stubs); the list store is not opened."""
        other = copy.copy(self)
        other._use(screener)
        return other

    def parties(self, parties: list[Party], day: dt.date, lines: list[dict]) -> list[PartyScreen]:
        """What screening finds for each party of an order on ``day``; ``lines``: the order's line facts,
        whose ``cn_reach`` says whether China's designations are screened too."""
        if self.screener is None:
            screens = [PartyScreen(screened=False) for _ in parties]
        else:
            affiliates = self._resolver.members(AFFILIATE_SET, day) if self._affiliates else frozenset()
            screens = [self.screener.screen_party(party, affiliates, day) for party in parties]
        if self._designation_list and any(values.get("cn_reach") in CN_SCREENED for values in lines) \
                and self._designations:
            for party, screen in zip(parties, screens):
                screen.matches += designation_matches(self._designations, party)
        return screens

    def matches_behind(self, for_party: Cond, screen: PartyScreen, day: dt.date) -> list[ListMatch]:
        """The list matches a party rule (its condition on the party, ``for_party``) rested on: those on
        the lists its conditions name."""
        found: list[ListMatch] = []
        for leaf in leaves(for_party):
            pool = MATCH_POOLS.get(leaf.field)
            if pool is None or leaf.op not in ("in", "exists") or leaf.value is False:
                continue
            if leaf.op == "exists":
                found += [m for m in pool(screen) if m not in found]
                continue
            named = self._resolver.members(leaf.value, day) if isinstance(leaf.value, str) else leaf.value
            found += [m for m in pool(screen) if list_tag(m.list) in named and m not in found]
        return found
