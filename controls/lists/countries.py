"""Destination names as the lists print them -> ISO 3166-1 alpha-2 (the names: ``controls.countries.NAMES``).

The regulations print names ISO does not use ("CHINA, PEOPLE'S REPUBLIC OF", "BURMA", "CRIMEA
REGION OF UKRAINE"). Unknown names are an error, never a guess: a wrong destination would silently
change which rules apply.
"""
from __future__ import annotations

from ..countries import code_of
from ..errors import ListDataError


def iso2_or_none(printed: str) -> str | None:
    """Alpha-2 for a printed destination name or code, or None when it is not recognised."""
    return code_of(printed)


def iso2(printed: str, *, where: str = "") -> str:
    """Alpha-2 for a printed destination name; unknown names raise ListDataError naming them."""
    code = iso2_or_none(printed)
    if code is None:
        prefix = f"{where}: " if where else ""
        raise ListDataError(f"{prefix}unknown destination {printed!r}; add it to controls.countries.NAMES")
    return code
