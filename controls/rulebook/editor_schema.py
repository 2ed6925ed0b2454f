"""``chipgate rules schema``: a JSON Schema of rule files, made from the fact catalogue and a bundle.

Editors that speak the YAML language server pick it up from a first line
``# yaml-language-server: $schema=<path>`` and then complete fact names, operators, set ids and
named-condition ids, and flag a misspelt one as it is typed.  The schema is a help for writing;
the loader stays the judge (dates, thresholds, set kinds, the engine's limits).
"""
from __future__ import annotations

from typing import Any, get_args

from ..facts.catalog import DERIVABLE, END_USE_TAGS, LINE_FIELDS, PARTY_FIELDS, FieldType
from ..models import ROLES, Decision
from .loader import RuleBook
from .schema import JURISDICTIONS, SetKind

ID = r"^[a-z0-9][a-z0-9._-]*[a-z0-9]$"
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
COMPARISONS = ("eq", "ne", "lt", "lte", "gt", "gte")


def rule_file_schema(book: RuleBook) -> dict[str, Any]:
    """The schema of one rule file of ``book``'s pack (its set and condition ids are the choices)."""
    sets_of = {kind: sorted(i for i, s in book.sets.items() if s.kind == kind) for kind in get_args(SetKind)}
    defs: dict[str, Any] = {
        "line-condition": _condition(LINE_FIELDS, sets_of, sorted(book.conditions)),
        "party-condition": _condition(PARTY_FIELDS, sets_of, sorted(book.conditions)),
        "window": {"type": "object", "additionalProperties": False, "required": ["from"],
                   "properties": {"from": DATE, "until": DATE, "until_confirmed": {"type": "boolean"},
                                  "reason": {"type": "string"}}},
        "rule": _rule(),
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": f"chipgate:rule-file:{book.meta.name}:{book.meta.version}",
        "title": f"chipgate rule file ({book.meta.name} {book.meta.version})",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "jurisdiction": {"enum": list(JURISDICTIONS)},
            "rules": {"type": "array", "items": {"$ref": "#/definitions/rule"}},
            "conditions": {"type": "object", "propertyNames": {"pattern": ID},
                           "additionalProperties": {"$ref": "#/definitions/line-condition"}},
            "tables": {"type": "array", "items": {"type": "object", "required": ["id", "inputs", "rules", "rows"],
                                                  "properties": {"hit": {"enum": ["unique", "first", "collect"]},
                                                                 "inputs": {"type": "array", "items": {
                                                                     "enum": sorted(LINE_FIELDS)}}}}},
            "sets": {"type": "array", "items": {"type": "object", "required": ["id", "title"],
                                                "properties": {"kind": {"enum": list(sets_of)}}}},
            "aliases": {"type": "array"},
            "designations": {"type": "array", "items": {"type": "object", "required": ["id", "list"]}},
            "cases": {"type": "array", "items": {"type": "object", "required": ["name", "transaction"],
                                                 "properties": {"expect": {"enum": [d.value for d in Decision]},
                                                                "lists": {"enum": ["stub", "store"]},
                                                                "jurisdiction": {"enum": list(JURISDICTIONS)}}}},
        },
        "definitions": defs,
    }


def _rule() -> dict[str, Any]:
    derive = {name: {"type": "string"} if LINE_FIELDS[name].name != "bool" else {"type": "boolean"}
              for name in sorted(DERIVABLE)}
    then = {"type": "object", "additionalProperties": False, "properties": {
        "decision": {"enum": [d.value for d in Decision]},
        "review_policy": {"type": "string"}, "license_exception": {"type": "string"},
        "overcomes": {"type": "array", "items": {"type": "string", "pattern": ID}},
        "message": {"type": "string"},
        "derive": {"type": "object", "additionalProperties": False, "properties": derive}}}
    return {"type": "object", "additionalProperties": False,
            "required": ["id", "title", "citation", "effective", "then"],
            "properties": {
                "id": {"type": "string", "pattern": ID}, "title": {"type": "string", "minLength": 3},
                "citation": {"type": "string", "minLength": 3},
                "sources": {"type": "array", "items": {"type": "string"}},
                "effective": {"$ref": "#/definitions/window"},
                "not_enforced": {"type": "array", "items": {"$ref": "#/definitions/window"}},
                "verification": {"type": "string"},
                "when": {"$ref": "#/definitions/line-condition"},
                "for_party": {"$ref": "#/definitions/party-condition"},
                "then": then}}


def _condition(fields: dict[str, FieldType], sets_of: dict[str, list[str]], named: list[str]) -> dict[str, Any]:
    own = "#/definitions/" + ("line-condition" if fields is LINE_FIELDS else "party-condition")
    properties: dict[str, Any] = {
        "all": {"type": "array", "minItems": 1, "items": {"$ref": own}},
        "any": {"type": "array", "minItems": 1, "items": {"$ref": own}},
        "not": {"$ref": own},
        "condition": {"enum": named} if named else {"type": "string"},
    }
    properties.update({name: _fact(ftype, sets_of) for name, ftype in sorted(fields.items())})
    mapping = {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": properties}
    return {"anyOf": [mapping, {"type": "array", "minItems": 1, "items": {"$ref": own}}]}


def _fact(ftype: FieldType, sets_of: dict[str, list[str]]) -> dict[str, Any]:
    """What may follow a fact's name: a value (equality), or a mapping of the operators its type takes."""
    value = _value(ftype)
    membership = {"anyOf": [{"enum": sets_of.get(ftype.name, [])}, {"type": "array", "minItems": 1, "items": value}]}
    if ftype.name == "number":
        ops = {op: value for op in COMPARISONS}
    elif ftype.many:
        ops = {"in": membership, "not_in": membership}
    else:
        ops = {"eq": value, "ne": value, "in": membership, "not_in": membership}
    ops["exists"] = {"type": "boolean"}
    operators = {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": ops}
    return operators if ftype.many else {"anyOf": [value, operators]}


def _value(ftype: FieldType) -> dict[str, Any]:
    kind = ftype.name
    if kind == "number":
        return {"type": "number", "minimum": 0}
    if kind == "bool":
        return {"type": "boolean"}
    if kind == "country":
        return {"type": "string", "pattern": "^[A-Z]{2}$"}
    if kind == "eccn":
        return {"type": "string", "pattern": r"^(EAR99|[0-9][A-E][0-9]{3}(\.[a-z0-9]+)*)$"}
    if kind == "role":
        return {"enum": list(ROLES)}
    if kind == "end_use":
        return {"enum": list(END_USE_TAGS)}
    return {"type": "string"}
