"""Load a rule-pack directory into a RuleBook, reporting every problem with its file and line."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import stat
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
from .schema import Alias, BundleMeta, Case, Designation, NamedSet, Rule, RuleFile, _json_numbers
from .tables import analyse as analyse_table
from .tables import expand as expand_table
from .yamlsource import LineList, YamlError, line_of, loads_yaml

BUNDLE_FILE = "bundle.yaml"
MAX_RULE_FILE_BYTES = 4 * 1024 * 1024  # 4 MiB, as a request body: the largest shipped file (ear/country-chart.yaml) is 170 KB
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
        return frozenset(leaf.field for leaf in self.leaves)

    @cached_property
    def leaves(self) -> tuple[conditions.Leaf, ...]:
        """The leaves of ``when``, then of ``for_party``, in order: compiling reads them several times."""
        found = tuple(conditions.leaves(self.when))
        return found if self.for_party is None else found + tuple(conditions.leaves(self.for_party))


@dataclass(frozen=True)
class Where:
    file: str
    line: int | None


@dataclass
class RuleBook:
    meta: BundleMeta
    root: Path
    rules: list[LoadedRule]
    sets: dict[str, NamedSet]
    aliases: list[Alias]
    cases: list[tuple[str, Case]] = field(default_factory=list)
    designations: dict[str, Designation] = field(default_factory=dict)
    # where each set and case is written (for lint and for the coverage report)
    set_where: dict[str, Where] = field(default_factory=dict)
    case_lines: list[int | None] = field(default_factory=list)
    conditions: dict[str, Any] = field(default_factory=dict)  # named conditions, id -> YAML
    condition_where: dict[str, Where] = field(default_factory=dict)
    # the named conditions the bundle's rules name, those that did not load included (for lint)
    conditions_named_by_rules: frozenset[str] = frozenset()

    @cached_property
    def digest(self) -> str:
        """sha256 of the canonical content: the same rules give the same digest, whatever the layout.
        Computed once: a book is not changed once loaded (another book is a ``dataclasses.replace``)."""
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
        if self.conditions:  # rules name them, so their content is the rules' content
            canonical["conditions"] = _json_numbers(self.conditions)
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class _File:
    """One rule file, each item validated on its own so that one bad item hides nothing else."""

    path: Path
    raw: Any
    jurisdiction: str = "US-EAR"
    conditions: dict[str, Any] = field(default_factory=dict)
    tables: list[Any] = field(default_factory=list)
    rules: list[tuple[int, Rule | None]] = field(default_factory=list)  # None: the rule's shape is invalid
    sets: list[tuple[int, NamedSet]] = field(default_factory=list)
    aliases: list[tuple[int, Alias]] = field(default_factory=list)
    cases: list[tuple[int, Case]] = field(default_factory=list)
    designations: list[tuple[int, Designation]] = field(default_factory=list)


_SECTIONS = {"rules": Rule, "sets": NamedSet, "aliases": Alias, "cases": Case, "designations": Designation}


def load_rulebook(root: Path) -> RuleBook:
    """Read every ``*.yaml`` under ``root``; raise RuleError listing all problems, or return the book."""
    book, problems = read_pack(root)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise RuleError(errors)
    return book


def pack_files(root: Path) -> list[Path]:
    """The YAML files of a rule directory, ``bundle.yaml`` first; the list store's files are no part of it."""
    return sorted((p for p in root.rglob("*.yaml") if LIST_STORE not in p.relative_to(root).parts),
                  key=lambda p: (p.name != BUNDLE_FILE or p.parent != root, p))


def read_pack(root: Path) -> tuple[RuleBook, list[Problem]]:
    """Read a rule directory as far as it can be read: the book of every valid rule, set and case,
    and every problem found on the way (none hides another)."""
    root = Path(root)
    problems: list[Problem] = []
    if not root.is_dir():
        return (RuleBook(BundleMeta(name=root.name, version="0000.0.0"), root, [], {}, []),
                [Problem(str(root), None, "rule directory not found", code="bundle.missing")])
    meta = _load_meta(root, problems)
    files = [parsed for path in pack_files(root) if path.name != BUNDLE_FILE
             if (parsed := _load_rule_file(path, problems)) is not None]

    sets: dict[str, NamedSet] = {}
    set_where: dict[str, Where] = {}
    aliases: list[Alias] = []
    designations: dict[str, Designation] = {}
    for rf in files:
        for index, named in rf.sets:
            where = Where(str(rf.path), line_of(rf.raw, ("sets", index)))
            if named.id in sets:
                first = set_where[named.id]
                problems.append(Problem(where.file, where.line, f"set {named.id!r} is already defined at "
                                        f"{first.file}:{first.line}", code="set.duplicate-id",
                                        fix="rename one of the two sets, or merge them"))
                continue
            sets[named.id], set_where[named.id] = named, where
        aliases.extend(alias for _, alias in rf.aliases)
        for index, designation in rf.designations:
            if designation.id in designations:
                problems.append(Problem(str(rf.path), line_of(rf.raw, ("designations", index)),
                                        f"designation {designation.id!r} defined twice", code="designation.duplicate-id",
                                        fix="rename one of the two designations, or merge them"))
            designations[designation.id] = designation
    for rf in files:
        for index, named in rf.sets:
            problems.extend(_check_set(named, sets, str(rf.path), rf.raw, index))
        for index, alias in rf.aliases:
            bad = [c for c in (alias.code, alias.as_) if c not in iso_alpha2()]
            if bad:
                problems.append(Problem(str(rf.path), line_of(rf.raw, ("aliases", index)),
                                        f"unknown country code {bad[0]!r}", code="rule.bad-value"))
    problems += set_graph_problems(sets, set_where)

    set_kinds = {name: s.kind for name, s in sets.items()}
    names, condition_where = _named_conditions(files, set_kinds, problems)
    named = names.conditions
    problems += [p for rf in files for table in rf.tables for p in analyse_table(table, str(rf.path), set_kinds)]
    rules: list[LoadedRule] = []
    seen: dict[str, Where] = {}
    cases: list[tuple[str, Case]] = []
    case_lines: list[int | None] = []
    named_by_rules: set[str] = set()
    for rf in files:
        for index, rule in rf.rules:
            where = Where(str(rf.path), line_of(rf.raw, ("rules", index)))
            rule_id = rule.id if rule else _raw_id(rf.raw, index)
            if rule_id and rule_id in seen:
                first = seen[rule_id]
                problems.append(Problem(where.file, where.line, f"rule id is already used at {first.file}:{first.line}",
                                        rule_id, code="rule.duplicate-id",
                                        fix="give each rule its own id; a new version of a rule ends in .<year>"))
                continue
            if rule_id:
                seen[rule_id] = where
            node = rf.raw["rules"][index]
            if isinstance(node, dict):
                named_by_rules.update(conditions.named_in([node.get("when"), node.get("for_party")]))
            loaded = _load_rule(rule, rule_id, rf.jurisdiction, rf.path, rf.raw, index, names, problems)
            if loaded is not None:
                rules.append(loaded)
        for index, case in rf.cases:
            cases.append((str(rf.path), case))
            case_lines.append(line_of(rf.raw, ("cases", index)))

    ids = {rule.id for rule in rules} | set(seen)
    for rule in rules:
        problems += [Problem(rule.file, rule.line, f"then.overcomes: unknown rule {other!r}{suggest(other, ids)}",
                             rule.id, code="rule.unknown-rule", fix="name a rule of the bundle")
                     for other in rule.rule.then.overcomes if other not in ids]
    for (file, case), line in zip(cases, case_lines):
        problems += [Problem(file, line, f"case {case.name!r}: unknown rule {other!r}{suggest(other, ids)}",
                             code="case.unknown-rule", fix="name a rule of the bundle, or one of chipgate's own")
                     for other in (*case.fires, *case.not_fires) if other not in ids and other not in ENGINE_RULES]
    book = RuleBook(meta=meta, root=root, rules=rules, sets=sets, aliases=aliases, cases=cases,
                    designations=designations, set_where=set_where, case_lines=case_lines, conditions=named, condition_where=condition_where,
                    conditions_named_by_rules=frozenset(named_by_rules))
    return book, problems


def _named_conditions(files: list[_File], set_kinds: dict[str, str], problems: list[Problem]):
    """The bundle's named conditions (id -> YAML), each checked where it is written; a rule that
    names one is checked again for the facts of its place (line or party).  The names the rules
    may use: one ``Names`` for the pack, which counts the nodes of all its conditions."""
    named: dict[str, Any] = {}
    where: dict[str, Where] = {}
    for rf in files:
        for name, node in rf.conditions.items():
            here = Where(str(rf.path), line_of(rf.raw, ("conditions", name)))
            if name in named:
                problems.append(Problem(here.file, here.line, f"condition {name!r} is already defined at "
                                        f"{where[name].file}:{where[name].line}", code="condition.duplicate-id",
                                        fix="rename one of the two conditions, or merge them"))
                continue
            named[name], where[name] = node, here
    names = conditions.Names(set_kinds, named)
    broken: set[str] = set()
    for name in _used_first(named):  # a condition's problems are its own: those of one it uses are that one's
        errors: list[conditions.ConditionError] = []
        conditions.parse(named[name], {**LINE_FIELDS, **PARTY_FIELDS},
                         dataclasses.replace(names, using=(name,), broken=frozenset(broken)), where[name].line, errors)
        problems.extend(Problem(where[name].file, exc.line, f"condition {name!r}: {exc}", code=exc.code,
                                fix=_FIXES.get(exc.code, "")) for exc in errors if exc.code != conditions.BROKEN)
        broken.update([name] if errors else [])
    return dataclasses.replace(names, broken=frozenset(broken)), where


def _used_first(named: dict[str, Any]) -> list[str]:
    """The named conditions, each after those it uses (in a cycle, as met: the cycle is reported)."""
    order: list[str] = []
    seen: set[str] = set()
    for first in named:
        stack = [(first, iter(conditions.named_in(named[first])))] if first not in seen else []
        seen.add(first)
        while stack:  # depth first, without recursion: a chain of conditions may be long
            name, uses = stack[-1]
            used = next((u for u in uses if u in named and u not in seen), None)
            if used is None:
                order.append(name)
                stack.pop()
            else:
                seen.add(used)
                stack.append((used, iter(conditions.named_in(named[used]))))
    return order


# findings the engine itself makes (controls.engine.engine), which a case may name
ENGINE_RULES = frozenset({"chipgate.conflicting-derivation", "chipgate.most-restrictive-paragraph",
                          "chipgate.no-rule-in-force", "chipgate.unconfirmed-end-date", "chipgate.cn-ecl.not-reached"})


def _raw_id(raw, index: int) -> str | None:
    node = raw["rules"][index]
    return node.get("id") if isinstance(node, dict) and isinstance(node.get("id"), str) else None


class UnreadableFile(ValueError):
    """A rule file that is not read: not a regular file, gone, or over ``MAX_RULE_FILE_BYTES``."""


def read_rule_file(path: Path, cap: int | None = None, what: str = "a rule file",
                   cap_name: str = "MAX_RULE_FILE_BYTES") -> bytes:
    """The bytes of a rule file (or of another file the rules come in, ``what``, up to ``cap``), which is a
    regular file of at most ``cap`` bytes: checked before it is opened for reading (a FIFO would block for
    ever, ``/dev/zero`` never end), and again on what was opened (opened without blocking), in case the
    entry changed in between."""
    cap = MAX_RULE_FILE_BYTES if cap is None else cap  # read when called: a test may lower it
    try:
        if not _regular_within(os.stat(path), cap):  # follows a symlink to what it names
            return _refuse(os.stat(path), cap, what, cap_name)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as file:
            if not _regular_within(os.fstat(fd), cap):
                return _refuse(os.fstat(fd), cap, what, cap_name)
            data = file.read(cap + 1)
    except OSError as exc:
        dangling = os.path.islink(path) and not os.path.exists(path)
        raise UnreadableFile(f"a symbolic link to nothing ({os.readlink(path)})" if dangling else
                             f"cannot read: {exc.strerror or exc}") from None
    if len(data) > cap:  # grew after the check
        raise UnreadableFile(f"more than {cap:,} bytes ({cap_name})")
    return data


def _regular_within(status: os.stat_result, cap: int) -> bool:
    return stat.S_ISREG(status.st_mode) and status.st_size <= cap


def _refuse(status: os.stat_result, cap: int, what: str, cap_name: str) -> bytes:
    if stat.S_ISREG(status.st_mode):
        raise UnreadableFile(f"{status.st_size:,} bytes, more than the {cap:,} {what} may have ({cap_name}): not read")
    kind = next((name for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                                         (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                                         (stat.S_ISSOCK, "a socket")) if test(status.st_mode)), "not a file")
    raise UnreadableFile(f"{kind}, not a regular file: not read")


def _read_yaml(path: Path) -> Any:
    """A rule file's YAML; a YamlError with the problem's code (``file.unreadable``, ``yaml.malformed``)."""
    try:
        text = read_rule_file(path).decode("utf-8")
    except UnreadableFile as exc:
        raise YamlError(Problem(str(path), None, str(exc), code="file.unreadable",
                                fix="a rule file is a regular file (or a symbolic link to one) of at most 4 MiB"))
    except UnicodeDecodeError as exc:
        raise YamlError(Problem(str(path), None, f"cannot read: {exc}", code="yaml.malformed")) from None
    try:
        return loads_yaml(text, str(path))
    except YamlError as exc:
        raise YamlError(dataclasses.replace(exc.problem, code="yaml.malformed", fix="fix the YAML syntax")) from None


def _load_meta(root: Path, problems: list[Problem]) -> BundleMeta:
    path = root / BUNDLE_FILE
    fallback = BundleMeta(name=root.name, version="0000.0.0")
    if not os.path.lexists(path):
        problems.append(Problem(str(path), None, "missing bundle.yaml (name and version of the bundle)",
                                code="bundle.missing", fix="write bundle.yaml with the bundle's name and version"))
        return fallback
    try:
        raw = _read_yaml(path)
        return BundleMeta.model_validate(raw)
    except YamlError as exc:
        problems.append(exc.problem)
    except ValidationError as exc:
        problems.extend(_validation_problems(str(path), raw, exc))
    return fallback


def _load_rule_file(path: Path, problems: list[Problem]) -> _File | None:
    try:
        raw = _read_yaml(path)
    except YamlError as exc:
        problems.append(exc.problem)
        return None
    if raw is None:
        return None
    tables = raw.get("tables") if isinstance(raw, dict) else None
    if isinstance(tables, list) and tables:  # a table's rows are ordinary rules, added to the file's own
        rules = raw.get("rules") if isinstance(raw.get("rules"), list) else LineList()
        rules.extend(rule for table in tables for rule in expand_table(table, str(path), problems))
        rules.lines = [getattr(rule, "line", None) for rule in rules]
        raw["rules"] = rules
    sections = {key: raw.get(key) for key in _SECTIONS} if isinstance(raw, dict) else {}
    head = {k: v for k, v in raw.items() if k not in sections or not isinstance(v, list)} \
        if isinstance(raw, dict) else raw
    try:
        top = RuleFile.model_validate(head)
    except ValidationError as exc:
        problems.extend(_validation_problems(str(path), raw, exc))
        return None
    parsed = _File(path, raw, top.jurisdiction, dict(raw.get("conditions") or {}), list(tables or []))
    for section, model in _SECTIONS.items():
        for index, node in enumerate(sections.get(section) or ()):
            try:
                item = model.model_validate(node)
            except ValidationError as exc:
                problems.extend(_validation_problems(str(path), raw, exc, (section, index)))
                item = None
            if item is not None or section == "rules":  # a rule's conditions are still checked
                getattr(parsed, section).append((index, item))
    return parsed


def _validation_problems(file: str, raw: Any, exc: ValidationError, prefix: tuple = ()) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = prefix + tuple(error["loc"])
        rule_id = None
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(raw, dict):
            try:
                rule_id = raw["rules"][loc[1]].get("id")
            except (IndexError, KeyError, TypeError, AttributeError):
                pass
        path = ".".join(str(p) for p in loc)
        message, code, fix = error["msg"], "schema.invalid", "see rules/README.md for the shape of a rule file"
        if error["type"] == "extra_forbidden":
            message, code, fix = f"unknown key {loc[-1]!r}", "schema.unknown-key", "remove or correct the key"
        elif error["type"] == "missing":
            code, fix = "schema.missing-key", f"add {loc[-1]!r}"
        problems.append(Problem(file, line_of(raw, loc), f"{path}: {message}", rule_id if isinstance(rule_id, str)
                                else None, code=code, fix=fix))
    return problems


def _check_set(named: NamedSet, sets: dict[str, NamedSet], file: str, raw, index: int) -> list[Problem]:
    problems = []
    line = line_of(raw, ("sets", index))
    for number, member in enumerate(named.members):
        code = member if isinstance(member, str) else member.code
        error = _member_error(named.kind, code)
        if error:
            problems.append(Problem(file, line, f"set {named.id!r}: {error}", code="set.bad-member"))
        if not isinstance(member, str) and member.until is not None and member.until <= member.start:
            problems.append(Problem(file, line_of(raw, ("sets", index, "members", number)),
                                    f"set {named.id!r}: member {code}'s window holds no day: until {member.until} is "
                                    f"not after from {member.start}", code="set.bad-member",
                                    fix="swap from and until, or remove the member"))
    for ref in [*named.union, *named.minus]:
        if ref not in sets:
            problems.append(Problem(file, line, f"set {named.id!r}: unknown set {ref!r}{suggest(ref, sets)}",
                                    code="set.unknown-set", fix="name a set of the bundle"))
        elif sets[ref].kind != named.kind:
            problems.append(Problem(file, line, f"set {named.id!r}: {ref!r} holds {sets[ref].kind} values",
                                    code="set.bad-member"))
    return problems


MAX_SET_DEPTH = 64  # sets built from sets built from sets ...: resolving them recurses (the shipped sets: 4)


def set_graph_problems(sets: dict[str, NamedSet], where: dict[str, Where]) -> list[Problem]:
    """Sets built from each other (``union`` or ``minus``) in a cycle, which resolving them would
    follow for ever, or deeper than ``MAX_SET_DEPTH``; walked without recursion."""
    problems: list[Problem] = []
    depth: dict[str, int] = {}  # of a set whose parts are all resolved
    cycles: set[frozenset[str]] = set()
    for root in sets:
        path, stack = [], [(root, False)]
        while stack:
            name, done = stack.pop()
            if done:
                path.pop()
                parts = [ref for ref in (*sets[name].union, *sets[name].minus) if ref in sets]
                depth[name] = 1 + max((depth.get(ref, 0) for ref in parts), default=0)
                if depth[name] == MAX_SET_DEPTH + 1:
                    problems.append(Problem(where[name].file, where[name].line, f"set {name!r} is built from sets "
                                            f"more than {MAX_SET_DEPTH} levels deep (MAX_SET_DEPTH)",
                                            code="set.cycle", fix="build the set from fewer levels of sets"))
                continue
            if name in depth:
                continue
            if name in path:
                cycle = path[path.index(name):]
                if frozenset(cycle) not in cycles:  # reported once, at the set whose id sorts first
                    cycles.add(frozenset(cycle))
                    first = cycle.index(min(cycle))
                    cycle = cycle[first:] + cycle[:first]
                    problems.append(Problem(where[cycle[0]].file, where[cycle[0]].line, "sets built from each "
                                            f"other: {' -> '.join(cycle + cycle[:1])}", code="set.cycle",
                                            fix="a set may not include or subtract itself, directly or through others"))
                depth[name] = MAX_SET_DEPTH + 2  # as deep as it goes: not reported again as too deep
                continue
            path.append(name)
            stack.append((name, True))
            stack.extend((ref, False) for ref in (*sets[name].union, *sets[name].minus) if ref in sets)
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


def _load_rule(rule: Rule | None, rule_id: str | None, jurisdiction: str, path: Path, raw, index: int,
               names: conditions.Names, problems) -> LoadedRule | None:
    """The rule with its conditions parsed; None if it has a problem (each one added to ``problems``).
    A rule whose shape is invalid (``rule`` None) still has its conditions checked."""
    file = str(path)
    base = ("rules", index)
    node = raw["rules"][index]
    before = len(problems)
    failed = False

    def parse(key: str, fields):
        nonlocal failed
        if not isinstance(node, dict) or node.get(key) is None:
            return None
        errors: list[conditions.ConditionError] = []
        cond = conditions.parse(node[key], fields, names, line_of(raw, (*base, key)), errors)
        # a use of a named condition with problems of its own: those are reported where it is written
        problems.extend(Problem(file, exc.line, f"{key}: {exc}", rule_id, code=exc.code, fix=_FIXES.get(exc.code, ""))
                        for exc in errors if exc.code != conditions.BROKEN)
        failed = failed or bool(errors)
        return None if errors else cond

    when = parse("when", LINE_FIELDS)
    for_party = parse("for_party", PARTY_FIELDS)
    if rule is None:
        return None
    if rule.when is None:
        when = EVERY_LINE
    derive: dict[str, Any] = {}
    for name, value in rule.then.derive.items():
        where = line_of(raw, (*base, "then", "derive", name))
        if name not in DERIVABLE:
            problems.append(Problem(file, where, f"then.derive: {name!r} cannot be derived{suggest(name, DERIVABLE)}",
                                    rule.id, code="rule.not-derivable",
                                    fix=f"derive one of {', '.join(sorted(DERIVABLE))}"))
            continue
        try:
            derive[name] = conditions.check_value(name, LINE_FIELDS[name], value, where)
        except conditions.ConditionError as exc:
            problems.append(Problem(file, exc.line, f"then.derive: {exc}", rule.id, code=exc.code))
    for window in rule.not_enforced:
        if not (window.start >= rule.effective.start):
            problems.append(Problem(file, line_of(raw, (*base, "not_enforced")),
                                    "not_enforced window starts before the rule is effective", rule.id,
                                    code="rule.bad-window", fix="start the window on or after effective.from"))
    if failed or len(problems) > before:
        return None
    return LoadedRule(rule, jurisdiction, file, line_of(raw, base), when, for_party, derive)


EVERY_LINE = conditions.All(())  # a rule without ``when`` (a party rule) looks at every line

_FIXES = {
    "rule.unknown-fact": "use a fact of the catalogue (rules/README.md, 'Facts of an order line')",
    "rule.unknown-operator": "use eq, ne, lt, lte, gt, gte, in, not_in or exists",
    "rule.unknown-set": "name a set defined in the bundle, or give a literal list",
    "rule.unknown-condition": "name a condition of the bundle's conditions sections",
    "rule.condition-cycle": "a named condition may not use itself, directly or through others",
    "rule.condition-too-large": "write the condition with fewer levels of named conditions, or split the rule",
}


def enforced_on(rule: Rule, day: dt.date) -> bool:
    """In force on ``day`` and not inside one of its not-enforced windows."""
    return rule.effective.covers(day) and not any(w.covers(day) for w in rule.not_enforced)
