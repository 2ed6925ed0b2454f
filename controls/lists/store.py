"""A local store of imported restricted-party lists: one JSON Lines file per list + a manifest.

Screening must never run on a half-written, mixed or silently shrunken list, so:

- imports take the store's lock (``.lock``, exclusive) and readers share it, so two imports never
  interleave and nobody reads a store in the middle of a commit;
- an import is written aside in ``.import-*`` and fsynced, then committed by one rename to
  ``.commit``; the files are then moved into place (manifest last).  A process killed before that
  rename leaves only the staging directory, which the next open deletes (rollback); one killed
  after it leaves ``.commit``, which the next open moves into place (roll-forward);
- every read checks each list file against the digest in the manifest (:meth:`ListStore.verify`);
- an import that would drop a list, remove more than ``max_loss`` of a list's entries, or leave a
  list more than ``max_loss`` below its baseline (the largest edition since a shrink was last
  accepted) is refused unless that guard is overridden for that list;
- a list with no entries is not an edition of it: its import is refused unless overridden for that
  list (the record then says so, ``accepted_empty``), and screening never uses an empty list that was
  not so accepted, nor an empty copy of a list when the other format's copy has entries.

Lists keep their source format in their key: the eCFR "Entity List" and the CSL "Entity List" live
side by side, and :meth:`ListStore.screening_lists` decides which one screening uses.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ListDataError
from . import _common, csl, ecfr
from .manifest import MANIFEST_VERSION, HistoryLine, HistoryRecord, ListRecord, Manifest, is_store_file
from .model import ListEntry

ECFR = "ecfr"
CSL = "csl"
MANIFEST = "manifest.json"
LOCK = ".lock"
STAGING_PREFIX = ".import-"  # an import being written aside; deleted if found unlocked (rollback)
COMMIT = ".commit"  # an import past its commit point; moved into place if found (roll-forward)
HISTORY = "history.jsonl"  # every import's removed and changed entries, dated: point-in-time screening
PLAN = "plan.json"  # inside .commit: which files to move into place, in order, and which to remove
#: Lists the regulation itself publishes; for these the eCFR edition is authoritative.
BIS_LISTS = (ecfr.ENTITY_LIST, ecfr.UNVERIFIED_LIST, ecfr.MEU_LIST)

PathLike = str | os.PathLike[str]


def detect_format(path: PathLike) -> str:
    """``"ecfr"`` for the eCFR XML of part 744, ``"csl"`` for ITA's consolidated CSV."""
    head = _common.read_head(path, 4096).lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<") and (b"<DIV5" in head or b"PART 744" in head):
        return ECFR
    first_line = head.split(b"\n", 1)[0]
    if b"source" in first_line and b"name" in first_line and b"," in first_line:
        return CSL
    raise ListDataError(f"{path}: not a recognised list file (expected eCFR part 744 XML or CSL CSV)")


def list_key(source_format: str, list_name: str) -> str:
    """Store key of a list, e.g. ``ecfr:Entity List``."""
    return f"{source_format}:{list_name}"


def list_file_name(source_format: str, list_name: str) -> str:
    """``ecfr-entity-list.jsonl``."""
    return f"{source_format}-{_common.slug(list_name)}.jsonl"


@dataclass(frozen=True)
class ListDiff:
    """How one list changes with an import; ids are paired with names for review."""

    key: str
    old_count: int
    new_count: int
    added: tuple[tuple[str, str], ...] = ()
    changed: tuple[tuple[str, str], ...] = ()
    removed: tuple[tuple[str, str], ...] = ()
    dropped: bool = False  # the import no longer contains this list at all
    baseline_count: int = 0  # entries of the list's baseline edition (0: a list new to the store)
    damaged: str = ""  # why the stored copy could not be read (it is replaced; counts come from the manifest)

    @property
    def loss(self) -> float:
        """Share of the stored entries the import removes (by count when the stored copy is damaged)."""
        if not self.old_count:
            return 0.0
        lost = max(self.old_count - self.new_count, 0) if self.damaged else len(self.removed)
        return lost / self.old_count

    @property
    def shrink(self) -> float:
        """How far below its baseline the import leaves the list: small cuts add up here."""
        return max(self.baseline_count - self.new_count, 0) / self.baseline_count if self.baseline_count else 0.0

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.removed or self.dropped or self.damaged)


@dataclass(frozen=True)
class ImportReport:
    """What an import did to the store, list by list."""

    source_file: str
    source_format: str
    edition: dt.date | None
    source_sha256: str
    diffs: tuple[ListDiff, ...] = field(default_factory=tuple)
    forced: bool = False
    overridden: tuple[str, ...] = ()  # the guards an override let through, e.g. "shrink of ecfr:Entity List"

    def diff(self, key: str) -> ListDiff:
        for candidate in self.diffs:
            if candidate.key == key:
                return candidate
        raise KeyError(key)

    def render(self, limit: int | None = 20) -> str:
        """Plain-text summary for review; ``limit`` caps the ids listed per category."""
        edition = self.edition.isoformat() if self.edition else "unknown"
        lines = [f"Imported {self.source_file} ({self.source_format}, edition {edition}, "
                 f"sha256 {self.source_sha256[:12]}){' [forced]' if self.forced else ''}"]
        lines.extend(f"  overridden: {guard}" for guard in self.overridden)
        for diff in self.diffs:
            status = "DROPPED" if diff.dropped else "unchanged" if diff.unchanged else (
                f"+{len(diff.added)} ~{len(diff.changed)} -{len(diff.removed)}")
            if diff.damaged:
                status = f"the stored copy was damaged and is replaced: {diff.damaged}"
            if not diff.dropped and not diff.new_count:
                status += "; the list has no entries, accepted as empty"
            if diff.shrink and diff.baseline_count != diff.old_count:
                status += f"; {diff.shrink:.0%} below its baseline of {diff.baseline_count} entries"
            lines.append(f"  {diff.key}: {diff.old_count} -> {diff.new_count} entries ({status})")
            for label, items in (("added", diff.added), ("changed", diff.changed), ("removed", diff.removed)):
                shown = items if limit is None else items[:limit]
                lines.extend(f"    {label:7} {entry_id}  {name}" for entry_id, name in shown)
                if len(shown) < len(items):
                    lines.append(f"    {label:7} ... and {len(items) - len(shown)} more")
        return "\n".join(lines)


@dataclass(frozen=True)
class _Source:
    """A list file read and converted: each list's canonical content, by store key."""

    path: Path
    format: str
    edition: dt.date | None
    sha256: str
    payloads: dict[str, tuple[str, bytes]]  # key -> (list name, JSON Lines)
    footnotes: dict[str, dict[int, str]]  # list name -> footnote number -> text

    @classmethod
    def read(cls, path: Path, edition: dt.date | None) -> "_Source":
        source_format = detect_format(path)
        parsed = ecfr.parse_part744(path) if source_format == ECFR else csl.parse_csl(path)
        # the file's own edition date wins; ``edition`` is what the user knows of a file that has none
        edition = (ecfr.edition_date(path) if source_format == ECFR else None) or edition
        return cls(path, source_format, edition, hashlib.sha256(_common.read_raw(path)).hexdigest(),
                   {list_key(source_format, name): (name, _jsonl(entries)) for name, entries in parsed.items()},
                   {ecfr.ENTITY_LIST: ecfr.footnotes(path)} if source_format == ECFR else {})

    def record(self, key: str, imported_at: str) -> ListRecord:
        """The manifest's record of one list of this file."""
        name, payload = self.payloads[key]
        return ListRecord(
            list=name, source_format=self.format, file=list_file_name(self.format, name), source_file=self.path.name,
            edition=self.edition.isoformat() if self.edition else None, source_sha256=self.sha256,
            entries=payload.count(b"\n"), content_sha256=hashlib.sha256(payload).hexdigest(),
            imported_at=imported_at, footnotes=dict(sorted(self.footnotes.get(name, {}).items())))


class ListStore:
    """The lists imported into one directory (the CLI defaults to ``rules/lists/``).

    ``lock_timeout``: how many seconds an import or a read waits for another import to finish
    before it fails with a message saying so.
    """

    def __init__(self, path: PathLike, *, lock_timeout: float = 600.0):
        self.path = Path(path)
        self.lock_timeout = lock_timeout

    # ------------------------------------------------------------------ reading

    def manifest(self) -> Manifest:
        """The manifest, or an empty one when nothing was imported yet."""
        with self._reading():
            return self._manifest()

    def load(self) -> dict[str, list[ListEntry]]:
        """Every stored list by key (``ecfr:Entity List``); ``{}`` for an empty or missing store.

        Each file is checked against the digest in the manifest, so a store edited by hand or
        damaged on disk is reported instead of screened against.
        """
        with self._reading():
            return {key: self._read_list(key, info) for key, info in sorted(self._manifest().lists.items())}

    def screening_keys(self) -> dict[str, str]:
        """List name -> store key that screening should use.

        BIS lists come from the eCFR when it was imported (it is the regulation); every other
        list, and a BIS list with no eCFR import, comes from the CSL. A copy with entries comes
        before an empty one, and an empty list no import accepted is not used (see _screening_keys).
        """
        return _screening_keys(self.manifest().lists)

    def screening_lists(self) -> dict[str, list[ListEntry]]:
        """List name -> entries that screening should use (see :meth:`screening_keys`)."""
        with self._reading():
            manifest = self._manifest().lists
            return {name: self._read_list(key, manifest[key]) for name, key in _screening_keys(manifest).items()}

    def verify(self) -> dict[str, str]:
        """What is wrong with each damaged list, by key; ``{}`` when every list matches its digest.

        A store that cannot be read at all (manifest, permissions, an interrupted import that
        cannot be finished, a history that fails its digest or holds a bad record: screening reads
        it for every list) raises ListDataError.
        """
        problems = {}
        with self._reading():
            HistoryLine.check(self.path / HISTORY, self._history_payload())
            for key, info in sorted(self._manifest().lists.items()):
                try:
                    count = len(self._read_list(key, info))
                except ListDataError as exc:
                    problems[key] = str(exc)
                    continue
                if count != info.entries:
                    problems[key] = f"{info.file} holds {count} entries, the manifest says {info.entries}"
        return problems

    # ------------------------------------------------------------------ importing

    def import_file(self, source_path: PathLike, *, force: bool = False, allow_shrink: Iterable[str] = (),
                    allow_drop: Iterable[str] = (), allow_empty: Iterable[str] = (), max_loss: float = 0.10,
                    edition: dt.date | None = None) -> ImportReport:
        """Import every list in an eCFR part 744 XML or CSL CSV file (gzipped or not).

        Raises ListDataError, leaving the store untouched, when the file cannot be parsed, or
        when the import would drop a list this store holds from the same format (unless the list
        is in ``allow_drop``), or remove more than ``max_loss`` of a list's entries or leave it
        more than ``max_loss`` below its baseline (unless the list is in ``allow_shrink``), or
        when a list of the file has no entries (unless it is in ``allow_empty``); a file that holds
        no list at all is always refused. Lists are named by key (``ecfr:Entity List``) or name (``Entity List``); ``force``
        overrides every guard for every list. A damaged stored list is simply replaced.
        """
        if not 0.0 <= max_loss <= 1.0:
            raise ValueError(f"max_loss must be a fraction between 0 and 1, not {max_loss!r}")
        source = _Source.read(Path(source_path), edition)  # parsed before the lock: other imports need not wait
        if not source.payloads:
            raise ListDataError(f"{source.path}: refused, the store is unchanged: the file holds no list entries, "
                                "so it is no edition of any list")
        created = not self.path.exists()
        try:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ListDataError(f"{self.path}: cannot create the list store: {exc.strerror or exc}") from exc
            with self._lock(exclusive=True):
                self._finish_interrupted()
                stored = self._manifest()
                lists = stored.lists
                old_lists = {k: v for k, v in lists.items() if v.source_format == source.format}
                diffs = tuple(self._diff(key, old_lists.get(key), source.payloads.get(key)) for key in
                              sorted(set(old_lists) | set(source.payloads)))
                overridden = _check_guards(diffs, max_loss, _selected(diffs, allow_shrink, "--allow-shrink", force),
                                           _selected(diffs, allow_drop, "--allow-drop", force),
                                           _selected(diffs, allow_empty, "--allow-empty", force), source.path)
                imported_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
                lists = {k: v for k, v in lists.items() if v.source_format != source.format}
                for diff in diffs:
                    if diff.key in source.payloads:
                        record = source.record(diff.key, imported_at)
                        accepted = diff.new_count >= diff.baseline_count or f"shrink of {diff.key}" in overridden
                        keep = diff.key in old_lists and not accepted
                        record.baseline = (old_lists[diff.key] if keep else record).baseline_or_self()
                        if not diff.new_count:  # let through by --allow-empty: screening may use it
                            record.accepted_empty = True
                        lists[diff.key] = record
                manifest = Manifest(version=MANIFEST_VERSION, lists=dict(sorted(lists.items())))
                writes = {list_file_name(source.format, name): payload for name, payload in source.payloads.values()}
                changes = self._history_lines(diffs, old_lists, source, imported_at)
                if changes:
                    history = self._history_payload() + changes
                    writes[HISTORY] = history
                    manifest.history = HistoryRecord(file=HISTORY, sha256=hashlib.sha256(history).hexdigest())
                elif stored.history:
                    manifest.history = stored.history
                writes[MANIFEST] = manifest.dump()
                self._commit(writes, [info.file for key, info in old_lists.items() if key not in source.payloads])
        except BaseException:
            if created:
                _remove_empty_store(self.path)  # a failed first import leaves no empty store behind
            raise
        return ImportReport(source.path.name, source.format, source.edition, source.sha256, diffs, force, overridden)

    def history(self) -> list[dict]:
        """Every entry an import removed or changed, oldest first: ``{"key", "entry_id", "change"
        ("removed" or "changed"), "on" (the new edition's date, else the import's day), "edition",
        "entry" (the record that stopped being in force)}``; checked against the manifest's digest."""
        with self._reading():
            payload = self._history_payload()
        return HistoryLine.check(self.path / HISTORY, payload)

    def content_digest(self) -> str:
        """sha256 of the manifest, which names every list file's and the history's digest, once each
        file is checked against its digest (ListDataError if one differs): it changes whenever what
        screening reads changes, and a damaged file is reported, not screened against."""
        with self._reading():
            manifest = self._manifest()
            for key, info in manifest.lists.items():
                self._verified_payload(key, info)
            self._history_payload()
            path = self.path / MANIFEST
            return hashlib.sha256(path.read_bytes() if path.exists() else b"").hexdigest()

    # ------------------------------------------------------------------ internals

    def _history_payload(self) -> bytes:
        """The stored history (the caller holds the lock), checked against the manifest."""
        record = self._manifest().history
        if not record:
            return b""
        try:
            payload = (self.path / HISTORY).read_bytes()
        except OSError as exc:
            raise ListDataError(f"{self.path / HISTORY}: the list history cannot be read: {exc.strerror}") from exc
        if hashlib.sha256(payload).hexdigest() != record.sha256:
            raise ListDataError(f"{self.path / HISTORY}: content does not match the manifest digest")
        return payload

    def _history_lines(self, diffs: tuple[ListDiff, ...], old_lists: dict[str, ListRecord], source: "_Source",
                       imported_at: str) -> bytes:
        """History records of what this import removes or changes, dated by the new edition."""
        on = (source.edition.isoformat() if source.edition else imported_at[:10])
        lines = []
        for diff in diffs:
            gone = dict(diff.removed) | dict(diff.changed)
            if not gone or diff.damaged:
                continue
            old_info = old_lists[diff.key]
            old = _index(self._read_list(diff.key, old_info))
            for change, items in (("removed", diff.removed), ("changed", diff.changed)):
                for entry_id, _ in items:
                    lines.append(json.dumps({
                        "key": diff.key, "entry_id": entry_id, "change": change, "on": on,
                        "edition": old_info.edition, "imported_at": old_info.imported_at,
                        "entry": old[entry_id]}, sort_keys=True, ensure_ascii=False) + "\n")
        return "".join(lines).encode("utf-8")


    def _manifest(self) -> Manifest:
        """The manifest as stored (the caller holds the lock), its records checked."""
        return Manifest.read(self.path / MANIFEST)

    @contextlib.contextmanager
    def _lock(self, *, exclusive: bool) -> Iterator[None]:
        """The store's lock: exclusive for an import, shared for a read; waits ``lock_timeout`` at most.

        A reader of a store it cannot write, and where no lock file was ever created, reads
        unlocked: no import can be running there.
        """
        try:
            fd = os.open(self.path / LOCK, os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError as exc:
            if exclusive:
                raise ListDataError(f"{self.path}: cannot write to the list store: {exc.strerror or exc}") from exc
            fd = None
        try:
            if fd is not None:
                _acquire(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, self.lock_timeout, self.path)
            yield
        finally:
            if fd is not None:
                os.close(fd)  # releases the lock

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Hold the shared lock, after finishing an import that a killed process left behind."""
        if not self.path.is_dir():
            yield
            return
        while True:
            with self._lock(exclusive=False):
                if not self._interrupted():
                    yield
                    return
            try:
                with self._lock(exclusive=True):
                    self._finish_interrupted()
            except ListDataError as exc:
                raise ListDataError(f"an import into this list store was interrupted and must be finished "
                                    f"before it can be read: {exc}") from exc

    def _interrupted(self) -> bool:
        return (self.path / COMMIT).exists() or any(self.path.glob(STAGING_PREFIX + "*"))

    def _finish_interrupted(self) -> None:
        """Roll forward a committed import, delete imports that never reached their commit (the caller
        holds the exclusive lock, so no live import owns them)."""
        try:
            if (self.path / COMMIT).exists():
                self._roll_forward()
            for staging in self.path.glob(STAGING_PREFIX + "*"):
                _undo_legacy_commit(staging, self.path)
                shutil.rmtree(staging)
        except OSError as exc:
            raise ListDataError(f"{self.path}: an interrupted import cannot be finished or undone "
                                f"({exc.strerror or exc})") from exc

    def _commit(self, writes: dict[str, bytes], removals: list[str]) -> None:
        """Write every file aside and fsync it, commit with one rename, then move the files into place."""
        staging = None
        try:
            staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.path))
            for name, payload in writes.items():
                _write_synced(staging / name, payload)
            plan = {"move": [n for n in writes if n != MANIFEST] + [MANIFEST], "remove": removals}
            _write_synced(staging / PLAN, json.dumps(plan).encode("utf-8"))
            _fsync_dir(staging)
            _replace(staging, self.path / COMMIT)  # the commit point
        except OSError as exc:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            raise ListDataError(f"{self.path}: cannot write to the list store ({exc.strerror or exc}); "
                                "nothing was changed") from exc
        try:
            _fsync_dir(self.path)
            self._roll_forward()
        except OSError as exc:
            raise ListDataError(f"{self.path}: the import is committed but not yet in place "
                                f"({exc.strerror or exc}); it is finished when the store is next opened") from exc

    def _roll_forward(self) -> None:
        """Move a committed import's files into place, manifest last; safe to repeat after a crash."""
        commit = self.path / COMMIT
        try:
            plan = json.loads((commit / PLAN).read_text(encoding="utf-8"))
            names = [*plan["move"], *plan["remove"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ListDataError(f"{commit / PLAN}: unreadable plan of an interrupted import: {exc}") from exc
        if not all(is_store_file(n) for n in names):
            raise ListDataError(f"{commit / PLAN}: the plan of an interrupted import names files outside the store")
        for name in plan["move"]:
            if (commit / name).exists():
                _replace(commit / name, self.path / name)
        for name in plan["remove"]:
            (self.path / name).unlink(missing_ok=True)
        _fsync_dir(self.path)
        shutil.rmtree(commit)
        _fsync_dir(self.path)

    def _verified_payload(self, key: str, info: ListRecord) -> bytes:
        """A stored list file's bytes, checked against the manifest's digest (ListDataError if not)."""
        file_path = self.path / info.file
        try:
            payload = file_path.read_bytes()
        except OSError as exc:
            raise ListDataError(f"{file_path}: list file of {key} cannot be read: {exc.strerror}") from exc
        if hashlib.sha256(payload).hexdigest() != info.content_sha256:
            raise ListDataError(f"{file_path}: content does not match the manifest digest; re-import {key}")
        return payload

    def _read_list(self, key: str, info: ListRecord) -> list[ListEntry]:
        file_path = self.path / info.file
        payload = self._verified_payload(key, info)
        entries = []
        for number, line in enumerate(payload.decode("utf-8", errors="replace").splitlines(), start=1):
            try:
                entries.append(ListEntry.model_validate_json(line))
            except ValueError as exc:
                raise ListDataError(f"{file_path}:{number}: invalid list entry: {exc}") from exc
        return entries

    def _diff(self, key: str, old_info: ListRecord | None, new: tuple[str, bytes] | None) -> ListDiff:
        old, damaged = {}, ""
        if old_info:
            try:
                old = _index(self._read_list(key, old_info))
            except ListDataError as exc:
                damaged = str(exc)
        fresh = _index_jsonl(new[1]) if new else {}
        old_count = old_info.entries if old_info else 0
        return ListDiff(
            key=key,
            old_count=old_count,
            new_count=len(fresh),
            added=tuple((i, fresh[i]["name"]) for i in sorted(fresh.keys() - old.keys()) if not damaged),
            changed=tuple((i, fresh[i]["name"]) for i in sorted(fresh.keys() & old.keys()) if fresh[i] != old[i]),
            removed=tuple((i, old[i]["name"]) for i in sorted(old.keys() - fresh.keys())),
            dropped=old_info is not None and new is None,
            baseline_count=old_info.baseline_or_self().entries if old_info else 0,
            damaged=damaged,
        )


def _screening_keys(manifest_lists: dict[str, ListRecord]) -> dict[str, str]:
    """List name -> the key screening uses: a copy with entries before an empty one, then the preferred format.

    An empty list that no import accepted as empty (``--allow-empty``; a store written before that
    guard may hold one) is no edition: it is left out, so the list counts as missing and parties are
    HOLD rather than cleared against nothing.
    """
    keys: dict[str, str] = {}
    rank: dict[str, tuple[bool, bool]] = {}
    for key, info in sorted(manifest_lists.items()):
        if not info.entries and not info.accepted_empty:
            continue
        name = info.list
        candidate = (info.entries > 0, info.source_format == (ECFR if name in BIS_LISTS else CSL))
        if name not in keys or candidate > rank[name]:
            keys[name], rank[name] = key, candidate
    return keys


def _selected(diffs: tuple[ListDiff, ...], wanted: Iterable[str], option: str, everything: bool) -> set[str]:
    """Keys of the lists an override names (by key or list name); a name matching none is an error."""
    if everything:
        return {d.key for d in diffs}
    if isinstance(wanted, str):
        wanted = (wanted,)
    keys = set()
    for name in wanted:
        hits = {d.key for d in diffs if name.casefold() in (d.key.casefold(), d.key.split(":", 1)[1].casefold())}
        if not hits:
            raise ListDataError(f"{option} {name!r}: the import and the store have no such list "
                                f"(lists: {', '.join(d.key for d in diffs)})")
        keys |= hits
    return keys


def _check_guards(diffs: tuple[ListDiff, ...], max_loss: float, shrink_ok: set[str], drop_ok: set[str],
                  empty_ok: set[str], source_path: Path) -> tuple[str, ...]:
    """Refuse, naming every guard that trips and its override, unless overridden; returns the overrides used."""
    refusals, overridden = [], []
    for diff in diffs:
        if diff.dropped:
            reason = (f"the file has no {diff.key} list, which the store holds ({diff.old_count} entries -> 0); "
                      f"use --allow-drop '{diff.key}' to drop it")
            if diff.key in drop_ok:
                overridden.append(f"drop of {diff.key}")
            else:
                refusals.append(reason)
            continue
        reasons = []
        if diff.loss > max_loss:
            lost = len(diff.removed) if not diff.damaged else diff.old_count - diff.new_count
            reasons.append(f"{diff.key} would lose {lost} of {diff.old_count} entries "
                           f"({diff.old_count} -> {diff.new_count}, {diff.loss:.0%} > {max_loss:.0%})")
        if diff.shrink > max_loss:
            reasons.append(f"{diff.key} would be {diff.shrink:.0%} below its baseline of {diff.baseline_count} "
                           f"entries ({diff.new_count} entries, > {max_loss:.0%})")
        if reasons and diff.key in shrink_ok:
            overridden.append(f"shrink of {diff.key}")
        elif reasons:
            refusals.append(f"{'; '.join(reasons)}; use --allow-shrink '{diff.key}' to accept")
        if not diff.new_count and diff.key in empty_ok:
            overridden.append(f"empty {diff.key}")
        elif not diff.new_count:
            refusals.append(f"{diff.key} has no entries in the file, so it is no edition of that list; "
                            f"use --allow-empty '{diff.key}' if it truly has none")
    if refusals:
        raise ListDataError(f"{source_path}: refused, the store is unchanged: " + "\n  ".join(refusals))
    return tuple(overridden)


def _acquire(fd: int, mode: int, timeout: float, store: Path) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise ListDataError(f"{store}: another import into this list store is still running "
                                    f"(waited {timeout:g} s); try again when it has finished") from None
            time.sleep(0.05)


def _write_synced(path: Path, payload: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    """Make renames in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(source: Path, target: Path) -> None:
    """One atomic rename (a seam for tests that simulate a failure or a kill mid-commit)."""
    os.replace(source, target)


def _undo_legacy_commit(staging: Path, store: Path) -> None:
    """Chipgate before the two-phase commit kept replaced files in ``.import-*/previous``; if it was
    killed before moving its manifest into place, the old manifest is current: put them back."""
    previous = staging / "previous"
    if previous.is_dir() and (staging / MANIFEST).exists():
        for kept in previous.iterdir():
            os.replace(kept, store / kept.name)


def _remove_empty_store(path: Path) -> None:
    with contextlib.suppress(OSError):
        if [p.name for p in path.iterdir()] in ([], [LOCK]):
            (path / LOCK).unlink(missing_ok=True)
            path.rmdir()


def _record(entry: ListEntry) -> dict:
    """Defaults are left out, so adding an optional field to ListEntry changes no stored digest."""
    return entry.model_dump(mode="json", exclude_defaults=True)


def _canonical(entry: ListEntry) -> str:
    return json.dumps(_record(entry), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _jsonl(entries: list[ListEntry]) -> bytes:
    """Canonical content of a list: one sorted-key JSON object per line, ordered by entry id."""
    lines = sorted((entry.entry_id, _canonical(entry)) for entry in entries)
    duplicates = sorted({a for (a, _), (b, _) in zip(lines, lines[1:]) if a == b})
    if duplicates:
        raise ListDataError(f"duplicate entry ids in {entries[0].list}: {', '.join(duplicates[:5])}")
    return "".join(f"{line}\n" for _, line in lines).encode("utf-8")


def _index(entries: list[ListEntry]) -> dict[str, dict]:
    return {entry.entry_id: _record(entry) for entry in entries}


def _index_jsonl(payload: bytes) -> dict[str, dict]:
    records = (json.loads(line) for line in payload.decode("utf-8").splitlines())
    return {record["entry_id"]: record for record in records}
