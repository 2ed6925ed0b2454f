"""A rule bundle file: a validated rule pack in one versioned, digested JSON document.

Loading a pack parses and checks every YAML file (seconds); a bundle holds what that produces (the
rules with their parsed conditions, the sets, named conditions, designations and cases) and the
compiled network, so that an engine starts from it without reading YAML.  The document::

    {"header": {"format": "chipgate-bundle", "format_version": 1, "chipgate_version": "0.1.0",
                "name": ..., "version": ..., "digest": "sha256:...",   # the digest determinations report
                "content_digest": "sha256:...",                        # of the body, as written
                "built": "2026-11-30T20:00:00Z", "sources": {"ear/fdp.yaml": "sha256:...", ...}},
     "body": {"meta": ..., "rules": [...], "sets": [...], ..., "network": {...}}}

Values JSON has no type for are tagged: ``{"$decimal": "4800"}``, ``{"$date": "2026-01-01"}``,
``{"$set": [...]}``, and a parsed condition as ``{"$leaf": [field, op, value, line]}``, ``{"$all": [...]}``,
``{"$any": [...]}``, ``{"$not": ...}``.  A bundle file is input: one that is not JSON, truncated,
altered after it was built (either digest), of another format version, or compiled differently by
this chipgate is refused with an InputError naming the file and what is wrong.  The digests detect
damage and careless edits, not a forger, who can recompute them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from decimal import Decimal
from enum import Enum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import orjson

from ..compiler import CompiledBundle, compile_rulebook
from ..errors import InputError
from ..numbers import rule_number_error
from .conditions import All, Any_, Leaf, Not
from .loader import (
    LoadedRule,
    RuleBook,
    UnreadableFile,
    Where,
    load_rulebook,
    pack_files,
    read_rule_file,
    set_graph_problems,
)
from .schema import Alias, BundleMeta, Case, Designation, NamedSet, Rule
from .yamlsource import brief

FORMAT = "chipgate-bundle"
FORMAT_VERSION = 1
# A bundle read is a regular file of at most this many bytes: the bundled pack's is 0.6 MB, and 64 packs of
# rule files at their cap (MAX_RULE_FILE_BYTES) would not fit; a FIFO or /dev/zero given as --rules is refused.
MAX_BUNDLE_BYTES = 256 * 2**20


def chipgate_version() -> str:
    try:
        return version("chipgate")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def build(root: Path, path: Path) -> dict:
    """Load, validate and compile the rule directory ``root``, write it to the bundle file ``path``; the header."""
    book = load_rulebook(Path(root))
    return write(book, compile_rulebook(book).network, path)


def write(book: RuleBook, network: dict, path: Path) -> dict:
    """The bundle file of a loaded rule book and its compiled network; the header."""
    body = {
        "meta": _dump(book.meta),
        "rules": [{"rule": _dump(r.rule), "jurisdiction": r.jurisdiction, "file": r.file, "line": r.line,
                   "when": _encode(r.when), "for_party": _encode(r.for_party), "derive": _encode(r.derive)}
                  for r in book.rules],
        "sets": [_dump(s) for s in book.sets.values()],
        "set_where": {name: [w.file, w.line] for name, w in book.set_where.items()},
        "aliases": [_dump(a) for a in book.aliases],
        "designations": [_dump(d) for d in book.designations.values()],
        "cases": [{"file": file, "line": line, "case": _dump(case)}
                  for (file, case), line in zip(book.cases, book.case_lines)],
        "conditions": _encode(book.conditions),
        "condition_where": {name: [w.file, w.line] for name, w in book.condition_where.items()},
        "network": network,
    }
    header = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "chipgate_version": chipgate_version(),
        "name": book.meta.name, "version": book.meta.version, "digest": book.digest,
        "content_digest": _digest(body),
        "built": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "sources": {p.relative_to(book.root).as_posix(): "sha256:" + hashlib.sha256(read_rule_file(p)).hexdigest()
                    for p in pack_files(book.root)},
    }
    _write_whole(Path(path), orjson.dumps({"header": header, "body": body}))
    return header


def _write_whole(path: Path, data: bytes) -> None:
    """``data`` into ``path`` whole or not at all (a temporary file beside it, renamed); an InputError
    naming the file if it cannot be written."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write the bundle: {exc.strerror or exc}") from None


def load(path: Path) -> CompiledBundle:
    """The compiled rules of a bundle file; refused if this chipgate compiles its rules to another network
    (a bundle built by another version): the network the bundle holds is the one that runs."""
    book, network = read(path)
    try:
        compiled = compile_rulebook(book)
    except Exception as exc:  # noqa: BLE001 - digests recomputed over a malformed body: one clear refusal
        raise InputError(f"{path}: malformed bundle body ({type(exc).__name__}: {brief(str(exc))}); rebuild it "
                         "with chipgate rules build") from None
    if compiled.network != network:
        raise InputError(f"{path}: this chipgate ({chipgate_version()}) compiles the bundle's rules differently "
                         "from the chipgate that built it: rebuild the bundle with chipgate rules build")
    return compiled


def read(path: Path) -> tuple[RuleBook, dict[str, dict]]:
    """The rule book and compiled network a bundle file holds, checked against its header."""
    path = Path(path)

    def refuse(what: str) -> InputError:
        return InputError(f"{path}: {what}")

    try:
        document = orjson.loads(read_rule_file(path, MAX_BUNDLE_BYTES, "a bundle", "MAX_BUNDLE_BYTES"))
    except UnreadableFile as exc:
        raise refuse(f"cannot read the bundle: {exc}") from None
    except orjson.JSONDecodeError as exc:
        raise refuse(f"not a chipgate bundle: not JSON ({exc}); a truncated or damaged file? rebuild it with "
                     "chipgate rules build") from None
    header = document.get("header") if isinstance(document, dict) else None
    body = document.get("body") if isinstance(document, dict) else None
    if not isinstance(header, dict) or header.get("format") != FORMAT or not isinstance(body, dict):
        raise refuse(f"not a chipgate bundle (no {FORMAT!r} header and body); give a rule directory or a file "
                     "written by chipgate rules build")
    if header.get("format_version") != FORMAT_VERSION:
        raise refuse(f"bundle format version {header.get('format_version')!r} (written by chipgate "
                     f"{header.get('chipgate_version')}); this chipgate reads version {FORMAT_VERSION}: rebuild the "
                     "bundle with chipgate rules build")
    if _digest(body) != header.get("content_digest"):
        raise refuse("the bundle's content does not match its content_digest: it was altered or damaged after it "
                     "was built; rebuild it with chipgate rules build")
    try:
        book = _book(body, path)
        network = body["network"]
        digest = book.digest
    except Exception as exc:  # noqa: BLE001 - any malformed part is one clear refusal
        raise refuse(f"malformed bundle body ({type(exc).__name__}: {exc}); rebuild it with chipgate rules build") \
            from None
    cycles = set_graph_problems(book.sets, book.set_where)  # resolving such sets would recurse without end
    if cycles:
        raise refuse(f"malformed bundle body ({cycles[0].message}); rebuild it with chipgate rules build")
    if digest != header.get("digest"):
        raise refuse(f"the rules do not match the bundle's digest {header.get('digest')} (they give {digest}): the "
                     "bundle was altered after it was built; rebuild it with chipgate rules build")
    return book, network


def _book(body: dict, path: Path) -> RuleBook:
    rules = [LoadedRule(Rule.model_validate(_decode(r["rule"])), r["jurisdiction"], r["file"], r["line"],
                        _condition(_decode(r["when"])), _condition(_decode(r["for_party"]), optional=True),
                        {k: _rule_number(v) for k, v in _decode(r["derive"]).items()})
             for r in body["rules"]]
    sets = {s.id: s for s in (NamedSet.model_validate(_decode(raw)) for raw in body["sets"])}
    designations = {d.id: d for d in (Designation.model_validate(_decode(raw)) for raw in body["designations"])}
    cases = [(c["file"], Case.model_validate(_decode(c["case"]))) for c in body["cases"]]
    return RuleBook(
        meta=BundleMeta.model_validate(_decode(body["meta"])), root=path, rules=rules, sets=sets,
        aliases=[Alias.model_validate(_decode(raw)) for raw in body["aliases"]], cases=cases,
        designations=designations, set_where={k: Where(*w) for k, w in body["set_where"].items()},
        case_lines=[c["line"] for c in body["cases"]], conditions=_decode(body["conditions"]),
        condition_where={k: Where(*w) for k, w in body["condition_where"].items()})


def _condition(value: Any, optional: bool = False):
    """A decoded condition, which the compiler walks: a forged ``when: 5`` is refused here."""
    if not (isinstance(value, (All, Any_, Leaf, Not)) or optional and value is None):
        raise ValueError(f"a rule's condition is {brief(str(value))}")
    return value


def _digest(body: dict) -> str:
    return "sha256:" + hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _dump(model) -> Any:
    """A model's fields as given (``exclude_unset``: a case's expectations are the fields it sets)."""
    return _encode(model.model_dump(by_alias=True, exclude_unset=True))


def _encode(value: Any) -> Any:
    """``value`` as JSON, with the types JSON lacks tagged (see the module docstring)."""
    if value is None or isinstance(value, (bool, int, float, str)) and not isinstance(value, Enum):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return {"$date": value.isoformat()}
    if isinstance(value, (set, frozenset)):
        return {"$set": sorted((_encode(v) for v in value), key=repr)}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, Leaf):
        return {"$leaf": [value.field, value.op, _encode(value.value), value.line]}
    if isinstance(value, Not):
        return {"$not": _encode(value.part)}
    if isinstance(value, (All, Any_)):
        return {"$all" if isinstance(value, All) else "$any": [_encode(p) for p in value.parts]}
    raise TypeError(f"a bundle cannot hold {type(value).__name__} {value!r}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        [(tag, inner)] = value.items()
        if tag in _TAGS:
            return _TAGS[tag](inner)
    return {k: _decode(v) for k, v in value.items()}


def _leaf(parts: list) -> Leaf:
    field, op, operand, line = parts
    return Leaf(field, op, _rule_number(_decode(operand)), line)


def _rule_number(value: Any) -> Any:
    """A rule's number as the loader bounds it: a forged bundle's ``1e999999999`` would hang the fact builder."""
    error = rule_number_error(value) if isinstance(value, Decimal) else None
    if error:
        raise ValueError(f"number {str(value)[:40]} is out of range ({error})")
    return value


_TAGS = {
    "$decimal": Decimal,
    "$date": dt.date.fromisoformat,
    "$set": lambda items: frozenset(_decode(v) for v in items),
    "$leaf": _leaf,
    "$not": lambda part: Not(_decode(part)),
    "$all": lambda parts: All(tuple(_decode(p) for p in parts)),
    "$any": lambda parts: Any_(tuple(_decode(p) for p in parts)),
}

