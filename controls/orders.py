"""Read orders (transactions) from YAML or JSON files, with errors that name the field and line.

Nothing here renders unbounded input: a file larger than ``MAX_FILE_BYTES`` is refused unread, and
every field path, message and order id in an error is cut short (``brief``).
"""
from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import orjson
from pydantic import ValidationError

from .errors import InputError, Problem
from .models import Transaction
from .rulebook.yamlsource import MAX_INT_DIGITS, YamlError, brief, line_of, load_yaml, loads_yaml

MAX_FILE_BYTES = 32 * 2**20  # a batch of some 50,000 ordinary orders


def read_orders(path: str | Path, text: str | None = None) -> tuple[list[Transaction], bool]:
    """Read one transaction or a list of them (a batch); any invalid one rejects the whole file."""
    name = brief(str(path), 500)
    try:
        size = len(text.encode("utf-8", "surrogatepass")) if text is not None else Path(path).stat().st_size
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise InputError(f"{name}: {size:,} bytes, more than the {MAX_FILE_BYTES:,} an order file may have; "
                         "split the batch")
    try:
        if text is None:
            data = load_yaml(Path(path))
        else:
            data = loads_yaml(text, name)
    except YamlError as exc:
        raise InputError(str(exc.problem)) from None
    if data is None:
        raise InputError(f"{name}: empty file, expected a transaction or a list of transactions")
    if data == []:
        raise InputError(f"{name}: empty batch, expected at least one transaction")
    batch = data if isinstance(data, list) else [data]
    problems: list[Problem] = []
    orders = []
    for index, raw in enumerate(batch):
        try:
            orders.append(Transaction.model_validate(raw))
        except ValidationError as exc:
            problems.extend(_problems(name, raw, exc, index if isinstance(data, list) else None))
    if problems:
        raise invalid(problems)
    return orders, isinstance(data, list)


def parse_json(text: str | bytes) -> Any:
    """JSON as orders are read: numbers exactly (``Decimal``), no duplicate keys, no huge integers.

    ``orjson`` reads the common case, an order without fractions or repeated keys, several times
    faster; anything else (a fraction, which it would round to a float, a repeated key, which it
    would drop, or an error) is read again by ``json`` with the hooks that say exactly what is wrong.
    """
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    else:
        keys = _keys_without_floats(data)
        if keys is not None and _no_key_repeated(keys, text):
            return data
    return exact_json(text)


def exact_json(text: str | bytes) -> Any:
    """What :func:`parse_json` reads, by ``json`` alone: slower, and the one that explains an error."""
    return json.loads(text, parse_float=Decimal, parse_int=_json_int, parse_constant=Decimal,
                      object_pairs_hook=_json_object)


def _keys_without_floats(data: Any) -> int | None:
    """How many keys the objects in ``data`` have; None if it holds a float (a fraction ``orjson`` rounded)."""
    if isinstance(data, dict):
        values, keys = data.values(), len(data)
    elif isinstance(data, list):
        values, keys = data, 0
    else:
        return None if isinstance(data, float) else 0
    for value in values:
        if isinstance(value, (dict, list)):
            inner = _keys_without_floats(value)
            if inner is None:
                return None
            keys += inner
        elif isinstance(value, float):
            return None
    return keys


_KEY = re.compile(rb'"(?:[^"\\]|\\.)*"(\s*:)?')  # every string, scanned in turn; group 1 if it is a key


def _no_key_repeated(keys: int, text: str | bytes) -> bool:
    """Whether valid JSON ``text`` writes only the ``keys`` keys its objects hold (none twice).  Every
    colon is a key's, unless strings hold some: then the strings followed by one are counted."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return raw.count(b":") == keys or sum(1 for match in _KEY.finditer(raw) if match.group(1)) == keys


def _json_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise ValueError(f"integer of {len(text)} characters is too long")
    return int(text)


def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"duplicate key {brief(twice)!r}")
    return result


def validate_order(raw: Any, name: str = "<input>", record: int | None = None,
                   located: Callable[[], Any] | None = None) -> Transaction:
    """The transaction ``raw`` describes, or an InputError naming every bad field.

    ``record`` is the order's position in a batch; ``located`` gives ``raw`` as the line-tracking
    loader reads it, and is called only on an error, to name the line of each field.
    """
    try:
        return Transaction.model_validate(raw)
    except ValidationError as exc:
        raise invalid(_problems(name, located() if located else raw, exc, None), record) from None


def invalid(problems: list[Problem], record: int | None = None) -> InputError:
    """One InputError for ``problems``, naming the first one's field and line."""
    first = problems[0]
    return InputError("\n".join(str(p) for p in problems), field=first.field, line=first.line, record=record,
                      problems=problems)


def _problems(name: str, raw: Any, exc: ValidationError, index: int | None) -> list[Problem]:
    problems = []
    txn_id = raw.get("id") if isinstance(raw, dict) else None
    for error in exc.errors():
        loc = tuple(error["loc"])
        field = brief(".".join(str(p) for p in loc) or "transaction", 200)
        message = f"unknown field {loc[-1]!r}" if error["type"] == "extra_forbidden" else error["msg"]
        message = brief(message.removeprefix("Value error, "), 500)
        where = f"transaction {brief(txn_id)}" if txn_id else (f"transaction #{index}" if index is not None else None)
        problems.append(Problem(name, line_of(raw, loc), f"{field}: {message}", where, field=field))
    return problems


