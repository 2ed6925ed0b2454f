"""The local list store: round trip, manifest, diffs, refusals and atomic writes, on real files."""
from __future__ import annotations

import gzip
import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from controls.errors import ListDataError
from controls.lists import ListStore, detect_format
from controls.lists import store as store_module
from controls.lists._common import base_entry_id

from .conftest import DPL, FSE, csl_subset, snapshot

EL = "ecfr:Entity List"


def trimmed_ecfr(ecfr_file: Path, entity_list, target: Path, count: int) -> list:
    """Copy of the eCFR file without ``count`` Entity List rows; returns the entries removed.

    Only rows whose removal changes nothing else are taken: not a destination's first row, not
    followed by a continuation row, and with an id no other entry shares.
    """
    root = ET.fromstring(gzip.decompress(ecfr_file.read_bytes()))
    supplement = next(d for d in root.iter("DIV9") if d.get("N") == "Supplement No. 4 to Part 744")
    body = supplement.find(".//TBODY")
    rows = body.findall("TR")

    def continuation(row) -> bool:
        return not any("".join(td.itertext()).strip() for td in row.findall("TD")[2:])

    heads = [i for i, row in enumerate(rows) if not continuation(row)]
    assert len(heads) == len(entity_list)
    eligible = [
        (i, entry) for i, entry in zip(heads, entity_list)
        if not "".join(rows[i].find("TD").itertext()).strip()
        and (i + 1 == len(rows) or not continuation(rows[i + 1]))
        and entry.entry_id == base_entry_id(entry.list, entry.country, entry.name)
    ]
    step = len(eligible) // count
    chosen = eligible[::step][:count]
    for i, _ in chosen:
        body.remove(rows[i])
    target.write_bytes(gzip.compress(ET.tostring(root, encoding="utf-8"), mtime=0))
    return [entry for _, entry in chosen]


# --------------------------------------------------------------------------- reading back

def test_round_trip(imported_store, ecfr_lists, csl_lists):
    loaded = ListStore(imported_store).load()
    assert len(loaded) == 3 + 13
    for source_format, lists in (("ecfr", ecfr_lists), ("csl", csl_lists)):
        for name, entries in lists.items():
            stored = loaded[f"{source_format}:{name}"]
            assert {e.entry_id: e for e in stored} == {e.entry_id: e for e in entries}


def test_manifest_records_provenance(imported_store, ecfr_file, csl_file):
    manifest = ListStore(imported_store).manifest()
    entity_list = manifest.lists[EL]
    assert entity_list.file == "ecfr-entity-list.jsonl"
    assert entity_list.source_file == ecfr_file.name
    assert entity_list.source_format == "ecfr"
    assert entity_list.edition is None
    assert entity_list.source_sha256 == hashlib.sha256(ecfr_file.read_bytes()).hexdigest()
    assert entity_list.entries == 3411
    stored = (imported_store / entity_list.file).read_bytes()
    assert entity_list.content_sha256 == hashlib.sha256(stored).hexdigest()
    assert entity_list.imported_at.endswith("+00:00")
    sdn = manifest.lists["csl:Specially Designated Nationals"]
    assert (sdn.entries, sdn.source_format, sdn.source_file) == (10026, "csl", csl_file.name)


def test_formats_coexist_and_screening_prefers_the_ecfr_for_bis_lists(imported_store):
    store = ListStore(imported_store)
    assert (imported_store / "ecfr-entity-list.jsonl").exists() and (imported_store / "csl-entity-list.jsonl").exists()
    keys = store.screening_keys()
    assert keys["Entity List"] == EL
    assert keys["Unverified List"] == "ecfr:Unverified List"
    assert keys["Military End-User List"] == "ecfr:Military End-User List"
    assert keys["Specially Designated Nationals"] == "csl:Specially Designated Nationals"
    assert len(keys) == 13
    lists = store.screening_lists()
    counts = (len(lists["Entity List"]), len(lists["Unverified List"]), len(lists["Denied Persons List"]))
    assert counts == (3411, 186, 462)


def test_reimport_of_the_same_file_changes_nothing(store_copy, ecfr_file):
    before = store_copy.manifest().lists[EL].content_sha256
    report = store_copy.import_file(ecfr_file)
    assert [d.key for d in report.diffs] == ["ecfr:Entity List", "ecfr:Military End-User List", "ecfr:Unverified List"]
    assert all(d.unchanged for d in report.diffs)
    assert "ecfr:Entity List: 3411 -> 3411 entries (unchanged)" in report.render()
    assert store_copy.manifest().lists[EL].content_sha256 == before
    assert store_copy.manifest().lists["csl:Entity List"].entries == 2001  # other format untouched


def test_bis_lists_fall_back_to_the_csl_without_an_ecfr_import(small_store, tmp_path, csl_file):
    small_store.import_file(csl_subset(csl_file, tmp_path / "el.csv", DPL, FSE,
                                       "Entity List (EL) - Bureau of Industry and Security"))
    assert small_store.screening_keys()["Entity List"] == "csl:Entity List"


def test_empty_or_missing_store_loads_nothing(tmp_path):
    store = ListStore(tmp_path / "never-created")
    assert store.load() == {}
    assert store.screening_lists() == {}
    assert store.manifest().lists == {}
    assert not (tmp_path / "never-created").exists()


def test_a_tampered_list_file_is_reported(small_store):
    path = small_store.path / "csl-denied-persons-list.jsonl"
    path.write_bytes(path.read_bytes().replace(b"ABDIEL", b"ABDIAL"))
    with pytest.raises(ListDataError, match="csl-denied-persons-list.jsonl"):
        small_store.load()


# --------------------------------------------------------------------------- diffs and refusals

def test_removed_rows_are_reported(store_copy, ecfr_file, entity_list, tmp_path):
    trimmed = tmp_path / "part744_trimmed.xml.gz"
    removed = trimmed_ecfr(ecfr_file, entity_list, trimmed, 20)
    report = store_copy.import_file(trimmed)
    diff = report.diff(EL)
    assert (diff.old_count, diff.new_count) == (3411, 3391)
    assert diff.removed == tuple(sorted((e.entry_id, e.name) for e in removed))
    assert diff.added == () and diff.changed == ()
    assert report.diff("ecfr:Unverified List").unchanged
    text = report.render(limit=None)
    assert all(f"removed {e.entry_id}  {e.name}" in text for e in removed)
    assert len(store_copy.load()[EL]) == 3391


def test_large_loss_is_refused_and_the_store_left_alone_unless_forced(store_copy, ecfr_file, entity_list, tmp_path):
    trimmed = tmp_path / "part744_trimmed.xml.gz"
    trimmed_ecfr(ecfr_file, entity_list, trimmed, 400)
    before = snapshot(store_copy.path)
    with pytest.raises(ListDataError) as refused:
        store_copy.import_file(trimmed)
    message = str(refused.value)
    assert "ecfr:Entity List" in message and "3411 -> 3011" in message and "refused" in message
    assert snapshot(store_copy.path) == before

    report = store_copy.import_file(trimmed, force=True)
    assert report.forced and len(report.diff(EL).removed) == 400
    assert store_copy.manifest().lists[EL].entries == 3011


def test_max_loss_is_configurable(small_store, tmp_path, csl_file):
    dpl_only = csl_subset(csl_file, tmp_path / "dpl.csv", DPL, FSE)
    lines = dpl_only.read_text(encoding="utf-8").splitlines(keepends=True)
    dpl_rows = [i for i, line in enumerate(lines) if DPL in line]
    fewer = tmp_path / "dpl_fewer.csv"
    fewer.write_text("".join(line for i, line in enumerate(lines) if i not in dpl_rows[:10]), encoding="utf-8")
    with pytest.raises(ListDataError, match="Denied Persons List"):
        small_store.import_file(fewer, max_loss=0.01)
    report = small_store.import_file(fewer)  # ~2 % lost: within the default 10 %
    assert report.diff("csl:Denied Persons List").new_count == 452


def test_dropping_a_list_is_refused_unless_forced(small_store, tmp_path, csl_file):
    dpl_only = csl_subset(csl_file, tmp_path / "dpl.csv", DPL)
    before = snapshot(small_store.path)
    with pytest.raises(ListDataError, match="Foreign Sanctions Evaders"):
        small_store.import_file(dpl_only)
    assert snapshot(small_store.path) == before
    report = small_store.import_file(dpl_only, force=True)
    assert report.diff("csl:Foreign Sanctions Evaders").dropped
    assert "csl:Foreign Sanctions Evaders: 3 -> 0 entries (DROPPED)" in report.render()
    assert set(small_store.load()) == {"csl:Denied Persons List"}
    assert not (small_store.path / "csl-foreign-sanctions-evaders.jsonl").exists()


# --------------------------------------------------------------------------- atomicity

def test_failure_before_the_commit_point_leaves_the_store_as_it_was(small_store, tmp_path, csl_file, monkeypatch):
    before = snapshot(small_store.path)

    def failing_replace(source, target):
        raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr(store_module, "_replace", failing_replace)
    bigger = csl_subset(csl_file, tmp_path / "more.csv", DPL, FSE, "ITAR Debarred (DTC) - State Department")
    with pytest.raises(ListDataError, match="simulated.*nothing was changed"):
        small_store.import_file(bigger)
    assert snapshot(small_store.path) == before  # no staging directory left behind either


def test_an_unreadable_file_changes_nothing(small_store, tmp_path):
    before = snapshot(small_store.path)
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<?xml version='1.0'?>\n<DIV5 N='744'><HEAD>PART 744</HEAD>")
    with pytest.raises(ListDataError, match="broken.xml"):
        small_store.import_file(broken)
    assert snapshot(small_store.path) == before


# --------------------------------------------------------------------------- formats

def test_detect_format(ecfr_file, csl_file, tmp_path):
    assert detect_format(ecfr_file) == "ecfr"
    assert detect_format(csl_file) == "csl"
    plain = tmp_path / "part744.xml"
    plain.write_bytes(gzip.decompress(ecfr_file.read_bytes())[:100_000])
    assert detect_format(plain) == "ecfr"
    readme = tmp_path / "README.md"
    readme.write_text("# not a list\n", encoding="utf-8")
    with pytest.raises(ListDataError, match="README.md"):
        detect_format(readme)


def test_jsonl_is_canonical(imported_store):
    lines = (imported_store / "ecfr-unverified-list.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["entry_id"] for r in records] == sorted(r["entry_id"] for r in records)
    assert all(line == json.dumps(r, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
               for line, r in zip(lines, records))


def test_public_names():
    import controls.lists

    assert controls.lists.__all__ == [
        "FrCitation", "ImportReport", "ListDiff", "ListEntry", "ListStore", "detect_format", "edition_date",
        "iso2", "iso2_or_none", "parse_csl", "parse_part744"]
