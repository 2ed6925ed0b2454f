"""A long-running process reloads its screener: the old one, and everything it cached, must go."""
from __future__ import annotations

import csv
import gc
import gzip
import io
import tracemalloc
import weakref

import pytest
from conftest import CSL_FILE

from controls.lists.store import ListStore
from controls.screening.parties import SCREEN_CACHE_SIZE, PartyScreener


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    """The first 300 entries of the real Consolidated Screening List: a screener that builds fast."""
    with gzip.open(CSL_FILE, "rt", encoding="utf-8", newline="") as f:
        rows = list(zip(range(301), csv.reader(f)))
    out = io.StringIO()
    csv.writer(out).writerows(row for _, row in rows)
    path = tmp_path_factory.mktemp("small")
    (path / "consolidated.csv").write_text(out.getvalue(), encoding="utf-8")
    store = path / "store"
    ListStore(store).import_file(path / "consolidated.csv")
    return store


def _used(screener: PartyScreener) -> None:
    for i in range(200):
        screener.screen_name(f"Example Trading {i} Co., Ltd.", "CN")


def test_reloading_twenty_times_keeps_memory_flat(small_store):
    gone: list[weakref.ref] = []
    tracemalloc.start()
    try:
        for i in range(20):
            screener = PartyScreener(ListStore(small_store))
            _used(screener)
            gone.append(weakref.ref(screener))
            del screener
            gc.collect()
            if i == 1:
                baseline = tracemalloc.get_traced_memory()[0]
        grown = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    assert all(ref() is None for ref in gone[:-1])  # no cache keeps an old screener alive
    assert grown < 1_000_000, f"memory grew by {grown:,} bytes over 18 reloads"


def test_the_screening_cache_is_bounded(small_store):
    screener = PartyScreener(ListStore(small_store))
    for i in range(SCREEN_CACHE_SIZE + 10):
        screener.screen_name(f"N{i}")
    assert screener._screen_cached.cache_info().currsize == SCREEN_CACHE_SIZE
