"""Read orders (transactions) from YAML or JSON files, with errors that name the field and line.

Nothing here renders unbounded input: a file larger than ``MAX_FILE_BYTES`` is refused unread, and
every field path, message and order id in an error is cut short (``brief``).
"""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import jiter
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

    ``jiter`` reads the common case several times faster than ``json`` with its hooks: a fraction as a
    Decimal with the digits written, a repeated key refused.  What it refuses (a repeated key, NaN, a
    lone surrogate, an error) and a text with 40 digits in a row (an integer too long, perhaps) are
    read again by :func:`exact_json`, whose hooks say exactly what is wrong.
    """
    try:
        raw = text.encode() if isinstance(text, str) else text
    except UnicodeEncodeError:  # a lone surrogate
        return exact_json(text)
    if _LONG_RUN not in raw.translate(_DIGITS):
        try:
            return jiter.from_json(raw, float_mode="decimal", catch_duplicate_keys=True, allow_inf_nan=False,
                                   cache_mode="keys")
        except ValueError:
            pass
    return exact_json(text)


_DIGITS = bytes(ord("9") if ord("0") <= byte <= ord("9") else ord(" ") for byte in range(256))
_LONG_RUN = b"9" * MAX_INT_DIGITS  # digits in a row, as _DIGITS writes them: perhaps an integer exact_json refuses


def exact_json(text: str | bytes) -> Any:
    """What :func:`parse_json` reads, by ``json`` alone: slower, and the one that explains an error."""
    return json.loads(text, parse_float=_json_decimal, parse_int=_json_int, parse_constant=Decimal,
                      object_pairs_hook=_json_object)


def _json_decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except ArithmeticError:  # decimal.InvalidOperation: an exponent of more digits than Decimal holds
        raise ValueError(f"number {brief(text, 40)} is out of range") from None


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


