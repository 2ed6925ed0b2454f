"""Read YAML while remembering the line of every key and list item.

Rule authors get errors that point at ``file:line``; this module is what makes that possible.
It also refuses input that would exhaust the process: aliases that expand past a node budget
(a 678-byte "billion laughs" file), nesting deeper than any rule or order needs (the parser
recurses), and integers too long to convert.
"""
from __future__ import annotations

import re
import reprlib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem

MAX_ALIAS_NODES = 20_000  # nodes that aliases may add once expanded (the generated country chart adds about 100)
MAX_DEPTH = 64            # nesting levels
MAX_INT_DIGITS = 40
BRIEF = 80                # characters of a value an error message shows


class LineDict(dict):
    """A mapping that knows the line it starts on and the line of each key."""

    line: int = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}


class LineList(list):
    """A sequence that knows the line it starts on and the line of each item."""

    line: int = 0

    def __init__(self, *args):
        super().__init__(*args)
        self.lines: list[int] = []


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans (Norway's code ``NO`` must stay the text "NO"), dates
    left as text, so that pydantic checks them and a bad one is an error naming its field, and
    numbers with a fraction read exactly as written (``Decimal``, never a binary float)."""

    _depth = 0
    _aliased = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) and event.anchor in self.anchors:
            self._aliased += _expanded_size(self.anchors[event.anchor], self.__dict__.setdefault("_sizes", {}))
            if self._aliased > MAX_ALIAS_NODES:
                raise yaml.composer.ComposerError(
                    None, None, f"aliases expand to more than {MAX_ALIAS_NODES} nodes; write the values out",
                    event.start_mark)
            return super().compose_node(parent, index)
        if self._depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node):
        if len(node.value) > MAX_INT_DIGITS:
            raise yaml.constructor.ConstructorError(
                None, None, f"integer of {len(node.value)} characters is too long", node.start_mark)
        return super().construct_yaml_int(node)


def _expanded_size(root: yaml.Node, sizes: dict[int, int]) -> int:
    """Nodes in ``root`` with every alias written out (memoised by node, without recursion)."""
    stack = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in sizes:
            continue
        children = ([c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode)
                    else node.value if isinstance(node, yaml.SequenceNode) else [])
        if ready:
            # a child still unsized is an ancestor: a recursive alias, which the constructor refuses
            sizes[id(node)] = 1 + sum(sizes.get(id(c), 1) for c in children)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def brief(value: Any, limit: int = BRIEF) -> str:
    """``value`` as an error message may show it: bounded however large or deep it is."""
    text = value if isinstance(value, str) else _brief_repr.repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


_brief_repr = reprlib.Repr()
_brief_repr.maxlevel, _brief_repr.maxstring, _brief_repr.maxother = 3, BRIEF, BRIEF


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
# JSON's numbers as JSON writers write them: ``1e+16`` and ``4e-05`` (YAML 1.1 wants a dot) and
# Python's ``Infinity`` and ``NaN``, so that they are numbers, which the models check, not texts.
# An upper-case E needs its sign: ``1E001`` is an ECCN.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?[0-9]+(?:\.[0-9]*)?(?:e[-+]?|E[-+])[0-9]+|[-+]?Infinity|NaN)$"),
    list("-+0123456789IN"))


def _decimal(loader: _Loader, node: yaml.ScalarNode) -> Decimal:
    text = loader.construct_scalar(node).replace("_", "").lower()
    try:
        return Decimal(text.replace(".inf", "infinity").replace(".nan", "nan"))
    except InvalidOperation:  # YAML 1.1 sexagesimal (1:30.5)
        return Decimal(str(loader.construct_yaml_float(node)))


def _expect(node: yaml.Node, kind: type, what: str) -> None:
    """``!!map xy`` tags a text as a mapping: a constructor error at its line, as PyYAML's own give."""
    if not isinstance(node, kind):
        raise yaml.constructor.ConstructorError(None, None, f"expected a {what}, but found {node.id}",
                                                node.start_mark)


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    _expect(node, yaml.MappingNode, "mapping")
    result = LineDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):  # ``? [a]`` or ``{a: 1}: 2``: no dict can hold it
            raise yaml.constructor.ConstructorError(
                None, None, f"a key is a text, number or date, not a {key_node.id}", key_node.start_mark)
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    _expect(node, yaml.SequenceNode, "sequence")
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


if yaml.__with_libyaml__:
    from yaml.cyaml import CParser

    class _NodeLoader(CParser, _Loader):
        """libyaml scans, parses and composes (in C); ``_Loader``'s resolver and constructor make the
        values, with their lines.  libyaml's composer knows none of ``_Loader``'s limits and recurses in
        C, so ``_compose`` checks the nesting on the events first and the aliases on the nodes after."""

        def __init__(self, stream):
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    class EventLoader(_NodeLoader):
        """libyaml's events under ``_Loader``'s own composer (its limits checked as it goes), for a
        reader that composes one element at a time."""

        get_single_node = yaml.composer.Composer.get_single_node
        get_node = yaml.composer.Composer.get_node
        check_node = yaml.composer.Composer.check_node

        def __init__(self, stream):
            super().__init__(stream)
            yaml.composer.Composer.__init__(self)

    _OPENS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    _CLOSES = (yaml.MappingEndEvent, yaml.SequenceEndEvent)

    def _load_fast(text: str) -> Any:
        """``text`` parsed by libyaml well within ``_Loader``'s limits; a YAMLError when near or past
        them, or malformed (the caller then asks ``_Loader``, whose answer and line are the rule)."""
        depth = 0
        for event in yaml.parse(text, Loader=_NodeLoader):
            if isinstance(event, _OPENS):
                depth += 1
                if depth >= MAX_DEPTH:
                    raise yaml.YAMLError("nested too deep")
            elif isinstance(event, _CLOSES):
                depth -= 1
        loader = _NodeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            if "*" in text and _aliased_size(node) > MAX_ALIAS_NODES // 2:  # near the limit: _Loader decides
                raise yaml.YAMLError("aliases expand too far")
            return loader.construct_document(node)
        finally:
            loader.dispose()
else:  # pragma: no cover - PyYAML built without libyaml: parsed in Python
    EventLoader = _Loader

    def _load_fast(text: str) -> Any:
        raise yaml.YAMLError("no libyaml")


def _aliased_size(root: yaml.Node) -> int:
    """Nodes that aliases add to ``root`` once written out (``_Loader`` counts the same as it composes)."""
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            if isinstance(node, yaml.MappingNode):
                stack.extend(child for pair in node.value for child in pair)
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
    return _expanded_size(root, {}) - len(seen)


def load_yaml(path: Path) -> Any:
    """Parse one YAML (or JSON) file; malformed input raises a YamlError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError(Problem(str(path), None, f"cannot read: {exc}")) from exc
    return loads_yaml(text, str(path))


def loads_yaml(text: str, name: str) -> Any:
    try:
        return _load_fast(text)
    except yaml.YAMLError:
        pass  # malformed: parsed again below, in Python, for the error and line that ``_Loader`` reports
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlError(Problem(name, line, f"malformed YAML: {exc.problem or exc}")) from exc
    except yaml.YAMLError as exc:
        raise YamlError(Problem(name, None, f"malformed YAML: {exc}")) from exc


class YamlError(ValueError):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def line_of(data: Any, loc: tuple) -> int | None:
    """The line of the deepest node on ``loc`` (a pydantic error location) that we can find."""
    line = getattr(data, "line", None)
    node = data
    for key in loc:
        if isinstance(node, LineDict) and key in node:
            line = node.lines.get(key, line)
            node = node[key]
        elif isinstance(node, LineList) and isinstance(key, int) and 0 <= key < len(node):
            line = node.lines[key]
            node = node[key]
        else:
            break
        line = getattr(node, "line", None) or line
    return line
