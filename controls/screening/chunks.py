"""A long sequence of which a check reads a few items: pickled in chunks, each read back when first used.

The screening index is read from its cache at every process start.  Most of what it holds is read
only for the few names a query matches (the list entries, the spellings behind a token key);
unpickling all of it costs most of a ``chipgate check`` process's start.  Kept as chunks of
pickled bytes, it costs a bytes copy per chunk to load, and an item costs one chunk's unpickling
the first time it is read.
"""
from __future__ import annotations

import pickle
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

CHUNK = 128  # items unpickled together: a match reads one chunk of ~50 kB of list entries


class Chunked(Sequence[T]):
    """An immutable sequence, pickled as separately pickled chunks; read back, each chunk is unpickled
    when one of its items is first read (once, whichever thread asks first)."""

    def __init__(self, items: Iterable[T], size: int = CHUNK):
        items = tuple(items)
        self._size, self._len = size, len(items)
        self._chunks: list[tuple | None] = [items[i:i + size] for i in range(0, len(items), size)]
        self._pickled: list[bytes] | None = None
        self._lock = threading.Lock()

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
        chunk = self._chunks[c]
        if chunk is None:
            chunk = self._unpickled(c)
        return chunk[at]

    def __iter__(self) -> Iterator[T]:
        for c in range(len(self._chunks)):
            yield from self._chunks[c] if self._chunks[c] is not None else self._unpickled(c)

    def _unpickled(self, c: int) -> tuple:
        with self._lock:
            if self._chunks[c] is None:
                self._chunks[c] = pickle.loads(self._pickled[c])
            return self._chunks[c]

    def __getstate__(self) -> dict:
        pickled = [chunk_bytes if chunk is None else pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
                   for chunk, chunk_bytes in zip(self._chunks, self._pickled or [None] * len(self._chunks))]
        return {"size": self._size, "len": self._len, "pickled": pickled}

    def __setstate__(self, state: dict) -> None:
        self._size, self._len, self._pickled = state["size"], state["len"], state["pickled"]
        self._chunks = [None] * len(self._pickled)
        self._lock = threading.Lock()
