"""List files built to hurt the importer (review 2, items 9 and 10): they are refused with exit 2 naming
the file and the limit or line, within bounded memory and time, and nothing is written.

- sizes: a gzipped file is read up to MAX_GZIP_BYTES, a text (plain, or once gunzipped) up to
  MAX_TEXT_BYTES; gunzipping stops there, and the format is told from the first bytes alone;
- devices and pipes (/dev/zero, a FIFO) are refused before they are opened;
- CSV syntax errors (a field over the csv module's limit, a quote closed wrongly or never) name the
  line where the row starts.
"""
from __future__ import annotations

import gzip
import os
import threading
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from controls.errors import ListDataError
from controls.lists import ListStore, _common, detect_format
from controls.lists.csl import MAX_FIELD_CHARS, REQUIRED_COLUMNS

from .conftest import DPL, FSE, csl_subset, snapshot


@pytest.fixture
def small_csv(tmp_path, csl_file) -> Path:
    return csl_subset(csl_file, tmp_path / "dpl_fse.csv", DPL, FSE)


def gzip_bomb(target: Path, head: bytes, size: int) -> Path:
    """``head`` and then zeros, ``size`` bytes in all, gzipped (some 1 KiB a MiB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(head)]
    zeros, left = bytes(1 << 20), size - len(head)
    while left > 0:
        parts.append(packer.compress(zeros[:min(left, len(zeros))]))
        left -= len(zeros)
    target.write_bytes(b"".join(parts) + packer.flush())
    return target


def refused(store: ListStore, path: Path, match: str) -> None:
    before = snapshot(store.path) if store.path.exists() else None
    with pytest.raises(ListDataError, match=match):
        store.import_file(path)
    assert (snapshot(store.path) if store.path.exists() else None) == before


# --------------------------------------------------------------------------- sizes

def test_the_caps_are_far_above_the_published_files(ecfr_file, csl_file):
    for path in (ecfr_file, csl_file):
        packed = path.stat().st_size
        text = len(gzip.decompress(path.read_bytes()))
        assert packed * 20 < _common.MAX_GZIP_BYTES and text * 10 < _common.MAX_TEXT_BYTES, (path, packed, text)


def test_a_plain_file_at_the_cap_is_read_and_one_byte_over_is_refused(small_csv, tmp_path, monkeypatch):
    monkeypatch.setattr(_common, "MAX_TEXT_BYTES", small_csv.stat().st_size)
    store = ListStore(tmp_path / "lists")
    assert store.import_file(small_csv).diff("csl:Denied Persons List").new_count == 462
    monkeypatch.setattr(_common, "MAX_TEXT_BYTES", small_csv.stat().st_size - 1)
    refused(store, small_csv, rf"dpl_fse.csv: list file larger than {small_csv.stat().st_size - 1} bytes, the limit")


def test_a_gzipped_file_is_capped_as_stored_and_once_gunzipped(small_csv, tmp_path, monkeypatch):
    packed = tmp_path / "dpl_fse.csv.gz"
    packed.write_bytes(gzip.compress(small_csv.read_bytes(), mtime=0))
    text_size, packed_size = small_csv.stat().st_size, packed.stat().st_size
    store = ListStore(tmp_path / "lists")
    monkeypatch.setattr(_common, "MAX_GZIP_BYTES", packed_size)
    monkeypatch.setattr(_common, "MAX_TEXT_BYTES", text_size)
    assert store.import_file(packed).diff("csl:Denied Persons List").new_count == 462
    monkeypatch.setattr(_common, "MAX_GZIP_BYTES", packed_size - 1)
    refused(store, packed, rf"dpl_fse.csv.gz: gzipped list file larger than {packed_size - 1} bytes, the limit")
    monkeypatch.setattr(_common, "MAX_GZIP_BYTES", packed_size)
    monkeypatch.setattr(_common, "MAX_TEXT_BYTES", text_size - 1)
    refused(store, packed, rf"dpl_fse.csv.gz: list file larger than {text_size - 1} bytes once gunzipped")


def test_a_gzip_bomb_is_refused_without_expanding_it(tmp_path, small_csv):
    """4 times the cap once gunzipped, 256 KiB as stored: read as a stream that stops at the cap."""
    header = small_csv.read_bytes().split(b"\n", 1)[0] + b"\n"
    bomb = gzip_bomb(tmp_path / "bomb.csv.gz", header, 4 * _common.MAX_TEXT_BYTES)
    assert bomb.stat().st_size < _common.MAX_GZIP_BYTES // 100
    tracemalloc.start()
    try:
        started = time.monotonic()
        assert detect_format(bomb) == "csl"  # from the first bytes: nothing more is gunzipped
        assert tracemalloc.get_traced_memory()[1] < 1 << 20
        refused(ListStore(tmp_path / "lists"), bomb, "bomb.csv.gz: list file larger than 64 MiB once gunzipped")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * _common.MAX_TEXT_BYTES and time.monotonic() - started < 60
    result = CliRunner().invoke(main, ["lists", "import", str(bomb), "-o", str(tmp_path / "lists")])
    assert result.exit_code == 2 and "64 MiB" in result.output and str(bomb) in result.output
    assert not (tmp_path / "lists").exists()


def test_endless_and_blocking_inputs_are_refused_before_reading(tmp_path):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    devices = [Path("/dev/zero")] if Path("/dev/zero").exists() else []
    outcome = {}
    # opening a FIFO with no writer blocks: run it aside so that a regression fails instead of hanging
    worker = threading.Thread(target=lambda: outcome.update(fifo=_refusal(tmp_path, fifo)), daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():
        with open(fifo, "wb"):  # let the blocked reader go
            pass
        pytest.fail("importing a FIFO blocked")
    assert "fifo.csv: not a regular file" in outcome["fifo"]
    for device in devices:
        assert f"{device}: not a regular file" in _refusal(tmp_path, device)


def _refusal(tmp_path: Path, path: Path) -> str:
    result = CliRunner().invoke(main, ["lists", "import", str(path), "-o", str(tmp_path / "lists")])
    assert result.exit_code == 2 and not (tmp_path / "lists").exists(), result.output
    return result.output


def test_a_file_growing_past_the_cap_is_read_no_further(tmp_path, small_csv):
    """A regular file that reads on and on (here: sparse, 65 MiB of zeros after a CSL header)."""
    sparse = tmp_path / "sparse.csv"
    with open(sparse, "wb") as fh:
        fh.write(small_csv.read_bytes().split(b"\n", 1)[0] + b"\n")
        fh.truncate(_common.MAX_TEXT_BYTES + 1)
    refused(ListStore(tmp_path / "lists"), sparse, "sparse.csv: list file larger than 64 MiB, the limit")


def test_a_gzip_of_several_members_is_read_whole_and_a_truncated_one_is_refused(small_csv, tmp_path):
    text = small_csv.read_bytes()
    middle = text.index(b"\n", len(text) // 2) + 1
    members = tmp_path / "members.csv.gz"
    members.write_bytes(gzip.compress(text[:middle]) + gzip.compress(text[middle:]))
    assert ListStore(tmp_path / "a").import_file(members).diff("csl:Denied Persons List").new_count == 462
    truncated = tmp_path / "truncated.csv.gz"
    truncated.write_bytes(gzip.compress(text)[:-100])
    refused(ListStore(tmp_path / "b"), truncated, "truncated.csv.gz: corrupt gzip data")


# --------------------------------------------------------------------------- CSV syntax

def with_row(small_csv: Path, target: Path, at: int = 3, **cells: str) -> Path:
    """``small_csv`` with one more DPL row, its cells as given (quoted when they need it), after row ``at``
    (its lines are rows: the DPL and FSE rows hold no line break)."""
    lines = small_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    row = {"source": DPL, "name": "TEST PARTY", "addresses": "1 Main St, Springfield, US", **cells}
    cell = [row.get(column, "") for column in header]
    text = ",".join(c if c.startswith('"') or not any(ch in c for ch in ',"\n') else '"' + c.replace('"', '""') + '"'
                    for c in cell)
    target.write_text("".join(lines[:at + 1]) + text + "\n" + "".join(lines[at + 1:]), encoding="utf-8")
    return target


def test_a_field_at_the_csv_limit_is_read_and_one_over_is_exit_2_naming_the_line(small_csv, tmp_path):
    assert MAX_FIELD_CHARS == 131072 and set(REQUIRED_COLUMNS) < set(small_csv.read_text().split("\n")[0].split(","))
    at_limit = with_row(small_csv, tmp_path / "at.csv", remarks="x" * MAX_FIELD_CHARS)
    report = ListStore(tmp_path / "a").import_file(at_limit)
    assert report.diff("csl:Denied Persons List").new_count == 463
    over = with_row(small_csv, tmp_path / "over.csv", remarks="x" * (MAX_FIELD_CHARS + 1))
    result = CliRunner().invoke(main, ["lists", "import", str(over), "-o", str(tmp_path / "b")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"over.csv:5: malformed CSV: field larger than field limit ({MAX_FIELD_CHARS})" in result.output
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("cells, at, message", [
    ({"name": '"TEST" PARTY'}, 3, "',' expected after '\"'"),  # a quote closed before the cell ends
    ({"name": '"TEST PARTY'}, 3, "',' expected after '\"'"),  # a quote left open swallows rows up to the next quote
    ({"ids": '"12345'}, 465, "unexpected end of data"),  # ... or to the end of the file
])
def test_a_quote_closed_wrongly_or_never_is_exit_2_naming_the_line(small_csv, tmp_path, cells, at, message):
    assert len(small_csv.read_text(encoding="utf-8").splitlines()) == 466  # the header and 465 rows
    bad = with_row(small_csv, tmp_path / "quote.csv", at=at, **cells)
    store = ListStore(tmp_path / "lists")
    with pytest.raises(ListDataError, match=rf"quote.csv:{at + 2}: malformed CSV: {message}.*nothing was imported"):
        store.import_file(bad)
    assert not store.path.exists()


def test_a_well_quoted_field_with_quotes_commas_and_newlines_is_read(small_csv, tmp_path):
    good = with_row(small_csv, tmp_path / "good.csv", name='TEST "QUOTED", PARTY\nSECOND LINE')
    entries = ListStore(tmp_path / "lists")
    entries.import_file(good)
    names = {e.name for e in entries.load()["csl:Denied Persons List"]}
    assert 'TEST "QUOTED", PARTY\nSECOND LINE' in names


@pytest.mark.parametrize("source", ["\x00" + DPL, DPL + "\x1b", DPL.replace(" ", "\x85", 1)])
def test_a_list_name_with_a_control_character_is_exit_2_naming_the_line(small_csv, tmp_path, source):
    """Such a row went into a list of its own, named with the character, that no rule reads: its party was not
    screened as the Denied Persons List's, while the file's other rows imported as usual."""
    bad = with_row(small_csv, tmp_path / "control.csv", source=source)
    store = ListStore(tmp_path / "lists")
    with pytest.raises(ListDataError, match=r"control.csv:5: source .*: a control character in a list's name; "
                                            r"nothing was imported"):
        store.import_file(bad)
    assert not store.path.exists()
    assert ListStore(tmp_path / "good").import_file(with_row(small_csv, tmp_path / "good.csv", source=DPL))
