"""One root error for chipgate; every subclass knows its CLI exit code.

Bad input (a transaction, a rule file, a list file) is a ``ValueError`` too, so
callers that already catch ``ValueError`` keep working.
"""
from __future__ import annotations

from dataclasses import dataclass


class ChipgateError(Exception):
    """Root of every error chipgate raises on purpose."""

    exit_code = 1


class InputError(ChipgateError, ValueError):
    """A transaction, option or data file is malformed; the message names the field.

    Where known, ``field`` is the path of the first bad field (``items.0.quantity``), ``record``
    the order's 1-based position in a batch, ``line`` its source line, and ``problems`` every
    problem found, so that a batch can report them per record.
    """

    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None, record: int | None = None,
                 line: int | None = None, problems: "tuple[Problem, ...]" = ()):
        super().__init__(message)
        self.field, self.record, self.line, self.problems = field, record, line, tuple(problems)


@dataclass(frozen=True)
class Problem:
    """One problem found in a source file, located as precisely as we can.

    ``code`` is stable (``rule.unknown-fact``): editors and CI key on it, never on the message.
    A ``warning`` does not stop a bundle from loading; ``fix`` says in a few words what to do.
    """

    file: str
    line: int | None
    message: str
    rule: str | None = None
    code: str = "rule.invalid"
    severity: str = "error"  # error | warning
    fix: str = ""
    field: str | None = None  # the path of the field at fault, in an order

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        who = f" [{self.rule}]" if self.rule else ""
        return f"{where}:{who} {self.message}"


class RuleError(InputError):
    """A rule pack is invalid; carries every problem found, each with file and line."""

    def __init__(self, problems: list[Problem]):
        problems = list(problems)
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class ListDataError(InputError):
    """A list file cannot be imported, or an import was refused (see message)."""


class EngineError(ChipgateError):
    """The rule engine failed; the determination is not trustworthy."""
