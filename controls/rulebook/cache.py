"""A rule directory's compiled bundle, kept in the user's cache, so that a process starts without reading YAML.

Reading and checking the YAML of the shipped packs takes most of a ``chipgate check`` process's
start.  The cache holds what compiling the pack produced (``CompiledBundle``: the rule book, its
digest and the network), pickled, so that a process reads it back in a few hundredths of a
second: a bundle file (``chipgate rules build``) is JSON to check and validate again, which takes
some ten times longer.  The cache key is the digest of every file of the pack, of chipgate's own
code, and of the Python and pydantic that pickled it, so a changed rule file, or a changed
chipgate, is another key: a cached bundle is never read for rules or code other than those it was
built from.  Each file is sealed with its length and CRC-32 (``cachefile.seal``): a damaged one is
built again; a cache that cannot be written is simply not kept.  Like the screening index beside the lists,
the cache is trusted as the user's own files are (a pickle runs code when read).
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pydantic

from ..cachefile import read_pickle, write_pickle
from ..compiler import CompiledBundle, compile_rulebook
from .loader import UnreadableFile, load_rulebook, pack_files, read_rule_file

CODE = Path(__file__).resolve().parent.parent  # the controls package


def cache_dir() -> Path:
    """``$CHIPGATE_CACHE``, else ``$XDG_CACHE_HOME/chipgate``, else ``~/.cache/chipgate``."""
    if os.environ.get("CHIPGATE_CACHE"):
        return Path(os.environ["CHIPGATE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "chipgate"


def compile_directory(root: Path) -> CompiledBundle:
    """The compiled rules of the directory ``root``: from the cached bundle of exactly these files and
    this code when there is one, else loaded from the YAML (any error raised as always) and cached."""
    root = Path(root)
    try:
        path = cache_dir() / "bundles" / f"{_key(root)}.pickle"
    except UnreadableFile:
        return compile_rulebook(load_rulebook(root))  # which reports the file, with every other problem
    compiled = read_pickle(path)
    if isinstance(compiled, CompiledBundle):
        return compiled  # its book's root is ``root``: the key holds it
    compiled = compile_rulebook(load_rulebook(root))
    compiled.book.digest  # noqa: B018 - computed once, kept with the book in the cache
    _keep(compiled, path)
    return compiled


def _key(root: Path) -> str:
    """The pack's files and chipgate's code, and the directory as given (the rules name their files by it)."""
    digest = hashlib.sha256(f"{root}\0{sys.version}\0{pydantic.VERSION}\0".encode())
    for base, files in ((root, pack_files(root)), (CODE, sorted(CODE.rglob("*.py")))):
        for file in files:
            digest.update(file.relative_to(base).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(read_rule_file(file) if base is root else file.read_bytes()).digest())
    return digest.hexdigest()[:40]


def _keep(compiled: CompiledBundle, path: Path, kept: int = 16) -> None:
    """Write ``path`` whole or not at all; keep the ``kept`` newest bundles (of any format)."""
    if not write_pickle(path, compiled):
        return  # a cache we cannot write is not kept
    try:
        bundles = sorted(path.parent.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in bundles[kept:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
