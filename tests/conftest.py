import datetime as dt
from pathlib import Path

import pytest

from controls import Engine

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The real engine on the real bundled rules."""
    return Engine.load()


def order(destination="CN", date="2026-11-28", parties=(), **item) -> dict:
    """A one-line U.S.-origin order; keyword arguments fill in the item."""
    line = {"sku": "X-1", "quantity": 1, "origin": "US"}
    line.update(item)
    return {"id": "T-1", "date": date, "export_from": "US", "destination": destination,
            "parties": list(parties), "items": [line]}


def chip(**parameters) -> dict:
    return {"chip": parameters}


def fired(result) -> set[str]:
    return {f.rule for f in result.findings if f.enforced}


def on(day: str) -> dt.date:
    return dt.date.fromisoformat(day)
