"""Cache files: written whole or not at all (the screening index beside the lists, a rule bundle in the user's
cache), sealed with their length and CRC-32 so that a damaged one is built again, and read with the garbage
collector paused."""
from __future__ import annotations

import gc
import os
import pickle
import tempfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Callable


def write_aside(path: Path, write: Callable[[Path], None]) -> bool:
    """``write`` a temporary file in ``path``'s folder, then rename it over ``path``: a reader sees the old
    file or the new one, never half of one.  False, and no temporary file left, when the folder cannot be
    written: a cache that cannot be kept is simply not kept."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as fh:
            temporary = Path(fh.name)
        try:
            write(temporary)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError:
        return False
    return True


def read_pickle(path: Path) -> object | None:
    """What the sealed pickle ``path`` holds, unpickled with the collector paused and then frozen (a cache
    read is kept for the process); None when there is none, it is damaged, or this code cannot read it (a
    cache written by other code): the caller builds it again."""
    try:
        payload = unseal(path.read_bytes())
    except OSError:
        return None
    if payload is None:
        return None
    try:
        with gc_paused(freeze=True):
            return pickle.loads(payload)
    except Exception:  # noqa: BLE001 - whatever a foreign pickle raises, it is built again
        return None


def write_pickle(path: Path, value: object) -> bool:
    """``value`` pickled and sealed into ``path``, whole or not at all (``write_aside``); False when it cannot be
    written."""
    sealed = seal(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    return write_aside(path, lambda target: target.write_bytes(sealed))


def seal(payload: bytes) -> bytes:
    """``payload`` behind a first line that holds its length and CRC-32 (``unseal`` checks them)."""
    return b"%d %08x\n" % (len(payload), zlib.crc32(payload)) + payload


def unseal(data: bytes) -> memoryview | None:
    """The payload ``seal`` wrote (a view of ``data``, not a copy of its megabytes), or None if ``data`` is not
    one whole and unaltered: a truncated file, a changed byte (damage, not a forger: the caches are trusted as
    the user's own files are)."""
    end = data.find(b"\n")
    payload = memoryview(data)[end + 1:]
    return payload if end >= 0 and data[:end] == b"%d %08x" % (len(payload), zlib.crc32(payload)) else None


@contextmanager
def gc_paused(freeze: bool = False):
    """Building or reading an index or a bundle allocates 10^4-10^6 acyclic objects; collector passes over them
    double the time it takes.

    ``freeze``: what is made inside lives as long as the process (a loaded index): it is moved out of
    the collector's reach (``gc.freeze``) before the collector resumes, which would otherwise walk
    all of it at its next pass, and again at every full one."""
    was_enabled = gc.isenabled()
    if freeze:
        gc.collect()  # nothing already dead is frozen with it
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()
