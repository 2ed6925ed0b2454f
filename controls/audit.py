"""The audit trail: every determination, recorded in an append-only, hash-chained SQLite database.

Each record holds what an auditor asks for: which order (its input, as JSON, and the input's
digest), which rule bundle and list editions answered, the as-of date, the decision and findings,
when (UTC) and for whom.  Records are chained: a record's ``hash`` is the sha256 of the previous
record's hash followed by the canonical JSON of the record itself (its ``seq`` included), so a
record edited, deleted or moved breaks the chain at that record (:meth:`AuditLog.verify`), and a
deleted last record leaves ``seq`` behind the highest number ever handed out.

The list editions (some 2 KB of JSON, the same in every record a bundle answers: 40 % of a record)
are kept once per snapshot, in ``list_snapshots`` under their digest (``sha256:`` and the sha256 of
their canonical JSON); a record stores the digest, and its hash is taken over the digest, so the
chain covers the snapshot through it, and :meth:`AuditLog.verify` checks that each snapshot still
has its digest.  Records are read with the snapshot in ``lists`` and its digest in ``lists_digest``
(None for a record written before snapshots, which holds its lists itself).

Triggers refuse ``UPDATE`` and ``DELETE``; they stop mistakes, not someone who can write the file,
whom the chain exposes instead.  The database runs in WAL mode; every append takes SQLite's write
lock first (``BEGIN IMMEDIATE``), so writers in several threads or processes never fork the chain;
one that finds it taken tries again every 0.2 ms (:meth:`AuditLog._begin_write`).
Each thread uses its own connection.  ``synchronous=NORMAL``: a record survives the process
crashing; the last records before a power cut may be lost (whole records: the chain stays intact).
Syncing every record (``FULL``) costs some 5 ms per determination, ten times the check.

A commit costs more than the check it records (about 1.5 ms against 0.1 ms for a row), so many
records share one: :meth:`AuditLog.append` writes a list in one transaction; the service commits,
in one transaction, every record waiting when the last commit ended (group commit: no waiting when
idle, one commit for many checks when busy; ``controls.service.app.AuditQueue``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from pydantic import TypeAdapter

from .errors import InputError
from .models import Decision, Determination, Finding, Transaction
from .orders import validate_order

GENESIS = "0" * 64  # the "previous hash" of the first record
BUSY_TIMEOUT_MS = 30_000
WRITE_LOCK_POLL_S = 0.0002  # how often a writer tries again for the write lock another process holds
PAGE_SIZE = 16_384  # a record (some 6 KB with its lists, 4 KB without) fits in a page: ~40 % less system time appending than with 4 KB pages
# WAL pages after which a commit copies the log into the database (SQLite's default: 1,000 pages, 16 MB here). The
# commit that does it returns only when the copy is synced, and every answer waiting for that commit waits with it:
# at 50 clients, commits of 26-39 ms at 1,000 pages against at most 4-8 ms at 64 (smaller copies, more often)
AUTOCHECKPOINT_PAGES = 64
# A log that has grown this long (64 MB) although checkpointed (each found writers appending, so none could restart
# it) is copied in whole and restarted, writers waiting: see AuditLog.checkpoint
WAL_LIMIT_PAGES = 4_096

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    caller TEXT,
    transaction_id TEXT NOT NULL,
    input_digest TEXT,
    input TEXT,
    bundle_version TEXT NOT NULL,
    bundle_digest TEXT NOT NULL,
    lists TEXT NOT NULL,
    as_of TEXT NOT NULL,
    decision TEXT NOT NULL,
    findings TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_decision ON records (decision, time);
CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TABLE IF NOT EXISTS list_snapshots (
    digest TEXT PRIMARY KEY,
    lists TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS list_snapshots_no_update BEFORE UPDATE ON list_snapshots
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS list_snapshots_no_delete BEFORE DELETE ON list_snapshots
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TABLE IF NOT EXISTS reviews (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    record INTEGER NOT NULL REFERENCES records (seq),
    record_hash TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    allowed TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_record ON reviews (record);
CREATE TRIGGER IF NOT EXISTS reviews_no_update BEFORE UPDATE ON reviews
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS reviews_no_delete BEFORE DELETE ON reviews
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""
FIELDS = ("seq", "time", "caller", "transaction_id", "input_digest", "input", "bundle_version", "bundle_digest",
          "lists", "as_of", "decision", "findings", "prev_hash")
COLUMNS = FIELDS + ("hash",)
SNAPSHOT = "sha256:"  # a record's ``lists`` that starts so is the digest of a row of list_snapshots
REVIEW_FIELDS = ("seq", "time", "reviewer", "record", "record_hash", "transaction_id", "action", "reason", "allowed",
                 "prev_hash")
REVIEW_ACTIONS = {"release": "released", "escalate": "escalated", "block": "blocked (list match confirmed)"}
FINAL_ACTIONS = ("release", "block")  # a held order so decided leaves the review queue; an escalated one stays


def canonical(value: Any) -> str:
    """The one JSON text of ``value`` that digests are taken of: sorted keys, no spaces, as ``json`` writes it.

    ``orjson`` writes the same text several times faster, except a float below 1e-4 (``json``: ``1e-05``,
    ``orjson``: ``0.00001`` or ``1e-7``) and what it refuses (an integer beyond 64 bits, a key that is not
    text, a lone surrogate): a text that may hold such a float (``0.0000`` or ``e-`` and a digit anywhere in
    it) is written again by ``json``, as is what ``orjson`` refuses.  Both write a non-finite float
    differently; records hold none (amounts, shares and scores are validated finite)."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return _json_text(value)
    return _json_text(value) if b"0.0000" in text or _EXPONENT.search(text) else text.decode()


_EXPONENT = re.compile(rb"e[-+][0-9]")  # orjson writes an exponent so: 1e-7, 1e+16


def _json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def order_json(order: Transaction) -> str:
    """An order as canonical JSON that ``Transaction`` reads back (aliases such as a letter's ``from``)."""
    return canonical(_ORDER.to_python(order, mode="json", by_alias=True))  # model_dump's work, less its checks


_ORDER = Transaction.__pydantic_serializer__


def _record_hash(prev_hash: str, record: dict, fields: tuple[str, ...] = FIELDS) -> str:
    body = {k: record[k] for k in fields if k != "prev_hash"}
    return hashlib.sha256(prev_hash.encode("utf-8") + _fields_json(body)).hexdigest()


def _fields_json(fields: dict) -> bytes:
    """:func:`canonical` of a record's fields, in UTF-8: texts, integers and None, which ``orjson`` writes as
    ``json`` does (its bytes hashed as they are, not decoded to text and encoded again)."""
    if any(type(value) is float for value in fields.values()):
        return canonical(fields).encode("utf-8")
    try:
        return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return canonical(fields).encode("utf-8")


def entry(determination: Determination, caller: str | None = None, order: Transaction | None = None) -> dict:
    """A determination as an audit record, not yet chained (:meth:`AuditLog.append` numbers and chains it)."""
    text = order_json(order) if order is not None else None
    return {
        "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds"),
        "caller": caller,
        "transaction_id": determination.transaction_id,
        "input_digest": "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest() if text else None,
        "input": text,
        "bundle_version": determination.ruleset.version,
        "bundle_digest": determination.ruleset.digest,
        "lists": _lists_json(determination.lists),
        "as_of": determination.as_of.isoformat(),
        "decision": determination.decision.value,
        "findings": canonical(_FINDINGS.to_python(determination.findings, mode="json")),
    }


_FINDINGS = TypeAdapter(list[Finding]).serializer  # dumps a list in one call, some 30 % faster than finding by finding
_last_lists: tuple[tuple, str] = ((), "[]")  # the snapshots last written out, and their JSON


def _lists_json(lists: list) -> str:
    """The lists' JSON: an engine's determinations share its snapshot objects, written out once, not per record."""
    global _last_lists
    snapshots, text = _last_lists
    if len(snapshots) != len(lists) or any(a is not b for a, b in zip(snapshots, lists)):
        text = canonical([s.model_dump(mode="json") for s in lists])
        _last_lists = (tuple(lists), text)
    return text


def snapshot_digest(lists_json: str) -> str:
    """The digest a list snapshot (the canonical JSON of a determination's ``lists``) is stored under."""
    return SNAPSHOT + hashlib.sha256(lists_json.encode("utf-8")).hexdigest()


def _is_snapshot_digest(stored: Any) -> bool:
    """A record's ``lists`` that refers to a snapshot (what :func:`entry` writes is a JSON array: ``[...``)."""
    return isinstance(stored, str) and stored.startswith(SNAPSHOT)


def default_audit_path() -> Path:
    """``$CHIPGATE_AUDIT``, else ``chipgate/audit.sqlite`` in the user's data directory (XDG)."""
    if os.environ.get("CHIPGATE_AUDIT"):
        return Path(os.environ["CHIPGATE_AUDIT"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "chipgate" / "audit.sqlite"


@dataclass(frozen=True)
class Break:
    """Where the chain breaks: the first record that does not follow from the one before it."""

    seq: int | None
    reason: str
    kind: str = "record"  # or "review": the two chains are numbered apart

    def __str__(self) -> str:
        return f"{self.kind} {self.seq}: {self.reason}" if self.seq is not None else self.reason


def _into_wal(db: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode=WAL``, tried again while another connection opening the same new database holds
    the lock: SQLite answers a change of journal mode with "database is locked" at once, without its busy
    handler, so that logs opened together by several threads or processes would fail one of them."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.001)


class AuditLog:
    """An audit database; share one between threads (each gets its own connection)."""

    def __init__(self, path: str | os.PathLike, autocheckpoint: bool = True, create: bool = True):
        """``autocheckpoint``: a commit that has grown the log by AUTOCHECKPOINT_PAGES copies it into the
        database before it returns; without, the owner calls :meth:`checkpoint` (the service, from a thread).
        ``create`` False: open an existing trail to read it, as it is (``audit show``, ``verify``): an
        InputError if ``path`` is no trail (missing, empty, another database, not a database)."""
        self.path = Path(path)
        self.autocheckpoint = autocheckpoint
        self._local = threading.local()
        self._digests: dict[str, str] = {}  # list snapshot text -> digest (see _store_snapshots)
        if not create:
            self._check_trail()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as db:
            db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # takes effect in a new database only
            _into_wal(db)
            try:
                db.executescript(_SCHEMA)
            except sqlite3.OperationalError as exc:  # a read-only trail is read as it is (one written before
                if "readonly" not in str(exc):        # snapshots has no table of them: see _snapshot_rows)
                    raise

    def _check_trail(self) -> None:
        """Refuse, without writing to it, a file that is not an audit trail: a file emptied or truncated to
        nothing would otherwise verify as an intact trail of no records, and another database would be given
        the trail's tables."""
        if not self.path.is_file():
            raise InputError(f"{self.path}: no audit database")
        try:
            columns = {row[1] for row in self._connection().execute("PRAGMA table_info(records)")}
        except sqlite3.DatabaseError as exc:
            self.close()
            raise InputError(f"{self.path}: cannot be read as an audit trail: {exc}") from None
        missing = [c for c in COLUMNS if c not in columns]
        if missing:
            self.close()
            raise InputError(f"{self.path}: not an audit trail: " + (
                f"its table of records has no {', '.join(missing[:3])}{', ...' * (len(missing) > 3)}" if columns
                else "it has no table of records"))

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                 check_same_thread=True)
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: survives a crash of the process; see the module doc
            db.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES if self.autocheckpoint else 0}")
            self._local.db = db
        return db

    def _begin_write(self, db: sqlite3.Connection, wait: bool = True) -> bool:
        """``BEGIN IMMEDIATE``, tried again every 0.2 ms while another connection holds the write lock; without
        ``wait``, tried once (False: the lock is taken).

        SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ... ms between tries: where a service's
        processes commit in turn, a commit that found the lock taken slept on past its release, and the
        answers waiting for it with it (p99 over 100 ms at 50 clients, against under 25 ms unaudited)."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        db.execute("PRAGMA busy_timeout=0")
        try:
            while True:
                try:
                    db.execute("BEGIN IMMEDIATE")  # the write lock first: no other writer can append in between
                    return True
                except sqlite3.OperationalError as exc:
                    if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                        raise
                    if not wait:
                        return False
                time.sleep(WRITE_LOCK_POLL_S)
        finally:
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    def checkpoint(self) -> int:
        """Copy the write-ahead log into the database, and sync it, while writers go on appending to the log;
        if the log has grown past WAL_LIMIT_PAGES all the same, copy all of it and restart it, writers waiting
        (SQLite restarts a log only when a writer finds every page of it copied).  The pages left uncopied."""
        db = self._connection()
        _, pages, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if pages > WAL_LIMIT_PAGES:
            # not waiting for a writer to finish: SQLite's busy handler would sleep up to 25 ms a time, and new
            # writers wait while it does; taken, the write lock is held for the copy alone (the next one tries again)
            db.execute("PRAGMA busy_timeout=0")
            try:
                _, pages, copied = db.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            finally:
                db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return max(pages - copied, 0)

    def record(self, determination: Determination, caller: str | None = None,
               order: Transaction | None = None) -> int:
        """Append ``determination`` (and the ``order`` it answered, when given); returns its ``seq``."""
        return self.append([entry(determination, caller, order)])[-1]

    def append(self, entries: list[dict], wait: bool = True) -> list[int] | None:
        """Append ``entries`` (made by :func:`entry`, in any process) in one transaction; their ``seq``s.
        Without ``wait``, None at once (nothing written) if another connection holds the write lock.

        One commit for many records: a batch run records thousands a second this way, one a time ~100."""
        db = self._connection()
        if not self._begin_write(db, wait):
            return None
        try:
            last = db.execute("SELECT hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
            row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'records'").fetchone()
            seq, prev = (row["seq"] if row else 0), (last["hash"] if last else GENESIS)
            digests = self._store_snapshots(db, {item["lists"] for item in entries})
            rows = []
            for item in entries:
                seq += 1
                record = {**item, "lists": digests[item["lists"]], "seq": seq, "prev_hash": prev}
                record["hash"] = prev = _record_hash(prev, record)
                rows.append(tuple(record[k] for k in COLUMNS))
            db.executemany(f"INSERT INTO records ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                           rows)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return list(range(seq - len(entries) + 1, seq + 1))

    def _store_snapshots(self, db: sqlite3.Connection, texts: set[str]) -> dict[str, str]:
        """Each list snapshot's digest, the snapshot kept under it unless it is there already (in the caller's
        transaction; refused if what is there is not it).  Snapshots this log has stored or found are
        remembered by their text: a service's records share a handful of snapshots."""
        known = self._digests
        if len(known) > 64:  # reloads: keep the snapshots of the bundles serving now
            known.clear()
        new = {text: snapshot_digest(text) for text in texts - known.keys()}
        digests = {text: known.get(text) or new[text] for text in texts}
        # every time: a commit that failed took its snapshot with it
        db.executemany("INSERT OR IGNORE INTO list_snapshots (digest, lists) VALUES (?, ?)",
                       [(digest, text) for text, digest in digests.items()])
        for text, digest in new.items():  # new to this log: stored now, or found stored with this very text
            stored = db.execute("SELECT lists FROM list_snapshots WHERE digest = ?", (digest,)).fetchone()
            if stored["lists"] != text:
                raise sqlite3.IntegrityError(f"the audit trail's list snapshot {digest} does not match its digest "
                                             f"(edited); chipgate audit verify says more")
            known[text] = digest
        return digests

    def records(self, decision: Decision | str | None = None, since: dt.date | None = None) -> Iterator[dict]:
        """Records in order, optionally only one decision's, or those made on or after ``since`` (UTC); each
        with its list snapshot in ``lists`` (None if the snapshot is missing) and its digest in ``lists_digest``."""
        return self._with_lists(self._stored("records", decision, since))

    def _stored(self, table: str, decision: Decision | str | None = None,
                since: dt.date | None = None) -> Iterator[dict]:
        """Rows as they are stored (what their hashes were taken of), in order."""
        query, args = f"SELECT * FROM {table} WHERE 1", []
        if decision:
            query, args = query + " AND decision = ?", args + [Decision(decision).value]
        if since:
            query, args = query + " AND time >= ?", args + [since.isoformat()]
        for row in self._connection().execute(query + " ORDER BY seq", args):
            yield dict(row)

    def _with_lists(self, records: Iterator[dict]) -> Iterator[dict]:
        """Records with the list snapshot each refers to in ``lists``, and the digest it is stored under in
        ``lists_digest``: None for a record written before snapshots (its ``lists`` are its own)."""
        snapshots: dict[str, str | None] = {}
        for record in records:
            stored = record["lists"]
            if not _is_snapshot_digest(stored):
                record["lists_digest"] = None
                yield record
                continue
            if stored not in snapshots:
                snapshots[stored] = self._snapshot(stored)
            record["lists"], record["lists_digest"] = snapshots[stored], stored
            yield record

    def _snapshot(self, digest: str) -> str | None:
        rows = self._snapshot_rows(digest)
        return rows[0][1] if rows and isinstance(rows[0][1], str) else None

    def order(self, seq: int) -> Transaction:
        """The order record ``seq`` answered, to check again or review."""
        row = self._connection().execute("SELECT input FROM records WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise InputError(f"no audit record {seq}")
        if row["input"] is None:
            raise InputError(f"audit record {seq} was recorded without its order")
        return validate_order(json.loads(row["input"], parse_float=Decimal), f"audit record {seq}")

    def verify(self) -> Break | None:
        """The first record, then review, that breaks its chain (edited, deleted, moved, or its list snapshot
        edited or deleted), or None if all is intact; a review must also name its record by that record's hash;
        last, a list snapshot no record refers to must match its digest too."""
        snapshots = {digest: isinstance(text, str) and snapshot_digest(text) == digest
                     for digest, text in self._snapshot_rows()}
        return (self._verify_chain("records", FIELDS, "record", self._stored("records"), snapshots)
                or self._verify_chain("reviews", REVIEW_FIELDS, "review", self.reviews())
                or next((Break(None, f"list snapshot {digest!s:.80}: its content does not match its digest "
                                     f"(edited, or added)") for digest, intact in snapshots.items() if not intact),
                        None))

    def _snapshot_rows(self, digest: str | None = None) -> list[tuple[Any, Any]]:
        """(digest, lists) of every list snapshot, or of the one stored under ``digest``; none in a read-only
        trail written before snapshots (it has no table of them)."""
        query, args = "SELECT digest, lists FROM list_snapshots", ()
        if digest is not None:
            query, args = query + " WHERE digest = ?", (digest,)
        return [tuple(row) for row in self._rows_of_later_table(query + " ORDER BY rowid", args)]

    def _rows_of_later_table(self, query: str, args: tuple) -> Iterable[sqlite3.Row]:
        """The rows ``query`` selects from a table later versions added (snapshots, reviews): none in a trail
        opened read-only that was written before it."""
        try:
            return self._connection().execute(query, args)
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
            return ()

    def _verify_chain(self, table: str, fields: tuple[str, ...], kind: str, rows: Iterator[dict],
                      snapshots: dict[str, bool] | None = None) -> Break | None:
        prev, seq = GENESIS, 0
        for record in rows:
            seq += 1
            if record["seq"] != seq:
                return Break(seq, f"missing (deleted or renumbered; the next {kind} is {record['seq']})", kind)
            if record["prev_hash"] != prev:
                return Break(seq, f"its previous hash is not the hash of the {kind} before it "
                                  f"(a {kind} before it was removed, changed or moved)", kind)
            try:
                intact = _record_hash(prev, record, fields) == record["hash"]
            except TypeError:  # a value that is not text, a number or null (written into the file as such)
                intact = False
            if not intact:
                return Break(seq, f"its content does not match its hash (the {kind} was edited)", kind)
            if kind == "record" and _is_snapshot_digest(record["lists"]):
                if record["lists"] not in snapshots:
                    return Break(seq, f"its list snapshot {record['lists']} is missing (deleted)", kind)
                if not snapshots[record["lists"]]:
                    return Break(seq, f"its list snapshot {record['lists']} does not match its digest "
                                      f"(the snapshot was edited)", kind)
            if kind == "review" and self._hash_of(record["record"]) != record["record_hash"]:
                return Break(seq, f"it reviews record {record['record']}, which is not the record it reviewed", kind)
            prev = record["hash"]
        row = self._connection().execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        if row and row["seq"] > seq:
            return Break(seq + 1, f"missing, with every {kind} after it up to {row['seq']} (deleted at the end)", kind)
        return None

    def _hash_of(self, seq: int) -> str | None:
        row = self._connection().execute("SELECT hash FROM records WHERE seq = ?", (seq,)).fetchone()
        return row["hash"] if row else None

    def record_at(self, seq: int) -> dict | None:
        row = self._connection().execute("SELECT * FROM records WHERE seq = ?", (seq,)).fetchone()
        return next(self._with_lists(iter([dict(row)]))) if row else None

    def review(self, record: int, reviewer: str, action: str, reason: str,
               allowed: list[dict] | None = None) -> int:
        """Append a reviewer's decision on the determination record ``record`` (never an edit of it): ``action``
        one of ``REVIEW_ACTIONS``, why, and the allow-list entries added with it; returns the review's ``seq``."""
        if action not in REVIEW_ACTIONS:
            raise InputError(f"unknown review action {action!r}; expected one of {', '.join(REVIEW_ACTIONS)}")
        if not reviewer.strip() or not reason.strip():
            raise InputError("a review needs its reviewer and its reason")
        db = self._connection()
        self._begin_write(db)
        try:
            target = db.execute("SELECT hash, transaction_id FROM records WHERE seq = ?", (record,)).fetchone()
            if target is None:
                raise InputError(f"no audit record {record}")
            final = db.execute(f"SELECT reviewer, action FROM reviews WHERE record = ? AND action IN "
                               f"({', '.join('?' * len(FINAL_ACTIONS))})", (record, *FINAL_ACTIONS)).fetchone()
            if final:
                raise InputError(f"record {record} has been decided already: {REVIEW_ACTIONS[final['action']]} "
                                 f"by {final['reviewer']}")
            last = db.execute("SELECT hash FROM reviews ORDER BY seq DESC LIMIT 1").fetchone()
            row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'reviews'").fetchone()
            review = {"seq": (row["seq"] if row else 0) + 1,
                      "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds"),
                      "reviewer": reviewer, "record": record, "record_hash": target["hash"],
                      "transaction_id": target["transaction_id"], "action": action, "reason": reason,
                      "allowed": canonical(allowed or []), "prev_hash": last["hash"] if last else GENESIS}
            review["hash"] = _record_hash(review["prev_hash"], review, REVIEW_FIELDS)
            db.execute(f"INSERT INTO reviews ({', '.join(review)}) VALUES ({', '.join('?' * len(review))})",
                       tuple(review.values()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return review["seq"]

    def reviews(self, record: int | None = None) -> Iterator[dict]:
        """Review decisions in order, optionally only those on one determination record."""
        query, args = "SELECT * FROM reviews", ()
        if record is not None:
            query, args = query + " WHERE record = ?", (record,)
        for row in self._rows_of_later_table(query + " ORDER BY seq", args):
            yield dict(row)

    def held(self) -> Iterator[dict]:
        """The review queue: HOLD records with no release or block decided on them, oldest first."""
        query = f"""SELECT * FROM records r WHERE decision = 'HOLD' AND NOT EXISTS (SELECT 1 FROM reviews v
                    WHERE v.record = r.seq AND v.action IN ({', '.join('?' * len(FINAL_ACTIONS))})) ORDER BY seq"""
        yield from self._with_lists(dict(row) for row in self._connection().execute(query, FINAL_ACTIONS))

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

