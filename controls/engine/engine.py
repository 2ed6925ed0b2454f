"""Engine.load / Engine.check: prepare a bundle once, check many transactions."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..compiler import CompiledBundle, compile_rulebook
from ..facts.builder import FactBuilder, Values, line_values, party_values
from ..facts.sets import SetResolver
from ..models import Decision, Derivation, Determination, Finding, LineResult, Ruleset, Transaction
from ..rulebook.loader import LoadedRule, RuleBook, in_force, load_rulebook
from . import authoring
from .authoring import Classification
from .durable_adapter import RuleNetwork
from .explain import because

DEFAULT_RULES = Path(__file__).resolve().parent.parent.parent / "rules"

CONFLICT_RULE = "chipgate.conflicting-derivation"


class Engine:
    """A compiled rule bundle, ready to check transactions; safe to share between threads."""

    def __init__(self, compiled: CompiledBundle):
        self._compiled = compiled
        self._resolver = SetResolver(compiled.book.sets, compiled.book.aliases)
        self._facts = FactBuilder(compiled, self._resolver)
        self._network = RuleNetwork(compiled.network)
        self.ruleset = Ruleset(version=compiled.version, digest=compiled.book.digest)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Engine":
        """Load, validate and compile a rule directory (the bundled rules by default)."""
        return cls(compile_rulebook(load_rulebook(Path(path) if path else DEFAULT_RULES)))

    @property
    def rules(self) -> dict[str, LoadedRule]:
        return self._compiled.rules

    @property
    def rulebook(self) -> RuleBook:
        return self._compiled.book

    def classify(self, chip: dict[str, Any], on: dt.date | None = None) -> Classification:
        """ECCN of an IC from its parameters, as the bundle's rules classify it on ``on``."""
        return authoring.classify(self, chip, on)

    def run_cases(self) -> list[authoring.CaseOutcome]:
        """Run the test cases written beside the rules."""
        return authoring.run_cases(self)

    def check(self, txn: Transaction | dict[str, Any], as_of: dt.date | None = None) -> Determination:
        """Judge ``txn`` by the rules in force on ``as_of`` (default: the transaction's date)."""
        if not isinstance(txn, Transaction):
            txn = Transaction.model_validate(txn)
        day = as_of or txn.date
        lines = [line_values(txn, item) for item in txn.items]
        parties = [party_values(p) for p in txn.parties]
        firings, derivations, conflicts = self._run(lines, parties, day)

        findings = [self._finding(rule_id, line, party, lines, parties, day) for rule_id, line, party in firings
                    if self._compiled.rules[rule_id].rule.then.decision is not None]
        findings.extend(conflicts)
        warnings = [f"{f.rule} ({f.citation}) is codified but not enforced on {day}: {f.message}".rstrip(": ")
                    for f in findings if not f.enforced]
        results = [self._line_result(i, txn, lines[i], findings, derivations[i], warnings) for i in range(len(lines))]
        decision = Decision.most_restrictive([r.decision for r in results])
        return Determination(transaction_id=txn.id, decision=decision, as_of=day, ruleset=self.ruleset,
                             lines=results, findings=findings, warnings=warnings)

    def _run(self, lines: list[Values], parties: list[Values], day: dt.date):
        """Assert the facts stratum by stratum; derived facts feed the next stratum."""
        fired: list[tuple[str, int, int | None]] = []
        derivations: dict[int, list[Derivation]] = defaultdict(list)
        conflicts: list[Finding] = []
        with self._network.session() as session:
            for j, values in enumerate(parties):
                session.assert_fact(self._facts.party_fact(j, values, day))
            probes = self._compiled.line_probes
            answers = [self._facts.answers(probes, values, day) for values in lines]
            for stratum in range(self._compiled.strata):
                derived: dict[int, dict[str, tuple[Any, str]]] = defaultdict(dict)
                for i, values in enumerate(lines):
                    fact = self._facts.line_fact(i, stratum, values, answers[i], day)
                    for rule_id, matched in session.assert_fact(fact):
                        party = matched["party"]["index"] if "party" in matched else None
                        if (rule_id, i, party) in fired:
                            continue  # durable-rules fires a rule once per satisfied branch of an "any"
                        fired.append((rule_id, i, party))
                        rule = self._compiled.rules[rule_id]
                        for field, value in rule.derive.items():
                            earlier = derived[i].get(field)
                            if earlier and earlier[0] != value:
                                conflicts.append(self._conflict(i, field, earlier, (value, rule_id)))
                            derived[i].setdefault(field, (value, rule_id))
                        if rule.derive:
                            derivations[i].append(self._derivation(rule, lines[i], day))
                for i, fields in derived.items():
                    lines[i].update({field: value for field, (value, _) in fields.items()})
                    answers[i].update(self._facts.answers(probes, lines[i], day, fields))
        return fired, derivations, conflicts

    def _value_fns(self, values: Values, day: dt.date):
        probes = self._compiled.probes
        return values.get, lambda leaf: self._facts.answer(probes[(leaf.field, leaf.value)], values, day)

    def _derivation(self, rule: LoadedRule, values: Values, day: dt.date) -> Derivation:
        return Derivation(rule=rule.id, citation=rule.rule.citation, facts=dict(rule.derive),
                          because=because(rule.when, *self._value_fns(values, day)))

    def _finding(self, rule_id: str, line: int, party: int | None, lines, parties, day: dt.date) -> Finding:
        rule = self._compiled.rules[rule_id]
        then = rule.rule.then
        reasons = because(rule.when, *self._value_fns(lines[line], day))
        role = None
        if party is not None:
            reasons += because(rule.for_party, *self._value_fns(parties[party], day))
            role = parties[party]["party.role"]
        _, enforced = in_force(rule.rule, day)
        return Finding(rule=rule_id, citation=rule.rule.citation, effect=then.decision, line=line, party=role,
                       review_policy=then.review_policy, license_exception=then.license_exception,
                       message=then.message.strip(), title=rule.rule.title, jurisdiction=rule.jurisdiction,
                       enforced=enforced, because=reasons, sources=list(rule.rule.sources))

    def _conflict(self, line: int, field: str, first, second) -> Finding:
        return Finding(rule=CONFLICT_RULE, citation="chipgate rule bundle", effect=Decision.HOLD, line=line,
                       message=f"rules disagree on {field}: {first[1]} says {first[0]!r}, "
                               f"{second[1]} says {second[0]!r}; resolve before shipping",
                       title="Conflicting derived facts")

    def _line_result(self, index: int, txn: Transaction, values: Values, findings: list[Finding],
                     derivations: list[Derivation], warnings: list[str]) -> LineResult:
        subject = values.get("item.subject_to_ear")
        if subject is None:
            base = Decision.HOLD
            warnings.append(f"line {index}: no rule determined whether the item is subject to the EAR")
        else:
            base = Decision.NLR if subject else Decision.NOT_SUBJECT
        own = [f for f in findings if f.line == index and f.enforced]
        decision = Decision.most_restrictive([base, *(f.effect for f in own)])
        exception = next((f.license_exception for f in own if f.effect == decision and f.license_exception), None)
        return LineResult(line=index, sku=txn.items[index].sku, eccn=values.get("item.eccn"), subject_to_ear=subject,
                          basis=values.get("item.basis"), decision=decision, license_exception=exception,
                          derived=derivations)
