"""The screening index is built once per list-store content and matcher, and kept beside the store."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest
from conftest import ECFR_FILE
from lists.test_store import trimmed_ecfr

from controls.errors import ListDataError
from controls.lists import ListStore, parse_part744
from controls.screening import Screener, parties
from controls.screening.index import NameIndex
from controls.screening.parties import INDEX_DIR, PartyScreener


@pytest.fixture(autouse=True)
def from_disk(monkeypatch):
    """Each open reads the cache on disk (or builds), not the index the process already holds."""
    monkeypatch.setattr(parties, "HELD_INDEXES", 0)


@pytest.fixture
def store(list_store, tmp_path):
    shutil.copytree(list_store, tmp_path / "lists", ignore=shutil.ignore_patterns(INDEX_DIR))
    return ListStore(tmp_path / "lists")


def caches(store):
    folder = store.path / INDEX_DIR
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_index_is_built_once_and_read_back(store, monkeypatch):
    first = PartyScreener(store)
    [cache] = caches(store)
    assert cache.startswith(store.content_digest()[:32]) and cache.endswith(".pickle")
    monkeypatch.setattr(parties, "Screener", None)  # a second open must not build
    second = PartyScreener(store)
    name = "Huawei Technologies Co., Ltd."
    assert second.screen_name(name, "CN", day=dt.date(2026, 11, 28)) == first.screen_name(name, "CN",
                                                                                           day=dt.date(2026, 11, 28))


def test_a_new_edition_rebuilds_the_index_and_drops_the_old_one(store, tmp_path):
    PartyScreener(store)
    [old] = caches(store)
    trimmed = tmp_path / "part744.xml.gz"
    [removed] = trimmed_ecfr(ECFR_FILE, parse_part744(ECFR_FILE)["Entity List"], trimmed, 1)
    store.import_file(trimmed, edition=dt.date(2026, 8, 1))
    screener = PartyScreener(store)
    assert caches(store) != [old] and len(caches(store)) == 1
    assert not screener.screen_name(removed.name, removed.country, day=dt.date(2026, 9, 1)) or all(
        m.entry_id != removed.entry_id for m in screener.screen_name(removed.name, day=dt.date(2026, 9, 1)))


def test_a_damaged_cache_is_rebuilt_and_a_damaged_list_is_never_screened(store):
    PartyScreener(store)
    [cache] = caches(store)
    (store.path / INDEX_DIR / cache).write_bytes(b"not a pickle")
    assert PartyScreener(store).screen_name("Huawei Technologies Co., Ltd.")  # rebuilt
    listed = store.path / "ecfr-entity-list.jsonl"
    listed.write_bytes(listed.read_bytes().replace(b"Huawei", b"Hauwei"))
    with pytest.raises(ListDataError, match="does not match the manifest digest"):
        PartyScreener(store)  # the cached index is not read when a list file changed under it


def test_a_changed_byte_in_the_cached_index_is_seen_and_the_index_built_again(store, monkeypatch):
    """Parts of the index are unpickled only when a query reads them: damage anywhere in the file must show
    when it is read (its length and CRC-32), not in the middle of a check."""
    first = PartyScreener(store)
    [cache] = caches(store)
    path = store.path / INDEX_DIR / cache
    data = bytearray(path.read_bytes())
    data[len(data) * 3 // 4] ^= 0x01
    path.write_bytes(bytes(data))
    built = []
    real = parties.Screener
    monkeypatch.setattr(parties, "Screener", lambda entries: built.append(1) or real(entries))
    second = PartyScreener(store)
    name, day = "Huawei Technologies Co., Ltd.", dt.date(2026, 11, 28)
    assert built == [1] and second.screen_name(name, "CN", day=day) == first.screen_name(name, "CN", day=day)


def test_an_index_cached_in_another_format_is_built_again(store, monkeypatch):
    """What a built index holds changes with the code (NameIndex.FORMAT): a cache of another format is
    never read, even for the same lists and matcher."""
    PartyScreener(store)
    [old] = caches(store)
    monkeypatch.setattr(NameIndex, "FORMAT", NameIndex.FORMAT + 1)
    built = []
    monkeypatch.setattr(parties, "Screener", lambda entries: built.append(1) or Screener(entries))
    assert PartyScreener(store).screen_name("Huawei Technologies Co., Ltd.") and built
    [new] = caches(store)
    assert new != old and new.endswith(f"-i{NameIndex.FORMAT}.pickle")


def test_engines_on_one_store_and_content_share_its_index(store, tmp_path, monkeypatch):
    monkeypatch.setattr(parties, "HELD_INDEXES", 2)
    first, second = PartyScreener(store), PartyScreener(store)
    assert second._screener is first._screener
    trimmed = tmp_path / "part744.xml.gz"
    trimmed_ecfr(ECFR_FILE, parse_part744(ECFR_FILE)["Entity List"], trimmed, 1)
    store.import_file(trimmed, edition=dt.date(2026, 8, 1))
    assert PartyScreener(store)._screener is not first._screener
