"""The list store's manifest (``manifest.json``): the lists a store holds, the file and edition each came
from, and the digest each stored file is checked against.

It is read here, and only here, into typed records: a manifest with a field missing or of the wrong type
is a ListDataError (an InputError) naming the file and the field, never a KeyError further on.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from ..errors import ListDataError
from .model import ListEntry

MANIFEST_VERSION = 1


def edition_date(edition: str | None) -> str | None:
    """``edition`` unchanged when it is a date written YYYY-MM-DD (or None); a ValueError otherwise.

    Screening reads it as a date (the age of a list), so a manifest edited to ``2026-13-45`` or
    ``yesterday`` is damage found when the manifest is read, not a crash of every check.
    """
    if edition is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", edition, flags=re.ASCII):
            dt.date.fromisoformat(edition)
            return edition
    except ValueError:
        pass
    raise ValueError("is not a date written YYYY-MM-DD")


# An edition as the manifest holds it: checked when the manifest is read (see edition_date)
Edition = Annotated[str | None, AfterValidator(edition_date)]


class Baseline(BaseModel):
    """The edition small cuts of a list are measured against (see ``ListStore.import_file``)."""

    model_config = ConfigDict(extra="allow")

    entries: StrictInt
    edition: Edition = None
    imported_at: str | None = None


class ListRecord(BaseModel):
    """One stored list: its name, format and file, the file it was imported from, and its digest."""

    model_config = ConfigDict(extra="allow")  # fields a later chipgate adds survive a rewrite

    list: StrictStr
    source_format: StrictStr
    file: StrictStr = Field(description="the list's file, a plain name in the store's directory")
    source_file: str | None = None
    edition: Edition = Field(default=None, description="the edition date the file states, YYYY-MM-DD")
    source_sha256: str | None = None
    entries: StrictInt
    content_sha256: StrictStr
    imported_at: str | None = None
    footnotes: dict[int, str] = Field(default_factory=dict, description="the list's footnotes by number")
    baseline: Baseline | None = None
    accepted_empty: StrictBool = Field(default=False, description="the list has no entries and an import accepted that "
                                                            "(--allow-empty); an empty list without it is not screened")

    @field_validator("file")
    @classmethod
    def _in_the_store(cls, name: str) -> str:
        if not is_store_file(name):
            raise ValueError("names no file of the store")
        return name

    def baseline_or_self(self) -> Baseline:
        """The list's baseline; a store from before baselines has none: its current edition is the baseline."""
        return self.baseline or Baseline(entries=self.entries, edition=self.edition, imported_at=self.imported_at)

    def edition_label(self) -> str | None:
        return edition_label(self.edition, self.imported_at)


class HistoryRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    file: StrictStr
    sha256: StrictStr


class Manifest(BaseModel):
    """What a store holds: its lists by key (``ecfr:Entity List``) and its history file."""

    model_config = ConfigDict(extra="allow")

    version: StrictInt = MANIFEST_VERSION
    lists: dict[str, ListRecord] = Field(default_factory=dict)
    history: HistoryRecord | None = None

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        """The manifest at ``path``; an empty one when there is none (nothing imported yet)."""
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:  # RecursionError: JSON nested without end
            raise ListDataError(f"{path}: unreadable list-store manifest: {exc}") from exc
        if not isinstance(raw, dict) or not isinstance(raw.get("lists"), dict):
            raise ListDataError(f"{path}: not a list-store manifest")
        if not isinstance(raw.get("version", 0), int) or raw.get("version", 0) > MANIFEST_VERSION:
            raise ListDataError(f"{path}: written by a newer chipgate (manifest version {raw.get('version')!r})")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ListDataError(f"{path}: {_problem(exc)}") from None

    def dump(self) -> bytes:
        """The manifest as stored: the fields each record was given, in order."""
        return (json.dumps(self.model_dump(mode="json", exclude_unset=True), indent=2, ensure_ascii=False)
                + "\n").encode("utf-8")


class HistoryLine(BaseModel):
    """One line of the store's history (``ListStore.history``): an entry version an import removed or
    changed, in force until ``on``.  Checked as each line is read, so that a history edited along with
    its digest is damage, reported with its line, not a crash of the check that opens the screener."""

    model_config = ConfigDict(extra="allow")

    key: StrictStr
    entry_id: StrictStr
    change: Literal["removed", "changed"]
    on: Annotated[str, AfterValidator(edition_date)]
    edition: Edition = None
    imported_at: StrictStr | None = None
    entry: ListEntry

    @classmethod
    def check(cls, path: Path, payload: bytes) -> list[dict]:
        """The records of the history file ``path`` holds (``payload``), each checked; ListDataError naming
        the first bad line otherwise."""
        records = []
        for number, line in enumerate(payload.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:  # pydantic's parser: nesting without end, or a lone surrogate, is a problem, not a crash
                record = cls.model_validate_json(line)
            except ValidationError as exc:
                error = exc.errors()[0]
                field = ".".join(map(str, error["loc"]))
                message = error["msg"].removeprefix("Value error, ")
                problem = (f"lacks {field}" if error["type"] == "missing" else
                           f"{field}: {message}" if field else f"not a history record: {message}")
                raise ListDataError(f"{path}: line {number}: {problem}") from None
            records.append(record.model_dump())
        return records


def is_store_file(name: object) -> bool:
    """A plain file name in the store itself, not a path elsewhere nor one of its hidden files (lock,
    staging, commit)."""
    return isinstance(name, str) and Path(name).name == name and not name.startswith(".")


def edition_label(edition: str | None, imported_at: str | None) -> str | None:
    """``2026-07-23``, or ``unknown (imported 2026-11-30)`` for a file that states no edition."""
    if edition:
        return edition
    return f"unknown (imported {imported_at[:10]})" if imported_at else None


def _problem(exc: ValidationError) -> str:
    """The first problem, as ``the record of ecfr:Entity List lacks content_sha256``."""
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    where = f"the record of {loc[1]}" if loc[0] == "lists" and len(loc) > 1 else "the manifest"
    field = ".".join(loc[2:] if loc[0] == "lists" else loc)
    if error["type"] == "missing":
        return f"{where} lacks {field}"
    message = error["msg"].removeprefix("Value error, ")
    if message == "names no file of the store":
        return f"{where} {message}"
    return f"{where}: {field}: {message} (found {error.get('input')!r})"
