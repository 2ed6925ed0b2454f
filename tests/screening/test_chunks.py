"""Chunked: a sequence pickled in chunks, each read back when one of its items is first read."""
from __future__ import annotations

import pickle
import threading

import pytest

from controls.screening.chunks import Chunked, ChunkedMap


def test_it_is_the_sequence_it_was_made_from_before_and_after_pickling():
    items = [(i, f"name {i}") for i in range(1000)]
    made = Chunked(items, size=64)
    read = pickle.loads(pickle.dumps(made))
    for chunked in (made, read):
        assert len(chunked) == 1000 and list(chunked) == items
        assert chunked[0] == items[0] and chunked[999] == items[999] and chunked[-1] == items[-1]
        assert chunked[63:66] == tuple(items[63:66])
        with pytest.raises(IndexError):
            chunked[1000]
    assert list(Chunked([])) == [] and len(pickle.loads(pickle.dumps(Chunked([])))) == 0


def test_read_back_it_unpickles_only_the_chunks_read(monkeypatch):
    read = pickle.loads(pickle.dumps(Chunked(range(1000), size=100)))
    loads = []
    real = pickle.loads
    monkeypatch.setattr(pickle, "loads", lambda data: loads.append(data) or real(data))
    assert read[250] == 250 and read[299] == 299 and read[-1] == 999
    assert len(loads) == 2  # the chunks of 200-299 and 900-999
    again = pickle.loads(pickle.dumps(read))  # pickled again: chunks never read are copied as they are
    assert list(again) == list(range(1000))


def test_threads_reading_one_chunk_get_the_same_items():
    read = pickle.loads(pickle.dumps(Chunked([object() for _ in range(10)], size=10)))
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(read[3])) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(item) for item in seen}) == 1


def test_a_chunked_map_is_the_dict_it_was_made_from_and_reads_one_bucket_a_look_up(monkeypatch):
    items = {f"word {i}": {i} for i in range(500)} | {("two", "words"): [1, 2], "": {0}}
    made = ChunkedMap(items, buckets=16)
    read = pickle.loads(pickle.dumps(made))
    loads = []
    real = pickle.loads
    monkeypatch.setattr(pickle, "loads", lambda data: loads.append(data) or real(data))
    assert read.get("word 7") == {7} and read[("two", "words")] == [1, 2] and read.get("absent", ()) == ()
    assert len(loads) <= 3 and "word 8" in read and "word 500" not in read
    for chunked in (made, read):
        assert len(chunked) == len(items) and dict(chunked) == items
        with pytest.raises(KeyError):
            chunked["absent"]


def test_with_a_prefix_keys_that_begin_alike_share_a_bucket(monkeypatch):
    words = [f"{letter}{rest}" for letter in "abc" for rest in ("x", "yy", "zzz", "")]
    read = pickle.loads(pickle.dumps(ChunkedMap({w: i for i, w in enumerate(words)}, buckets=32, prefix=1)))
    loads = []
    real = pickle.loads
    monkeypatch.setattr(pickle, "loads", lambda data: loads.append(data) or real(data))
    assert [read.get(w) for w in ("ax", "ayy", "azzz", "a", "aq")] == [0, 1, 2, 3, None] and len(loads) == 1


def test_found_gives_the_values_of_the_keys_held_in_their_order():
    words = [f"{letter}{rest}" for letter in "abc" for rest in ("x", "yy", "zzz", "")]
    asked = ["czzz", "aq", "ax", "b", "ax", "zz", ""]
    for prefix in (1, None):
        made = ChunkedMap({w: i for i, w in enumerate(words)}, buckets=32, prefix=prefix)
        for chunked in (made, pickle.loads(pickle.dumps(made))):
            assert list(chunked.found(asked)) == [chunked[w] for w in asked if w in chunked] == [10, 0, 7, 0]


def test_opening_the_lists_for_a_service_or_a_batch_reads_the_whole_index(list_store, tmp_path, monkeypatch):
    """``Engine.open_lists`` (a service before it answers, a batch before it forks) leaves no part of the
    screening index to be read later: forked workers share it, and no request waits for a part."""
    import shutil

    from controls import Engine
    from controls.screening import parties
    from controls.screening.chunks import _Parts

    store = tmp_path / "lists"
    shutil.copytree(list_store, store)  # its own index cache, read back from disk (parts still pickled)
    Engine.load(lists=store).open_lists()  # builds and caches the index
    monkeypatch.setattr(parties, "_HELD", {})  # not the index this process holds: the one on disk
    engine = Engine.load(lists=store)
    screener = engine._screening.screener  # opened from the cache: parts are read as queries need them
    holders = (screener, screener._screener, screener._screener.index)
    tables = [v for holder in holders for v in vars(holder).values() if isinstance(v, _Parts)]
    assert len(tables) >= 8 and any(part is None for table in tables for part in table._parts)
    engine.open_lists()
    assert all(part is not None for table in tables for part in table._parts)
