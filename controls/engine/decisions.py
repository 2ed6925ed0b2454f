"""Decision arithmetic: what a check's findings make of each line and of the order.

A licence exception counts only where it overcomes a requirement on its line; a line's decision under a
jurisdiction is the most restrictive of its base (subject or not) and its enforced findings; a line given
without its ECCN paragraph keeps its most restrictive reading; the order's decision is the most
restrictive of its lines'.  Everything here works on findings already made: no rule is evaluated.
"""
from __future__ import annotations

from typing import Iterable, Mapping, NamedTuple

from ..facts.builder import Values
from ..models import Decision, Derivation, Finding, LineResult, Transaction, maker
from ..rulebook.loader import LoadedRule
from ..rulebook.schema import JURISDICTIONS

PARAGRAPH_RULE = "chipgate.most-restrictive-paragraph"
US, CN = JURISDICTIONS
# the decisions the arithmetic of every line compares with, looked up once: an enum member is a class
# attribute found through its metaclass, some ten times slower to read than a global
_EXCEPTION, _HOLD, _NLR, _NOT_SUBJECT = Decision.LICENSE_EXCEPTION, Decision.HOLD, Decision.NLR, Decision.NOT_SUBJECT
_new_line_result = maker(LineResult)
# Decision.rank looked up in C: max(..., key=_rank) is Decision.most_restrictive without the classmethod's frame
_rank = {d: d.rank for d in Decision}.__getitem__


def by_line(findings: list[Finding]) -> dict[int | None, list[Finding]]:
    """Each line's findings, in order (``None``: the order's own); one pass, not one per line."""
    grouped: dict[int | None, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.line, []).append(finding)
    return grouped


def needed_exceptions(findings: list[Finding]) -> list[Finding]:
    """The findings without the licence exceptions that overcame nothing (they were never needed)."""
    used = {f.overcome_by for f in findings}
    return [f for f in findings if f.effect != _EXCEPTION or f.rule in used]


BASE_FIELDS = ("cn_reach", "item.subject_to_ear")  # the facts ``base`` reads


def base(jurisdiction: str, values: Values) -> Decision:
    """A line's decision before findings: under the EAR, whether it is subject; under PRC export control,
    NLR for an item leaving China (its rules hold what they cannot decide), else not reached."""
    if jurisdiction == CN:
        return _NLR if values.get("cn_reach") == "export" else _NOT_SUBJECT
    subject = values.get("item.subject_to_ear")
    return _HOLD if subject is None else _NLR if subject else _NOT_SUBJECT


def _result(index: int, sku: str, values: Values, derivations: list[Derivation], decision: Decision,
            exception: str | None, jurisdictions: dict[str, Decision]) -> LineResult:
    """A line's result: what it is (from its facts, as derived) and what was decided of it."""
    return _new_line_result({
        "line": index, "sku": sku, "eccn": values.get("item.eccn"), "subject_to_ear": values.get("item.subject_to_ear"),
        "basis": values.get("item.basis"), "decision": decision, "license_exception": exception,
        "derived": derivations, "jurisdictions": jurisdictions})


class Verdict(NamedTuple):
    """What ``line_result`` drew from a line's findings, to draw it again without the arithmetic; in plain
    values (a decision by its value, which the result's model reads as the decision), as the memory keeps it."""

    rules: tuple[str, ...]  # of the findings it was drawn from
    unenforced: tuple[int, ...]  # the positions of those not enforced on the day it was drawn for
    decision: str
    license_exception: str | None
    jurisdictions: tuple[tuple[str, str], ...]
    overcome: tuple[tuple[int, str], ...]  # (a finding's position, the licence exception that overcomes it)


class Decisions:
    """The arithmetic for one bundle: what each of its exceptions overcomes, and the jurisdictions it holds."""

    def __init__(self, rules: Mapping[str, LoadedRule], jurisdictions: Iterable[str]):
        # by rule id; a finding whose rule is not here (one the engine made) overcomes nothing
        self._overcomes = {rule_id: frozenset(rule.rule.then.overcomes)
                           for rule_id, rule in rules.items() if rule.rule.then.overcomes}
        self.jurisdictions = tuple(jurisdictions)

    def effects(self, line_findings: list[Finding]) -> dict[int, Decision]:
        """What each finding does to its line (keyed by ``id(finding)``), marking ``overcome_by``.

        A requirement that a licence exception on the same line overcomes counts as that exception;
        an exception that overcomes nothing on the line counts for nothing.
        """
        exceptions = [f for f in line_findings if f.effect == _EXCEPTION]
        if not exceptions:  # most lines: nothing is overcome (no ``overcome_by`` to mark: it stays None)
            return {id(f): f.effect for f in line_findings}
        effects: dict[int, Decision] = {}
        for finding in line_findings:
            if finding.effect == _EXCEPTION:
                continue
            finding.overcome_by = next((e.rule for e in exceptions
                                        if finding.rule in self._overcomes.get(e.rule, ())), None)
            effects[id(finding)] = _EXCEPTION if finding.overcome_by else finding.effect
        for exception in exceptions:
            if any(f.overcome_by == exception.rule for f in line_findings):
                effects[id(exception)] = exception.effect
        return effects

    def line_result(self, index: int, sku: str, values: Values, line_findings: list[Finding],
                    derivations: list[Derivation]) -> LineResult:
        own = [f for f in line_findings if f.enforced]
        decisions: dict[str, Decision] = {}
        effects: dict[int, Decision] = {}
        for jurisdiction in self.jurisdictions:
            decisions[jurisdiction] = base(jurisdiction, values)
            if mine := [f for f in own if f.jurisdiction == jurisdiction]:
                found = self.effects(mine)
                decisions[jurisdiction] = Decision.most_restrictive([decisions[jurisdiction], *found.values()])
                effects.update(found)
        decision = Decision.most_restrictive(decisions.values())
        exception = next((f.license_exception for f in own if f.license_exception and effects.get(id(f)) == decision),
                         None)
        return _result(index, sku, values, derivations, decision, exception, decisions)

    def verdict(self, result: LineResult, line_findings: list[Finding]) -> Verdict:
        """What ``result`` (``line_result`` of ``line_findings``) concluded, and marked on the findings."""
        return Verdict(tuple(f.rule for f in line_findings), _unenforced(line_findings), result.decision.value,
                       result.license_exception,
                       tuple((jurisdiction, d.value) for jurisdiction, d in result.jurisdictions.items()),
                       tuple((n, f.overcome_by) for n, f in enumerate(line_findings) if f.overcome_by))

    def concluded(self, index: int, sku: str, values: Values, line_findings: list[Finding],
                  derivations: list[Derivation], verdict: tuple) -> LineResult | None:
        """``line_result`` as ``verdict`` (a Verdict's fields) drew it, for new findings of the same rules on a
        line of the same facts; None when the findings are not of the rules it was drawn from, or not enforced
        alike (a line's outcome serves every day of a period, and a rule may be suspended within one)."""
        rules, unenforced, decision, exception, jurisdictions, overcome = verdict
        if rules != tuple([f.rule for f in line_findings]) or unenforced != _unenforced(line_findings):
            return None
        for n, overcoming in overcome:
            line_findings[n].overcome_by = overcoming
        return _result(index, sku, values, derivations, decision, exception, dict(jurisdictions))

    def order(self, results: list[LineResult]) -> tuple[Decision, dict[str, Decision]]:
        """The order's decision and its decision under each jurisdiction: the most restrictive of its lines'."""
        lines = [r.jurisdictions for r in results]
        jurisdictions = {j: max([line[j] for line in lines], key=_rank, default=None) for j in self.jurisdictions}
        return max(jurisdictions.values(), key=_rank, default=None), jurisdictions

    def most_restrictive_readings(self, txn: Transaction, checked: list[Values], readings, results, findings,
                                  derivations):
        """Each line checked as several paragraphs keeps the most restrictive reading's result and findings.

        Readings that disagree add a HOLD finding: the paragraph decides, and the order does not give it.
        """
        n = len(results)
        candidates: dict[int, list[int]] = {i: [i] for i in range(n)}
        for extra, (i, _) in enumerate(readings, start=n):
            candidates[i].append(extra)
        kept: list[Finding] = [f for f in findings if f.line is None or f.line < n and len(candidates[f.line]) == 1]
        grouped = by_line(findings)
        for i, indices in candidates.items():
            if len(indices) == 1:
                continue
            outcomes = [(j, self.line_result(i, txn.items[i].sku, checked[j], grouped.get(j, []), derivations[j]))
                        for j in indices]
            # the most restrictive; among equals, the reading with the most findings (the fullest account)
            chosen, result = max(outcomes, key=lambda o: (o[1].decision.rank, len(grouped.get(o[0], []))))
            given = checked[i]["item.eccn"]
            read_as = checked[chosen]["item.eccn"]
            summary = ", ".join(f"{checked[j]['item.eccn']} {r.decision.value}" for j, r in outcomes)
            result.eccn = given
            result.derived.append(Derivation(
                rule=PARAGRAPH_RULE, citation="15 CFR 738.4(a); 15 CFR part 774, Supplement No. 1",
                facts={"item.eccn": read_as},
                because=[f"item.eccn {given} was given without its paragraph; read as {read_as}, the most "
                         f"restrictive of: {summary}"]))
            results[i] = result
            kept += [finding.model_copy(update={"line": i}) for finding in grouped.get(chosen, [])]
            if len({r.decision for _, r in outcomes}) > 1:
                kept.append(Finding(
                    rule=PARAGRAPH_RULE, citation="15 CFR 738.4(a)", effect=Decision.HOLD, line=i,
                    title="ECCN given without its paragraph",
                    because=[f"item.eccn = {given}; its paragraphs are decided differently: {summary}"],
                    message=f"{given} is read as {read_as}, the most restrictive of its paragraphs.  Give the "
                            f"item's full ECCN (paragraph included) to have it decided."))
                results[i].jurisdictions[US] = Decision.most_restrictive([results[i].jurisdictions[US], Decision.HOLD])
                results[i].decision = Decision.most_restrictive([results[i].decision, Decision.HOLD])
        return results, kept


def _unenforced(findings: list[Finding]) -> tuple[int, ...]:
    return tuple([n for n, f in enumerate(findings) if not f.enforced])
