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
    """Each rule's stratum: one more than the highest stratum of the rules deriving a fact it reads.

    Linear in the rules and the facts they read: a rule depends on the *group* of rules deriving a
    fact (all of them, or, for an alternative, those not guarding on the same missing fact), and a
    group's stratum is computed once, however many rules read that fact.
    """
    derivers: dict[str, list[LoadedRule]] = {}
    for rule in rules:
        for name in rule.derive:
            derivers.setdefault(name, []).append(rule)
    # a group: (field, True) = every rule deriving the field; (field, False) = those not guarding on it
    members: dict[tuple, list[LoadedRule]] = {}
    for name, found in derivers.items():
        members[(name, True)] = found
        members[(name, False)] = [d for d in found if name not in d.guards()]

    def groups_of(rule: LoadedRule) -> list[tuple]:
        found = []
        for name in rule.reads():
            if name not in derivers:
                continue
            # alternatives: both derive in place of the same missing fact; a rule that only reads waits
            group = (name, not (rule.derive and name in rule.guards()))
            if name in rule.derive and (group[1] or name not in rule.guards()):  # not its own dependant
                group = (name, group[1], rule.id)
                members.setdefault(group, [d for d in members[group[:2]] if d.id != rule.id])
            found.append(group)
        return found

    by_id = {r.id: r for r in rules}
    level: dict = {}
    visiting: list = []

    def visit(node) -> int:
        """The stratum of a rule (an id) or the highest of a group's members (a tuple)."""
        if node in level:
            return level[node]
        if node in visiting:
            cycle = [n for n in visiting[visiting.index(node):] if isinstance(n, str)] + [node]
            rule = by_id[cycle[0]]
            raise RuleError([Problem(rule.file, rule.line, "derivation cycle: " + " -> ".join(cycle), rule.id,
                                     code="rule.derivation-cycle")])
        visiting.append(node)
        if isinstance(node, str):
            level[node] = 1 + max((visit(g) for g in groups_of(by_id[node])), default=-1)
        else:
            level[node] = max((visit(d.id) for d in members[node]), default=-1)
        visiting.pop()
        return level[node]

    for rule in rules:
        visit(rule.id)
    return {rule.id: level[rule.id] for rule in rules}
