"""Guards for durable-rules' hard limits, checked at compile time.

The engine does not fail cleanly at these limits: 512 children under one alpha node makes
``create_ruleset`` or a later assert hang forever, and the other limits surface as cryptic C error
codes at run time.  We refuse such a bundle with an explanation instead.
"""
from __future__ import annotations

import json

from ..errors import Problem, RuleError
from ..rulebook.loader import LoadedRule

MAX_CHILDREN = 256      # engine hangs at 512; we keep half of that as margin
MAX_SEQUENCE = 32       # expression-sequence entries per pattern (each $and/$or costs 2)
MAX_RULES = 4096
MAX_PROPERTIES = 240    # 255 per message, less sid, id and headroom
MAX_PATTERNS = 16


def check_limits(compiled: dict[str, dict], rules: dict[str, LoadedRule], line_properties: int,
                 party_properties: int) -> None:
    problems: list[Problem] = []

    def problem(rule_id: str | None, message: str) -> None:
        rule = rules.get(rule_id) if rule_id else None
        problems.append(Problem(rule.file if rule else "<bundle>", rule.line if rule else None, message, rule_id))

    if len(compiled) > MAX_RULES:
        problem(None, f"{len(compiled)} rules; durable-rules holds at most {MAX_RULES} per ruleset")
    for name, props in (("line", line_properties), ("party", party_properties)):
        if props > MAX_PROPERTIES:
            problem(None, f"a {name} fact would carry {props} properties; the engine allows {MAX_PROPERTIES}")

    children: dict[tuple, set[str]] = {}
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
            tests = expr["$and"] if "$and" in expr else [expr]
            path: tuple = (alias,)
            for test in tests:
                key = json.dumps(test, sort_keys=True)
                children.setdefault(path, set()).add(key)
                path = path + (key,)
    for path, keys in children.items():
        if len(keys) > MAX_CHILDREN:
            problem(None, f"{len(keys)} distinct tests share one engine node (limit {MAX_CHILDREN}); "
                          "move long value lists into named sets")
    if problems:
        raise RuleError(problems)


def _sequence_cost(expr) -> int:
    if isinstance(expr, dict):
        for connector in ("$and", "$or"):
            if connector in expr:
                return 2 + sum(_sequence_cost(e) for e in expr[connector])
    return 1
