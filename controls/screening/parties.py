"""Screen an order's parties, and their owners, against the imported lists before the engine runs.

The engine never sees names: it sees what screening concluded, as party facts that rules test
(``party.lists``, ``party.possible_lists``, ``party.affiliate_of``, ``party.screened``).  What
each list *means* (licence required, prohibited, hold) is written in the rule packs.
"""
from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..cachefile import gc_paused, read_pickle, write_pickle
from ..errors import InputError
from ..lists import csl, ecfr
from ..lists._common import slug
from ..lists.manifest import ListRecord, edition_label
from ..lists.model import ListEntry
from ..lists.store import ListStore
from ..models import ListMatch, ListSnapshot, Matcher, Party, PartyScreening, maker
from ..rulebook.yamlsource import YamlError, load_yaml
from . import logic
from .chunks import Chunked, read_all
from .index import NameIndex
from .matcher import Match, Screener
from .normalize import normalize, screenable

ALLOW_FILE = "allow-list.yaml"
INDEX_DIR = ".screening-index"  # built screening indexes, beside the lists they index
# Every list the importers read: what a store may lack (the rule packs say which ones they need).
KNOWN_LISTS = frozenset({ecfr.ENTITY_LIST, ecfr.UNVERIFIED_LIST, ecfr.MEU_LIST, *csl.SOURCES.values()})
SCREEN_CACHE_SIZE = 8192
# A list edition older than this on the order's date is stale: screening against it gets a warning.
# $CHIPGATE_LIST_MAX_AGE_DAYS sets it; an edition of unknown date is always stale.
MAX_LIST_AGE_DAYS = 90
# Matches kept per name before those not in force on the order's date are set aside.
MATCH_LIMIT = 5
_new_screening = maker(PartyScreening)


def list_tag(list_name: str) -> str:
    """How rules name a list: ``Entity List`` -> ``entity-list``."""
    return slug(list_name)


class Allowance(BaseModel):
    """A reviewed false positive: this screened name is not this listed entry."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    list: str
    entry: str = Field(description="entry id in the list store")
    name: str = Field(description="the screened name, as it appears in orders")
    by: str
    on: dt.date
    why: str = Field(min_length=10)


def load_allowances(path: Path) -> list[Allowance]:
    if not path.exists():
        return []
    try:
        raw = load_yaml(path) or []
        return [Allowance.model_validate(item) for item in raw]
    except YamlError as exc:
        raise InputError(str(exc.problem)) from None
    except (ValidationError, TypeError) as exc:
        raise InputError(f"{path}: invalid allow-list: {exc}") from None


def add_allowances(store: Path, allowances: list[Allowance]) -> None:
    """Append reviewed false positives to the store's allow-list, keeping what is there (comments too).

    One writer at a time (a lock beside the file); the new file is read back before it replaces the old,
    so a bad entry never reaches screening.  Engines read the allow-list when they load (a reload)."""
    import fcntl
    import json
    path = Path(store) / ALLOW_FILE
    lines = "".join("- {" + ", ".join(f"{k}: {json.dumps(str(v))}" for k, v in a.model_dump().items()) + "}\n"
                    for a in allowances)
    with open(path.with_name(f".{ALLOW_FILE}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if text.strip() in ("", "[]"):
            text = "# Reviewed false positives: this screened name is not this listed entry.\n"
        elif not text.endswith("\n"):
            text += "\n"
        staged = path.with_name(f".{ALLOW_FILE}.new")
        staged.write_text(text + lines, encoding="utf-8")
        load_allowances(staged)  # raises before anything is replaced
        os.replace(staged, path)


@dataclass
class PartyScreen:
    """What screening found for one party: its own matches and those of its listed owners."""

    matches: list[ListMatch] = field(default_factory=list)
    # owners' matches on the lists (and programmes) whose 50 %-owned affiliates share their restrictions
    owners: list[ListMatch] = field(default_factory=list)
    screened: bool = True
    name_screenable: bool = True  # the name has a word that can identify a party (not "N/A", "-")
    lists_missing: list[str] = field(default_factory=list)  # tags of known lists the store lacks
    # matches of entries not in force on the order's date (listed later, or removed before it), as notes
    not_in_force: list[str] = field(default_factory=list)

    def facts(self) -> dict:
        active = [m for m in self.matches if not m.allowed]
        listed = self._owned_by_listed("strong") if self.owners else 0.0  # most parties: no owner matched
        return {
            "party.screened": self.screened,
            "party.name_screenable": self.name_screenable,
            "party.lists_missing": self.lists_missing,
            "party.lists": sorted({list_tag(m.list) for m in active if m.strength == "strong"}),
            "party.possible_lists": sorted({list_tag(m.list) for m in active if m.strength == "possible"}),
            "party.footnotes": sorted({f"fn{n}" for m in active if m.strength == "strong" for n in m.footnotes}),
            "party.affiliate_of": self._affiliate_tags("strong") if listed >= 0.5 else [],
            # listed owners might reach 50 % if the possible matches among them are real
            "party.possible_affiliate_of": self._affiliate_tags()
            if self.owners and listed < 0.5 <= self._owned_by_listed() else [],
        }

    def record(self, role: str, name: str, lists: list[str]) -> PartyScreening:
        """What a report shows of this screening: the lists and editions (``screened_lists``), the result,
        "no match" included."""
        active = [m for m in self.matches if not m.allowed]
        result = ("not screened" if not self.screened else "no match" if not active
                  else "match" if any(m.strength == "strong" for m in active) else "possible match")
        return _new_screening({"role": role, "name": name, "result": result, "entries": [m.entry_id for m in active],
                               "lists": lists if self.screened else []})  # the validation copies the lists

    def _owner_matches(self, strength: str | None) -> list[ListMatch]:
        return [m for m in self.owners if strength in (None, m.strength)]

    def _owned_by_listed(self, strength: str | None = None) -> float:
        """The share held, together, by owners matched (``strength``, or any) on an affiliate list."""
        shares = {m.owner: m.share or 0.0 for m in self._owner_matches(strength)}
        return sum(shares.values())

    def _affiliate_tags(self, strength: str | None = None) -> list[str]:
        return sorted({list_tag(m.list) for m in self._owner_matches(strength)})


class PartyScreener:
    """The imported lists, indexed once, and the reviewed allow-list; its caches live and die with it."""

    def __init__(self, store: ListStore, max_list_age_days: int | None = None):
        manifest = store.manifest().lists
        keys = store.screening_keys()
        names = sorted(keys)
        self.snapshots = [_snapshot(manifest[keys[name]]) for name in names]
        self.max_list_age = dt.timedelta(days=max_list_age_days if max_list_age_days is not None else
                                         int(os.environ.get("CHIPGATE_LIST_MAX_AGE_DAYS", MAX_LIST_AGE_DAYS)))
        self._footnotes = {name: manifest[keys[name]].footnotes for name in names}
        self._screener, windows = _indexed(
            store, lambda: _dated_versions(store.screening_lists(), keys, manifest, store.history()))
        self._windows = windows  # of each entry, in the screener's order
        self.matcher = Matcher(name=logic.NAME, version=logic.VERSION, digest=logic.digest())
        self._allowed = {(a.list, a.entry, normalize(a.name)): a for a in load_allowances(store.path / ALLOW_FILE)}
        self.lists_missing = sorted(list_tag(name) for name in KNOWN_LISTS - set(names))
        # customers recur from order to order: screen each (name, country, address) once
        self._screen_cached = lru_cache(maxsize=SCREEN_CACHE_SIZE)(self._screen_uncached)
        self._screenable = lru_cache(maxsize=SCREEN_CACHE_SIZE)(screenable)
        # per order date, some 22 years of them: re-checking an ERP's backlog cycles through years of dates,
        # and a cache smaller than their number misses on nearly every one
        self.stale = lru_cache(maxsize=8192)(self._stale)

    @classmethod
    def open(cls, path: str | os.PathLike | None) -> "PartyScreener | None":
        """The screener over the store at ``path``, or None when no list has been imported there."""
        if path is None or not Path(path).is_dir():
            return None
        store = ListStore(path)
        return cls(store) if store.manifest().lists else None

    def read_all(self) -> None:
        """Read the whole screening index now, not a part at a time as queries first need it."""
        with gc_paused(freeze=True):  # kept for the process, like the parts read at start
            read_all(self, self._screener, self._screener.index)

    def screen_name(self, name: str, country: str | None = None, address: str | None = None,
                    day: dt.date | None = None) -> list[ListMatch]:
        """Matches of entries in force on ``day`` (every version, when None), best first."""
        return _in_force(self._screen_cached(name, country, address), day)[0]

    def _screen_uncached(self, name: str, country: str | None, address: str | None) -> tuple[ListMatch, ...]:
        return tuple(self._match(m, name) for m in self._screener.screen(name, country, address, limit=2 * MATCH_LIMIT))

    def _stale(self, day: dt.date) -> list[str]:
        """Warnings for the lists whose edition is older than the allowed age on ``day``, or unknown."""
        notes = []
        for snap in self.snapshots:
            edition = dt.date.fromisoformat(snap.edition) if snap.edition else None
            if edition is None:
                notes.append(f"{snap.list} ({snap.source}): the edition date is unknown, so it may be out of date "
                              f"on {day}; import a dated edition (chipgate lists import --edition)")
            elif day - edition > self.max_list_age:
                notes.append(f"{snap.list} ({snap.source}): edition {edition} is {(day - edition).days} days older "
                             f"than {day}, more than the {self.max_list_age.days} allowed; import a newer edition")
        return notes

    def explain(self, name: str, country: str | None = None, address: str | None = None) -> list[str]:
        """How the matcher scored ``name``: words, listed spelling, evidence (see Screener.explain)."""
        return self._screener.explain(name, country, address)

    def screen(self, name: str, country: str | None = None, address: str | None = None,
               day: dt.date | None = None) -> PartyScreen:
        """What screening finds for a name on ``day``, with what kept it from being screened in full."""
        matches, not_in_force = _in_force(self._screen_cached(name, country, address), day)
        return PartyScreen(matches=matches, name_screenable=self._screenable(name), lists_missing=self.lists_missing,
                           not_in_force=[_not_in_force_note(m, day) for m in not_in_force])

    def screen_party(self, party: Party, affiliate_lists: frozenset[str] = frozenset(),
                     day: dt.date | None = None) -> PartyScreen:
        """``affiliate_lists``: the rule pack's set "affiliate-lists", the owners' lists that count."""
        result = self.screen(party.name, party.country, party.address, day)
        for owner in party.owners:
            for m in self.screen_name(owner.name, owner.country, day=day):
                if not m.allowed and self._counts_as_owner(m, affiliate_lists):
                    result.owners.append(m.model_copy(update={"owner": owner.name, "share": owner.share}))
        return result

    @cached_property
    def _programs(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """Each entry's programmes; read when an owner first matches (it reads every entry)."""
        return {(e.list, e.entry_id): e.programs for e in self._screener.entries if e.programs}

    def _counts_as_owner(self, m: ListMatch, affiliate_lists: frozenset[str]) -> bool:
        """An owner's match counts if its list does (``entity-list``), or one of the entry's programmes
        on that list does (``specially-designated-nationals/sdgt``: § 744.8(a)(1) names programmes)."""
        tag = list_tag(m.list)
        return tag in affiliate_lists or any(f"{tag}/{slug(p)}" in affiliate_lists
                                             for p in self._programs.get((m.list, m.entry_id), ()))

    def _match(self, m: Match, query: str) -> ListMatch:
        allowance = self._allowed.get((m.entry.list, m.entry.entry_id, normalize(query)))
        return ListMatch(
            list=m.entry.list, entry=m.entry.name, entry_id=m.entry.entry_id, matched_name=m.matched_name,
            score=round(m.score, 3), strength=m.strength, country=m.entry.country, reasons=list(m.reasons),
            license_requirement=m.entry.license_requirement, review_policy=m.entry.license_review_policy,
            footnotes=list(m.entry.footnotes),
            footnote_texts={n: self._footnotes[m.entry.list][n] for n in m.entry.footnotes
                            if n in self._footnotes.get(m.entry.list, {})},
            allowed=(f"allowed by {allowance.by} on {allowance.on}: {allowance.why}" if allowance else None),
            **self._windows[m.number])


def _indexed(store: ListStore, versions) -> tuple[Screener, list[dict]]:
    """The screener over the store's entry versions and their windows (``versions()``): the one this
    process already holds for this store and content, else read from the cache beside the store when it
    was built from this store content by this matcher, in this index format (NameIndex.FORMAT), else built
    and cached there. The cache is a pickle in the store's own directory, trusted as the lists are; its
    name and content carry the key, and a cache of any other key is never read.

    An index is some 10^6 objects (about 100 MB) that live as long as the process (``Engine.load``
    freezes them): engines on the same store and content (a reload that changed only the rules, an
    allow-list entry, the engines of a test run) share one."""
    key = f"{store.content_digest()[:32]}-{logic.NAME}-{logic.VERSION}-{logic.digest()[7:23]}-i{NameIndex.FORMAT}"
    held = (str(store.path.resolve()), key)
    with _HELD_LOCK:
        found = _HELD.get(held) or _read_or_build(store, versions, key)
        _HELD[held] = found
        while len(_HELD) > HELD_INDEXES:
            _HELD.pop(next(iter(_HELD)))
        return found


HELD_INDEXES = 2  # the indexes a process keeps (a reload's new lists beside the ones still serving)
_HELD: dict[tuple[str, str], tuple[Screener, list[dict]]] = {}  # oldest first
_HELD_LOCK = threading.Lock()


def _read_or_build(store: ListStore, versions, key: str) -> tuple[Screener, list[dict]]:
    folder = store.path / INDEX_DIR
    path = folder / f"{key}.pickle"
    # sealed: parts of it are unpickled only when a query reads them, so damage must show here
    cached = read_pickle(path)  # None: no cache, or one this code cannot read
    if isinstance(cached, dict) and cached.get("key") == key:
        return cached["screener"], cached["windows"]
    entries, windows = versions()
    screener = Screener(entries)
    aligned = Chunked(windows[id(entry)] for entry in screener.entries)  # read for the entries matched
    if store.content_digest()[:32] == key[:32]:  # no import landed meanwhile
        _write_atomically(folder, path, {"key": key, "screener": screener, "windows": aligned})
    return screener, aligned


def _write_atomically(folder: Path, path: Path, payload: dict) -> None:
    """Write whole or not at all; remove the caches of other keys. A store we cannot write to
    is simply not cached."""
    if not write_pickle(path, payload):
        return
    try:
        for old in folder.iterdir():
            if old != path and old.suffix in (".pickle", ".tmp"):
                old.unlink(missing_ok=True)
    except OSError:
        pass


def _dated_versions(lists: dict[str, list[ListEntry]], keys: dict[str, str], manifest: dict[str, ListRecord],
                    history: list[dict]) -> tuple[list[ListEntry], dict[int, dict]]:
    """Every version of every entry screening uses, current and past, and when each was in force.

    A current entry is in force from its last change in the history, else from its listing date
    (its earliest Federal Register citation; unknown: in force). A removed or changed version is in
    force until the edition that removed or changed it. Keyed by ``id()`` of the entry object.
    """
    used = {key: name for name, key in keys.items()}
    changes: dict[tuple[str, str], list[dict]] = {}
    for record in history:
        if record["key"] in used:
            changes.setdefault((record["key"], record["entry_id"]), []).append(record)
    entries: list[ListEntry] = []
    windows: dict[int, dict] = {}
    for name, current in lists.items():
        key = keys[name]
        edition = manifest[key].edition_label()
        for entry in current:
            past = changes.get((key, entry.entry_id), [])
            start = dt.date.fromisoformat(past[-1]["on"]) if past else entry.listed_on
            entries.append(entry)
            windows[id(entry)] = {"edition": edition, "in_force_from": start, "in_force_until": None}
    for (key, _), records in changes.items():
        start = None
        for record in records:
            old = ListEntry.model_validate(record["entry"])
            entries.append(old)
            windows[id(old)] = {"edition": edition_label(record.get("edition"), record.get("imported_at")),
                                "in_force_from": start or old.listed_on,
                                "in_force_until": dt.date.fromisoformat(record["on"])}
            start = dt.date.fromisoformat(record["on"])
    return entries, windows


def _in_force(matches: tuple[ListMatch, ...], day: dt.date | None) -> tuple[list[ListMatch], list[ListMatch]]:
    """The matches of entry versions in force on ``day`` (one per entry), and those of entries that
    were not (no version of them in force on that day)."""
    if day is None or not matches:  # no match: most names
        return list(matches[:MATCH_LIMIT]), []
    kept: dict[tuple[str, str], ListMatch] = {}
    out: dict[tuple[str, str], ListMatch] = {}
    for m in matches:
        entry = (m.list, m.entry_id)
        if (m.in_force_from is None or m.in_force_from <= day) and (m.in_force_until is None or day < m.in_force_until):
            kept.setdefault(entry, m)
        else:
            out.setdefault(entry, m)
    return list(kept.values())[:MATCH_LIMIT], [m for entry, m in out.items() if entry not in kept]


def _not_in_force_note(m: ListMatch, day: dt.date) -> str:
    if m.in_force_until is not None and day >= m.in_force_until:
        why = f"it was removed or changed on {m.in_force_until} (edition {m.edition} was the last to list it so)"
    else:
        why = f"it was listed on {m.in_force_from}"
    return (f"resembles {m.list} entry {m.entry!r} [{m.entry_id}] (score {m.score:.2f}), not applied on {day}: "
            f"{why}")


def designation_screener(designations) -> Screener | None:
    """China's list designations (controls.rulebook.schema.Designation) as a screener: each name an entry
    of the list ``designation.id``, so that a match is tagged with the designation in ``party.lists``."""
    entries = [ListEntry(list=d.id, entry_id=f"{d.id}/{i}", name=name, country=d.country, listed_on=d.date,
                         license_requirement=f"{d.announcement}: {d.measures}")
               for d in designations for i, name in enumerate(d.names)]
    return Screener(entries) if entries else None


def designation_matches(screener: Screener, party: Party) -> list[ListMatch]:
    return [ListMatch(list=m.entry.list, entry=m.entry.name, entry_id=m.entry.entry_id, matched_name=m.matched_name,
                      score=round(m.score, 3), strength=m.strength, country=m.entry.country, reasons=list(m.reasons),
                      license_requirement=m.entry.license_requirement)
            for m in screener.screen(party.name, party.country, party.address)]


def _snapshot(record: ListRecord) -> ListSnapshot:
    return ListSnapshot(list=record.list, source=record.source_format, edition=record.edition,
                        digest=f"sha256:{record.content_sha256}", entries=record.entries)


def screened_lists(lists: list[ListSnapshot]) -> list[str]:
    """Each list a party is screened against, with its source and edition, as a screening record names it."""
    return [f"{s.list} ({s.source}, edition {s.edition or 'unknown'})" for s in lists]
