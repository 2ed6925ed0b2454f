"""Order rules into strata so that forward chaining is deterministic.

A rule that reads a fact another rule derives runs in a later stratum; within a stratum every
rule sees the facts as they stood when the stratum began.  The engine asserts one stratum at a
time, so a rule testing that a fact is missing sees the final answer of every rule that could
have derived it.

Alternatives are peers, not dependants: rules that guard on the same missing fact
(``item.eccn: {exists: false}``) and derive it, or derive something else in its place (the
classifications of one item), run side by side.  The engine holds a line if two of them fire.
"""
from __future__ import annotations

from ..errors import Problem, RuleError
from ..rulebook.loader import LoadedRule


def stratify(rules: list[LoadedRule]) -> dict[str, int]:
    derivers: dict[str, list[LoadedRule]] = {}
    for rule in rules:
        for name in rule.derive:
            derivers.setdefault(name, []).append(rule)

    def peers(rule: LoadedRule, other: LoadedRule, field: str) -> bool:
        # alternatives: both derive in place of the same missing fact; a rule that only reads waits
        return bool(rule.derive) and field in rule.guards() and field in other.guards()

    depends = {
        rule.id: {d.id for f in rule.reads() for d in derivers.get(f, ()) if d.id != rule.id and not peers(rule, d, f)}
        for rule in rules
    }
    by_id = {r.id: r for r in rules}
    level: dict[str, int] = {}
    visiting: list[str] = []

    def visit(rule_id: str) -> int:
        if rule_id in level:
            return level[rule_id]
        if rule_id in visiting:
            cycle = visiting[visiting.index(rule_id):] + [rule_id]
            rule = by_id[rule_id]
            raise RuleError([Problem(rule.file, rule.line, "derivation cycle: " + " -> ".join(cycle), rule_id,
                                     code="rule.derivation-cycle")])
        visiting.append(rule_id)
        level[rule_id] = 1 + max((visit(d) for d in depends[rule_id]), default=-1)
        visiting.pop()
        return level[rule_id]

    for rule in rules:
        visit(rule.id)
    return level
