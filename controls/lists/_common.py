"""Helpers shared by the list importers: opening files, entry ids, FR citations.

Kept private so the importers' public surface stays two functions.
"""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import os
import re
import stat
import unicodedata
import zlib
from collections.abc import Iterable

from ..errors import ListDataError
from .model import FrCitation

GZIP_MAGIC = b"\x1f\x8b"
MiB = 1 << 20
#: The largest gzipped list file read, as stored. The published files are 0.32 MiB (eCFR part 744,
#: 2026-07-23) and 1.32 MiB (CSL, 2022-04): some 24 times below it.
MAX_GZIP_BYTES = 32 * MiB
#: The largest list text read: a plain file as stored, or a gzipped one once gunzipped, which stops
#: there (a gzip bomb is never expanded further). The published texts are 2.4 MiB (eCFR) and
#: 5.6 MiB (CSL): 11 times below it. Importing takes some 15-20 bytes of memory per byte of text,
#: so a file at the cap needs about 1 GiB.
MAX_TEXT_BYTES = 64 * MiB
_CHUNK = MiB

#: Short codes used as entry-id prefixes; one per list name.
LIST_CODES = {
    "Entity List": "EL",
    "Unverified List": "UVL",
    "Military End-User List": "MEU",
    "Denied Persons List": "DPL",
    "Specially Designated Nationals": "SDN",
    "Sectoral Sanctions Identifications": "SSI",
    "Nonproliferation Sanctions": "ISN",
    "ITAR Debarred": "DTC",
    "Palestinian Legislative Council List": "PLC",
    "Non-SDN Chinese Military-Industrial Complex Companies": "CMIC",
    "Capta List": "CAP",
    "Non-SDN Menu-Based Sanctions": "MBS",
    "Foreign Sanctions Evaders": "FSE",
}


def read_raw(path: str | os.PathLike[str]) -> bytes:
    """The file as stored, at most :data:`MAX_GZIP_BYTES` gzipped or :data:`MAX_TEXT_BYTES` plain.

    Only a regular file is read: a device or a pipe (``/dev/zero``, ``<(...)``) could be endless or
    block, and is refused before it is opened. The size is counted as the file is read, not taken
    from the file system.
    """
    with _open(path) as fh:
        head = fh.read(2)
        limit = MAX_GZIP_BYTES if head == GZIP_MAGIC else MAX_TEXT_BYTES
        raw = bytearray(head)
        while len(raw) <= limit:
            chunk = _read(fh, min(_CHUNK, limit + 1 - len(raw)), path)
            if not chunk:
                return bytes(raw)
            raw += chunk
    what = "gzipped list file" if head == GZIP_MAGIC else "list file"
    raise ListDataError(f"{path}: {what} larger than {_size(limit)}, the limit (the published lists are far smaller); "
                        "nothing was imported")


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Whole text, gunzipped when the file starts with the gzip magic (the name is not trusted).

    Gunzipping is a stream that stops at :data:`MAX_TEXT_BYTES`: a small file that expands without
    end is refused, having cost that much memory at most.
    """
    raw = read_raw(path)
    if raw[:2] != GZIP_MAGIC:
        return raw
    text = bytearray()
    with _gunzipping(path, io.BytesIO(raw)) as stream:
        while len(text) <= MAX_TEXT_BYTES:
            chunk = _gunzip(stream, min(_CHUNK, MAX_TEXT_BYTES + 1 - len(text)), path)
            if not chunk:
                return bytes(text)
            text += chunk
    raise ListDataError(f"{path}: list file larger than {_size(MAX_TEXT_BYTES)} once gunzipped, the limit "
                        "(the published lists are far smaller); nothing was imported")


def read_head(path: str | os.PathLike[str], size: int = 4096) -> bytes:
    """The first ``size`` bytes of the text: only as much of a gzipped file is gunzipped."""
    with _open(path) as fh:
        head = _read(fh, 2, path)
        fh.seek(0)
        if head != GZIP_MAGIC:
            return _read(fh, size, path)
        with _gunzipping(path, fh) as stream:
            return _gunzip(stream, size, path)


def _open(path: str | os.PathLike[str]) -> io.BufferedReader:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ListDataError(f"{path}: not a regular file (a device, a pipe or a directory is no list file)")
        return open(path, "rb")
    except OSError as exc:
        raise ListDataError(f"{path}: cannot read list file: {exc.strerror or exc}") from exc


def _read(fh: io.BufferedReader, size: int, path: str | os.PathLike[str]) -> bytes:
    try:
        return fh.read(size)
    except OSError as exc:
        raise ListDataError(f"{path}: cannot read list file: {exc.strerror or exc}") from exc


def _gunzipping(path: str | os.PathLike[str], fileobj) -> gzip.GzipFile:
    return gzip.GzipFile(filename=os.fspath(path), mode="rb", fileobj=fileobj)


def _gunzip(stream: gzip.GzipFile, size: int, path: str | os.PathLike[str]) -> bytes:
    """At most ``size`` more bytes of gunzipped text (GzipFile inflates no more than it is asked for)."""
    try:
        return stream.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        raise ListDataError(f"{path}: corrupt gzip data: {exc or type(exc).__name__}") from exc


def _size(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit >= MiB and not limit % MiB else f"{limit} bytes"


def read_text(path: str | os.PathLike[str]) -> io.StringIO:
    """Whole file as UTF-8 text; the published lists are UTF-8 and anything else is an error."""
    try:
        return io.StringIO(read_bytes(path).decode("utf-8"), newline=None)
    except UnicodeDecodeError as exc:
        raise ListDataError(f"{path}: not UTF-8 text (byte {exc.start})") from exc


def slug(text: str) -> str:
    """ASCII, lower-case, dash-separated form of a name, so ids survive accents and punctuation."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = ascii_text.lower().replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def short_hash(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def base_entry_id(list_name: str, country: str | None, name: str) -> str:
    """``EL-CN-huawei-technologies-co-ltd``: list code, destination, normalized primary name.

    Long names are cut and suffixed with a hash of the full slug, so ids stay readable and unique.
    """
    code = LIST_CODES.get(list_name) or slug(list_name).upper()[:8]
    name_slug = slug(name) or "unnamed"
    if len(name_slug) > 60:
        name_slug = f"{name_slug[:53].rstrip('-')}-{short_hash(name_slug)}"
    return f"{code}-{country or 'XX'}-{name_slug}"


def assign_unique_ids(candidates: list[tuple[str, str]]) -> list[str]:
    """Make ``(base_id, tiebreak_text)`` pairs unique, deterministically.

    Duplicates of a base id get a hash of their tiebreak text (e.g. the first address), so
    the same entry keeps its id when another duplicate is added or removed; if even that collides,
    an ordinal in document order is appended.
    """
    counts: dict[str, int] = {}
    for base, _ in candidates:
        counts[base] = counts.get(base, 0) + 1
    ids: list[str] = []
    seen: set[str] = set()
    for base, tiebreak in candidates:
        entry_id = base if counts[base] == 1 else f"{base}-{short_hash(slug(tiebreak) or tiebreak)}"
        ordinal = 2
        unique = entry_id
        while unique in seen:
            unique = f"{entry_id}-{ordinal}"
            ordinal += 1
        seen.add(unique)
        ids.append(unique)
    return ids


_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}

# "84 FR 22963", "88 FR FR 12158" (typo kept by the source), "68 F.R. 38290", "80 FR  4779"
_FR_CITE = re.compile(r"(\d{1,3})\s*F\.?\s?R\.?\s+(?:F\.?R\.?\s+)?(\d[\d,]*\d|\d)")
# "Vol. 86, No. 71, 04/15/2021" (State's ISN notices)
_VOL_CITE = re.compile(r"Vol\.\s*(\d{1,3}),\s*No\.\s*(\d+)")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b")
_WORDY_DATE = re.compile(r"\b([A-Z][a-z]{2,8})\.?\s+(\d{1,2}),?\s*(\d{4})\b")


def fr_volume_year(volume: int) -> int:
    """Volume 1 of the Federal Register is 1936, so a citation's volume fixes its year."""
    return 1935 + volume


def _date_in(segment: str, volume_year: int | None) -> dt.date | None:
    numeric = _NUMERIC_DATE.search(segment)
    wordy = _WORDY_DATE.search(segment)
    try:
        if numeric and (not wordy or numeric.start() < wordy.start()):
            month, day, year_text = (int(numeric.group(1)), int(numeric.group(2)), numeric.group(3))
            year = int(year_text)
            if len(year_text) == 2:
                pivot = volume_year or 2000
                year = min((c + year for c in (1900, 2000, 2100)), key=lambda y: abs(y - pivot))
            return dt.date(year, month, day)
        if wordy:
            month_no = _MONTHS.get(wordy.group(1)[:3].lower())
            if month_no:
                return dt.date(int(wordy.group(3)), month_no, int(wordy.group(2)))
    except ValueError:
        return None
    return None


def parse_fr_citations(text: str) -> tuple[FrCitation, ...]:
    """Every ``<vol> FR <page>[, date]`` item in a citation cell, in printed order.

    The date of an item is the first date printed between it and the next item; two-digit years
    are resolved with the citation's volume (vol. 76 -> 2011).
    """
    matches = [(m.start(), m.end(), f"{m.group(1)} FR {m.group(2).replace(',', '')}", int(m.group(1)))
               for m in _FR_CITE.finditer(text)]
    matches += [(m.start(), m.end(), f"Vol. {m.group(1)}, No. {m.group(2)}", int(m.group(1)))
                for m in _VOL_CITE.finditer(text)]
    matches.sort()
    citations = []
    for index, (_, end, cite, volume) in enumerate(matches):
        stop = matches[index + 1][0] if index + 1 < len(matches) else len(text)
        citations.append(FrCitation(cite=cite, date=_date_in(text[end:stop], fr_volume_year(volume))))
    return tuple(citations)


def earliest(dates: Iterable[dt.date | None]) -> dt.date | None:
    known = [d for d in dates if d is not None]
    return min(known) if known else None


def parse_iso_date(text: str) -> dt.date | None:
    """``2022-04-07`` -> date; blanks and malformed values (``0017-05-26``) -> None."""
    text = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return value if value.year >= 1900 else None


def dedupe(items: Iterable[str]) -> tuple[str, ...]:
    """Drop empties and repeats, keeping first-seen order."""
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return tuple(seen)
