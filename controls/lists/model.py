"""What one entry of a restricted-party list is, whatever format it came from."""
from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class FrCitation(BaseModel):
    """One Federal Register citation of an entry, e.g. ``89 FR 96830, 12/5/2024``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cite: str
    date: dt.date | None = None


class ListEntry(BaseModel):
    """One listed party, as published; ``text`` keeps the verbatim source, which is the authority."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    list: str = Field(description="source list, e.g. 'Entity List', 'Denied Persons List'")
    entry_id: str = Field(description="stable id within the list (same entry -> same id across editions)")
    name: str
    aliases: tuple[str, ...] = ()
    former_names: tuple[str, ...] = ()
    affiliates: tuple[str, ...] = Field(
        default=(),
        description="names (and their aliases) of sub-entities or affiliates listed inside this entry; "
        "each is itself a listed party, so screening must match them too",
    )
    addresses: tuple[str, ...] = ()
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 of the listing destination")
    country_as_printed: str | None = None
    license_requirement: str | None = None
    license_review_policy: str | None = None
    footnotes: tuple[int, ...] = ()
    fr_citations: tuple[FrCitation, ...] = ()
    listed_on: dt.date | None = None
    programs: tuple[str, ...] = ()
    text: str = Field(default="", description="verbatim entry text from the source")
