"""Tools for rule authors and analysts: run a pack's own test cases, classify a bare chip."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from ..models import Decision, Derivation, Determination, Finding, ListMatch, Party, Transaction
from ..orders import validate_order
from ..rulebook.lint import threshold_sides, untested_sides
from ..rulebook.loader import LoadedRule
from ..rulebook.schema import Case, ExpectedFinding, StubMatch, StubScreen
from ..screening.parties import PartyScreen


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
            soon = as_of <= w.until and (w.until - as_of).days <= days  # as_of + days may be past date.max
            if soon or (w.unconfirmed_end and w.until <= as_of):
                found.append(WindowEnd(rule.id, rule.jurisdiction, kind, w.until, w.until_confirmed, w.reason))
    return sorted(found, key=lambda e: (e.until, e.rule))


@dataclass(frozen=True)
class CaseOutcome:
    name: str
    passed: bool
    detail: str = ""  # expected / actual, one line each, when the case failed
    fired: frozenset[str] = frozenset()  # every rule that fired or derived, enforced or not


class CaseScreener:
    """Screening as the case in hand states it: each party matches what ``screening`` gives for
    its role, and nothing else; no list store is read."""

    snapshots: list = []

    def stale(self, day) -> list[str]:
        return []  # a case's lists are what it states: no edition to age

    def __init__(self):
        self.stubs: dict[str, StubScreen] = {}

    def screen_party(self, party: Party, affiliate_lists=frozenset(), day=None) -> PartyScreen:
        stub = self.stubs.get(party.role)
        if stub is None:
            return PartyScreen()
        return PartyScreen(matches=[_match(m, party.name) for m in stub.matches],
                           owners=[_match(m, m.entry) for m in stub.owners], screened=stub.screened,
                           name_screenable=stub.name_screenable, lists_missing=list(stub.lists_missing))


def _match(stub: StubMatch, name: str) -> ListMatch:
    return ListMatch(list=stub.list_name, entry=stub.entry, entry_id="case", matched_name=name,
                     score=1.0 if stub.strength == "strong" else 0.8, strength=stub.strength,
                     footnotes=stub.footnotes, review_policy=stub.review_policy,
                     owner=stub.entry if stub.share is not None else None, share=stub.share)


def run_cases(engine) -> list[CaseOutcome]:
    """Check every case written beside the rules against what the bundle answers.

    Screening is the case's stub unless the case asks for the list store (``lists: store``), so
    the outcome never depends on what a local store happens to hold."""
    screener = CaseScreener()
    stubbed = engine.with_screener(screener)
    outcomes = []
    for file, case in engine.rulebook.cases:
        name = f"{file}: {case.name}"
        try:
            txn = validate_order(case.transaction, name)
        except ValueError as exc:
            outcomes.append(CaseOutcome(name, False, f"invalid transaction: {exc}"))
            continue
        screener.stubs = case.screening
        result = (engine if case.lists == "store" else stubbed).check(txn, as_of=case.as_of)
        if case.jurisdiction:
            result = result.only(case.jurisdiction)
        fired = frozenset({f.rule for f in result.findings} | {d.rule for line in result.lines for d in line.derived})
        problems = _differences(case, result, fired)
        if problems:
            problems.append("actual findings: " + ("; ".join(_brief_finding(f) for f in result.findings) or "none"))
        outcomes.append(CaseOutcome(name, not problems, "\n".join(problems), fired))
    return outcomes


def _brief_finding(finding: Finding) -> str:
    who = f" {finding.party}" if finding.party else ""
    return f"{finding.rule} {finding.effect.value} (line {finding.line}{who})"


def _differences(case: Case, result: Determination, fired: frozenset[str]) -> list[str]:
    """What the case expected and the bundle did not answer, as "expected ... / actual ..." lines."""
    problems = []
    if case.expect is not None and result.decision != case.expect:
        problems.append(f"decision: expected {case.expect.value}, actual {result.decision.value}")
    problems += [f"fires: expected {r}, which did not fire" for r in case.fires if r not in fired]
    problems += [f"not_fires: {r} fired" for r in case.not_fires if r in fired]
    for want in case.findings:
        problems += _finding_difference(want, result.findings)
    for want in case.lines:
        if want.line >= len(result.lines):
            problems.append(f"line {want.line}: expected, but the order has {len(result.lines)} lines")
            continue
        got = result.lines[want.line]
        for key, value in want.model_dump(exclude_unset=True, exclude={"line"}).items():
            actual = getattr(got, key)
            if actual != value:
                problems.append(f"line {want.line} {key}: expected {_text(value)}, actual {_text(actual)}")
    return problems


def _finding_difference(want: ExpectedFinding, findings: list[Finding]) -> list[str]:
    candidates = [f for f in findings if f.rule == want.rule and (want.line is None or f.line == want.line)
                  and (want.party is None or f.party == want.party)]
    where = "".join(f" {k} {v}" for k, v in (("line", want.line), ("party", want.party)) if v is not None)
    if not candidates:
        return [f"finding {want.rule}{where}: expected, none"]
    best: list[str] = []
    for finding in candidates:
        misses = []
        for key, value in want.model_dump(exclude_unset=True, exclude={"rule", "line", "party", "because"}).items():
            if getattr(finding, key) != value:
                misses.append(f"finding {want.rule}{where} {key}: expected {_text(value)}, "
                              f"actual {_text(getattr(finding, key))}")
        for text in want.because:
            if not any(text in reason for reason in finding.because):
                misses.append(f"finding {want.rule}{where} because: expected {text!r}, actual {finding.because}")
        if not misses:
            return []
        best = misses if not best or len(misses) < len(best) else best
    return best


def _text(value) -> str:
    return value.value if isinstance(value, Decision) else repr(value) if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Coverage:
    """What the cases exercise: the rules they make fire, and the sides of each threshold they test."""

    rules: int
    never_fired: list[LoadedRule]
    one_sided: list[str]  # "item.chip.tpp >= 4800 (rule, file:line): no case has item.chip.tpp < 4800"

    def render(self) -> str:
        fired = self.rules - len(self.never_fired)
        lines = [f"coverage: {fired} of {self.rules} rules fired in some case"
                 f" ({100 * fired / self.rules if self.rules else 100:.0f} %)"]
        lines += [f"  never fired: {r.id} ({r.file}:{r.line})" for r in self.never_fired]
        lines.append(f"thresholds without a case on both sides: {len(self.one_sided)}")
        lines += [f"  {text}" for text in self.one_sided]
        return "\n".join(lines)


def coverage(book, outcomes: list[CaseOutcome]) -> Coverage:
    fired = set().union(*(o.fired for o in outcomes)) if outcomes else set()
    one_sided = [f"{leaf.text} ({rule.id}, {rule.file}:{leaf.line or rule.line}): no case has " + " or ".join(missing)
                 for threshold, (rule, leaf, sides) in threshold_sides(book).items()
                 if (missing := untested_sides(threshold, sides))]
    return Coverage(len(book.rules), [r for r in book.rules if r.id not in fired], one_sided)


class Change(BaseModel):
    """How one past order's answer differs between two bundles, or one bundle on two dates."""

    transaction_id: str
    before: str
    after: str
    rules_added: list[str]  # rules found (or deriving) only after the change
    rules_removed: list[str]  # only before it
    rules_changed: list[str] = []  # found on both sides, with another effect


class RuleImpact(BaseModel):
    """One rule that made a difference, over all the orders it made one in."""

    rule: str
    change: str  # added, removed or changed (as in Change)
    orders: int
    example: str  # the id of the first such order
    decisions: dict[str, int]  # "HOLD -> NLR": how many of those orders went that way


NO_LIST_STORE = Path(os.devnull)  # a list store that holds nothing: an engine loaded with it opens no lists


def unscreened(engine):
    """``engine`` with every party screened and matching no list: answers that no local list store sways
    (load it with ``NO_LIST_STORE``: it reads no lists it would not use)."""
    return engine.with_screener(CaseScreener())


def impact(baseline, candidate, orders: list[Transaction], before: dt.date | None = None,
           after: dt.date | None = None) -> list[Change]:
    """Check past orders on ``baseline`` as of ``before`` and on ``candidate`` as of ``after`` (each order's
    own date when None); report the ones whose decision, or the rules behind it, change."""
    changes = []
    for txn in orders:
        old, new = _rules_behind(baseline.check(txn, as_of=before)), _rules_behind(candidate.check(txn, as_of=after))
        if old[0] != new[0] or old[1] != new[1]:
            changes.append(Change(
                transaction_id=txn.id, before=old[0].value, after=new[0].value,
                rules_added=sorted(new[1].keys() - old[1].keys()), rules_removed=sorted(old[1].keys() - new[1].keys()),
                rules_changed=sorted(r for r in old[1].keys() & new[1].keys() if old[1][r] != new[1][r])))
    return changes


def _rules_behind(result: Determination) -> tuple[Decision, dict[str, frozenset[str]]]:
    """The decision, and each rule that found or derived something with what it did (its effects, a
    requirement overcome, a derivation)."""
    done: dict[str, set[str]] = {}
    for f in result.findings:
        if f.enforced:
            done.setdefault(f.rule, set()).add(f.effect.value + (" overcome" if f.overcome_by else ""))
    for line in result.lines:
        for d in line.derived:
            done.setdefault(d.rule, set()).add("derived")
    return result.decision, {rule: frozenset(effects) for rule, effects in done.items()}


def by_rule(changes: list[Change]) -> list[RuleImpact]:
    """The changes grouped by the rule that made each difference, the rules that changed most orders first."""
    groups: dict[tuple[str, str], list[Change]] = {}
    for c in changes:
        for kind, rules in (("added", c.rules_added), ("removed", c.rules_removed), ("changed", c.rules_changed)):
            for rule in rules:
                groups.setdefault((rule, kind), []).append(c)
    impacts = []
    for (rule, kind), group in groups.items():
        decisions: dict[str, int] = {}
        for c in group:
            decisions[f"{c.before} -> {c.after}"] = decisions.get(f"{c.before} -> {c.after}", 0) + 1
        impacts.append(RuleImpact(rule=rule, change=kind, orders=len(group), example=group[0].transaction_id,
                                  decisions=decisions))
    return sorted(impacts, key=lambda i: (-i.orders, i.rule, i.change))


class Classification(BaseModel):
    as_of: dt.date
    eccn: str | None
    outside_3a090: bool
    derived: list[Derivation]
    missing: str = ""
    conflict: str = ""  # rules of the bundle classify the chip differently: no answer, the pack needs fixing


def classify(engine, chip: dict, on: dt.date | None = None) -> Classification:
    """Classify a U.S.-origin IC from its parameters with the bundle's own classification rules.

    Where classification rules disagree (the engine's conflicting-derivation finding), there is no
    classification: ``conflict`` names the rules, what each derives and the facts it saw."""
    from .engine import CONFLICT_RULE  # the engine module imports this one

    day = on or dt.date.today()
    txn = validate_order({
        "id": "classify", "date": day, "export_from": "US", "destination": "CN",
        "items": [{"sku": "chip", "quantity": 1, "origin": "US", "chip": chip}]}, "classify")
    result = engine.check(txn)
    line = result.lines[0]
    classifying = [d for d in line.derived if "item.eccn" in d.facts or "item.outside_3a090" in d.facts]
    holds = [f.message for f in result.findings if f.effect.value == "HOLD" and f.enforced and _bears_on_eccn(engine, f)]
    conflict = ""
    if any(f.rule == CONFLICT_RULE and f.line == 0 for f in result.findings):
        conflict = "rules of the bundle classify this chip differently: " + "; ".join(
            f"{d.rule} derives {', '.join(f'{k} = {v}' for k, v in d.facts.items())} because {', '.join(d.because)}"
            for d in classifying) + ". Fix the rule pack: no classification is given."
    return Classification(as_of=day, eccn=None if conflict else line.eccn, derived=classifying,
                          missing=" ".join(holds), conflict=conflict,
                          outside_3a090=not conflict and any(d.facts.get("item.outside_3a090") for d in classifying))


def _bears_on_eccn(engine, finding: Finding) -> bool:
    """A HOLD of a rule that reads the ECCN, or one the engine made (rules that disagree, no rule in
    force): either says why the classification cannot be relied on."""
    rule = engine.rules.get(finding.rule)
    return rule is None or "item.eccn" in rule.reads()
