"""A batch run records every determination in the audit trail (issue 9): in input order, one chain,
with forked workers too; ``--no-audit`` records nothing."""
import json
import sqlite3
import sys

import pytest
from click.testing import CliRunner
from conftest import REPO, order

from cli import main
from controls import batch
from controls.audit import AuditLog, entry
from controls.batch import run_batch
from controls.orders import validate_order

sys.path.insert(0, str(REPO / "bench"))
from corpus import corpus  # noqa: E402

BAD = order("XX", eccn="3A090.a") | {"id": "BAD"}  # an invalid record: an error line, no determination


@pytest.fixture
def orders_file(tmp_path):
    orders = corpus(150, seed=17)
    orders.insert(40, BAD)
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(json.dumps(o) + "\n" for o in orders))
    return path, [o["id"] for o in orders if o is not BAD]


def test_a_batch_lands_in_the_audit_trail_in_order_and_verifies(cli_lists, tmp_path, orders_file):
    """With forked workers: they make the records, the command appends them in input order."""
    path, ids = orders_file
    db = tmp_path / "audit.sqlite"
    runner = CliRunner()
    result = runner.invoke(main, ["check", "--batch", str(path), "--out", str(tmp_path / "out.jsonl"),
                                  "--workers", "2", "--audit", str(db)])
    assert result.exit_code == 2, result.output  # one invalid record
    assert f"recorded in the audit trail {db}" in result.output
    shown = runner.invoke(main, ["audit", "show", "--db", str(db)])
    assert [line.split()[2] for line in shown.output.splitlines()] == ids
    assert all(line.endswith(f"batch {path}") for line in shown.output.splitlines())
    verified = runner.invoke(main, ["audit", "verify", "--db", str(db)])
    assert verified.exit_code == 0 and f"ok: {len(ids)} records" in verified.output
    outputs = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    decided = [o for o in outputs if "decision" in o]
    assert [r["decision"] for r in AuditLog(db).records()] == [o["decision"] for o in decided]


def test_a_batch_record_is_the_record_a_single_check_makes(engine, tmp_path, orders_file):
    path, ids = orders_file
    log = AuditLog(tmp_path / "audit.sqlite")
    run_batch(engine, path, tmp_path / "out.jsonl", audit_log=log, caller="nightly")
    assert [r["transaction_id"] for r in log.records()] == ids and log.verify() is None
    first = next(log.records())
    txn = log.order(first["seq"])
    expected = entry(engine.check(txn), "nightly", validate_order(json.loads(path.read_text().splitlines()[0])))
    assert {k: first[k] for k in expected if k != "time"} == {k: v for k, v in expected.items() if k != "time"}


def test_no_audit_records_nothing(cli_lists, tmp_path, orders_file, audit_default):
    path, _ = orders_file
    before = audit_default.exists() and sum(1 for _ in AuditLog(audit_default).records())
    result = CliRunner().invoke(main, ["check", "--batch", str(path), "--out", str(tmp_path / "out.jsonl"),
                                       "--no-audit"])
    assert result.exit_code == 2 and "recorded in the audit trail" not in result.output
    after = audit_default.exists() and sum(1 for _ in AuditLog(audit_default).records())
    assert before == after


def test_audit_options_go_with_a_batch(cli_lists):
    result = CliRunner().invoke(main, ["check", str(REPO / "examples" / "order.yaml"), "--no-audit"])
    assert result.exit_code == 2 and "go with --batch" in result.output


@pytest.mark.parametrize("failing", [2, 3])  # an append in the middle, the last one
def test_a_failed_append_fails_the_run_and_no_record_follows_it(engine, tmp_path, orders_file, monkeypatch, failing):
    """Appends run in a thread of their own: a failure still fails the run, with no results file, and no list
    is appended after the one that failed."""
    monkeypatch.setattr(batch, "AUDIT_EVERY", 40)  # a list a chunk: 63 determinations (and BAD), 64, 23
    path, ids = orders_file
    log, calls = AuditLog(tmp_path / "audit.sqlite"), []
    real = log.append

    def append(entries):
        calls.append(len(entries))
        if len(calls) == failing:
            raise sqlite3.OperationalError("disk I/O error")
        return real(entries)
    log.append = append
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        run_batch(engine, path, tmp_path / "out.jsonl", audit_log=log)
    assert not (tmp_path / "out.jsonl").exists() and len(calls) == failing
    assert [r["transaction_id"] for r in log.records()] == ids[:sum(calls[:-1])] and log.verify() is None
