"""ISO 3166-1 alpha-2 country codes: the only country identifiers chipgate accepts.

Plus XK, the user-assigned code for Kosovo, which the Commerce Country Chart lists and trade systems use.
"""
from __future__ import annotations

from functools import lru_cache

import pycountry

USER_ASSIGNED = frozenset({"XK"})


@lru_cache(maxsize=1)
def iso_alpha2() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries) | USER_ASSIGNED


def check_country(code: str) -> str:
    """Return ``code`` upper-cased if it is an ISO 3166-1 alpha-2 code, else raise ValueError."""
    if not isinstance(code, str):
        raise ValueError("a country must be an ISO 3166-1 alpha-2 code such as 'CN'")
    upper = code.strip().upper()
    if upper not in iso_alpha2():
        raise ValueError(f"unknown country code {code!r} (expected ISO 3166-1 alpha-2, e.g. 'CN', 'DE', 'MO')")
    return upper
