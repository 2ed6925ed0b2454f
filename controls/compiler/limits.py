"""Guards for durable-rules' hard limits, checked at compile time.

The engine does not fail cleanly at these limits: 512 children under one alpha node makes
``create_ruleset`` or a later assert hang forever, and the other limits surface as cryptic C error
codes at run time.  We refuse such a bundle with an explanation instead.

Children are counted the way durable-rules' ``createAlpha`` (rete.c) builds its network: every
pattern starts at one shared root; a test is a child of the node before it, shared with every
identical test there; each branch of an ``$or`` is such a child of the node before the ``$or``,
and the branches join again in a new node of their own (linked from each branch's end as a
``$nex``-style child, which lives in a separate, smaller list, as do ``$nex`` tests); the last
node of a pattern links to its rule's beta node.
"""
from __future__ import annotations

import itertools

import orjson

from ..errors import Problem, RuleError
from ..rulebook.loader import LoadedRule

MAX_CHILDREN = 256      # engine hangs at 512; we keep half of that as margin
MAX_NEX_CHILDREN = 127  # NEXT_LIST_LENGTH: $nex tests and $or joins below one node (error 107 beyond)
MAX_BETAS = 255         # BETA_LIST_LENGTH: rules ending on one node (error 108 beyond)
MAX_SEQUENCE = 32       # expression-sequence entries per pattern (each $and/$or costs 2)
MAX_RULES = 4096
MAX_PROPERTIES = 240    # 255 per message, less sid, id and headroom
MAX_PATTERNS = 16


def check_limits(compiled: dict[str, dict], rules: dict[str, LoadedRule], line_properties: int,
                 party_properties: int) -> None:
    problems: list[Problem] = []

    def problem(rule_id: str | None, message: str) -> None:
        rule = rules.get(rule_id) if rule_id else None
        problems.append(Problem(rule.file if rule else "<bundle>", rule.line if rule else None, message, rule_id,
                                code="rule.engine-limit"))

    if len(compiled) > MAX_RULES:
        problem(None, f"{len(compiled)} rules; durable-rules holds at most {MAX_RULES} per ruleset")
    for name, props in (("line", line_properties), ("party", party_properties)):
        if props > MAX_PROPERTIES:
            problem(None, f"a {name} fact would carry {props} properties; the engine allows {MAX_PROPERTIES}")

    network = _Network()
    for rule_id, rule in compiled.items():
        patterns = rule["all"]
        if len(patterns) > MAX_PATTERNS:
            problem(rule_id, f"joins {len(patterns)} facts; at most {MAX_PATTERNS}")
        for pattern in patterns:
            (alias, expr), = pattern.items()
            cost = _sequence_cost(expr)
            if cost > MAX_SEQUENCE:
                problem(rule_id, f"the {alias} condition is too complex for the engine ({cost} > {MAX_SEQUENCE} "
                                 "expression slots); split the rule or move a list into a named set")
            network.add(network.walk(expr, network.ROOT, rule_id), (rule_id, alias), "betas", rule_id)
    for kind, limit, what in (("tests", MAX_CHILDREN, "distinct tests share one engine node"),
                              ("nex", MAX_NEX_CHILDREN, "missing-fact tests and ends of an any share one engine node"),
                              ("betas", MAX_BETAS, "rules end on the same engine node")):
        for added in network.children[kind].values():
            if len(added) > limit:
                rule_id = list(added.values())[limit]  # the rule that went past the limit
                problem(rule_id, f"{len(added)} {what} (limit {limit}; each branch of an any counts); "
                                 "move long value lists into named sets or give the rules distinct conditions")
    if problems:
        raise RuleError(problems)


def _sequence_cost(expr: dict) -> int:
    """One slot per test, two per ``$and``/``$or`` (a call per ``$and``/``$or``, not one per test)."""
    parts = expr.get("$and", expr.get("$or"))
    if parts is None:
        return 1
    cost = 2
    for part in parts:
        cost += _sequence_cost(part) if "$and" in part or "$or" in part else 1
    return cost


class _Network:
    """The alpha nodes a ruleset creates, as (node -> {child: first rule adding it}) per kind of link.

    A node is a number: a test's node is the one its parent and its test text name (``_tests``), shared
    like the engine shares it; the join of an ``$or`` is a node of its own."""

    ROOT = 0

    def __init__(self):
        self.children: dict[str, dict[object, dict[object, str]]] = {"tests": {}, "nex": {}, "betas": {}}
        self._tests: dict[tuple[int, bytes], int] = {}
        self._nodes = itertools.count(1)

    def add(self, parent, child, kind: str, rule_id: str):
        self.children[kind].setdefault(parent, {}).setdefault(child, rule_id)
        return child

    def walk(self, expr: dict, node: int, rule_id: str) -> int:
        """Add the nodes ``expr`` creates below ``node``; return the node it ends on."""
        if "$and" in expr:
            for test in expr["$and"]:
                node = self.walk(test, node, rule_id)
            return node
        if "$or" in expr:
            join = next(self._nodes)  # never shared
            for branch in expr["$or"]:
                self.add(self.walk(branch, node, rule_id), join, "nex", rule_id)
            return join
        test = (node, orjson.dumps(expr, option=orjson.OPT_SORT_KEYS))
        child = self._tests.get(test)
        if child is None:  # a new node; one already there is already its parent's child
            child = self._tests[test] = self.add(node, next(self._nodes), "nex" if "$nex" in expr else "tests",
                                                 rule_id)
        return child
