"""Tools for rule authors and analysts: run a pack's own test cases, classify a bare chip."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel

from ..models import Derivation, Transaction
from ..orders import validate_order


@dataclass(frozen=True)
class WindowEnd:
    """A rule window that ends soon, or has ended on a date whose extension is unconfirmed."""

    rule: str
    jurisdiction: str
    window: str  # "effective" or "not_enforced"
    until: dt.date
    confirmed: bool
    reason: str | None


def window_ends(engine, as_of: dt.date, days: int = 60) -> list[WindowEnd]:
    """Every rule window ending within ``days`` after ``as_of``, and every unconfirmed end already past."""
    found = []
    for rule in engine.rules.values():
        windows = [("effective", rule.rule.effective)] + [("not_enforced", w) for w in rule.rule.not_enforced]
        for kind, w in windows:
            if w.until is None:
                continue
            soon = as_of <= w.until <= as_of + dt.timedelta(days=days)
            if soon or (w.unconfirmed_end and w.until <= as_of):
                found.append(WindowEnd(rule.id, rule.jurisdiction, kind, w.until, w.until_confirmed, w.reason))
    return sorted(found, key=lambda e: (e.until, e.rule))


@dataclass(frozen=True)
class CaseOutcome:
    name: str
    passed: bool
    detail: str = ""


def run_cases(engine) -> list[CaseOutcome]:
    """Check every case written beside the rules against what the bundle answers."""
    outcomes = []
    for file, case in engine.rulebook.cases:
        name = f"{file}: {case.name}"
        try:
            txn = validate_order(case.transaction, name)
        except ValueError as exc:
            outcomes.append(CaseOutcome(name, False, f"invalid transaction: {exc}"))
            continue
        result = engine.check(txn, as_of=case.as_of)
        if case.jurisdiction:
            result = result.only(case.jurisdiction)
        fired = {f.rule for f in result.findings} | {d.rule for line in result.lines for d in line.derived}
        problems = []
        if result.decision != case.expect:
            problems.append(f"decision {result.decision.value}, expected {case.expect.value}")
        problems += [f"rule {r} did not fire" for r in case.fires if r not in fired]
        problems += [f"rule {r} fired" for r in case.not_fires if r in fired]
        # "chipgate." names the engine's own findings (no rule before the bundle, past an unconfirmed end ...)
        unknown = [r for r in (*case.fires, *case.not_fires) if r not in engine.rules and not r.startswith("chipgate.")]
        problems += [f"unknown rule {r}" for r in unknown]
        outcomes.append(CaseOutcome(name, not problems, "; ".join(problems)))
    return outcomes


class Change(BaseModel):
    """How one past order's answer differs between two bundles."""

    transaction_id: str
    before: str
    after: str
    rules_added: list[str]
    rules_removed: list[str]


def impact(baseline, candidate, orders: list[Transaction]) -> list[Change]:
    """Check past orders on both bundles; report the ones whose decision or findings change."""
    changes = []
    for txn in orders:
        old, new = baseline.check(txn), candidate.check(txn)
        old_rules = {f.rule for f in old.findings if f.enforced}
        new_rules = {f.rule for f in new.findings if f.enforced}
        if old.decision != new.decision or old_rules != new_rules:
            changes.append(Change(transaction_id=txn.id, before=old.decision.value, after=new.decision.value,
                                  rules_added=sorted(new_rules - old_rules),
                                  rules_removed=sorted(old_rules - new_rules)))
    return changes


class Classification(BaseModel):
    as_of: dt.date
    eccn: str | None
    outside_3a090: bool
    derived: list[Derivation]
    missing: str = ""


def classify(engine, chip: dict, on: dt.date | None = None) -> Classification:
    """Classify a U.S.-origin IC from its parameters with the bundle's own classification rules."""
    day = on or dt.date.today()
    txn = validate_order({
        "id": "classify", "date": day, "export_from": "US", "destination": "CN",
        "items": [{"sku": "chip", "quantity": 1, "origin": "US", "chip": chip}]}, "classify")
    result = engine.check(txn)
    line = result.lines[0]
    classifying = [d for d in line.derived if "item.eccn" in d.facts or "item.outside_3a090" in d.facts]
    holds = [f.message for f in result.findings
             if f.effect.value == "HOLD" and f.enforced and "item.eccn" in engine.rules[f.rule].reads()]
    return Classification(as_of=day, eccn=line.eccn, derived=classifying, missing=" ".join(holds),
                          outside_3a090=any(d.facts.get("item.outside_3a090") for d in classifying))
