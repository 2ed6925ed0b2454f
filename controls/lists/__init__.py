"""Restricted-party lists: importers of the official formats and a local list store.

``parse_part744`` reads the eCFR XML of 15 CFR part 744 (the authoritative Entity, Unverified
and MEU lists); ``parse_csl`` reads ITA's Consolidated Screening List CSV; ``ListStore`` keeps
imported lists in a directory, with diffs and refusals on every import.
"""
from __future__ import annotations

from .countries import iso2, iso2_or_none
from .csl import parse_csl
from .ecfr import edition_date, parse_part744
from .model import FrCitation, ListEntry
from .store import ImportReport, ListDiff, ListStore, detect_format

__all__ = [
    "FrCitation",
    "ImportReport",
    "ListDiff",
    "ListEntry",
    "ListStore",
    "detect_format",
    "edition_date",
    "iso2",
    "iso2_or_none",
    "parse_csl",
    "parse_part744",
]
