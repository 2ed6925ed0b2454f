"""Large tables of which a check reads a few items: pickled in parts, each read back when first used.

The screening index is read from its cache at every process start.  Much of what it holds is read
only for the few names a query matches (the list entries, the spellings behind a token key, the
keys spelled like the query); unpickling all of it costs most of a ``chipgate check`` process's
start.  Kept as parts of pickled bytes, a table costs a bytes copy per part to load, and an item
costs its part's unpickling the first time it is read.
"""
from __future__ import annotations

import pickle
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K")
T = TypeVar("T")

CHUNK = 128  # items of a sequence unpickled together: a match reads one chunk of ~50 kB of list entries
BUCKETS = 64  # parts of a mapping: a look-up unpickles one 64th of it


class _Parts:
    """Parts (tuples or dicts) kept as they are once made or read, pickled each on its own."""

    def __init__(self, parts: list):
        self._parts: list = parts
        self._pickled: list[bytes] | None = None
        self._lock = threading.Lock()

    def _part(self, i: int):
        part = self._parts[i]
        return part if part is not None else self._unpickled(i)

    def _unpickled(self, i: int):
        with self._lock:  # once, whichever thread asks first: every reader gets the same objects
            if self._parts[i] is None:
                self._parts[i] = pickle.loads(self._pickled[i])
                self._pickled[i] = None  # the part is kept read; its bytes are not needed again
            return self._parts[i]

    def _all(self) -> Iterator:
        return (self._part(i) for i in range(len(self._parts)))

    def read_all(self) -> None:
        """Unpickle every part now."""
        for _ in self._all():
            pass

    def __getstate__(self) -> dict:
        pickled = self._pickled or [None] * len(self._parts)  # a part never read is copied as it was
        state = dict(self.__dict__, _parts=None, _lock=None)
        state["_pickled"] = [data if part is None else pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL)
                             for part, data in zip(self._parts, pickled)]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._parts = [None] * len(self._pickled)
        self._lock = threading.Lock()


def read_all(*holders: object) -> None:
    """Unpickle now every part of the tables the ``holders`` keep as attributes: a process that serves
    for hours, or is about to fork workers, pays it once, before, and its workers share the result."""
    for holder in holders:
        for value in vars(holder).values():
            if isinstance(value, _Parts):
                value.read_all()


class Chunked(_Parts, Sequence[T]):
    """An immutable sequence, pickled in chunks of ``size`` items."""

    def __init__(self, items: Iterable[T], size: int = CHUNK):
        items = tuple(items)
        self._size, self._len = size, len(items)
        super().__init__([items[i:i + size] for i in range(0, len(items), size)])

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(self._len)))
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(i)
        c, at = divmod(i, self._size)
        return self._part(c)[at]

    def __iter__(self) -> Iterator[T]:
        for chunk in self._all():
            yield from chunk


class ChunkedMap(_Parts, Mapping[K, T]):
    """An immutable mapping of strings (or tuples of strings) to values, pickled in buckets by a hash of
    the key that is the same in every process (``hash()`` of a string is not).  ``prefix``: only the
    key's first ``prefix`` letters choose its bucket, so that the keys one query looks up together
    (the spellings of a word with a letter left out begin alike) share a few buckets."""

    def __init__(self, items: Mapping[K, T], buckets: int = BUCKETS, prefix: int | None = None):
        self._prefix = prefix
        parts: list[dict] = [{} for _ in range(buckets)]
        for key, value in items.items():
            parts[self._bucket(key, buckets)][key] = value
        self._len = len(items)
        super().__init__(parts)

    def _bucket(self, key, buckets: int) -> int:
        text = "\x1f".join(key) if isinstance(key, tuple) else key[:self._prefix]
        return zlib.crc32(text.encode("utf-8", "surrogatepass")) % buckets

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, key: K) -> T:
        return self._part(self._bucket(key, len(self._parts)))[key]

    def get(self, key: K, default=None):
        return self._part(self._bucket(key, len(self._parts))).get(key, default)

    def __contains__(self, key) -> bool:
        return key in self._part(self._bucket(key, len(self._parts)))

    def found(self, keys: Iterable[K]) -> Iterator[T]:
        """The values of those of ``keys`` it holds: many look-ups in one call, each bucket found once
        for all the keys that share their first ``prefix`` letters (the spellings of one word)."""
        parts: dict[str, dict] = {}
        for key in keys:
            start = key[:self._prefix]
            part = parts.get(start)
            if part is None:
                part = parts[start] = self._part(self._bucket(key, len(self._parts)))
            value = part.get(key)
            if value is not None:
                yield value

    def __iter__(self) -> Iterator[K]:
        for part in self._all():
            yield from part

