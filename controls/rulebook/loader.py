"""Load a rule-pack directory into a RuleBook, reporting every problem with its file and line."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..countries import iso_alpha2
from ..errors import Problem, RuleError
from ..facts.catalog import DERIVABLE, END_USE_TAGS, LINE_FIELDS, PARTY_FIELDS, suggest, unknown_word
from ..models import check_eccn
from . import conditions
from .schema import Alias, BundleMeta, Case, Designation, NamedSet, Rule, RuleFile
from .yamlsource import YamlError, line_of, load_yaml

BUNDLE_FILE = "bundle.yaml"
LIST_STORE = "lists"  # the imported lists (and their allow-list) live here, beside the rules, not in them


@dataclass(frozen=True)
class LoadedRule:
    """A rule with its parsed conditions and where it came from."""

    rule: Rule
    jurisdiction: str
    file: str
    line: int | None
    when: conditions.Cond
    for_party: conditions.Cond | None
    derive: dict[str, Any]

    @property
    def id(self) -> str:
        return self.rule.id

    def guards(self) -> frozenset[str]:
        """Facts this rule requires to be missing, at the top level: ``item.eccn: {exists: false}``."""
        return self._guards

    def reads(self) -> frozenset[str]:
        return self._reads

    @cached_property
    def _guards(self) -> frozenset[str]:  # asked for every pair of rules when strata are built
        conjuncts = self.when.parts if isinstance(self.when, conditions.All) else (self.when,)
        return frozenset(c.field for c in conjuncts
                         if isinstance(c, conditions.Leaf) and c.op == "exists" and c.value is False)

    @cached_property
    def _reads(self) -> frozenset[str]:
        found = {leaf.field for leaf in conditions.leaves(self.when)}
        if self.for_party is not None:
            found |= {leaf.field for leaf in conditions.leaves(self.for_party)}
        return frozenset(found)


@dataclass
class RuleBook:
    meta: BundleMeta
    root: Path
    rules: list[LoadedRule]
    sets: dict[str, NamedSet]
    aliases: list[Alias]
    cases: list[tuple[str, Case]] = field(default_factory=list)
    designations: dict[str, Designation] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """sha256 of the canonical content: the same rules give the same digest, whatever the layout."""
        canonical = {
            "meta": self.meta.model_dump(mode="json"),
            "rules": sorted((dict(r.rule.model_dump(mode="json", by_alias=True), jurisdiction=r.jurisdiction)
                             for r in self.rules), key=lambda r: r["id"]),
            "sets": sorted((s.model_dump(mode="json", by_alias=True) for s in self.sets.values()),
                           key=lambda s: s["id"]),
            "aliases": [a.model_dump(mode="json", by_alias=True) for a in self.aliases],
        }
        if self.designations:  # bundles without designations keep the digest they had
            canonical["designations"] = [d.model_dump(mode="json") for _, d in sorted(self.designations.items())]
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def load_rulebook(root: Path) -> RuleBook:
    """Read every ``*.yaml`` under ``root``; raise RuleError listing all problems, or return the book."""
    root = Path(root)
    problems: list[Problem] = []
    if not root.is_dir():
        raise RuleError([Problem(str(root), None, "rule directory not found")])
    meta = _load_meta(root, problems)
    files: list[tuple[Path, Any, RuleFile]] = []
    for path in sorted(p for p in root.rglob("*.yaml")
                       if p.name != BUNDLE_FILE and LIST_STORE not in p.relative_to(root).parts):
        parsed = _load_rule_file(path, problems)
        if parsed is not None:
            files.append(parsed)

    sets: dict[str, NamedSet] = {}
    aliases: list[Alias] = []
    designations: dict[str, Designation] = {}
    for path, raw, rf in files:
        for index, named in enumerate(rf.sets):
            if named.id in sets:
                problems.append(Problem(str(path), line_of(raw, ("sets", index)), f"set {named.id!r} defined twice"))
            sets[named.id] = named
        aliases.extend(rf.aliases)
        for index, designation in enumerate(rf.designations):
            if designation.id in designations:
                problems.append(Problem(str(path), line_of(raw, ("designations", index)),
                                        f"designation {designation.id!r} defined twice"))
            designations[designation.id] = designation
    for path, raw, rf in files:
        for index, named in enumerate(rf.sets):
            problems.extend(_check_set(named, sets, str(path), line_of(raw, ("sets", index))))
        for index, alias in enumerate(rf.aliases):
            bad = [c for c in (alias.code, alias.as_) if c not in iso_alpha2()]
            if bad:
                problems.append(Problem(str(path), line_of(raw, ("aliases", index)), f"unknown country code {bad[0]!r}"))

    set_kinds = {name: s.kind for name, s in sets.items()}
    rules: list[LoadedRule] = []
    seen: dict[str, str] = {}
    cases: list[tuple[str, Case]] = []
    for path, raw, rf in files:
        for index, rule in enumerate(rf.rules):
            where = line_of(raw, ("rules", index))
            if rule.id in seen:
                problems.append(Problem(str(path), where, f"rule id also used in {seen[rule.id]}", rule.id))
                continue
            seen[rule.id] = str(path)
            loaded = _load_rule(rule, rf.jurisdiction, path, raw, index, set_kinds, problems)
            if loaded is not None:
                rules.append(loaded)
        cases.extend((str(path), case) for case in rf.cases)

    ids = {rule.id for rule in rules}
    for rule in rules:
        problems += [Problem(rule.file, rule.line, f"then.overcomes: unknown rule {other!r}{suggest(other, ids)}", rule.id)
                     for other in rule.rule.then.overcomes if other not in ids]
    if problems:
        raise RuleError(problems)
    return RuleBook(meta=meta, root=root, rules=rules, sets=sets, aliases=aliases, cases=cases,
                    designations=designations)


def _load_meta(root: Path, problems: list[Problem]) -> BundleMeta:
    path = root / BUNDLE_FILE
    fallback = BundleMeta(name=root.name, version="0000.0.0")
    if not path.exists():
        problems.append(Problem(str(path), None, "missing bundle.yaml (name and version of the bundle)"))
        return fallback
    try:
        raw = load_yaml(path)
        return BundleMeta.model_validate(raw)
    except YamlError as exc:
        problems.append(exc.problem)
    except ValidationError as exc:
        problems.extend(_validation_problems(str(path), raw, exc))
    return fallback


def _load_rule_file(path: Path, problems: list[Problem]):
    try:
        raw = load_yaml(path)
    except YamlError as exc:
        problems.append(exc.problem)
        return None
    if raw is None:
        return None
    try:
        return path, raw, RuleFile.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_validation_problems(str(path), raw, exc))
        return None


def _validation_problems(file: str, raw: Any, exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        rule_id = None
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(raw, dict):
            try:
                rule_id = raw["rules"][loc[1]].get("id")
            except (IndexError, KeyError, TypeError, AttributeError):
                pass
        path = ".".join(str(p) for p in loc)
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        problems.append(Problem(file, line_of(raw, loc), f"{path}: {message}", rule_id))
    return problems


def _check_set(named: NamedSet, sets: dict[str, NamedSet], file: str, line: int | None) -> list[Problem]:
    problems = []
    for member in named.members:
        code = member if isinstance(member, str) else member.code
        error = _member_error(named.kind, code)
        if error:
            problems.append(Problem(file, line, f"set {named.id!r}: {error}"))
    for ref in [*named.union, *named.minus]:
        if ref not in sets:
            problems.append(Problem(file, line, f"set {named.id!r}: unknown set {ref!r}{suggest(ref, sets)}"))
        elif sets[ref].kind != named.kind:
            problems.append(Problem(file, line, f"set {named.id!r}: {ref!r} holds {sets[ref].kind} values"))
    return problems


def _member_error(kind: str, code: str) -> str | None:
    if kind == "country" and code not in iso_alpha2():
        return f"unknown country code {code!r}"
    if kind == "eccn":
        try:
            check_eccn(code)
        except ValueError as exc:
            return str(exc)
    if kind == "end_use":
        return unknown_word("end-use tag", code, END_USE_TAGS)
    return None


def _load_rule(rule: Rule, jurisdiction: str, path: Path, raw, index: int, set_kinds, problems) -> LoadedRule | None:
    file = str(path)
    base = ("rules", index)
    before = len(problems)

    def parse(key: str, fields):
        node = raw["rules"][index][key]
        try:
            return conditions.parse(node, fields, set_kinds, line_of(raw, (*base, key)))
        except conditions.ConditionError as exc:
            problems.append(Problem(file, exc.line, f"{key}: {exc}", rule.id))
            return None

    when = parse("when", LINE_FIELDS)
    for_party = parse("for_party", PARTY_FIELDS) if rule.for_party is not None else None
    derive: dict[str, Any] = {}
    for name, value in rule.then.derive.items():
        where = line_of(raw, (*base, "then", "derive", name))
        if name not in DERIVABLE:
            problems.append(Problem(file, where, f"then.derive: {name!r} cannot be derived{suggest(name, DERIVABLE)}", rule.id))
            continue
        try:
            derive[name] = conditions.check_value(name, LINE_FIELDS[name], value, where)
        except conditions.ConditionError as exc:
            problems.append(Problem(file, exc.line, f"then.derive: {exc}", rule.id))
    for window in rule.not_enforced:
        if not (window.start >= rule.effective.start):
            problems.append(Problem(file, line_of(raw, (*base, "not_enforced")),
                                    "not_enforced window starts before the rule is effective", rule.id))
    if len(problems) > before:
        return None
    return LoadedRule(rule, jurisdiction, file, line_of(raw, base), when, for_party, derive)


def enforced_on(rule: Rule, day: dt.date) -> bool:
    """In force on ``day`` and not inside one of its not-enforced windows."""
    return rule.effective.covers(day) and not any(w.covers(day) for w in rule.not_enforced)
