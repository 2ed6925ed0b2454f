"""The list store's manifest is read into typed records: a record with a field missing or of the wrong
type is an InputError (ListDataError) naming the file and the field, wherever the store is read."""
import json

import pytest

from controls.errors import InputError, ListDataError
from controls.lists.manifest import Manifest
from controls.lists.store import MANIFEST, ListStore
from controls.screening.orders import open_lists

RECORD = {"list": "Denied Persons List", "source_format": "csl", "file": "csl-denied-persons-list.jsonl",
          "source_file": "csl.csv", "edition": None, "source_sha256": "ab", "entries": 2,
          "content_sha256": "cd", "imported_at": "2026-11-30T10:00:00+00:00", "footnotes": {"4": "text"}}
KEY = "csl:Denied Persons List"


def stored(tmp_path, **changes) -> ListStore:
    """A store whose manifest holds one record, changed by ``changes`` (None: the field removed)."""
    record = {k: v for k, v in {**RECORD, **changes}.items() if v is not None or k not in changes}
    (tmp_path / MANIFEST).write_text(json.dumps({"version": 1, "lists": {KEY: record}}), encoding="utf-8")
    return ListStore(tmp_path)


def test_a_manifest_reads_into_typed_records(tmp_path):
    record = stored(tmp_path).manifest().lists[KEY]
    assert (record.entries, record.file, record.footnotes) == (2, "csl-denied-persons-list.jsonl", {4: "text"})
    assert record.baseline_or_self().entries == 2 and record.edition_label() == "unknown (imported 2026-11-30)"


def test_what_is_read_is_written_back_unchanged(tmp_path):
    stored(tmp_path)
    manifest = Manifest.read(tmp_path / MANIFEST)
    assert json.loads(manifest.dump()) == {"version": 1, "lists": {KEY: RECORD}}


@pytest.mark.parametrize("changes, message", [
    ({"entries": None}, f"the record of {KEY} lacks entries"),
    ({"content_sha256": None}, f"the record of {KEY} lacks content_sha256"),
    ({"entries": "two"}, f"the record of {KEY}: entries: Input should be a valid integer"),
    ({"entries": "2"}, f"the record of {KEY}: entries: Input should be a valid integer"),
    ({"file": 7}, f"the record of {KEY}: file: Input should be a valid string"),
    ({"file": "../outside.jsonl"}, f"the record of {KEY} names no file of the store"),
    ({"footnotes": ["text"]}, f"the record of {KEY}: footnotes: Input should be a valid dictionary"),
    # screening reads the edition as a date (review 2, item 12: these crashed every check)
    ({"edition": "2026-13-45"}, f"the record of {KEY}: edition: is not a date written YYYY-MM-DD"),
    ({"edition": "yesterday"}, f"the record of {KEY}: edition: is not a date written YYYY-MM-DD"),
    ({"edition": "20261101"}, f"the record of {KEY}: edition: is not a date written YYYY-MM-DD"),
    ({"edition": "2026-02-29"}, f"the record of {KEY}: edition: is not a date written YYYY-MM-DD"),
    ({"edition": 20261101}, f"the record of {KEY}: edition: Input should be a valid string"),
    ({"baseline": {"entries": 2, "edition": "2026-1-5"}},
     f"the record of {KEY}: baseline.edition: is not a date written YYYY-MM-DD"),
])
def test_a_missing_or_wrong_typed_field_names_the_file_and_the_field(tmp_path, changes, message):
    store = stored(tmp_path, **changes)
    with pytest.raises(InputError) as info:
        store.manifest()
    assert isinstance(info.value, ListDataError)
    assert str(info.value).startswith(f"{tmp_path / MANIFEST}: {message}"), str(info.value)
    screener, why = open_lists(tmp_path)  # an engine screens no party against it, and says why
    assert screener is None and message in why


@pytest.mark.parametrize("edition", ["2026-11-01", "2028-02-29", "1999-12-31", None])
def test_an_edition_written_yyyy_mm_dd_is_read(tmp_path, edition):
    record = stored(tmp_path, edition=edition, baseline={"entries": 2, "edition": edition}).manifest().lists[KEY]
    assert record.edition == edition and record.baseline.edition == edition


def test_a_wrong_typed_history_record_names_the_field(tmp_path):
    (tmp_path / MANIFEST).write_text(json.dumps({"version": 1, "lists": {}, "history": {"file": "h"}}))
    with pytest.raises(ListDataError, match="the manifest lacks history.sha256"):
        ListStore(tmp_path).manifest()


def test_a_manifest_nested_without_end_is_unreadable_not_a_crash(tmp_path):
    (tmp_path / MANIFEST).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ListDataError, match="unreadable list-store manifest"):
        ListStore(tmp_path).manifest()
