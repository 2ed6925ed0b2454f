"""A local store of imported restricted-party lists: one JSON Lines file per list + a manifest.

Screening must never run on a half-written or silently shrunken list, so imports are
all-or-nothing (staged in the store directory, then moved into place, rolled back on error) and
an import that would drop a list or lose more than ``max_loss`` of its entries is refused unless
forced. Lists keep their source format in their key: the eCFR "Entity List" and the CSL "Entity
List" live side by side, and :meth:`ListStore.screening_lists` decides which one screening uses.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ListDataError
from . import _common, csl, ecfr
from .model import ListEntry

ECFR = "ecfr"
CSL = "csl"
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
#: Lists the regulation itself publishes; for these the eCFR edition is authoritative.
BIS_LISTS = (ecfr.ENTITY_LIST, ecfr.UNVERIFIED_LIST, ecfr.MEU_LIST)

PathLike = str | os.PathLike[str]


def detect_format(path: PathLike) -> str:
    """``"ecfr"`` for the eCFR XML of part 744, ``"csl"`` for ITA's consolidated CSV."""
    head = _common.read_bytes(path)[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
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

    @property
    def loss(self) -> float:
        """Share of the stored entries the import removes."""
        return len(self.removed) / self.old_count if self.old_count else 0.0

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.removed or self.dropped)


@dataclass(frozen=True)
class ImportReport:
    """What an import did to the store, list by list."""

    source_file: str
    source_format: str
    edition: dt.date | None
    source_sha256: str
    diffs: tuple[ListDiff, ...] = field(default_factory=tuple)
    forced: bool = False

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
        for diff in self.diffs:
            status = "DROPPED" if diff.dropped else "unchanged" if diff.unchanged else (
                f"+{len(diff.added)} ~{len(diff.changed)} -{len(diff.removed)}")
            lines.append(f"  {diff.key}: {diff.old_count} -> {diff.new_count} entries ({status})")
            for label, items in (("added", diff.added), ("changed", diff.changed), ("removed", diff.removed)):
                shown = items if limit is None else items[:limit]
                lines.extend(f"    {label:7} {entry_id}  {name}" for entry_id, name in shown)
                if len(shown) < len(items):
                    lines.append(f"    {label:7} ... and {len(items) - len(shown)} more")
        return "\n".join(lines)


class ListStore:
    """The lists imported into one directory (the CLI defaults to ``rules/lists/``)."""

    def __init__(self, path: PathLike):
        self.path = Path(path)

    # ------------------------------------------------------------------ reading

    def manifest(self) -> dict:
        """The manifest, or an empty one when nothing was imported yet."""
        manifest_path = self.path / MANIFEST
        if not manifest_path.exists():
            return {"version": MANIFEST_VERSION, "lists": {}}
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ListDataError(f"{manifest_path}: unreadable list-store manifest: {exc}") from exc
        if not isinstance(manifest, dict) or not isinstance(manifest.get("lists"), dict):
            raise ListDataError(f"{manifest_path}: not a list-store manifest")
        if manifest.get("version", 0) > MANIFEST_VERSION:
            raise ListDataError(
                f"{manifest_path}: written by a newer chipgate (manifest version {manifest['version']})")
        return manifest

    def load(self) -> dict[str, list[ListEntry]]:
        """Every stored list by key (``ecfr:Entity List``); ``{}`` for an empty or missing store.

        Each file is checked against the digest in the manifest, so a store edited by hand or
        left half-written by a crash is reported instead of screened against.
        """
        return {key: self._read_list(key, info) for key, info in sorted(self.manifest()["lists"].items())}

    def screening_keys(self) -> dict[str, str]:
        """List name -> store key that screening should use.

        BIS lists come from the eCFR when it was imported (it is the regulation); every other
        list, and a BIS list with no eCFR import, comes from the CSL.
        """
        keys: dict[str, str] = {}
        for key, info in sorted(self.manifest()["lists"].items()):
            name, source_format = info["list"], info["source_format"]
            preferred = ECFR if name in BIS_LISTS else CSL
            if name not in keys or source_format == preferred:
                keys[name] = key
        return keys

    def screening_lists(self) -> dict[str, list[ListEntry]]:
        """List name -> entries that screening should use (see :meth:`screening_keys`)."""
        manifest = self.manifest()["lists"]
        return {name: self._read_list(key, manifest[key]) for name, key in self.screening_keys().items()}

    # ------------------------------------------------------------------ importing

    def import_file(self, source_path: PathLike, *, force: bool = False, max_loss: float = 0.10,
                    edition: dt.date | None = None) -> ImportReport:
        """Import every list in an eCFR part 744 XML or CSL CSV file (gzipped or not).

        Raises ListDataError, leaving the store untouched, when the file cannot be parsed, or
        when the import would drop a list this store holds from the same format or remove more
        than ``max_loss`` of a list's entries (unless ``force``).
        """
        if not 0.0 <= max_loss <= 1.0:
            raise ValueError(f"max_loss must be a fraction between 0 and 1, not {max_loss!r}")
        source_path = Path(source_path)
        source_format = detect_format(source_path)
        source_sha256 = hashlib.sha256(source_path.read_bytes()).hexdigest()
        parsed = ecfr.parse_part744(source_path) if source_format == ECFR else csl.parse_csl(source_path)
        # the file's own edition date wins; ``edition`` is what the user knows of a file that has none
        edition = (ecfr.edition_date(source_path) if source_format == ECFR else None) or edition
        notes = {ecfr.ENTITY_LIST: ecfr.footnotes(source_path)} if source_format == ECFR else {}

        manifest = self.manifest()
        old_lists = {k: v for k, v in manifest["lists"].items() if v["source_format"] == source_format}
        new_payloads = {list_key(source_format, name): (name, _jsonl(entries)) for name, entries in parsed.items()}
        diffs = tuple(self._diff(key, old_lists.get(key), new_payloads.get(key), force=force) for key in
                      sorted(set(old_lists) | set(new_payloads)))
        if not force:
            _refuse_losses(diffs, max_loss, source_path)

        imported_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        lists = {k: v for k, v in manifest["lists"].items() if v["source_format"] != source_format}
        for key, (name, payload) in new_payloads.items():
            lists[key] = {
                "list": name,
                "source_format": source_format,
                "file": list_file_name(source_format, name),
                "source_file": source_path.name,
                "edition": edition.isoformat() if edition else None,
                "source_sha256": source_sha256,
                "entries": payload.count(b"\n"),
                "content_sha256": hashlib.sha256(payload).hexdigest(),
                "imported_at": imported_at,
                "footnotes": {str(n): text for n, text in sorted(notes.get(name, {}).items())},
            }
        new_manifest = {"version": MANIFEST_VERSION, "lists": dict(sorted(lists.items()))}
        writes = {list_file_name(source_format, name): payload for name, payload in new_payloads.values()}
        writes[MANIFEST] = (json.dumps(new_manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        removals = [info["file"] for key, info in old_lists.items() if key not in new_payloads]
        self._commit(writes, removals)
        return ImportReport(source_path.name, source_format, edition, source_sha256, diffs, force)

    # ------------------------------------------------------------------ internals

    def _read_list(self, key: str, info: dict) -> list[ListEntry]:
        file_path = self.path / info["file"]
        try:
            payload = file_path.read_bytes()
        except OSError as exc:
            raise ListDataError(f"{file_path}: list file of {key} is missing: {exc.strerror}") from exc
        if hashlib.sha256(payload).hexdigest() != info["content_sha256"]:
            raise ListDataError(f"{file_path}: content does not match the manifest digest; re-import {key}")
        entries = []
        for number, line in enumerate(payload.decode("utf-8").splitlines(), start=1):
            try:
                entries.append(ListEntry.model_validate_json(line))
            except ValueError as exc:
                raise ListDataError(f"{file_path}:{number}: invalid list entry: {exc}") from exc
        return entries

    def _diff(self, key: str, old_info: dict | None, new: tuple[str, bytes] | None, *, force: bool) -> ListDiff:
        try:
            old = _index(self._read_list(key, old_info)) if old_info else {}
        except ListDataError as exc:
            if not force:
                raise ListDataError(f"{exc}; import with force to replace it") from exc
            old = {}  # a damaged stored list is replaced wholesale by a forced import
        fresh = _index_jsonl(new[1]) if new else {}
        return ListDiff(
            key=key,
            old_count=len(old),
            new_count=len(fresh),
            added=tuple((i, fresh[i]["name"]) for i in sorted(fresh.keys() - old.keys())),
            changed=tuple((i, fresh[i]["name"]) for i in sorted(fresh.keys() & old.keys()) if fresh[i] != old[i]),
            removed=tuple((i, old[i]["name"]) for i in sorted(old.keys() - fresh.keys())),
            dropped=old_info is not None and new is None,
        )

    def _commit(self, writes: dict[str, bytes], removals: list[str]) -> None:
        """Stage every file in the store directory, then move them into place, manifest last.

        On any error the files already replaced are put back, so a failed import leaves the
        store as it was. (A power cut mid-commit, or a reader racing the commit, shows up as a
        digest mismatch on load rather than as silently mixed lists.)
        """
        created = not self.path.exists()
        self.path.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".import-", dir=self.path))
        backup = staging / "previous"
        backup.mkdir()
        done: list[tuple[str, bool]] = []  # (file name, existed before)
        try:
            for name, payload in writes.items():
                with open(staging / name, "wb") as fh:
                    fh.write(payload)
                    fh.flush()
                    os.fsync(fh.fileno())
            order = [n for n in writes if n != MANIFEST] + [n for n in removals if n not in writes] + [MANIFEST]
            for name in order:
                target = self.path / name
                existed = target.exists()
                if existed:
                    _keep(target, backup / name)
                done.append((name, existed))
                if name in writes:
                    _replace(staging / name, target)
                elif existed:
                    os.remove(target)
        except BaseException:
            for name, existed in reversed(done):
                target = self.path / name
                if existed:
                    os.replace(backup / name, target)
                elif target.exists():
                    os.remove(target)
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            if created and not any(self.path.iterdir()):
                self.path.rmdir()  # a failed first import leaves no empty store behind


def _keep(target: Path, backup: Path) -> None:
    """Remember the current file for a rollback: a hard link where possible, else a copy."""
    try:
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)


def _replace(source: Path, target: Path) -> None:
    """One atomic rename (a seam for tests that simulate a failure mid-commit)."""
    os.replace(source, target)


def _refuse_losses(diffs: tuple[ListDiff, ...], max_loss: float, source_path: Path) -> None:
    for diff in diffs:
        if diff.dropped:
            raise ListDataError(
                f"{source_path}: refused: the file has no {diff.key} list, which the store holds "
                f"({diff.old_count} entries -> 0); use force to drop it")
        if diff.loss > max_loss:
            raise ListDataError(
                f"{source_path}: refused: {diff.key} would lose {len(diff.removed)} of {diff.old_count} entries "
                f"({diff.old_count} -> {diff.new_count}, {diff.loss:.0%} > {max_loss:.0%}); use force to accept")


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
