"""Compile a RuleBook into a durable-rules ruleset: strata, probes, date windows, limit checks."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..cachefile import gc_paused
from ..facts.catalog import PARTY_FIELDS
from ..rulebook.conditions import Leaf
from ..rulebook.loader import LoadedRule, RuleBook
from .expressions import Probe, ProbeRegistry, to_durable
from .limits import check_limits
from .prefilter import StratumFilter, gate_of
from .strata import stratify

__all__ = ["CompiledBundle", "Probe", "compile_rulebook"]

LINE_BOOKKEEPING = 5  # kind, id, line, stratum, day


@dataclass(frozen=True)
class CompiledBundle:
    book: RuleBook
    rules: dict[str, LoadedRule]
    strata: int
    probes: dict[tuple[str, str, object], Probe]  # probe_id(leaf) -> the question asked of a fact
    probe_keys: dict[Leaf, str]  # a probe leaf -> the key of its answer in the facts
    network: dict[str, dict]
    fields_read: frozenset[str]  # the facts the network tests itself; only these (and probe answers) reach it
    line_reads: tuple[frozenset[str], ...] = ()  # per stratum: the line properties its rules test
    probes_sent_no: frozenset[str] = frozenset()  # the probes whose every answer is sent, not only a yes
    line_filter: StratumFilter = StratumFilter([])  # per stratum: whether a line fact can match any rule

    @property
    def version(self) -> str:
        return self.book.meta.version


def compile_rulebook(book: RuleBook) -> CompiledBundle:
    with gc_paused():  # some 10^4 objects a hundred rules, all kept: collector passes would only slow it down
        return _compile(book)


def _compile(book: RuleBook) -> CompiledBundle:
    stratum_of = stratify(book.rules)
    probes = ProbeRegistry(leaf for rule in book.rules for leaf in rule.leaves)
    network = {rule.id: _compile_rule(rule, stratum_of[rule.id], probes) for rule in book.rules}
    party_probes = sum(p.field in PARTY_FIELDS for p in probes.probes.values())
    rules = {rule.id: rule for rule in book.rules}
    line_reads, line_filter = _line_strata(network, stratum_of)
    # a line fact carries only what its stratum's rules test (FactBuilder.line_fact), and its bookkeeping
    line_properties = max((len(reads) for reads in line_reads), default=0) + LINE_BOOKKEEPING
    check_limits(network, rules, line_properties, len(PARTY_FIELDS) + party_probes + 3)
    return CompiledBundle(
        book=book, rules=rules,
        strata=1 + max(stratum_of.values(), default=-1),
        probes=dict(probes.probes),
        probe_keys=dict(probes.keys),
        network=network,
        fields_read=frozenset(leaf.field for rule in book.rules for leaf in rule.leaves if not leaf.is_probe),
        line_reads=line_reads,
        probes_sent_no=probes.sent_no,
        line_filter=line_filter,
    )


def _line_strata(network: dict[str, dict], stratum_of: dict[str, int]) -> tuple[tuple[frozenset[str], ...],
                                                                                 StratumFilter]:
    """Per stratum, the properties its rules' line patterns test (a line fact need carry no other: the
    engine parses every property it is sent, so the facts stay small), and the gates of those patterns."""
    strata = 1 + max(stratum_of.values(), default=-1)
    reads: list[set[str]] = [set() for _ in range(strata)]
    gates: list[list] = [[] for _ in range(strata)]
    for rule_id, rule in network.items():
        for pattern in rule["all"]:
            if "line" in pattern:
                _add_properties((pattern["line"],), reads[stratum_of[rule_id]])
                gates[stratum_of[rule_id]].append(gate_of(pattern["line"]))
    return tuple(frozenset(r) for r in reads), StratumFilter(gates)


def _add_properties(exprs: Iterable[dict], found: set[str]) -> None:
    """Add to ``found`` the properties ``exprs`` test: one call per ``$and``/``$or``, not one per test."""
    for expr in exprs:
        for key, value in expr.items():
            if key == "$and" or key == "$or":
                _add_properties(value, found)
            elif key[0] == "$":
                found.update(value)
            else:
                found.add(key)


def _compile_rule(rule: LoadedRule, stratum: int, probes: ProbeRegistry) -> dict:
    # Shared discriminators first: every rule hangs off the same few alpha nodes, which keeps
    # durable-rules' per-node fan-out far below its limit however many rules the bundle has.
    tests: list[dict] = [{"kind": "line"}, {"stratum": stratum}]
    window = rule.rule.effective
    tests.append({"$gte": {"day": window.start.toordinal()}})
    if window.until is not None and window.until_confirmed:  # past an unconfirmed end it fires, held
        tests.append({"$lt": {"day": window.until.toordinal()}})
    tests.extend(_flatten(to_durable(rule.when, probes)))
    patterns = [{"line": {"$and": tests}}]
    if rule.for_party is not None:
        party_tests = [{"kind": "party"}, *_flatten(to_durable(rule.for_party, probes))]
        patterns.append({"party": {"$and": party_tests}})
    return {"all": patterns}


def _flatten(expr: dict) -> list[dict]:
    """The conjuncts of ``expr``, nested conjunctions included: one flat sequence of tests."""
    if len(expr) != 1 or "$and" not in expr:
        return [expr]
    return [test for part in expr["$and"] for test in _flatten(part)]
