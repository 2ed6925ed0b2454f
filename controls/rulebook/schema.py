"""The shape of a rule-pack file, checked with pydantic before anything is compiled."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from ..models import Decision, Role, check_window, in_window

RuleId = Field(pattern=r"^[a-z0-9][a-z0-9._-]*[a-z0-9]$")
SetKind = Literal["country", "eccn", "end_use", "tag", "text"]
JURISDICTIONS = ("US-EAR", "CN-ECL")  # in the order reports show them


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, defer_build=True)


class Window(_Strict):
    """A half-open date range: in force from ``from`` up to, not including, ``until``.

    ``until`` is the effective date of the change that ended it, as the Federal Register gives it.
    """

    start: dt.date = Field(alias="from")
    until: dt.date | None = None
    until_confirmed: bool = Field(
        default=True, description="false: an extension past 'until' is reported but no published text "
                                  "confirms it; an order dated on or after 'until' gets a HOLD asking for review")
    reason: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        check_window(self.start, self.until)
        if not self.until_confirmed and (self.until is None or not self.reason):
            raise ValueError("'until_confirmed: false' needs an 'until' and a 'reason' naming the reported extension")
        return self

    @property
    def unconfirmed_end(self) -> dt.date | None:
        """The end date whose extension is reported but unconfirmed, if this window has one."""
        return None if self.until_confirmed else self.until

    def covers(self, day: dt.date) -> bool:
        return in_window(self.start, self.until, day)


class Member(_Strict):
    """A set member that belongs only for a window (e.g. Cambodia in D:5, 2021-12-09 to 2026-02-03)."""

    code: str
    start: dt.date = Field(default=dt.date.min, alias="from")
    until: dt.date | None = None
    source: str | None = None

    def covers(self, day: dt.date) -> bool:
        return in_window(self.start, self.until, day)


class NamedSet(_Strict):
    """A named set (country group, ECCN family); members may be dated, or built from other sets."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9:._-]*$")
    title: str
    kind: SetKind = "country"
    citation: str | None = None
    members: list[str | Member] = []
    union: list[str] = []
    minus: list[str] = []

    @model_validator(mode="after")
    def _has_content(self) -> "NamedSet":
        if not self.members and not self.union:
            raise ValueError("a set needs 'members' or 'union'")
        return self


class Alias(_Strict):
    """A destination treated as another for set membership, e.g. Hong Kong as China since 2020-12-23."""

    code: str
    as_: str = Field(alias="as")
    start: dt.date = Field(alias="from")
    citation: str


class Then(_Strict):
    decision: Decision | None = None
    review_policy: str | None = None
    license_exception: str | None = None
    overcomes: list[str] = Field(default=[], description="ids of the requirements the exception overcomes")
    message: str = ""
    derive: dict[str, Any] = {}

    @model_validator(mode="after")
    def _does_something(self) -> "Then":
        if self.decision is None and not self.derive:
            raise ValueError("'then' needs a 'decision' or facts to 'derive'")
        if (self.decision == Decision.LICENSE_EXCEPTION) != bool(self.license_exception and self.overcomes):
            raise ValueError("a LICENSE_EXCEPTION rule names its 'license_exception' and the rules it 'overcomes'"
                             ", and only such a rule does")
        return self


class Rule(_Strict):
    id: str = RuleId
    title: str = Field(min_length=3)
    citation: str = Field(min_length=3)
    sources: list[str] = []
    effective: Window
    not_enforced: list[Window] = []
    verification: str | None = Field(default=None, description="what in this rule is unverified")
    when: Any = Field(default=None, description="conditions on the order line; none: every line")
    for_party: Any = None
    then: Then

    @model_validator(mode="after")
    def _has_conditions(self) -> "Rule":
        if self.when is None and self.for_party is None:
            raise ValueError("a rule needs 'when' (conditions on the line), 'for_party' (on a party), or both")
        return self

    @field_serializer("when", "for_party", when_used="json")
    def _numbers_as_numbers(self, cond: Any) -> Any:
        """Thresholds are read as Decimals; in JSON (and so in the bundle digest) they stay numbers."""
        return _json_numbers(cond)


def _json_numbers(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _json_numbers(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_json_numbers(value) for value in node]
    return float(node) if isinstance(node, Decimal) else node


class StubMatch(_Strict):
    """A list entry a case says screening matches: ``{list: Entity List, entry: ..., footnotes: [4]}``."""

    list_name: str = Field(alias="list", description="the list as published (Entity List), or as rules name it")
    entry: str = "listed party"
    strength: Literal["strong", "possible"] = "strong"
    footnotes: list[int] = []
    review_policy: str | None = None
    share: float | None = Field(default=None, ge=0, le=1, description="an owner's share (owners only)")


class StubScreen(_Strict):
    """What screening finds for a party, as a case states it instead of reading the list store.

    Written as one match, a list of matches, or in full (matches, owners, screened ...)."""

    matches: list[StubMatch] = []
    owners: list[StubMatch] = Field(default=[], description="the party's owners' matches (affiliates rule)")
    screened: bool = True
    name_screenable: bool = True
    lists_missing: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, value):
        if isinstance(value, list):
            return {"matches": value}
        if isinstance(value, dict) and "list" in value:
            return {"matches": [value]}
        return value


class ExpectedFinding(_Strict):
    """A finding a case requires; every field given must match (``because``: each text is part of a reason)."""

    rule: str
    line: int | None = None
    party: str | None = None
    effect: Decision | None = None
    citation: str | None = None
    enforced: bool | None = None
    overcome_by: str | None = None
    because: list[str] = []


class ExpectedLine(_Strict):
    """A line result a case requires; every field given must match."""

    line: int = 0
    decision: Decision | None = None
    eccn: str | None = None
    subject_to_ear: bool | None = None
    basis: str | None = None
    license_exception: str | None = None


class Case(_Strict):
    """A rule author's test case: a transaction and what the bundle must answer for it.

    Screening is stubbed: every party is screened and matches nothing, unless ``screening`` (by
    party role) says what it matches; ``lists: store`` screens against the list store instead."""

    name: str
    transaction: dict[str, Any]
    as_of: dt.date | None = None
    screening: dict[Role, StubScreen] = {}
    lists: Literal["stub", "store"] = "stub"
    expect: Decision | None = Field(default=None, description="the decision on the order; none: not asserted")
    jurisdiction: Literal[JURISDICTIONS] | None = Field(
        default=None, description="expect this jurisdiction's decision, not the overall one")
    fires: list[str] = []
    not_fires: list[str] = []
    findings: list[ExpectedFinding] = []
    lines: list[ExpectedLine] = []


ConditionId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*[a-z0-9]$")]


class Designation(_Strict):
    """One announcement putting parties on one of China's lists: screened for orders PRC export control
    reaches, matches tagged with ``id`` in ``party.lists`` (the rules say what each designation means)."""

    id: str = Field(pattern=r"^cn-[a-z0-9][a-z0-9-]*[a-z0-9]$")
    list: Literal["unreliable-entity-list", "control-list", "watch-list"]
    announcement: str = Field(min_length=3)
    date: dt.date
    country: str | None = None
    names: list[str] = Field(min_length=1)
    measures: str = Field(min_length=3)
    source: str = Field(min_length=3)


class RuleFile(_Strict):
    jurisdiction: Literal[JURISDICTIONS] = "US-EAR"
    conditions: dict[ConditionId, Any] = Field(default={}, description="named conditions: id -> condition")
    tables: list[Any] = Field(default=[], description="decision tables, compiled to rules (controls.rulebook.tables)")
    rules: list[Rule] = []
    sets: list[NamedSet] = []
    aliases: list[Alias] = []
    designations: list[Designation] = []
    cases: list[Case] = []


class BundleMeta(_Strict):
    name: str
    version: str = Field(pattern=r"^\d{4}\.\d{1,2}\.\d+$")
    description: str = ""
    reviewed: dt.date | None = Field(
        default=None, description="the day the bundle was last checked against published texts")
