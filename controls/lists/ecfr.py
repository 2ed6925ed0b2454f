"""Importer of the eCFR XML of 15 CFR part 744: Entity, Unverified and MEU lists.

The eCFR is the text of the regulation, so these tables are the authoritative form of the three
BIS lists. Splitting an entry's cell into name, aliases and addresses is heuristic; every entry
keeps the verbatim cell in ``text``, which stays the authority.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ..errors import ListDataError
from . import _common
from .countries import iso2
from .model import ListEntry

ENTITY_LIST = "Entity List"
UNVERIFIED_LIST = "Unverified List"
MEU_LIST = "Military End-User List"

#: Supplement heading (the DIV9 ``N`` attribute) -> (list name, number of table columns).
SUPPLEMENTS = {
    "Supplement No. 4 to Part 744": (ENTITY_LIST, 5),
    "Supplement No. 6 to Part 744": (UNVERIFIED_LIST, 3),
    "Supplement No. 7 to Part 744": (MEU_LIST, 3),
}

PathLike = str | os.PathLike[str]


def parse_part744(path: PathLike) -> dict[str, list[ListEntry]]:
    """Entries of the Entity List (Supp. 4), Unverified List (Supp. 6) and MEU List (Supp. 7)."""
    root = _parse_xml(path)
    lists: dict[str, list[ListEntry]] = {}
    for div in root.iter("DIV9"):
        heading = div.get("N", "")
        if heading not in SUPPLEMENTS:
            continue
        list_name, columns = SUPPLEMENTS[heading]
        rows = _table_rows(div, columns, path, heading)
        lists[list_name] = _entries(list_name, rows, path)
    missing = [name for name, _ in SUPPLEMENTS.values() if name not in lists]
    if missing:
        raise ListDataError(f"{path}: no table for {', '.join(missing)} (is this 15 CFR part 744?)")
    return lists


def footnotes(path: PathLike) -> dict[int, str]:
    """The Entity List's footnotes as the regulation words them (``<TFOOT>`` of Supp. No. 4).

    They say what a footnote marker on an entry triggers (e.g. 1: the § 734.9(e)(1) FDP rule and
    § 744.11(a)(2)(i)); findings quote them instead of a paraphrase.
    """
    root = _parse_xml(path)
    for div in root.iter("DIV9"):
        if SUPPLEMENTS.get(div.get("N", ""), (None,))[0] == ENTITY_LIST:
            found = {}
            for td in div.findall(".//TABLE/TFOOT/TR/TD"):
                sup = td.find("sup")
                text = " ".join("".join(td.itertext()).split())
                if sup is not None and (sup.text or "").strip().isdigit():
                    number = int(sup.text.strip())
                    found[number] = text[len(sup.text.strip()):].strip()
            return found
    return {}


def edition_date(path: PathLike) -> dt.date | None:
    """The ``/on/YYYY-MM-DD/`` date of the eCFR point-in-time API, when the file carries one.

    The versioner API often leaves ``_SUBSTITUTE_DATE_`` there instead; then the edition is unknown.
    """
    head = _common.read_head(path, 4096).decode("utf-8", "replace")
    match = re.search(r"/on/(\d{4}-\d{2}-\d{2})/", head)
    if not match:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


# --------------------------------------------------------------------------- XML -> rows

@dataclass
class _Cell:
    text: str  # rendered: <br/> -> newline, other whitespace collapsed
    work: str  # same, with private markers for italic runs
    footnotes: tuple[int, ...] = ()


@dataclass
class _Row:
    line: int
    cells: list[_Cell]


def _parse_xml(path: PathLike) -> ET.Element:
    data = _common.read_bytes(path)
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise ListDataError(f"{path}:{exc.position[0]}: not well-formed XML: {exc}") from exc


def _table_rows(div: ET.Element, columns: int, path: PathLike, heading: str) -> list[_Row]:
    body = div.find(".//TABLE/TBODY")
    if body is None:
        raise ListDataError(f"{path}: {heading} has no table body")
    rows = []
    for number, tr in enumerate(body.findall("TR"), start=1):
        tds = tr.findall("TD")
        if len(tds) != columns:
            raise ListDataError(
                f"{path}: {heading}, table row {number}: expected {columns} cells, found {len(tds)}")
        # Only the Entity List's license-requirement cell carries footnote markers; a <sup>
        # elsewhere is typography (the "1<sup>1</sup>&#8260;<sub>2</sub>" of an address).
        cells = [_render(td, footnote_cell=(columns == 5 and index == 2)) for index, td in enumerate(tds)]
        rows.append(_Row(line=number, cells=cells))
    return rows


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _render(td: ET.Element, *, footnote_cell: bool = False) -> _Cell:
    # the cell splitter is imported by the parser alone (its ~30 patterns compile on import; screening needs none)
    from ._cells import AND_SEP, ITALIC_END, ITALIC_START

    text_parts: list[str] = []
    work_parts: list[str] = []
    footnotes: list[int] = []

    def emit(text: str | None, work: str | None = None) -> None:
        """Add text; a newline in the XML source is layout (a space), only <br/> breaks a line."""
        if text:
            text_parts.append(text.replace("\n", " "))
            work_parts.append((text if work is None else work).replace("\n", " "))

    def walk(element: ET.Element) -> None:
        for child in element:
            if child.tag == "br":
                text_parts.append("\n")
                work_parts.append("\n")
            elif child.tag == "sup" and footnote_cell:
                inner = "".join(child.itertext())
                footnotes.extend(int(n) for n in re.findall(r"\d+", inner))
                emit(re.sub(r"\d+", "", inner).strip())
            elif child.tag in ("sup", "sub"):
                inner = "".join(child.itertext())
                emit(inner.translate(_SUPERSCRIPT if child.tag == "sup" else _SUBSCRIPT))
            elif child.tag == "E":
                inner = "".join(child.itertext())
                if re.fullmatch(r"\s*(and[;,]?|,)?\s*", inner):
                    emit(inner, inner.replace("and", AND_SEP))
                elif inner.strip():
                    emit(inner, f"{ITALIC_START}{inner}{ITALIC_END}")
            else:
                emit(child.text)
                walk(child)
            emit(child.tail)

    emit(td.text)
    walk(td)
    return _Cell(_tidy("".join(text_parts)), _tidy("".join(work_parts)), tuple(sorted(set(footnotes))))


_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


def _tidy(text: str) -> str:
    """XML whitespace is layout, not content: collapse it, keep <br/> line breaks."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]  # newlines here are <br/>
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


# --------------------------------------------------------------------------- rows -> entries

@dataclass
class _Raw:
    line: int
    country_as_printed: str
    text: list[str]
    work: list[str]
    license_requirement: str | None = None
    license_review_policy: str | None = None
    footnotes: tuple[int, ...] = ()
    citations: str = ""


def _entries(list_name: str, rows: list[_Row], path: PathLike) -> list[ListEntry]:
    raws = _merge_el_rows(rows) if list_name == ENTITY_LIST else _merge_3col_rows(rows)
    country_codes: dict[str, str] = {}
    built = []
    for raw in raws:
        where = f"{path}: {list_name}, table row {raw.line}"
        if not raw.country_as_printed:
            raise ListDataError(f"{where}: entry before the first destination header")
        if raw.country_as_printed not in country_codes:
            country_codes[raw.country_as_printed] = iso2(raw.country_as_printed, where=where)
        built.append(_build(list_name, raw, country_codes[raw.country_as_printed]))
    ids = _common.assign_unique_ids(
        [(_common.base_entry_id(list_name, e.country, e.name), e.addresses[0] if e.addresses else e.text)
         for e in built])
    return [entry.model_copy(update={"entry_id": entry_id}) for entry, entry_id in zip(built, ids)]


def _merge_el_rows(rows: list[_Row]) -> list[_Raw]:
    """A row whose last three cells are empty continues the entry above (Huawei, CASIC)."""
    raws: list[_Raw] = []
    country = ""
    for row in rows:
        country_cell, entity, requirement, policy, citations = row.cells
        country = country_cell.text or country
        if raws and not (requirement.text or policy.text or citations.text):
            raws[-1].text.append(entity.text)
            raws[-1].work.append(entity.work)
            continue
        raws.append(_Raw(
            line=row.line, country_as_printed=country, text=[entity.text], work=[entity.work],
            license_requirement=requirement.text or None, license_review_policy=policy.text or None,
            footnotes=requirement.footnotes, citations=citations.text))
    return raws


def _merge_3col_rows(rows: list[_Row]) -> list[_Raw]:
    """Unverified and MEU tables: skip ``[Reserved]``; resolve the MEU's grouped subordinates.

    The MEU table prints "The following eight subordinate institutions of X:" and
    "Subordinate institution:" as rows of their own; they are headings, not listed parties.
    Each subordinate keeps them in its ``text`` and inherits the heading's citation.
    """
    raws: list[_Raw] = []
    country = ""
    group: list[str] = []
    group_citations = ""
    for row in rows:
        country_cell, entity, citations = row.cells
        country = country_cell.text or country
        if entity.text == "[Reserved]":
            continue
        if entity.text.endswith(":") and re.match(r"(The following|Subordinate instit)", entity.text):
            if entity.text.startswith("The following"):
                group, group_citations = [entity.text], citations.text
            else:
                group = group[:1] + [entity.text]
            continue
        if citations.text:
            group, group_citations = [], ""
        raws.append(_Raw(
            line=row.line, country_as_printed=country, text=group + [entity.text],
            work=[entity.work], citations=citations.text or group_citations))
        group = group[:1]  # a "Subordinate institution:" label belongs to one entity only
    return raws


def _build(list_name: str, raw: _Raw, country: str) -> ListEntry:
    from ._cells import split_entity

    parts = split_entity("\n".join(raw.work))
    citations = _common.parse_fr_citations(raw.citations)
    return ListEntry(
        list=list_name,
        entry_id="pending",
        name=parts.name,
        aliases=parts.aliases,
        former_names=parts.former_names,
        addresses=parts.addresses,
        country=country,
        country_as_printed=raw.country_as_printed,
        license_requirement=raw.license_requirement,
        license_review_policy=raw.license_review_policy,
        footnotes=raw.footnotes,
        fr_citations=citations,
        listed_on=_common.earliest(c.date for c in citations),
        text="\n".join(t for t in raw.text if t),
        affiliates=parts.affiliates,
    )
