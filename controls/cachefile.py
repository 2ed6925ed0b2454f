"""Write a cache file whole or not at all: the screening index beside the lists, a rule bundle in the user's cache."""
from __future__ import annotations

import os
import tempfile
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
