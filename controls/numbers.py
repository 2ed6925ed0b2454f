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
from typing import Annotated, Callable

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticKnownError

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


RULE_MAX = 10**15  # a rule's number: as large as an order's largest amount (``amount``'s ``le``)


def rule_number_error(value: Decimal) -> str | None:
    """Why a rule file's number is refused, or None: at most ``RULE_MAX`` and ``DECIMAL_PLACES`` places, as
    an order's amounts.  Every later stage compares it exactly (``Fraction(1e999999999)`` builds a
    billion-digit integer: minutes); checked here on the exponent and digits alone, in constant time."""
    if not value.is_finite():
        return "not a finite number"
    if value.is_zero():
        return None
    if value.adjusted() > 15 or value.copy_abs() > RULE_MAX:  # the exponent first; copy_abs, exact, not abs()
        return "larger than 10^15"
    _, digits, exponent = value.as_tuple()
    kept, exponent = _without_trailing_zeros(digits, exponent)
    if _places_and_digits(kept, exponent)[0] > DECIMAL_PLACES:
        return f"more than {DECIMAL_PLACES} decimal places"
    return None


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
    schema = {"type": "number", "maximum": le, **({"exclusiveMinimum": gt} if gt is not None else {"minimum": ge})}
    return Annotated[Decimal, BeforeValidator(_reader(ge, gt, le)),
                     PlainSerializer(_json_number, when_used="json"),
                     WithJsonSchema(schema)]  # a JSON number, never a text (Decimal's default schema allows one)


MAX_DIGITS, DECIMAL_PLACES = 40, 20  # of an amount, far beyond any real one


def _reader(ge: int, gt: int | None, le: int) -> Callable[[object], Decimal]:
    """The amount as a Decimal (:func:`_number_as_given`), checked as ``Field(ge=ge or gt=gt, le=le,
    max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)`` checks it, in its order and with its errors,
    in one call: pydantic calls a Python function for each check (a third of validating an order), and
    one for each validator (this did the work of two: some 16 µs less an order of five amounts).

    An integer (most amounts) is compared as it is and has no digits to count: within ``le`` it has 16
    at most, and no decimal places; ``Decimal(n)`` is ``Decimal(str(n))``.  A value that is not finite (a
    Decimal read from ``NaN`` or ``Infinity``) is left for pydantic's decimal check to refuse, which
    came before the bounds."""
    def read(value: object) -> Decimal:
        if type(value) is int:
            _check_bounds(value, ge, gt, le)
            return Decimal(value)
        number = _number_as_given(value)
        if number.is_finite():
            _check_bounds(number, ge, gt, le)
            _, digits, exponent = number.as_tuple()
            places, total = _places_and_digits(len(digits), exponent)
            if total > MAX_DIGITS or places > DECIMAL_PLACES or total - places > MAX_DIGITS - DECIMAL_PLACES:
                _check_digits(digits, exponent, places, total)  # as written, too many: as pydantic, without trailing zeros
        return number
    return read


def _check_bounds(value: int | Decimal, ge: int, gt: int | None, le: int) -> None:
    if gt is not None and not value > gt:
        raise PydanticKnownError("greater_than", {"gt": gt})
    if gt is None and not value >= ge:
        raise PydanticKnownError("greater_than_equal", {"ge": ge})
    if not value <= le:
        raise PydanticKnownError("less_than_equal", {"le": le})


def _places_and_digits(digits: int, exponent: int) -> tuple[int, int]:
    """(decimal places, digits in all) of ``digits`` digits times 10**exponent, as pydantic counts them."""
    return (0, digits + exponent) if exponent >= 0 else (-exponent, max(digits, -exponent))


def _without_trailing_zeros(digits: tuple[int, ...], exponent: int) -> tuple[int, int]:
    """(digits kept, exponent) of the same number written without its trailing zeros (``1.000``: 1, 0)."""
    kept = len(digits)
    while kept and digits[kept - 1] == 0:
        kept -= 1
    return kept, exponent + len(digits) - kept


def _check_digits(digits: tuple[int, ...], exponent: int, places: int, total: int) -> None:
    """pydantic's max_digits, then decimal_places check: a limit is exceeded if it is, written as given and
    written without trailing zeros (``1.000`` has 3 places as written, 0 so)."""
    kept, short_exponent = _without_trailing_zeros(digits, exponent)
    short_places, short_total = _places_and_digits(kept, short_exponent) if kept else (0, 1)
    if total > MAX_DIGITS and short_total > MAX_DIGITS:
        raise PydanticKnownError("decimal_max_digits", {"max_digits": MAX_DIGITS})
    if places > DECIMAL_PLACES and short_places > DECIMAL_PLACES:
        raise PydanticKnownError("decimal_max_places", {"decimal_places": DECIMAL_PLACES})
    whole = MAX_DIGITS - DECIMAL_PLACES
    if total - places > whole and short_total - short_places > whole:
        raise PydanticKnownError("decimal_whole_digits", {"whole_digits": whole})
