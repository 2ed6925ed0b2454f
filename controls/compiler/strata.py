"""Order rules into strata so that forward chaining is deterministic.

A rule that reads a fact another rule derives runs in a later stratum; within a stratum every
rule sees the facts as they stood when the stratum began.  Rules that derive a field and guard on
that same field (``item.eccn: {exists: false}`` then ``derive: {item.eccn: ...}``) are peers, not
dependants.  The engine asserts one stratum at a time, so a rule testing that a fact is missing
sees the final answer of every rule that could have derived it.
"""
from __future__ import annotations

from ..errors import Problem, RuleError
from ..rulebook.loader import LoadedRule


def stratify(rules: list[LoadedRule]) -> dict[str, int]:
    derivers: dict[str, list[LoadedRule]] = {}
    for rule in rules:
        for name in rule.derive:
            derivers.setdefault(name, []).append(rule)

    depends = {
        rule.id: {d.id for f in rule.reads() if f not in rule.derive for d in derivers.get(f, ()) if d.id != rule.id}
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
            raise RuleError([Problem(rule.file, rule.line, "derivation cycle: " + " -> ".join(cycle), rule_id)])
        visiting.append(rule_id)
        level[rule_id] = 1 + max((visit(d) for d in depends[rule_id]), default=-1)
        visiting.pop()
        return level[rule_id]

    for rule in rules:
        visit(rule.id)
    return level
