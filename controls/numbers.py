"""Exact numbers: how chipgate reads, compares and writes them.

Money, chip parameters and rule thresholds are ``Decimal``s read from their text, and derived
ratios (U.S.-content share, performance density) are ``Fraction``s, so "more than 25 %" is
decided exactly: 327.78 of 1,311.12 is 25 %, not over it.  No number reaches the rule engine,
which compares C doubles: every comparison is answered here (see ``controls.facts.builder``).
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

Number = Decimal | Fraction | int

_DECIMAL_PLACES = 6  # shown before a value that does not end is rounded


def exact(value: Number) -> Fraction:
    """The value as a fraction (a Decimal converts exactly)."""
    return value if isinstance(value, Fraction) else Fraction(value)


@lru_cache(maxsize=4096)
def ratio(part: Number, whole: Number, scale: int = 1) -> Fraction:
    """``scale * part / whole`` exactly (orders repeat their values: computed once for each)."""
    return exact(part) * scale / exact(whole)


def compare(op: str, value: Number, threshold: Number) -> bool:
    """``value op threshold`` in exact arithmetic; ``op`` is ``gt``, ``gte`` or ``eq``."""
    left, right = exact(value), exact(threshold)
    return left > right if op == "gt" else left >= right if op == "gte" else left == right


def plain(value: Number) -> str:
    """A number as an analyst writes it: ``25``, ``5.92``, ``0.00005``; ``about 25.000763`` if it does not end."""
    fraction = exact(value)
    shown = round(fraction, _DECIMAL_PLACES)
    digits = Decimal(int(shown * 10**_DECIMAL_PLACES)).as_tuple()  # exact, however many digits
    text = format(Decimal((digits.sign, digits.digits, -_DECIMAL_PLACES)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if shown == fraction else f"about {text}"


def _json_number(value: Decimal) -> int | float:
    # the contract's JSON has numbers here, as it had when these fields were floats
    return int(value) if value == value.to_integral_value() else float(value)


def _number_as_given(value):
    """A number stays a number: ``true`` or the text ``"4800"`` is an input error, never 1 or 4800."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, not {str(value).lower()}")
    if isinstance(value, str):
        raise ValueError(f"expected a number, not the text {value[:40]!r}: write it without quotes")
    if not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"expected a number, not {type(value).__name__}")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def amount(ge: int = 0, gt: int | None = None, le: int = 10**15) -> type:
    """A finite, bounded Decimal read from its text (a float input goes through ``str``, never its binary value).

    The bounds keep absurd inputs (``1e+16`` dollars a unit, ``1e-30`` mm2) out, with a field error; a
    boolean or a text is an error too (a model may be strict: only a Decimal passes after this).
    """
    bounds = {"gt": gt} if gt is not None else {"ge": ge}
    schema = {"type": "number", "maximum": le, **({"exclusiveMinimum": gt} if gt is not None else {"minimum": ge})}
    return Annotated[Decimal, BeforeValidator(_number_as_given),
                     Field(le=le, max_digits=40, decimal_places=20, allow_inf_nan=False, **bounds),
                     PlainSerializer(_json_number, when_used="json"),
                     WithJsonSchema(schema)]  # a JSON number, never a text (Decimal's default schema allows one)
