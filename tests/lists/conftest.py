"""Shared fixtures for the list importers: the real published files, parsed once per session.

The data directory is ``$CHIPGATE_SHARED_DATA`` or ``<repo>/../shared/data`` (see tests/conftest.py).
"""
from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from conftest import CSL_FILE, ECFR_FILE

from controls.lists import ListStore
from controls.lists.csl import parse_csl
from controls.lists.ecfr import parse_part744


@pytest.fixture(scope="session")
def ecfr_file() -> Path:
    return ECFR_FILE


@pytest.fixture(scope="session")
def csl_file() -> Path:
    return CSL_FILE


@pytest.fixture(scope="session")
def ecfr_lists(ecfr_file):
    return parse_part744(ecfr_file)


@pytest.fixture(scope="session")
def csl_lists(csl_file):
    return parse_csl(csl_file)


@pytest.fixture(scope="session")
def entity_list(ecfr_lists):
    return ecfr_lists["Entity List"]


@pytest.fixture(scope="session")
def imported_store(list_store) -> Path:
    """The session's store with both files imported; tests that change it work on ``store_copy``."""
    return list_store


@pytest.fixture
def store_copy(imported_store, tmp_path) -> ListStore:
    target = tmp_path / "lists"
    shutil.copytree(imported_store, target)
    return ListStore(target)


def find(entries, name: str, country: str | None = None):
    """The single entry with this primary name (and destination)."""
    hits = [e for e in entries if e.name == name and (country is None or e.country == country)]
    assert len(hits) == 1, f"{len(hits)} entries named {name!r}"
    return hits[0]


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file under a directory, by relative path."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def csl_subset(csl_file: Path, target: Path, *sources: str) -> Path:
    """Copy of the CSL with only the rows of the given source lists (header kept)."""
    lines = gzip.decompress(csl_file.read_bytes()).decode("utf-8").splitlines(keepends=True)
    kept = [line for line in lines[1:] if any(f",{source}," in line for source in sources)]
    target.write_text(lines[0] + "".join(kept), encoding="utf-8")
    return target


DPL = "Denied Persons List (DPL) - Bureau of Industry and Security"
FSE = "Foreign Sanctions Evaders (FSE) - Treasury Department"


@pytest.fixture
def small_store(tmp_path, csl_file) -> ListStore:
    """A store holding two small real CSL lists (DPL: 462 entries, FSE: 3), cheap to re-import."""
    store = ListStore(tmp_path / "small")
    store.import_file(csl_subset(csl_file, tmp_path / "dpl_fse.csv", DPL, FSE))
    return store
