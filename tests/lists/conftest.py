"""Shared fixtures for the list importers: the real published files, parsed once per session.

The data directory is ``$CHIPGATE_SHARED_DATA`` or ``<repo>/../shared/data``.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from controls.lists import ListStore
from controls.lists import store as store_module

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("CHIPGATE_SHARED_DATA", REPO.parent / "shared" / "data"))
ECFR_FILE = DATA_DIR / "bis_entity_list" / "ecfr_title15_part744_2026-07-23.xml.gz"
CSL_FILE = DATA_DIR / "csl" / "consolidated_screening_list_2022-04_watchman.csv.gz"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared list data not found at {path}; set CHIPGATE_SHARED_DATA")
    return path


@pytest.fixture(scope="session")
def ecfr_file() -> Path:
    return _require(ECFR_FILE)


@pytest.fixture(scope="session")
def csl_file() -> Path:
    return _require(CSL_FILE)


def _parsed(source_format: str, path: Path):
    """``parse_part744``/``parse_csl`` through the store's content-keyed parse cache.

    The store fixture below imports the same files; going through the cache parses each once.
    """
    return store_module._parse(source_format, hashlib.sha256(path.read_bytes()).hexdigest(), path)


@pytest.fixture(scope="session")
def ecfr_lists(ecfr_file):
    return _parsed("ecfr", ecfr_file)


@pytest.fixture(scope="session")
def csl_lists(csl_file):
    return _parsed("csl", csl_file)


@pytest.fixture(scope="session")
def entity_list(ecfr_lists):
    return ecfr_lists["Entity List"]


@pytest.fixture(scope="session")
def imported_store(tmp_path_factory, ecfr_file, csl_file) -> Path:
    """A store with both files imported; tests that change it work on a copy (``store_copy``)."""
    path = tmp_path_factory.mktemp("store") / "lists"
    store = ListStore(path)
    store.import_file(ecfr_file)
    store.import_file(csl_file)
    return path


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
