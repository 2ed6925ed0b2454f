"""Importer of ITA's Consolidated Screening List CSV (``consolidated.csv``).

The CSL bundles thirteen U.S. lists in one 29-column file. For the BIS lists the eCFR is the
authority (see :mod:`controls.lists.ecfr`); the CSL is our source for the Treasury and State
lists and a second, independently structured rendering of the BIS ones.
"""
from __future__ import annotations

import csv
import os
import re

from ..errors import ListDataError
from . import _common
from .countries import iso2_or_none
from .model import ListEntry

#: ``source`` column -> short list name. Unknown sources are imported under a derived name.
SOURCES = {
    "Specially Designated Nationals (SDN) - Treasury Department": "Specially Designated Nationals",
    "Entity List (EL) - Bureau of Industry and Security": "Entity List",
    "ITAR Debarred (DTC) - State Department": "ITAR Debarred",
    "Denied Persons List (DPL) - Bureau of Industry and Security": "Denied Persons List",
    "Sectoral Sanctions Identifications List (SSI) - Treasury Department": "Sectoral Sanctions Identifications",
    "Unverified List (UVL) - Bureau of Industry and Security": "Unverified List",
    "Nonproliferation Sanctions (ISN) - State Department": "Nonproliferation Sanctions",
    "Palestinian Legislative Council List (PLC) - Treasury Department": "Palestinian Legislative Council List",
    "Military End User (MEU) List - Bureau of Industry and Security": "Military End-User List",
    "Non-SDN Chinese Military-Industrial Complex Companies List (CMIC) - Treasury Department":
        "Non-SDN Chinese Military-Industrial Complex Companies",
    "Capta List (CAP) - Treasury Department": "Capta List",
    "Non-SDN Menu-Based Sanctions List (NS-MBS List) - Treasury Department": "Non-SDN Menu-Based Sanctions",
    "Foreign Sanctions Evaders (FSE) - Treasury Department": "Foreign Sanctions Evaders",
}

#: The csv module's limit on one field (its default, left alone: it is the process's, and the batch
#: reader's too). The largest field of the published CSL is 8,241 characters (an SDN's ``ids``), 16
#: times below it.
MAX_FIELD_CHARS = csv.field_size_limit()

REQUIRED_COLUMNS = ("source", "name", "addresses", "alt_names", "federal_register_notice", "start_date",
                    "license_requirement", "license_policy", "programs", "entity_number")

# Footnote markers flattened into the text: "(See §§734.9(g),3 746.8(a)(3) ...)" is footnote 3,
# "§§ 734.9(e) 1 and 744.11 of the EAR 2" footnotes 1 and 2.
_FOOTNOTE_AFTER_734_9 = re.compile(r"734\.9\([a-z]\)(?:\(\d\))?\s?,?\s?([1-5])(?![\d.(])")
_FOOTNOTE_AFTER_EAR = re.compile(r"\bof the EAR\s?([1-5])(?![\d.(])")


def parse_csl(path: str | os.PathLike[str]) -> dict[str, list[ListEntry]]:
    """Entries of every list in the file, keyed by short list name, in file order.

    The CSV is read strictly: a quote closed wrongly, a quote left open to the end of the file, a NUL
    or a field over the csv module's limit (:data:`MAX_FIELD_CHARS`) is a ListDataError naming the
    line where the row starts, never a row read some other way.
    """
    reader = csv.DictReader(_common.read_text(path), strict=True)
    start = 1
    try:
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ListDataError(f"{path}: not a Consolidated Screening List CSV (missing columns: {', '.join(missing)})")
        built: dict[str, list[tuple[ListEntry, str]]] = {}
        start = reader.line_num + 1
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise ListDataError(f"{path}:{start}: row does not have {len(reader.fieldnames or ())} columns")
            if _CONTROL.search(row["source"]):  # a damaged file: its rows would go to a list no rule reads
                raise ListDataError(f"{path}:{start}: source {row['source'][:120]!r}: a control character in a list's "
                                    "name; nothing was imported")
            list_name = list_name_for(row["source"])
            entry = _entry(list_name, row)
            built.setdefault(list_name, []).append((entry, row["addresses"]))
            start = reader.line_num + 1
    except csv.Error as exc:
        where = f" (read up to line {reader.line_num})" if reader.line_num > start else ""
        raise ListDataError(f"{path}:{start}: malformed CSV: {exc}{where}; nothing was imported") from None
    return {name: _with_ids(name, pairs) for name, pairs in built.items()}


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def list_name_for(source: str) -> str:
    """Short list name for a ``source`` value; unknown sources lose the agency suffix and the code."""
    source = source.strip()
    if source in SOURCES:
        return SOURCES[source]
    name = re.sub(r"\s+-\s+[^-]+$", "", source)
    return re.sub(r"\s*\([^)]*\)", "", name).strip() or source


def _entry(list_name: str, row: dict[str, str]) -> ListEntry:
    addresses = _split(row["addresses"])
    license_requirement = row["license_requirement"].strip()
    return ListEntry(
        list=list_name,
        entry_id=_source_id(list_name, row),
        name=row["name"].strip(),
        aliases=_common.dedupe(re.sub(r"^and\s+", "", a) for a in _split(row["alt_names"])),
        addresses=addresses,
        country=_country(addresses),
        license_requirement=license_requirement or None,
        license_review_policy=row["license_policy"].strip() or None,
        footnotes=footnotes_in(license_requirement),
        fr_citations=_common.parse_fr_citations(row["federal_register_notice"]),
        listed_on=_common.parse_iso_date(row["start_date"]),
        programs=_split(row["programs"]),
        text=_verbatim(row),
    )


def footnotes_in(text: str) -> tuple[int, ...]:
    """Entity List footnote numbers recovered from text where the markers were flattened."""
    found = {int(m.group(1)) for pattern in (_FOOTNOTE_AFTER_734_9, _FOOTNOTE_AFTER_EAR)
             for m in pattern.finditer(text)}
    return tuple(sorted(found))


def _split(value: str) -> tuple[str, ...]:
    """Multi-valued CSL fields are joined with ``"; "``."""
    return _common.dedupe(part.strip() for part in value.split("; "))


def _country(addresses: tuple[str, ...]) -> str | None:
    """Every CSL address ends with an alpha-2 code (``..., Beijing, CN``); the first known one wins."""
    for address in addresses:
        code = iso2_or_none(address.rsplit(",", 1)[-1])
        if code:
            return code
    return None


def _verbatim(row: dict[str, str]) -> str:
    """The row as ``column: value`` lines; ITA's ``_id`` is left out because it is a row hash."""
    return "\n".join(f"{column}: {value}" for column, value in row.items() if value and column != "_id")


def _source_id(list_name: str, row: dict[str, str]) -> str:
    """OFAC's ``entity_number`` is a stable id; the other lists get the name-based id."""
    number = row.get("entity_number", "").strip()
    code = _common.LIST_CODES.get(list_name) or _common.slug(list_name).upper()[:8]
    return f"{code}-{number}" if number else ""


def _with_ids(list_name: str, pairs: list[tuple[ListEntry, str]]) -> list[ListEntry]:
    candidates = [(entry.entry_id or _common.base_entry_id(list_name, entry.country, entry.name), addresses)
                  for entry, addresses in pairs]
    ids = _common.assign_unique_ids(candidates)
    return [entry.model_copy(update={"entry_id": entry_id}) for (entry, _), entry_id in zip(pairs, ids)]
