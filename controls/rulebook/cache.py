"""A rule directory's bundle, kept in the user's cache, so that a process starts without reading YAML.

Reading and checking the YAML of the shipped packs takes most of a ``chipgate check`` process's
start; the bundle of the same pack (``chipgate rules build``) loads in a fraction of it.  The
cache key is the digest of every file of the pack and of chipgate's own code, so a changed rule
file, or a changed chipgate, is another key: a bundle is never read for rules or code other than
those it was built from.  A damaged or altered bundle is refused by ``bundle.read`` and built
again; a cache that cannot be written is simply not kept.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

from ..cachefile import write_aside
from ..compiler import CompiledBundle, compile_rulebook
from ..errors import InputError
from . import bundle
from .loader import load_rulebook, pack_files

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
    path = cache_dir() / "bundles" / f"{_key(root)}.json"
    if path.is_file():
        try:
            compiled = bundle.load(path)
            return dataclasses.replace(compiled, book=dataclasses.replace(compiled.book, root=root))
        except InputError:
            pass  # damaged or altered: built again below
    book = load_rulebook(root)
    compiled = compile_rulebook(book)
    _keep(lambda target: bundle.write(book, compiled.network, target), path)
    return compiled


def _key(root: Path) -> str:
    """The pack's files and chipgate's code, and the directory as given (the rules name their files by it)."""
    digest = hashlib.sha256(str(root).encode() + b"\0")
    for base, files in ((root, pack_files(root)), (CODE, sorted(CODE.rglob("*.py")))):
        for file in files:
            digest.update(file.relative_to(base).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()[:40]


def _keep(writer, path: Path, kept: int = 16) -> None:
    """Write ``path`` whole or not at all; keep the ``kept`` newest bundles."""
    if not write_aside(path, writer):
        return  # a cache we cannot write is not kept
    try:
        bundles = sorted(path.parent.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in bundles[kept:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
