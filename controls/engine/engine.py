"""Engine.load / Engine.check: prepare a bundle once, check many transactions."""
from __future__ import annotations

import copy
import datetime as dt
import gc
import os
from collections import defaultdict
from contextlib import nullcontext
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..compiler import CompiledBundle
from ..countries import check_country
from ..errors import ChipgateError, InputError
from ..facts.builder import Answers, FactBuilder, Values, line_values, order_values_by_eccn, party_values, present
from ..facts.catalog import ACCUMULATED
from ..facts.sets import SetResolver
from ..models import (
    MAX_TEXT,
    Decision,
    Derivation,
    Determination,
    Finding,
    LineResult,
    ListSnapshot,
    Matcher,
    Ruleset,
    ScreeningResult,
    ScreenMatch,
    Transaction,
    maker,
)
from ..orders import validate_order
from ..rulebook import bundle
from ..rulebook.cache import compile_directory
from ..rulebook.loader import LIST_STORE, LoadedRule, RuleBook, enforced_on
from ..rulebook.schema import JURISDICTIONS
from ..screening.orders import NO_LISTS, Opener, OrderScreening, open_lists
from ..screening.parties import PartyScreen
from .decisions import Decisions, by_line, needed_exceptions
from .durable_adapter import RuleNetwork
from .explain import Explainer
from .memo import FiringMemo, Firings, LineOutcome, canonical, outcome_fields
from .paragraphs import ParagraphReadings

if TYPE_CHECKING:  # rule authoring (classify, the cases) is imported when used: a check does without it
    from .authoring import CaseOutcome, Classification

DEFAULT_RULES = Path(__file__).resolve().parent.parent.parent / "rules"

CONFLICT_RULE = "chipgate.conflicting-derivation"
BEFORE_RULES = "chipgate.no-rule-in-force"
UNCONFIRMED_RULE = "chipgate.unconfirmed-end-date"
NOT_REACHED_RULE = "chipgate.cn-ecl.not-reached"
US, CN = JURISDICTIONS
# the result models a check makes, by pydantic's core directly (see models.maker)
_new_finding, _new_derivation, _new_determination = maker(Finding), maker(Derivation), maker(Determination)


def default_list_store(rules_dir: Path = DEFAULT_RULES) -> Path:
    """Where lists are imported to and screened from: ``$CHIPGATE_LISTS``, else ``<rules>/lists`` (for a
    bundle file, the ``lists`` folder beside it)."""
    folder = rules_dir.parent if rules_dir.is_file() else rules_dir
    return Path(os.environ.get("CHIPGATE_LISTS") or folder / LIST_STORE)


def _disagree(first: LoadedRule, second: LoadedRule) -> bool:
    """Two derivations on one line conflict if they set a fact differently or are alternatives;
    values added to an accumulated fact (the grounds of ``item.basis``) do not conflict."""
    if first.guards() & second.guards():
        return first.derive != second.derive
    return any(first.derive[f] != second.derive[f] for f in first.derive.keys() & second.derive.keys() - ACCUMULATED)


def _merge(values: Values, rules: list[LoadedRule]) -> dict:
    """The facts ``rules`` derive on one line; an accumulated fact lists each distinct value once."""
    fields: dict = {}
    for rule in rules:
        for field, value in rule.derive.items():
            if field in ACCUMULATED:
                known = (fields.get(field) or values.get(field) or "").split(", ")
                value = ", ".join([v for v in known if v] + [value] * (value not in known))
            fields[field] = value
    return fields


class Engine:
    """A compiled rule bundle, ready to check transactions; safe to share between threads."""

    _prefilter = True  # skip strata no rule of which can match a line (False: send all, to compare)

    def __init__(self, compiled: CompiledBundle, open_screener: Opener = lambda: (None, NO_LISTS)):
        """``open_screener``: opens the screener parties are screened with when first needed (see load)."""
        self._compiled = compiled
        self._resolver = SetResolver(compiled.book.sets, compiled.book.aliases)
        self._facts = FactBuilder(compiled, self._resolver)
        self._network = RuleNetwork(compiled.network)
        self._memo = FiringMemo(compiled.network)
        self._outcome_fields = outcome_fields(compiled.book.rules)
        self._rule_order = {rule_id: n for n, rule_id in enumerate(compiled.rules)}
        # what a finding and a derivation of each rule say of the rule, read once rather than at every check
        self._said = {rule_id: _finding_said(rule) for rule_id, rule in compiled.rules.items()}
        self._derived_by = {rule_id: {"rule": rule_id, "citation": rule.rule.citation, "facts": rule.derive}
                            for rule_id, rule in compiled.rules.items()}
        self._because = Explainer(compiled.probe_keys, self._resolver.source_of)
        self._paragraphs = ParagraphReadings(compiled.book)
        # per engine and bounded, so that a reloaded engine takes its caches with it
        self._enforced = lru_cache(maxsize=16384)(self._enforced_of)  # per rule and order date
        self.ruleset = Ruleset(version=compiled.version, digest=compiled.book.digest)
        self._first_day = min((r.rule.effective.start for r in compiled.book.rules), default=None)
        self._screening = OrderScreening(open_screener, self._resolver, compiled.book.sets,
                                         compiled.book.designations.values())
        held = {r.jurisdiction for r in compiled.book.rules} or {US}
        self.jurisdictions = tuple(j for j in JURISDICTIONS if j in held)
        self._decisions = Decisions(compiled.rules, self.jurisdictions)
        # rules with a window whose end is unconfirmed: past it, their findings come with a HOLD
        self._unconfirmed = {r.id: ends for r in compiled.book.rules
                             if (ends := [w for w in (r.rule.effective, *r.rule.not_enforced) if w.unconfirmed_end])}
        self.sources: tuple[Path, Path] | None = None  # (rules, list store) it was loaded from: reload, Dask workers

    @classmethod
    def load(cls, path: str | Path | None = None, lists: str | Path | None = None) -> "Engine":
        """Load, validate and compile a rule directory (the bundled rules by default), or read a bundle
        file (``chipgate rules build``), which holds all that ready.

        ``lists`` is the list store to screen parties against; by default ``$CHIPGATE_LISTS``, else
        the ``lists`` folder of the rule directory.  It is opened when first needed (``open_lists``), so
        that work on the rules alone never reads it.  Without imported lists, or with a broken list
        store, parties are HOLD with a warning that says why.

        The bundle and the screening index live as long as the process: they are moved out of the
        garbage collector's reach (``gc.freeze``), which otherwise walks them on every full collection
        and stalls a check for a fraction of a second.
        """
        rules_dir = Path(path) if path else DEFAULT_RULES
        lists = Path(lists or default_list_store(rules_dir))
        # what is there and no directory is read as a bundle, which names what it is if it is no file (a FIFO)
        compiled = compile_directory(rules_dir) if rules_dir.is_dir() or not rules_dir.exists() \
            else bundle.load(rules_dir)
        engine = cls(compiled, lambda: _frozen(open_lists(lists)))
        engine.sources = (rules_dir, lists)
        _frozen(engine)
        return engine

    @classmethod
    def from_bundle(cls, path: str | Path, lists: str | Path | None = None) -> "Engine":
        """``load`` from a bundle file, refusing a directory."""
        if not Path(path).is_file():
            raise InputError(f"{path}: not a bundle file (write one with: chipgate rules build DIR -o BUNDLE)")
        return cls.load(path, lists)

    def reload(self) -> "Engine":
        """A new engine on this one's rule directory and list store as they are now; this one is unchanged.

        Swap your reference to the new engine in one assignment: checks already running finish on
        this one, and each determination's digests say which answered.  A bad rule file raises
        here, and this engine goes on serving.
        """
        if self.sources is None:
            raise ChipgateError("this engine was not loaded from a rule directory, so it cannot be reloaded")
        return type(self).load(*self.sources)

    @property
    def lists(self) -> list[ListSnapshot]:
        """The lists parties are screened against (opens the list store)."""
        return self._screening.lists

    @property
    def matcher(self) -> Matcher | None:
        """The screening algorithm (opens the list store)."""
        return self._screening.matcher

    def open_lists(self) -> "Engine":
        """Open the list store now rather than at the first check or screening that needs it, and read
        the whole screening index (a single check reads only the parts its names need): a service does
        so before it answers, a batch before it forks its workers, so that they share one copy."""
        self._screening.open()
        if self._screening.screener is not None:
            self._screening.screener.read_all()
        return self

    @property
    def rules(self) -> dict[str, LoadedRule]:
        return self._compiled.rules

    @property
    def rulebook(self) -> RuleBook:
        return self._compiled.book

    def classify(self, chip: dict[str, Any], on: dt.date | None = None) -> Classification:
        """ECCN of an IC from its parameters, as the bundle's rules classify it on ``on``."""
        from . import authoring

        return authoring.classify(self, chip, on)

    def with_screener(self, screener) -> "Engine":
        """This bundle, its network shared, screening parties with ``screener`` (the cases' stubs)."""
        other = copy.copy(self)
        other._screening = self._screening.with_screener(screener)
        return other

    def run_cases(self) -> list[CaseOutcome]:
        """Run the test cases written beside the rules."""
        from . import authoring

        return authoring.run_cases(self)

    def check(self, txn: Transaction | dict[str, Any], as_of: dt.date | None = None) -> Determination:
        """Judge ``txn`` by the rules in force on ``as_of`` (default: the transaction's date)."""
        if not isinstance(txn, Transaction):
            txn = validate_order(txn)
        day = as_of or txn.date
        # the order's items and parties read once: a model's attribute is looked up through its __getattr__ hook
        items, txn_parties = txn.items, txn.parties
        values_by_eccn = order_values_by_eccn(txn)
        lines = [line_values(txn, item, day, lambda code: self._resolver.canonical(code, day), values_by_eccn)
                 for item in items]
        # a line whose ECCN lacks its paragraph is checked as each paragraph it may be (extra lines)
        readings = [(i, eccn) for i, values in enumerate(lines)
                    for eccn in self._paragraphs.readings(values.get("item.eccn", ""))[1:]]
        checked = lines + [{**lines[i], "item.eccn": eccn} for i, eccn in readings]
        screening = self._screening
        screens = screening.parties(txn_parties, day, lines)
        parties = [party_values(p, s.facts()) for p, s in zip(txn_parties, screens)]
        findings, derivations, outcomes, keys = self._evaluate(checked, parties, screens, day)
        findings += self._before_rules(day, len(checked))
        findings += self._unconfirmed_ends(findings, day)
        warnings = self._warnings(findings, day, bool(txn_parties))
        warnings += [f"{p.role} {p.name!r} resembles {m.list} entry {m.entry!r} (score {m.score:.2f}); {m.allowed}"
                     for p, s in zip(txn_parties, screens) for m in s.matches if m.allowed]
        warnings += [f"{p.role} {p.name!r} {note}" for p, s in zip(txn_parties, screens) for note in s.not_in_force]
        warnings += screening.screener.stale(day) if screening.screener and txn_parties else []
        warnings += [f"line {i}: no rule determined whether the item is subject to the EAR"
                     for i, values in enumerate(lines) if "item.subject_to_ear" not in values]
        grouped = by_line(findings)
        results = [self._line_result(i, items[i].sku, checked[i], grouped.get(i, []), derivations[i], outcomes[i],
                                     keys and keys[i]) for i in range(len(lines))]
        if readings:
            results, findings = self._decisions.most_restrictive_readings(txn, checked, readings, results, findings,
                                                                          derivations)
        findings = needed_exceptions(findings)
        if CN in self.jurisdictions and not any("cn_reach" in values for values in lines) \
                and not any(f.jurisdiction == CN and f.enforced for f in findings):
            findings.append(_not_reached())
        decision, jurisdictions = self._decisions.order(results)
        return _new_determination({
            "transaction_id": txn.id, "decision": decision, "as_of": day, "ruleset": self.ruleset, "lines": results,
            "findings": findings, "warnings": warnings, "lists": screening.lists, "jurisdictions": jurisdictions,
            "matcher": screening.matcher,
            "screenings": [s.record(p.role, p.name, screening.screened_lists) for p, s in zip(txn_parties, screens)]})

    def check_many(self, txns: Iterable[Transaction | dict[str, Any]],
                   as_of: dt.date | None = None) -> Iterator[Determination | InputError]:
        """Check each transaction in turn, as it is needed: yield its determination or, for one that is
        not valid, the InputError that says why (``record`` is its 1-based position), so that one bad
        order costs no other its answer.  Other errors (the engine failing) are raised."""
        for number, txn in enumerate(txns, start=1):
            try:
                yield self.check(txn, as_of=as_of)
            except InputError as exc:
                exc.record = number
                yield exc

    def screen(self, name: str, country: str | None = None, address: str | None = None,
               as_of: dt.date | None = None, explain: bool = False) -> ScreeningResult:
        """Screen one name against the imported lists; the rule packs decide what a match means.
        ``explain``: say how the matcher scored it (words, listed spelling, country and address evidence)."""
        if not name or not name.strip():
            raise InputError("name: empty")
        for field, text in (("name", name), ("address", address)):
            if text and len(text) > MAX_TEXT:  # as a party's: screening time grows with the text
                raise InputError(f"{field}: {len(text):,} characters, more than the {MAX_TEXT:,} it may have")
        try:
            country = check_country(country) if country else None
        except ValueError as exc:
            raise InputError(f"country: {exc}") from None
        day = as_of or dt.date.today()
        screening = self._screening
        screener = screening.screener
        screen = screener.screen(name, country, address, day) if screener else PartyScreen(screened=False)
        party = present({"party.role": "end_user", "party.name": name, "party.country": country, **screen.facts()})
        # an EAR99 U.S.-origin line, one party and no destination: only party rules can fire
        line = {"export_from": "US", "item.origin": "US", "item.eccn": "EAR99", "party_count": 1.0}
        # each name screened would be a line outcome of its own, pushing orders' lines out of the memo
        findings, *_ = self._evaluate([line], [party], [screen], day, remember=False)
        effective = [f for f in findings if f.party is not None and f.enforced]
        matches = [ScreenMatch(list=m.list, entry=m.entry, entry_id=m.entry_id, matched_name=m.matched_name,
                               score=m.score, strength=m.strength, country=m.country, effect=f.effect,
                               citation=f.citation, rule=f.rule, review_policy=m.review_policy, allowed=m.allowed)
                   for f in effective for m in f.matches]
        matches.sort(key=lambda m: (-m.score, -m.effect.rank))
        decision = Decision.most_restrictive([f.effect for f in effective]) or Decision.NLR
        # what holds the name without a match behind it (a list missing, a name that names no one)
        unmatched = [f"{f.title} ({f.rule}): " + "; ".join(b for b in f.because if b.startswith("party."))
                     for f in effective if not f.matches]
        return ScreeningResult(query=name, country=country, decision=decision, matches=matches, lists=screening.lists,
                               matcher=screening.matcher,
                               explanation=screener.explain(name, country, address) if explain and screener else [],
                               warnings=self._warnings(findings, day, True) + unmatched
                               + [f"{name!r} {note}" for note in screen.not_in_force]
                               + (screener.stale(day) if screener else []))

    def _evaluate(self, lines: list[Values], parties: list[Values], screens: list[PartyScreen], day: dt.date,
                  remember: bool = True):
        """The findings of ``lines`` (the engine's order: stratum by stratum, line by line, then conflicts),
        each line's derivations, outcome and outcome key (keys None if not remembered); derived facts are set
        in ``lines``.  A line's outcome comes from the memo when it knows it, else from the rules (and is
        remembered unless ``remember`` is False); either way the models are this check's own."""
        keys = self._memo.outcome_keys(lines, parties, day, self._resolver.first_day(day), self._outcome_fields) \
            if remember else None
        outcomes = list(map(self._memo.outcome, keys)) if keys else [None] * len(lines)
        if None in outcomes:  # lines new to the memo, or all when nothing is remembered
            new = [i for i, outcome in enumerate(outcomes) if outcome is None]
            for i, outcome in zip(new, self._outcomes([lines[i] for i in new], parties, day)):
                outcomes[i] = outcome
            if keys:
                with self._network.lock:
                    for i in new:
                        self._memo.keep(keys[i], outcomes[i])
        return *self._replay(outcomes, lines, parties, screens, day), outcomes, keys

    def _outcomes(self, lines: list[Values], parties: list[Values], day: dt.date) -> list[LineOutcome]:
        """What the rules make of each line, in immutable parts (see LineOutcome)."""
        line_answers = [self._facts.answers(values, day) for values in lines]
        party_answers = [self._facts.answers(values, day) for values in parties]
        fired, derivations, conflicts, derived = self._run(lines, line_answers, parties, party_answers, day)
        rules = self._compiled.rules
        return [LineOutcome(
            derived=tuple(chain.from_iterable(derived[i].items())), derivations=tuple(derivations[i]),
            findings=tuple((stratum, rule_id, party, None if party is not None
                            else tuple(self._line_reasons(rules[rule_id], values, line_answers[i])))
                           for (rule_id, party), stratum in fired[i].items()
                           if rules[rule_id].rule.then.decision is not None),
            conflicts=tuple(conflicts[i]))
            for i, values in enumerate(lines)]

    def _replay(self, outcomes: list[tuple], lines: list[Values], parties: list[Values],
                screens: list[PartyScreen], day: dt.date) -> tuple[list[Finding], list[list[Derivation]]]:
        """The lines' outcomes made into new findings and derivations, in the engine's order; a finding
        joined with a party is explained here, from the party's values and screening."""
        rules, derived_by_rule = self._compiled.rules, self._derived_by
        found: list[tuple[int, Finding]] = []
        conflicts: list[tuple[int, Finding]] = []
        derivations: list[list[Derivation]] = []
        party_answers = None
        for i, (derived, derived_by, line_findings, line_conflicts, _) in enumerate(outcomes):
            values = lines[i]
            pairs = iter(derived)
            values.update(zip(pairs, pairs))
            # the rule's facts and the because are copied by the validation, as every list and dict a model is given
            derivations.append([_new_derivation({**derived_by_rule[rule_id], "because": because})
                                for rule_id, because in derived_by])
            line_answers = None
            for stratum, rule_id, party, because in line_findings:
                if party is None:
                    found.append((stratum, self._finding(rule_id, i, because, day)))
                    continue
                if party_answers is None:
                    party_answers = [self._facts.answers(p, day) for p in parties]
                if line_answers is None:  # the same as the engine's: each fact's answers are its value's
                    line_answers = self._facts.answers(values, day)
                because = self._line_reasons(rules[rule_id], values, line_answers)
                found.append((stratum, self._finding(rule_id, i, because, day,
                                                     (parties[party], party_answers[party], screens[party]))))
            if line_conflicts:
                conflicts += [(stratum, self._conflict(i, rules[first], rules[second]))
                              for stratum, first, second in line_conflicts]
        found.sort(key=itemgetter(0))  # stable: line by line within a stratum, each line's in its own order
        conflicts.sort(key=itemgetter(0))
        return [f for _, f in found] + [f for _, f in conflicts], derivations

    def _line_result(self, index: int, sku: str, values: Values, line_findings: list[Finding],
                     derivations: list[Derivation], outcome: tuple, key: tuple | None) -> LineResult:
        """``Decisions.line_result``, or the verdict the line's outcome holds, kept in the memo under ``key``
        (None: not remembered).  A remembered line gets the same findings on every check (its outcome's, and
        those of its day: no rule in force, unconfirmed ends), which the verdict checks by their rules."""
        decisions = self._decisions
        verdict = outcome[-1]
        if verdict is not None and (result := decisions.concluded(index, sku, values, line_findings, derivations,
                                                                  verdict)) is not None:
            return result
        result = decisions.line_result(index, sku, values, line_findings, derivations)
        if key is not None:
            with self._network.lock:
                self._memo.decided(key, outcome, decisions.verdict(result, line_findings))
        return result

    def _warnings(self, findings: list[Finding], day: dt.date, has_parties: bool) -> list[str]:
        warnings = [f"{f.rule} ({f.citation}) is codified but not enforced on {day}: {f.message}".rstrip(": ")
                    for f in findings if not f.enforced]
        if has_parties and self._screening.screener is None:
            warnings.append(self._screening.unscreened)
        return warnings

    def _run(self, lines: list[Values], answers: list[Answers], parties: list[Values], party_answers: list[Answers],
             day: dt.date):
        """Assert the facts stratum by stratum; derived facts (and their answers) feed the next stratum.
        A line the memo knows is not sent: its firings are replayed, through the same bookkeeping.

        Per line: its firings ((rule id, party index) -> the stratum it fired in, in order), its derivations
        ((rule id, because)), its conflicts ((stratum, rule id, rule id)) and the facts derived (also set
        in ``lines``)."""
        fired: list[dict[tuple[str, int | None], int]] = [{} for _ in lines]  # ordered sets
        rules = self._compiled.rules
        derivations: list[list[tuple[str, tuple[str, ...]]]] = [[] for _ in lines]
        conflicts: list[list[tuple[int, str, str]]] = [[] for _ in lines]
        derived: list[dict] = [{} for _ in lines]
        admits = self._compiled.line_filter.admits if self._prefilter else lambda stratum, view, day: True
        ordinal = day.toordinal()
        views = [self._facts.engine_view(values, answers[i]) for i, values in enumerate(lines)]
        party_facts = [self._facts.party_fact(j, values, party_answers[j]) for j, values in enumerate(parties)]
        keys = self._memo.keys(views, lines, party_facts, day, self._resolver.first_day(day))
        known = [self._memo.get(key) for key in keys] if keys else [None] * len(lines)
        unknown = [i for i, answer in enumerate(known) if answer is None]
        learnt: dict[int, list[Firings]] = {i: [] for i in unknown}
        with self._network.session() if unknown else nullcontext() as session:
            batch = list(party_facts)  # with the first line facts sent: no rule fires on a party alone
            for stratum in range(self._compiled.strata):
                if unknown:
                    found: dict[int, list[tuple[str, int | None]]] = defaultdict(list)
                    sent = [self._facts.line_fact(i, stratum, views[i], ordinal) for i in unknown
                            if admits(stratum, views[i], ordinal)]
                    if sent:
                        batch += sent
                        for rule_id, matched in session.assert_facts(batch):
                            found[matched["line"]["line"]].append(
                                (rule_id, matched["party"]["index"] if "party" in matched else None))
                        batch = []
                    for i in unknown:  # durable-rules fires a rule once per satisfied branch of an "any"
                        learnt[i].append(canonical(found[i], self._rule_order) if i in found else ())
                derivers: dict[int, list[LoadedRule]] = {}
                for i, answer in enumerate(known):
                    for rule_id, party in (learnt[i] if answer is None else answer)[stratum]:
                        fired[i].setdefault((rule_id, party), stratum)
                        rule = rules[rule_id]
                        if rule.derive:
                            if earlier := derivers.setdefault(i, []):
                                conflicts[i] += [(stratum, first.id, rule.id) for first in earlier
                                                 if _disagree(first, rule)]
                            earlier.append(rule)
                            derivations[i].append((rule.id, tuple(self._because(rule.when, lines[i], answers[i]))))
                for i, derivers_of_line in derivers.items():
                    fields = _merge(lines[i], derivers_of_line)
                    lines[i].update(fields)
                    derived[i].update(fields)
                    new_answers = self._facts.answers(lines[i], day, fields)
                    if i in learnt:  # a line the memo answers is never sent: its view is done with
                        self._facts.update_view(views[i], fields, new_answers, answers[i])
                    answers[i].merge(new_answers)
            for i in unknown if keys else ():  # under the network's lock: one writer at a time
                self._memo.put(keys[i], tuple(learnt[i]))
        return fired, derivations, conflicts, derived

    def _line_reasons(self, rule: LoadedRule, values: Values, answers: Answers) -> list[str]:
        """Why a finding of ``rule`` holds on a line: its conditions, and why the line's values are in its sets."""
        return self._because(rule.when, values, answers, sources=True)

    def _finding(self, rule_id: str, line: int, reasons: list[str] | tuple[str, ...], day: dt.date,
                 party_facts=None) -> Finding:
        """The finding of ``rule_id`` on ``line``, for ``reasons`` (the line's: a party's are added to them)."""
        said = self._said[rule_id]
        role, matches, policy = None, [], said["review_policy"]
        if party_facts is not None:
            rule = self._compiled.rules[rule_id]
            values, answers, screen = party_facts
            reasons = [*reasons, *self._because(rule.for_party, values, answers)]
            role = values["party.role"]
            matches = self._screening.matches_behind(rule.for_party, screen, day)
            policy = policy or next((m.review_policy for m in matches if m.review_policy), None)
        return _new_finding({**said, "line": line, "party": role, "review_policy": policy,
                            "enforced": self._enforced(rule_id, day), "because": reasons, "matches": matches})

    def _enforced_of(self, rule_id: str, day: dt.date) -> bool:
        return enforced_on(self.rules[rule_id].rule, day)

    def _before_rules(self, day: dt.date, lines: int) -> list[Finding]:
        """A date before the bundle's first rule holds every line: no rule of the bundle can judge it."""
        if self._first_day is None or day >= self._first_day:
            return []
        return [Finding(rule=BEFORE_RULES, citation="chipgate rule bundle", effect=Decision.HOLD, line=i,
                        title="No rule in force on this date",
                        because=[f"date {day} is before {self._first_day}, when the bundle's earliest rule "
                                 "takes effect"],
                        message=f"No rule of bundle {self.ruleset.version} is in force on {day}; judge this "
                                "transaction by the regulations of its date.")
                for i in range(lines)]

    def _unconfirmed_ends(self, findings: list[Finding], day: dt.date) -> list[Finding]:
        """A rule found on or after an end date whose extension is reported but unconfirmed: the codified
        answer stands, and a HOLD asks someone to check whether the date moved."""
        held: dict[tuple, Finding] = {}
        for f in findings:
            for window in self._unconfirmed.get(f.rule, ()):
                if day < window.unconfirmed_end or (f.rule, f.line, f.party) in held:
                    continue
                reviewed = self.rulebook.meta.reviewed
                held[(f.rule, f.line, f.party)] = Finding(
                    rule=UNCONFIRMED_RULE, citation=f.citation, effect=Decision.HOLD, line=f.line, party=f.party,
                    jurisdiction=f.jurisdiction, title="Past an end date whose extension is unconfirmed",
                    because=[f"{f.rule}: the window ending {window.unconfirmed_end} ({window.reason}) is marked "
                             f"until_confirmed: false; the order is dated {day}"],
                    message=f"{f.rule} is applied as codified (the window ended on {window.unconfirmed_end}), "
                            "but an extension is reported and not confirmed by a published text"
                            + (f" as of the bundle's last review on {reviewed}" if reviewed else "")
                            + ": review whether the date moved before relying on this answer.")
        return list(held.values())

    def _conflict(self, line: int, first: LoadedRule, second: LoadedRule) -> Finding:
        return Finding(rule=CONFLICT_RULE, citation="chipgate rule bundle", effect=Decision.HOLD, line=line,
                       message=f"rules disagree: {first.id} derives {first.derive}, {second.id} derives "
                               f"{second.derive}; fix the rule pack before relying on this line",
                       title="Conflicting derived facts")


def _frozen(loaded):
    """``loaded``, moved with everything else alive out of the garbage collector's reach (see Engine.load)."""
    gc.collect()
    gc.freeze()
    return loaded


def _finding_said(rule: LoadedRule) -> dict[str, Any]:
    """What a finding of ``rule`` says of the rule (its review policy may also come from a party's matches)."""
    then = rule.rule.then
    return {"rule": rule.id, "citation": rule.rule.citation, "effect": then.decision,
            "review_policy": then.review_policy, "license_exception": then.license_exception,
            "message": then.message.strip(), "title": rule.rule.title, "jurisdiction": rule.jurisdiction,
            "sources": rule.rule.sources}


_NOT_REACHED = {
    "rule": NOT_REACHED_RULE, "jurisdiction": CN, "effect": Decision.NOT_SUBJECT,
    "citation": "Export Control Law of the PRC, art. 2; MOFCOM Announcement No. 61 of 2025",
    "title": "PRC export control does not reach the order",
    "because": ["no line is exported from China, of PRC origin or with PRC-origin content (cn_content_value)"],
    "message": "Nothing on the order leaves China, was made in China or contains PRC-origin content: "
               "not subject to PRC export control."}


def _not_reached() -> Finding:
    return _new_finding(_NOT_REACHED)  # a finding of its own for every order: the validation copies the list
