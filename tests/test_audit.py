"""The audit trail: what a record holds, concurrent writers, and a chain that exposes an edited,
deleted or moved record (``chipgate audit verify`` exits 2 naming it)."""
from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading

import pytest
from click.testing import CliRunner

from cli import main
from controls.audit import AuditLog, canonical, entry, snapshot_digest
from controls.orders import validate_order
from controls.service.app import AuditQueue
from tests.conftest import REPO, chip, order


@pytest.fixture
def trail(tmp_path, engine):
    """An audit log of five determinations: two HOLD (no date rule in force), three LICENSE_REQUIRED."""
    log = AuditLog(tmp_path / "audit.sqlite")
    for i, day in enumerate(["2026-11-28", "1999-01-01", "2026-11-28", "1999-01-01", "2026-11-28"]):
        txn = validate_order({**order(date=day, **chip(tpp=5000, die_area_mm2=800, datacenter=True)), "id": f"T-{i}"})
        log.record(engine.check(txn), caller="erp", order=txn)
    return log


def tamper(log: AuditLog, *statements: str) -> None:
    """What someone with write access to the file can do: drop the triggers, then change rows."""
    db = sqlite3.connect(log.path)
    triggers = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
    db.executescript("".join(f"DROP TRIGGER {name};" for name in triggers) + ";".join(statements))
    db.commit()
    db.close()


def verify(log: AuditLog):
    return CliRunner().invoke(main, ["audit", "verify", "--db", str(log.path)])


def test_a_record_holds_what_an_auditor_asks_for(trail, engine):
    records = list(trail.records())
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    first = records[0]
    assert first["decision"] == "LICENSE_REQUIRED" and first["caller"] == "erp" and first["as_of"] == "2026-11-28"
    assert first["bundle_digest"] == engine.ruleset.digest and first["input_digest"].startswith("sha256:")
    assert json.loads(first["lists"]) == [s.model_dump(mode="json") for s in engine.lists]
    assert {f["rule"] for f in json.loads(first["findings"])} >= {"ear.742.6.a6.iii.a.macau-d5"}
    assert first["time"].endswith("+00:00")
    # a held order can be reopened and checked again, with the same answer
    held = next(r for r in records if r["decision"] == "HOLD")
    reopened = trail.order(held["seq"])
    assert reopened.id == held["transaction_id"]
    assert engine.check(reopened).decision.value == "HOLD"


def test_the_trail_refuses_updates_and_deletes(trail):
    db = sqlite3.connect(trail.path)
    for statement in ("UPDATE records SET decision = 'NLR'", "DELETE FROM records WHERE seq = 1"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(statement)


def test_intact_trail_verifies(trail):
    result = verify(trail)
    assert result.exit_code == 0 and "5 records" in result.output


@pytest.mark.parametrize("statements, broken", [
    (["UPDATE records SET decision = 'NLR' WHERE seq = 2"], "record 2"),
    (["UPDATE records SET findings = '[]' WHERE seq = 4"], "record 4"),
    (["DELETE FROM records WHERE seq = 3"], "record 3"),
    (["DELETE FROM records WHERE seq = 5"], "record 5"),
    (["DELETE FROM records WHERE seq = 1"], "record 1"),
    # two records trade places, each keeping its own content and hash
    (["UPDATE records SET seq = 100 WHERE seq = 2", "UPDATE records SET seq = 2 WHERE seq = 3",
      "UPDATE records SET seq = 3 WHERE seq = 100"], "record 2"),
])
def test_verify_names_the_first_broken_record(trail, statements, broken):
    tamper(trail, *statements)
    result = verify(trail)
    assert result.exit_code == 2
    assert f"broken at {broken}:" in result.output


def test_the_list_editions_are_stored_once_and_read_with_every_record(trail, engine):
    db = sqlite3.connect(trail.path)
    (digest, text), = db.execute("SELECT digest, lists FROM list_snapshots").fetchall()
    assert digest == snapshot_digest(text) and json.loads(text) == [s.model_dump(mode="json") for s in engine.lists]
    assert text.startswith("[")  # what a record written before snapshots holds: never taken for a digest
    assert {stored for (stored,) in db.execute("SELECT lists FROM records")} == {digest}
    assert all(r["lists"] == text and r["lists_digest"] == digest for r in trail.records())
    assert trail.record_at(3)["lists"] == text and next(trail.held())["lists_digest"] == digest


EMPTY = snapshot_digest("[]")  # the snapshot of a store with no list imported


@pytest.mark.parametrize("statements, broken", [
    (["UPDATE list_snapshots SET lists = '[]'"], "record 1: its list snapshot {digest} does not match its digest"),
    (["DELETE FROM list_snapshots"], "record 1: its list snapshot {digest} is missing"),
    # record 2 pointed at another snapshot, itself intact
    ([f"INSERT INTO list_snapshots VALUES ('{EMPTY}', '[]')", f"UPDATE records SET lists = '{EMPTY}' WHERE seq = 2"],
     "record 2: its content does not match its hash"),
    # record 3 given its snapshot's text in place of the digest (as a record written before snapshots holds it)
    (["UPDATE records SET lists = (SELECT lists FROM list_snapshots) WHERE seq = 3"],
     "record 3: its content does not match its hash"),
    # a snapshot no record refers to, not what its digest says
    ([f"INSERT INTO list_snapshots VALUES ('{EMPTY}', '[1]')"],
     f"list snapshot {EMPTY}: its content does not match its digest"),
    # values that are not text, written into the file
    (["UPDATE list_snapshots SET lists = CAST(lists AS BLOB)"], "record 1: its list snapshot {digest} does not match"),
    (["UPDATE records SET lists = CAST(lists AS BLOB) WHERE seq = 4"], "record 4: its content does not match its hash"),
])
def test_verify_finds_a_list_snapshot_edited_deleted_or_swapped(trail, statements, broken):
    (digest,), = sqlite3.connect(trail.path).execute("SELECT digest FROM list_snapshots").fetchall()
    tamper(trail, *statements)
    result = verify(trail)
    assert result.exit_code == 2 and f"broken at {broken.format(digest=digest)}" in result.output


def test_a_record_whose_snapshot_is_missing_is_still_read_and_exported(trail):
    tamper(trail, "DELETE FROM list_snapshots")
    assert [r["lists"] for r in trail.records()] == [None] * 5
    exported = CliRunner().invoke(main, ["audit", "export", "--db", str(trail.path)])
    assert exported.exit_code == 0 and [json.loads(line)["lists"] for line in exported.stdout.splitlines()] == [None] * 5
    assert "warning: record 1: its list snapshot sha256:" in exported.stderr


def test_no_record_is_appended_against_a_snapshot_edited_in_the_file(trail, engine):
    tamper(trail, "UPDATE list_snapshots SET lists = '[]'")
    txn = validate_order(order(eccn="3A090.a"))
    fresh = AuditLog(trail.path)  # a log that has not yet stored or found this snapshot
    with pytest.raises(sqlite3.IntegrityError, match="list snapshot sha256:.* does not match its digest"):
        fresh.record(engine.check(txn), order=txn)
    assert len(list(fresh.records())) == 5


def test_a_read_only_trail_written_before_snapshots_is_read_and_verified(tmp_path, monkeypatch):
    path = tmp_path / "audit.sqlite"
    path.write_bytes(OLD_TRAIL.read_bytes())
    connect = sqlite3.connect
    monkeypatch.setattr("controls.audit.sqlite3.connect",
                        lambda p, **options: connect(f"file:{p}?mode=ro", uri=True, **options))
    log = AuditLog(path)
    assert log.verify() is None and [r["lists_digest"] for r in log.records()] == [None] * 5
    assert not sqlite3.connect(path).execute("SELECT 1 FROM sqlite_master WHERE name = 'list_snapshots'").fetchall()


def _not_a_trail(tmp_path, kind: str):
    path = tmp_path / f"{kind}.sqlite"
    if kind == "emptied":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("time,order,decision\n")
    elif kind == "another database":
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        db.commit()
        db.close()
    elif kind == "another records table":
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE records (id INTEGER PRIMARY KEY, amount TEXT)")
        db.commit()
        db.close()
    return path


@pytest.mark.parametrize("command", ["verify", "show", "export"])
@pytest.mark.parametrize("kind, says", [("emptied", "it has no table of records"),
                                        ("text", "cannot be read as an audit trail: file is not a database"),
                                        ("another database", "it has no table of records"),
                                        ("another records table", "its table of records has no seq, time, caller, ...")])
def test_reading_what_is_not_a_trail_is_exit_2_and_leaves_the_file_as_it_was(tmp_path, command, kind, says):
    """A trail emptied to nothing verified as intact with no records, and reading another SQLite database gave
    it the trail's tables; a text file was a traceback."""
    path = _not_a_trail(tmp_path, kind)
    before = path.read_bytes()
    result = CliRunner().invoke(main, ["audit", command, "--db", str(path)])
    assert result.exit_code == 2 and f"{path}: " in result.output and says in result.output, result.output
    assert path.read_bytes() == before


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_a_damaged_trail_is_exit_2_naming_it_never_a_traceback(tmp_path, engine, damage):
    log = AuditLog(tmp_path / "audit.sqlite")
    txn = validate_order(order(**chip(tpp=5000, die_area_mm2=800, datacenter=True)))
    log.append([entry(engine.check(txn), "erp", txn) for _ in range(300)])  # pages enough to damage some
    log.checkpoint()
    log.close()
    data = bytearray(log.path.read_bytes())
    assert len(data) > 16 * 4096
    if damage == "truncated":
        data = data[:len(data) // 2]
    else:
        data[len(data) // 2:len(data) // 2 + 8192] = b"\xa5" * 8192
    log.path.write_bytes(bytes(data))
    for command in ("verify", "show", "export"):
        result = CliRunner().invoke(main, ["audit", command, "--db", str(log.path)])
        assert result.exit_code == 2 and str(log.path) in result.output and "Traceback" not in result.output, \
            (command, result.output)
        assert "malformed" in result.output or "not a database" in result.output


def test_an_export_holds_what_an_auditor_needs_to_verify_the_chain_without_chipgate(trail):
    """Each record's hash: the sha256 of the previous hash and the record's fields as ``json`` writes them
    (sorted keys, no spaces), the list snapshot's digest in place of its lists."""
    exported = CliRunner().invoke(main, ["audit", "export", "--db", str(trail.path)])
    prev = "0" * 64
    for line in exported.output.splitlines():
        record = json.loads(line)
        assert record["lists_digest"] == "sha256:" + hashlib.sha256(
            json.dumps(record["lists"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
        stored = {**record, "lists": record["lists_digest"], **{field: json.dumps(record[field], sort_keys=True,
                  separators=(",", ":"), ensure_ascii=False) for field in ("input", "findings")}}
        fields = {k: stored[k] for k in ("seq", "time", "caller", "transaction_id", "input_digest", "input",
                                          "bundle_version", "bundle_digest", "lists", "as_of", "decision", "findings")}
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert record["prev_hash"] == prev and hashlib.sha256((prev + text).encode()).hexdigest() == record["hash"]
        prev = record["hash"]


def test_show_and_export_filter_by_decision_and_date(trail):
    runner = CliRunner()
    shown = runner.invoke(main, ["audit", "show", "--decision", "HOLD", "--db", str(trail.path)])
    assert shown.exit_code == 0 and [line.split()[2] for line in shown.output.splitlines()] == ["T-1", "T-3"]
    assert runner.invoke(main, ["audit", "show", "--since", "2999-01-01", "--db", str(trail.path)]).output == ""
    exported = runner.invoke(main, ["audit", "export", "--format", "jsonl", "--db", str(trail.path)])
    lines = [json.loads(line) for line in exported.output.splitlines()]
    assert [r["transaction_id"] for r in lines] == ["T-0", "T-1", "T-2", "T-3", "T-4"]
    assert lines[0]["input"]["id"] == "T-0" and isinstance(lines[0]["findings"], list)
    reopened = runner.invoke(main, ["audit", "order", "2", "--db", str(trail.path)])
    assert reopened.exit_code == 0 and json.loads(reopened.output)["id"] == "T-1"


def test_concurrent_writers_keep_one_chain(tmp_path, engine):
    path = tmp_path / "audit.sqlite"
    txn = validate_order(order(eccn="3A090.a"))
    result = engine.check(txn)

    def writer(n):
        log = AuditLog(path)  # a log per thread, as separate processes would have
        for _ in range(25):
            log.record(result, caller=f"writer-{n}", order=txn)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log = AuditLog(path)
    assert [r["seq"] for r in log.records()] == list(range(1, 101))
    assert log.verify() is None
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_append_waits_for_the_write_lock_another_connection_holds_and_then_goes_on(tmp_path, engine):
    """A writer that finds the write lock taken (another process committing) tries again until it is free,
    instead of failing; its connection keeps its busy timeout for everything else."""
    path = tmp_path / "audit.sqlite"
    txn = validate_order(order(eccn="3A090.a"))
    log = AuditLog(path)
    log.record(engine.check(txn), caller="first", order=txn)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    appended = []
    waiting = threading.Thread(target=lambda: appended.append(log.record(engine.check(txn), "second", txn)))
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive() and not appended  # still waiting for the lock
    holder.execute("COMMIT")
    waiting.join(10)
    assert appended == [2]
    assert log.verify() is None
    assert log._connection().execute("PRAGMA busy_timeout").fetchone()[0] == 30_000


def test_append_chains_many_records_in_one_transaction(tmp_path, engine):
    txn = validate_order(order(eccn="3A090.a"))
    log = AuditLog(tmp_path / "audit.sqlite")
    assert log.record(engine.check(txn), caller="first", order=txn) == 1
    assert log.append([entry(engine.check(txn), caller=f"erp-{n}", order=txn) for n in range(50)]) == list(range(2, 52))
    assert [r["caller"] for r in log.records()] == ["first"] + [f"erp-{n}" for n in range(50)]
    assert log.verify() is None


def test_the_service_queue_commits_waiting_records_together_and_answers_each_once_committed(tmp_path, engine):
    txn = validate_order(order(eccn="3A090.a"))
    log = AuditLog(tmp_path / "audit.sqlite")
    commits = []
    real = log.append
    log.append = lambda entries, wait=True: commits.append(len(entries)) or real(entries, wait)
    queue = AuditQueue(log)

    async def main():
        # 200 answers waiting at once: the first commit takes the first, the next all the others
        await asyncio.gather(*(queue.append([entry(engine.check(txn), caller=f"c-{n}", order=txn)])
                               for n in range(200)))
        await queue.close()
    asyncio.run(main())
    records = list(AuditLog(tmp_path / "audit.sqlite").records())
    assert [r["caller"] for r in records] == [f"c-{n}" for n in range(200)]
    assert sum(commits) == 200 and len(commits) < 10
    assert AuditLog(tmp_path / "audit.sqlite").verify() is None


def test_a_failed_commit_fails_every_waiting_answer_and_the_queue_goes_on(tmp_path, engine):
    txn = validate_order(order(eccn="3A090.a"))
    queue = AuditQueue(AuditLog(tmp_path / "audit.sqlite"))
    bad = {**entry(engine.check(txn)), "decision": None}  # NOT NULL: the transaction fails

    async def main():
        failed = await asyncio.gather(queue.append([bad]), queue.append([entry(engine.check(txn))]),
                                      return_exceptions=True)
        await queue.append([entry(engine.check(txn))])
        await queue.close()
        return failed
    failed = asyncio.run(main())
    assert isinstance(failed[0], sqlite3.IntegrityError)
    assert len(list(AuditLog(tmp_path / "audit.sqlite").records())) in (1, 2)  # the one after it, at least


def test_schema_writes_the_input_and_output_schemas(tmp_path):
    result = CliRunner().invoke(main, ["schema", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    transaction = json.loads((tmp_path / "transaction.schema.json").read_text())
    determination = json.loads((tmp_path / "determination.schema.json").read_text())
    assert transaction["title"] == "Transaction" and determination["title"] == "Determination"
    assert transaction["required"] == ["id", "destination", "items"]
    # an amount is a JSON number (a number written as text is refused), bounded
    assert transaction["$defs"]["Item"]["properties"]["quantity"] == {
        "type": "number", "minimum": 0, "maximum": 10**12, "title": "Quantity"}
    assert "decision" in determination["required"]


OLD_TRAIL = REPO / "tests" / "fixtures" / "audit-trail-0c20c52.sqlite"
"""Five determinations and a review recorded by chipgate at commit 0c20c52, when records were hashed over
``json.dumps``'s text: orders with amounts and a share written in exponent form (``5e-05``, ``1e-05``), an
order of 10**12 units, non-ASCII names, quotes, a backslash and a line separator in a description.  Recorded
with no list imported (the repository holds no list content), so its parties are unscreened."""


def test_a_trail_written_before_orjson_still_verifies_and_grows(tmp_path, engine):
    path = tmp_path / "audit.sqlite"
    path.write_bytes(OLD_TRAIL.read_bytes())
    log = AuditLog(path)
    assert log.verify() is None and verify(log).exit_code == 0
    for record in log.records():  # the canonical text of every stored value is the text stored
        assert canonical(json.loads(record["input"])) == record["input"]
        assert canonical(json.loads(record["findings"])) == record["findings"]
        assert entry(engine.check(log.order(record["seq"])), order=log.order(record["seq"]))["input"] == record["input"]
    assert "5e-05" in log.record_at(2)["input"] and '"share":1e-05' in log.record_at(3)["input"]
    txn = validate_order(order(eccn="3A090.a"))
    assert log.record(engine.check(txn), caller="now", order=txn) == 6
    assert log.verify() is None
    # the old records hold their lists themselves; the new one refers to its snapshot
    assert [r["lists_digest"] is None for r in log.records()] == [True] * 5 + [False]
    assert [json.loads(r["lists"]) for r in log.records()][-1] == [s.model_dump(mode="json") for s in engine.lists]


@pytest.mark.parametrize("value", [1e-05, -7.2e-08, 1e-4, 1e16, 1.5e300, 5e-324, 0.1, 2**64, 10**30, "é\u2028\x00\x7f",
                                   {"b": [0.00001, None, True], "a": "x"}, {1: "a key that is not text"}])
def test_canonical_text_is_the_text_json_writes(value):
    assert canonical(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_a_new_trail_has_pages_a_record_fits_in_and_an_old_one_keeps_its_own(tmp_path):
    assert sqlite3.connect(AuditLog(tmp_path / "new.sqlite").path).execute("PRAGMA page_size").fetchone()[0] == 16384
    (tmp_path / "old.sqlite").write_bytes(OLD_TRAIL.read_bytes())
    old = AuditLog(tmp_path / "old.sqlite")
    assert sqlite3.connect(old.path).execute("PRAGMA page_size").fetchone()[0] == 4096 and old.verify() is None


def test_the_write_ahead_log_is_copied_into_the_database_every_few_pages(tmp_path, engine):
    """A commit that checkpoints waits for the copy, and so do the answers waiting for the commit: the log
    is checkpointed every AUTOCHECKPOINT_PAGES pages, not SQLite's 1,000 (16 MB of records, a 26-39 ms commit)."""
    from controls.audit import AUTOCHECKPOINT_PAGES, PAGE_SIZE

    path = tmp_path / "audit.sqlite"
    txn = validate_order(order(eccn="3A090.a"))
    result = engine.check(txn)
    log = AuditLog(path)
    assert log._connection().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == AUTOCHECKPOINT_PAGES
    one = entry(result, "erp", txn)
    for _ in range(80):
        log.append([one] * 25)
    records = sum(1 for _ in log.records())
    wal = path.with_name(path.name + "-wal").stat().st_size
    assert records == 2000 and path.stat().st_size > 4 * AUTOCHECKPOINT_PAGES * PAGE_SIZE  # most of it copied in
    assert wal < 2 * AUTOCHECKPOINT_PAGES * PAGE_SIZE, wal  # reused from its start after each copy


def test_a_log_without_autocheckpoint_is_copied_in_by_checkpoint_and_restarted_past_its_limit(tmp_path, engine,
                                                                                            monkeypatch):
    path = tmp_path / "audit.sqlite"
    txn = validate_order(order(eccn="3A090.a"))
    one = entry(engine.check(txn), "erp", txn)
    log = AuditLog(path, autocheckpoint=False)
    assert log._connection().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    empty = path.stat().st_size
    for _ in range(40):
        log.append([one] * 25)
    assert path.stat().st_size == empty  # every record is in the log alone
    assert log.checkpoint() == 0 and path.stat().st_size > 1000 * 3000 and log.verify() is None
    # a log past WAL_LIMIT_PAGES is restarted (copied in whole, writers waiting): the next commit writes from its start
    db, statements = log._connection(), []

    class Spy:  # the connection, its statements noted
        def execute(self, sql, *args):
            statements.append(sql)
            return db.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(db, name)
    log._local.db = Spy()
    log.append([one] * 25)
    log.checkpoint()
    monkeypatch.setattr("controls.audit.WAL_LIMIT_PAGES", 0)
    log.append([one] * 25)
    assert log.checkpoint() == 0
    assert [s for s in statements if "wal_checkpoint" in s] == ["PRAGMA wal_checkpoint(PASSIVE)"] * 2 + [
        "PRAGMA wal_checkpoint(RESTART)"]
    log.append([one])
    _, pages, _ = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert 0 < pages < 10, pages


def test_the_service_queue_checkpoints_the_log_in_a_thread_of_its_own(tmp_path, engine):
    from controls.service.app import CHECKPOINT_COMMITS

    path = tmp_path / "audit.sqlite"
    txn = validate_order(order(eccn="3A090.a"))
    one = entry(engine.check(txn), "erp", txn)
    queue = AuditQueue(AuditLog(path, autocheckpoint=False))
    empty = path.stat().st_size

    async def main():
        for _ in range(2 * CHECKPOINT_COMMITS):
            await queue.append([one])  # one commit each
        for _ in range(100):  # the checkpoint thread copies the log in, commits going on or not
            if path.stat().st_size > empty:
                break
            await asyncio.sleep(0.05)
        copied = path.stat().st_size > empty
        await queue.close()
        return copied
    assert asyncio.run(main()) and AuditLog(path).verify() is None
    assert sum(1 for _ in AuditLog(path).records()) == 2 * CHECKPOINT_COMMITS


def test_the_service_queue_waits_for_another_writer_without_stopping_the_loop(tmp_path, engine):
    path = tmp_path / "audit.sqlite"
    txn = validate_order(order(eccn="3A090.a"))
    one = entry(engine.check(txn), "erp", txn)
    queue = AuditQueue(AuditLog(path, autocheckpoint=False))
    other = sqlite3.connect(path, isolation_level=None)  # another process's writer, holding the write lock
    other.execute("BEGIN IMMEDIATE")

    async def main():
        answer = asyncio.ensure_future(queue.append([one]))
        ticks = 0
        for _ in range(20):  # the loop goes on while the commit waits for the lock
            await asyncio.sleep(0.005)
            ticks += 1
        waited = not answer.done()
        other.execute("COMMIT")
        await answer  # committed once the lock is free
        await queue.close()
        return ticks, waited
    assert asyncio.run(main()) == (20, True)
    assert [r["caller"] for r in AuditLog(path).records()] == ["erp"] and AuditLog(path).verify() is None
