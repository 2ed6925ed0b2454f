"""Destination names as the lists print them -> ISO 3166-1 alpha-2.

The regulations print names ISO does not use ("CHINA, PEOPLE'S REPUBLIC OF", "BURMA", "CRIMEA
REGION OF UKRAINE"), so a short override table is consulted before pycountry. Unknown names are
an error, never a guess: a wrong destination would silently change which rules apply.
"""
from __future__ import annotations

import re

import pycountry

from ..errors import ListDataError

#: Printed name (upper case, single spaces) -> alpha-2, for names pycountry does not resolve
#: exactly or resolves differently from the regulation's meaning.
OVERRIDES: dict[str, str] = {
    "CHINA, PEOPLE'S REPUBLIC OF": "CN",
    "CHINA": "CN",
    "PEOPLE'S REPUBLIC OF CHINA": "CN",
    "HONG KONG": "HK",
    "MACAU": "MO",
    "MACAO": "MO",
    "TAIWAN": "TW",
    "RUSSIA": "RU",
    "TURKEY": "TR",
    "TÜRKIYE": "TR",
    "TURKIYE": "TR",
    "IRAN": "IR",
    "SYRIA": "SY",
    "KOREA, NORTH": "KP",
    "NORTH KOREA": "KP",
    "KOREA, SOUTH": "KR",
    "SOUTH KOREA": "KR",
    "BURMA": "MM",
    "LAOS": "LA",
    "VIETNAM": "VN",
    "BOLIVIA": "BO",
    "VENEZUELA": "VE",
    "MOLDOVA": "MD",
    "TANZANIA": "TZ",
    "CZECH REPUBLIC": "CZ",
    "UNITED KINGDOM": "GB",
    "UAE": "AE",
    "U.A.E.": "AE",
    "KOSOVO": "XK",  # user-assigned code, used by OFAC and the CSL
    # Crimea has no alpha-2 of its own (ISO subdivision UA-43); the destination is Ukraine.
    "CRIMEA REGION OF UKRAINE": "UA",
    "CRIMEA": "UA",
    "GAZA STRIP": "PS",
    "WEST BANK": "PS",
}

#: Alpha-2 codes that are valid in list data although ISO 3166-1 does not assign them.
EXTRA_CODES = frozenset({"XK"})


def _key(printed: str) -> str:
    return re.sub(r"\s+", " ", printed.strip()).upper()


def iso2_or_none(printed: str) -> str | None:
    """Alpha-2 for a printed destination name or code, or None when it is not recognised."""
    key = _key(printed)
    if not key:
        return None
    if key in OVERRIDES:
        return OVERRIDES[key]
    if len(key) == 2:
        return key if key in EXTRA_CODES or pycountry.countries.get(alpha_2=key) else None
    try:
        return pycountry.countries.lookup(key).alpha_2
    except LookupError:
        return None


def iso2(printed: str, *, where: str = "") -> str:
    """Alpha-2 for a printed destination name; unknown names raise ListDataError naming them."""
    code = iso2_or_none(printed)
    if code is None:
        prefix = f"{where}: " if where else ""
        raise ListDataError(f"{prefix}unknown destination {printed!r}; add it to countries.OVERRIDES")
    return code
