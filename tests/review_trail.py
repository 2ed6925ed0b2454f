"""A review queue to test against: an audit trail filled by a batch run with held orders of every
kind, and a real ``chipgate serve`` over it (``tests/service_server.py``) with reviewers configured."""
from __future__ import annotations

import contextlib
import json
import shutil
import sys
from pathlib import Path

from controls.audit import AuditLog
from controls.batch import run_batch
from tests.conftest import REPO, order
from tests.service_server import served

sys.path.insert(0, str(REPO / "bench"))
from corpus import corpus  # noqa: E402

XSS = "<script>alert(1)</script>"
TOKEN = "alice-review-token-0123456789"
USER = "alice"
HEADER = "X-Remote-User"


def _party(name: str, country: str) -> dict:
    return {"role": "end_user", "name": name, "country": country}


# held for each reason: a possible list match, a missing fact (an unclassified item; its customer's name is
# markup), an unconfirmed rule window (an order dated before any rule), an unmodelled item (an ECCN the
# bundle does not decide)
SPECIAL = [
    order("CN", eccn="EAR99", parties=[_party("Huawey Technologys", "CN")]) | {"id": "SO-MATCH"},
    order("BR", parties=[_party(XSS, "BR")]) | {"id": "SO-XSS"},
    order("DE", date="1999-01-01", eccn="3A090.a") | {"id": "SO-1999"},
    order("DE", eccn="1C350") | {"id": "SO-UNMODELLED"},
]


@contextlib.contextmanager
def review_service(engine, list_store: Path, folder: Path, *options: str):
    """Yield (url, audit path, list store copy): the batch's determinations recorded, the service reading them.
    The list store is a copy: a release may add to its allow-list."""
    lists = folder / "lists"
    shutil.copytree(list_store, lists)
    orders = folder / "orders.jsonl"
    orders.write_text("".join(json.dumps(o) + "\n" for o in corpus(40, seed=5) + SPECIAL))
    audit = folder / "audit.sqlite"
    run_batch(engine, orders, folder / "results.jsonl", audit_log=AuditLog(audit))
    with served("--lists", str(lists), "--audit", str(audit), "--review-token", f"{USER}={TOKEN}",
                *options) as (url, _):
        yield url, audit, lists
