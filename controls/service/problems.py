"""Errors as RFC 9457 problem details (``application/problem+json``), each bad field with its path."""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..rulebook.yamlsource import brief

MEDIA_TYPE = "application/problem+json"


class ProblemError(Exception):
    """A request the service answers with a problem detail instead of a result."""

    def __init__(self, status: int, kind: str, title: str, detail: str, errors: list[dict] | None = None):
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail, self.errors = status, kind, title, detail, errors or []

    def body(self, **extra: Any) -> dict:
        problem = {"type": f"urn:chipgate:problem:{self.kind}", "title": self.title, "status": self.status,
                   "detail": self.detail, **extra}
        if self.errors:
            problem["errors"] = self.errors
        return problem


def field_errors(exc: ValidationError, prefix: tuple = ()) -> list[dict]:
    """One entry per bad field: its JSON Pointer (RFC 6901), the same path dotted, and what is wrong."""
    errors = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = prefix + tuple(error["loc"])
        message = f"unknown field {loc[-1]!r}" if error["type"] == "extra_forbidden" else error["msg"]
        errors.append({
            "pointer": "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in loc) if loc else "",
            "field": brief(".".join(str(p) for p in loc), 200),
            "detail": brief(message.removeprefix("Value error, "), 500),
        })
    return errors


def invalid(exc: ValidationError, what: str, prefix: tuple = ()) -> ProblemError:
    errors = field_errors(exc, prefix)
    first = "; ".join(f"{e['field'] or what}: {e['detail']}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return ProblemError(422, f"invalid-{what}", f"Invalid {what}", first + more, errors)


def malformed_json(exc: Exception) -> ProblemError:
    return ProblemError(400, "malformed-json", "Malformed JSON", brief(f"the body is not JSON: {exc}", 500))


def too_large(limit: int, what: str = "request body") -> ProblemError:
    return ProblemError(413, "too-large", "Request too large",
                        f"the {what} is larger than the {limit:,} bytes this service accepts "
                        f"(see chipgate serve --max-body / --max-batch-body)")
