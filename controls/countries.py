"""Countries: ISO 3166-1 alpha-2 codes, the only country identifiers chipgate accepts, and the names
lists and addresses print for them.  The one table of country codes and names: orders, rules, list
imports, screening and reports all read it here.

Plus XK, the user-assigned code for Kosovo, which the Commerce Country Chart lists and trade systems use.

The codes and their names come from pycountry, through ``controls/iso3166.py`` (generated from it by
``tools/iso_countries.py``): importing pycountry costs a ``chipgate check`` process some 40 ms, so it
is imported only to read a printed name that is not a code (list imports, address evidence).
"""
from __future__ import annotations

import re
from functools import lru_cache

from .iso3166 import NAMES as ISO_NAMES

# Codes ISO 3166-1 does not assign but the regulations and lists use, with their names.
USER_ASSIGNED: dict[str, str] = {"XK": "Kosovo"}

#: Printed name (upper case, single spaces) -> alpha-2, for names pycountry does not resolve
#: exactly or resolves differently from the regulation's meaning.
NAMES: dict[str, str] = {
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
    "U.A.E": "AE",
    "KOSOVO": "XK",  # user-assigned code, used by OFAC and the CSL
    # Crimea has no alpha-2 of its own (ISO subdivision UA-43); the destination is Ukraine.
    "CRIMEA REGION OF UKRAINE": "UA",
    "CRIMEA": "UA",
    "GAZA STRIP": "PS",
    "WEST BANK": "PS",
}

#: Names that only suggest a country: supporting evidence in an address ("Seoul, Korea"), never a
#: list entry's destination (the regulations say which Korea).
HINTS: dict[str, str] = {"KOREA": "KR", "PRC": "CN"}


@lru_cache(maxsize=1)
def iso_alpha2() -> frozenset[str]:
    return frozenset(ISO_NAMES) | USER_ASSIGNED.keys()


def check_country(code: str) -> str:
    """Return ``code`` upper-cased if it is an ISO 3166-1 alpha-2 code, else raise ValueError."""
    if not isinstance(code, str):
        raise ValueError("a country must be an ISO 3166-1 alpha-2 code such as 'CN'")
    upper = code.strip().upper()
    if upper not in iso_alpha2():
        raise ValueError(f"unknown country code {code!r} (expected ISO 3166-1 alpha-2, e.g. 'CN', 'DE', 'MO')")
    return upper


def code_of(printed: str, hints: bool = False) -> str | None:
    """Alpha-2 for a printed country name or code, or None when it is not recognised; ``hints``: also
    the names that only suggest a country (address evidence)."""
    key = re.sub(r"\s+", " ", printed.strip()).upper()
    if not key:
        return None
    if key in NAMES:
        return NAMES[key]
    if hints and key in HINTS:
        return HINTS[key]
    if len(key) == 2:
        return key if key in iso_alpha2() else None
    import pycountry

    try:
        return pycountry.countries.lookup(key).alpha_2
    except LookupError:
        return None


def name_of(code: str) -> str | None:
    """The country's common name (``China``, ``Kosovo``), or None for a code that names none."""
    if not isinstance(code, str):
        return None
    return USER_ASSIGNED.get(code) or ISO_NAMES.get(code)
