"""The public contract as pydantic models: what goes in (Transaction) and what comes out (Determination).

See ``docs/contract.md``.  Inputs are strict: unknown fields, unknown country codes, malformed
ECCNs, negative numbers, a number or a boolean written as text (or a boolean as a number), an
end-use tag or role outside the vocabulary, fields that contradict each other and oversized
orders are rejected with the field's path, so a typo never turns into a silently "clear" answer.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Annotated, Any, Callable, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from .countries import check_country
from .errors import InputError
from .facts.catalog import END_USE_TAGS, unknown_word
from .numbers import amount, exact, ratio

Country = Annotated[str, AfterValidator(check_country)]
Money = amount()              # U.S. dollars
Measure = amount(le=10**12)   # a chip parameter or a quantity
Area = amount(gt=0, le=10**6)  # mm2

_ECCN = re.compile(r"^(EAR99|[0-9][A-E][0-9]{3}(\.[a-z0-9]{1,3})*)$")


def check_eccn(value: str) -> str:
    """ECCNs look like ``3A090.a``, ``4A003.z.1.a`` or ``EAR99``; anything else is a typo."""
    if not isinstance(value, str) or not _ECCN.match(value.strip()):
        raise ValueError(f"malformed ECCN {value!r} (expected e.g. '3A090.a', '4A090.b' or 'EAR99')")
    return value.strip()


Eccn = Annotated[str, AfterValidator(check_eccn)]


def in_window(start: dt.date, until: dt.date | None, day: dt.date) -> bool:
    """Is ``day`` in the half-open window from ``start`` up to, not including, ``until``?"""
    return start <= day and (until is None or day < until)


def check_window(start: dt.date, until: dt.date | None) -> None:
    if until is not None and until <= start:
        raise ValueError(f"'until' {until} is not after 'from' {start}")


def _one_of(what: str, known) -> AfterValidator:
    """A word from a closed vocabulary (controls.facts.catalog), else an error with a suggestion."""
    def check(value: str) -> str:
        error = unknown_word(what, value, known)
        if error:
            raise ValueError(error)
        return value
    return AfterValidator(check)


def _iso_date(value):
    """A date, or its text as YYYY-MM-DD (how YAML and JSON write it); never a number of seconds."""
    if isinstance(value, str) and _DATE.match(value):
        return dt.date.fromisoformat(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise ValueError("expected a date written as YYYY-MM-DD")


_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# A party's role in the order, and how a report words it.
ROLES: dict[str, str] = {"end_user": "end user", "ultimate_consignee": "ultimate consignee",
                         "intermediate_consignee": "intermediate consignee", "purchaser": "purchaser"}
Role = Annotated[str, _one_of("role", ROLES)]
EndUse = Annotated[str, _one_of("end-use tag", END_USE_TAGS)]
Tag = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]  # a name a rule pack gives, e.g. a VEU authorisation
Date = Annotated[dt.date, BeforeValidator(_iso_date)]

# Size caps: far above any real order, low enough that one order cannot exhaust the engine.
# Texts stay far below the 65,535 bytes durable-rules can hold (10,000 characters are 40,000 bytes at most).
MAX_TEXT = 10_000
MAX_LINES = 1_000
MAX_PARTIES = 100
MAX_OWNERS = 100
MAX_LIST = 100  # end-use tags, direct-product ECCNs
# Characters of names and addresses one order's parties and their owners send to screening, which takes up to
# some 10 µs a character on the machine the project is measured on (words no listed name has, invisible
# characters: each is read more than one way): at most some 0.5 s, where the caps above allow millions of
# characters (a 4 MB order took 22 s, while a service's other requests waited).
MAX_SCREENED_TEXT = 50_000


class Decision(str, Enum):
    """Decisions from most to least restrictive; ``rank`` orders them."""

    PROHIBITED = "PROHIBITED"
    LICENSE_REQUIRED = "LICENSE_REQUIRED"
    HOLD = "HOLD"
    LICENSE_EXCEPTION = "LICENSE_EXCEPTION"
    NLR = "NLR"
    NOT_SUBJECT = "NOT_SUBJECT"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def most_restrictive(cls, decisions) -> "Decision | None":
        return max(decisions, key=_RANK.__getitem__, default=None)


_RANK = {d: len(Decision) - i for i, d in enumerate(Decision)}


def empty_list(**constraints) -> Any:
    """A list field that is empty unless given: a new list each time, where pydantic deep-copies a ``default=[]``
    for every order read; the JSON Schema says ``"default": []`` all the same."""
    return Field(default_factory=list, json_schema_extra={"default": []}, **constraints)


class _Strict(BaseModel):
    """No coercion: a boolean is only true or false, a text only a text, a number only a number."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True, str_max_length=MAX_TEXT)


class Owner(_Strict):
    name: str = Field(min_length=1)
    country: Country
    share: float = Field(ge=0, le=1, description="fraction owned, 0.6 = 60 %")


class Party(_Strict):
    role: Role
    name: str = Field(min_length=1)
    country: Country
    address: str | None = None
    headquarters_country: Country | None = None
    owners: list[Owner] = empty_list(max_length=MAX_OWNERS)


class Chip(_Strict):
    """Technical parameters used to classify an IC (Technical Notes to ECCN 3A090)."""

    tpp: Measure | None = None
    die_area_mm2: Area | None = None
    performance_density: Measure | None = Field(
        default=None, description="TPP / applicable die area; computed when not given")
    datacenter: bool | None = None
    memory_bandwidth_density: Measure | None = Field(default=None, description="GB/s per mm2")
    dram_bandwidth: Measure | None = Field(
        default=None, description="total DRAM bandwidth, GB/s (the 2026-01-15 review-policy test)")
    interconnect_bandwidth: Measure | None = Field(
        default=None, description="aggregate bidirectional I/O transfer rate, GB/s (the 2022 3A090 test)")
    us_available_2026_01_15: bool | None = Field(
        default=None, description="commercially available in the United States on 2026-01-15 (91 FR 1684)")

    @model_validator(mode="after")
    def _density_agrees(self) -> "Chip":
        if self.performance_density is not None and self.tpp is not None and self.die_area_mm2:
            computed = ratio(self.tpp, self.die_area_mm2)
            if abs(computed - exact(self.performance_density)) > computed / 200:
                raise ValueError(
                    f"performance_density {self.performance_density} disagrees with "
                    f"tpp / die_area_mm2 = {float(computed):.4f}")
        return self

    @property
    def density(self) -> Decimal | Fraction | None:
        """Performance density as given, else TPP / die area as an exact fraction."""
        if self.performance_density is not None:
            return self.performance_density
        if self.tpp is not None and self.die_area_mm2:
            return ratio(self.tpp, self.die_area_mm2)
        return None


class Item(_Strict):
    sku: str = Field(min_length=1)
    description: str | None = None
    quantity: Measure
    unit_value: Money | None = None
    eccn: Eccn | None = None
    origin: Country | None = None
    chip: Chip | None = None
    us_content_value: Money | None = None
    direct_product_of: list[Eccn] | None = Field(default=None, max_length=MAX_LIST)
    plant_direct_product_of: list[Eccn] | None = Field(
        default=None, max_length=MAX_LIST, description="U.S.-origin technology or software ECCNs the plant or 'major component' that "
        "produced the item (for 3B equipment: or a commodity inside it, such as an IC) is a direct product of; "
        "[] if none (15 CFR 734.9)")
    contains_us_ic: list[Eccn] | None = Field(
        default=None, max_length=MAX_LIST, description="ECCNs of the U.S.-origin integrated circuits inside the "
        "item; [] if none (15 CFR 734.4(a)(8)-(9))")
    ecad_tcad: bool | None = Field(
        default=None, description="ECAD or TCAD software or technology (15 CFR 744.23(a)(2)(iii))")
    material: str | None = None
    hs_code: str | None = None
    cn_control_code: str | None = None
    cn_content_value: Money | None = None
    cn_re_technology: bool | None = Field(
        default=None, description="made outside China with PRC-origin technology for rare-earth mining, smelting "
                                  "separation, metal smelting, magnet manufacturing or recycling (MOFCOM No. 61 of "
                                  "2025, § 1(2))")
    software_kind: Literal["operation", "error_fix", "mass_market"] | None = Field(
        default=None, description="what a software line is, for License Exception TSU (15 CFR 740.13): the "
                                  "minimum operation software of an item lawfully exported ((a)), an update "
                                  "limited to fixing errors in software lawfully exported ((c)), or "
                                  "mass-market software ((d))")

    @model_validator(mode="after")
    def _content_within_value(self) -> "Item":
        """Content of one origin is part of the item: worth more than the item is a data error, not a de minimis answer."""
        if self.unit_value is not None:
            for name in ("us_content_value", "cn_content_value"):
                if getattr(self, name) is not None and getattr(self, name) > self.unit_value:
                    raise ValueError(f"{name} {getattr(self, name)} is more than unit_value {self.unit_value}")
            if self.us_content_value is not None and self.cn_content_value is not None \
                    and self.us_content_value + self.cn_content_value > self.unit_value:
                raise ValueError(f"us_content_value + cn_content_value are more than unit_value {self.unit_value} "
                                 "(U.S.-origin and PRC-origin content cannot overlap)")
        return self


class Scope(_Strict):
    """Which order lines a notice covers: items by ECCN (a paragraph and every one below it) or SKU,
    and where they go (the destination, or a party located or headquartered in ``party_countries``).
    A dimension left empty covers everything."""

    eccns: list[Eccn] = []
    skus: list[str] = []
    destinations: list[Country] = []
    party_countries: list[Country] = []


class Letter(Scope):
    """An "is informed" letter BIS sent the exporter: a licence is required for what it covers."""

    basis: Literal["744.11", "744.21(b)", "744.23(b)"] = Field(description="the paragraph BIS informed under")
    reference: str = Field(min_length=1, description="which letter, e.g. 'BIS letter of 2025-05-23'")
    start: Date = Field(alias="from", description="in force from this day")
    until: Date | None = Field(default=None, description="the first day it no longer applies (rescinded)")

    @model_validator(mode="after")
    def _ordered(self) -> "Letter":
        check_window(self.start, self.until)
        return self

    def in_force(self, day: dt.date) -> bool:
        return in_window(self.start, self.until, day)


class NacNotification(Scope):
    """A License Exception NAC notification filed in SNAP-R at least 25 days before shipping (15 CFR 740.8)."""

    filed: Date
    confirmation: str | None = Field(
        default=None, description="the NAC confirmation number STELA shows on the 25th day")
    refused: bool = Field(default=False, description="BIS said a licence is required, or STELA that NAC cannot "
                                                     "be used")


class VeuAuthorization(Scope):
    """A validated end-user authorisation the order relies on (15 CFR 748.15, Supplement No. 7 to part 748)."""

    veu: Tag = Field(description="the authorisation as the rule pack names it, e.g. samsung_china_semiconductor")


class Exporter(_Strict):
    """Who exports, and what it filed with or received from BIS."""

    headquarters_country: Country | None = None
    letters: list[Letter] = []
    nac_notifications: list[NacNotification] = []
    cn_general_licences: list[Tag] = Field(
        default=[], max_length=MAX_LIST, description="what the MOFCOM general licences the exporter holds cover, "
                                                     "as the rule packs name it, e.g. rare_earths")


class HbmShipment(_Strict):
    """What License Exception HBM (15 CFR 740.25) asks of an order of high-bandwidth memory."""

    bought_by_copackage_designer: bool | None = Field(
        default=None, description="the purchaser designs the IC the HBM is to be co-packaged with")
    shipped_to_packaging_site: bool | None = Field(
        default=None, description="consigned to the site that packages the HBM with that IC")
    advanced_node_facility: bool | None = Field(
        default=None, description="that site is a facility in Macau or D:5 where advanced-node ICs are produced")


class Transaction(_Strict):
    id: str = Field(min_length=1)
    date: Date = Field(default_factory=dt.date.today)
    export_from: Country | None = None
    destination: Country
    parties: list[Party] = empty_list(max_length=MAX_PARTIES)
    end_uses: list[EndUse] = empty_list(max_length=MAX_LIST)
    end_use_country: Country | None = Field(
        default=None, description="where the end use takes place: the supercomputer, the fab, the facility")
    items: list[Item] = Field(min_length=1, max_length=MAX_LINES)
    exporter: Exporter | None = None
    hbm: HbmShipment | None = None
    veu: list[VeuAuthorization] = empty_list(max_length=MAX_LIST)

    @field_validator("parties")
    @classmethod
    def _screening_in_bounds(cls, parties: list[Party]) -> list[Party]:
        size = sum(len(p.name) + len(p.address or "") + sum(len(o.name) for o in p.owners) for p in parties)
        if size > MAX_SCREENED_TEXT:
            raise ValueError(f"{size:,} characters of names and addresses to screen, more than the "
                             f"{MAX_SCREENED_TEXT:,} an order may have")
        return parties

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value):
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Model = TypeVar("Model", bound=BaseModel)


def maker(model: type[Model]) -> Callable[[dict[str, Any]], Model]:
    """``model(**fields)``, called with the dict ``fields``: the same validation in pydantic's core, without
    ``BaseModel.__init__``'s Python frame around it (a quarter of the making of a small model; a check
    makes some eight result models)."""
    return model.__pydantic_validator__.validate_python


class Ruleset(BaseModel):
    version: str
    digest: str


class Matcher(BaseModel):
    """The screening algorithm that scored the parties' names (controls/screening/logic.py)."""

    name: str
    version: str
    digest: str = Field(description="sha256 of its parameters and word tables")


class ListMatch(BaseModel):
    """A listed party a screened name may be: which list, which entry, which name, how close."""

    model_config = ConfigDict(frozen=True)  # shared between determinations through the screening cache

    list: str
    entry: str
    entry_id: str
    matched_name: str
    score: float = Field(ge=0, le=1)
    strength: Literal["strong", "possible"]
    country: str | None = None
    reasons: list[str] = []
    license_requirement: str | None = None
    review_policy: str | None = None
    footnotes: list[int] = []
    footnote_texts: dict[int, str] = Field(default={}, description="what each footnote triggers, as published")
    owner: str | None = Field(default=None, description="the screened owner, for the affiliates rule")
    share: float | None = None
    allowed: str | None = Field(default=None, description="a reviewed false positive: who, when, why")
    edition: str | None = Field(default=None, description="the list edition this version of the entry is from")
    in_force_from: dt.date | None = Field(default=None, description="listed (or last changed) on; None: unknown")
    in_force_until: dt.date | None = Field(default=None, description="removed or changed on, in a later edition")


class ListSnapshot(BaseModel):
    """Which edition of a list a determination was screened against."""

    list: str
    source: str | None = None
    edition: str | None = None
    digest: str | None = None
    entries: int | None = None


class PartyScreening(BaseModel):
    """How one party was screened: against which lists and editions, with what result."""

    role: str
    name: str
    result: Literal["match", "possible match", "no match", "not screened"]
    entries: list[str] = Field(default=[], description="ids of the entries matched (allowed ones left out)")
    lists: list[str] = Field(default=[], description="each list screened against, with its source and edition")


class Finding(BaseModel):
    """One rule that fired: which rule, its citation, its effect and the facts it rested on."""

    rule: str
    citation: str
    effect: Decision
    line: int | None = None
    party: str | None = None
    review_policy: str | None = None
    license_exception: str | None = None
    message: str = ""
    title: str = ""
    jurisdiction: str = "US-EAR"
    enforced: bool = True
    because: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    matches: list[ListMatch] = Field(default_factory=list)
    overcome_by: str | None = Field(default=None, description="the licence-exception rule that overcomes it")


class Derivation(BaseModel):
    """A fact a rule derived for a line (e.g. its ECCN from its parameters), and why."""

    rule: str
    citation: str
    facts: dict[str, str | float | bool]
    because: list[str] = Field(default_factory=list)


class LineResult(BaseModel):
    line: int
    sku: str
    eccn: str | None
    subject_to_ear: bool | None
    basis: str | None
    decision: Decision
    license_exception: str | None = None
    derived: list[Derivation] = Field(default_factory=list)
    jurisdictions: dict[str, Decision] = Field(
        default_factory=dict, description="the line's decision under each jurisdiction the bundle holds rules for")


class Determination(BaseModel):
    transaction_id: str
    decision: Decision
    as_of: dt.date
    ruleset: Ruleset
    matcher: Matcher | None = Field(default=None, description="the screening algorithm, when parties were screened")
    lines: list[LineResult]
    findings: list[Finding]
    warnings: list[str] = Field(default_factory=list)
    lists: list[ListSnapshot] = Field(default_factory=list)
    screenings: list[PartyScreening] = Field(default_factory=list,
                                             description="per party: lists, editions and result")
    jurisdictions: dict[str, Decision] = Field(
        default_factory=dict, description="the decision under each jurisdiction the bundle holds rules for; "
                                "``decision`` is the most restrictive of them")

    def only(self, jurisdiction: str) -> "Determination":
        """The determination as one jurisdiction sees it: its decision, its line decisions, its findings."""
        if jurisdiction not in self.jurisdictions:
            raise InputError(f"no rules of jurisdiction {jurisdiction!r} in the bundle; "
                             f"it holds {', '.join(self.jurisdictions)}")
        lines = [line.model_copy(update={"decision": line.jurisdictions[jurisdiction],
                                         "jurisdictions": {jurisdiction: line.jurisdictions[jurisdiction]}})
                 for line in self.lines]
        return self.model_copy(update={
            "decision": self.jurisdictions[jurisdiction], "lines": lines,
            "findings": [f for f in self.findings if f.jurisdiction == jurisdiction],
            "jurisdictions": {jurisdiction: self.jurisdictions[jurisdiction]}})


class ScreenMatch(BaseModel):
    """One match in a screening answer, with what the rules make of it."""

    list: str
    entry: str
    entry_id: str
    matched_name: str
    score: float
    strength: str
    country: str | None
    effect: Decision
    citation: str
    rule: str
    review_policy: str | None = None
    allowed: str | None = None


class ScreeningResult(BaseModel):
    query: str
    country: str | None
    decision: Decision
    matcher: Matcher | None = None
    matches: list[ScreenMatch]
    lists: list[ListSnapshot] = []
    warnings: list[str] = []
    explanation: list[str] = Field(default=[], description="how the matcher scored the name, when asked")
