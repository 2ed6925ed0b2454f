"""Streaming batches: every order of a file checked and written as it comes, in input order.

The input format follows the file's suffix:

- ``.jsonl`` (or ``.ndjson``): one order per line, parsed with ``json``; blank lines are skipped;
- ``.json``: an array of orders, read one element at a time (``json`` decodes each from a sliding buffer);
- ``.yaml`` / ``.yml``: a sequence of orders (or one order per document), parsed by libyaml one element
  at a time, keeping the line of every field;
- ``.csv``: one row per order line; consecutive rows with the same ``id`` form one order (``CSV_COLUMNS``).

Every record yields exactly one output line, in input order: the determination as ``check --format json``
gives it, or an error record (``record``, ``line``, ``transaction_id``, ``error``, ``errors``: each with
``field``, ``line`` and ``message``).  A syntax error in a ``.json`` array or a YAML file ends the reading
there: what follows it cannot be told apart, so its error record is the last.

Memory stays bounded whatever the file size: records are read lazily, at most ``IN_FLIGHT`` chunks of
``CHUNK`` records are being checked at a time, and each result is written as soon as the ones before it
are.  Checks run in this process, in forked worker processes (``workers``: forked after the engine is
loaded, so they share its memory) or on a Dask cluster (``scheduler``), with identical output.
"""
from __future__ import annotations

import csv
import gc
import io
import json
import multiprocessing
import os
import re
import sys
import tempfile
import typing
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import yaml

from . import audit
from .engine import Engine
from .errors import EngineError, InputError, Problem
from .models import MAX_LINES, ROLES, Chip, Decision, HbmShipment, Item, Party, Transaction
from .orders import MAX_FILE_BYTES, invalid, parse_json, validate_order
from .report import EXIT_CODES
from .rulebook.yamlsource import MAX_INT_DIGITS, EventLoader, LineDict, LineList, YamlError, _Loader, brief, loads_yaml

CHUNK = 64            # records sent to a worker at a time
IN_FLIGHT = 4         # chunks in flight per worker: enough to keep it busy, few enough to bound memory
MAX_RECORD_BYTES = MAX_FILE_BYTES  # one order: a line of JSON, an array element, a YAML element
_READ = 2**20         # bytes read at a time from a .json array

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}


@dataclass(frozen=True)
class Record:
    """One order as read from a batch file: its JSON text, its parsed data, or why it could not be read."""

    number: int                    # 1-based position in the file
    line: int | None               # the line it starts on
    size: int = 0                  # bytes (or characters) of the file it took, for progress
    text: str | None = None        # JSON, parsed where the order is checked
    data: Any = None               # parsed, with the line of every field (YAML, CSV)
    problems: tuple[Problem, ...] = ()  # it could not be read, or its rows disagree: why


def _unreadable(name: str, number: int, line: int | None, message: str, size: int = 0) -> Record:
    return Record(number, line, size, problems=(Problem(name, line, message),))


@dataclass
class Summary:
    """What a batch decided: orders per decision, and how many records were invalid (the first few by number)."""

    SHOWN = 20  # invalid record numbers kept: the summary stays small however many there are

    decisions: Counter = field(default_factory=Counter)
    invalid: int = 0
    first_invalid: list[int] = field(default_factory=list)

    def add(self, number: int, decision: str | None) -> None:
        if decision is not None:
            self.decisions[decision] += 1
            return
        self.invalid += 1
        if len(self.first_invalid) < self.SHOWN:
            self.first_invalid.append(number)

    @property
    def records(self) -> int:
        return sum(self.decisions.values()) + self.invalid

    @property
    def exit_code(self) -> int:
        """2 if any record was invalid, else the code of the most restrictive decision (0 for none)."""
        if self.invalid:
            return 2
        worst = Decision.most_restrictive(Decision(d) for d in self.decisions)
        return EXIT_CODES[worst] if worst else 0

    def render(self) -> str:
        counts = ", ".join(f"{n:,} {d}" for d, n in sorted(self.decisions.items(), key=lambda i: -Decision(i[0]).rank))
        shown = ", ".join(map(str, self.first_invalid)) + (", ..." if self.invalid > len(self.first_invalid) else "")
        bad = f"; {self.invalid:,} invalid (records {shown})" if self.invalid else ""
        return f"{self.records:,} order{'s' * (self.records != 1)}: {counts or 'none checked'}{bad}"


# --- reading -------------------------------------------------------------------------------------------

def read_records(path: str | Path) -> Iterator[Record]:
    """The orders of a batch file, one at a time; the suffix says the format ('-' reads JSON lines from stdin).

    A file that cannot be opened, or a CSV header with an unknown column, is an InputError before any record.
    """
    if str(path) == "-":
        return _jsonl(sys.stdin.buffer, "<stdin>")
    path, name = Path(path), brief(str(path), 500)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"{name}: unknown batch format {path.suffix!r} (expected one of {', '.join(sorted(FORMATS))})")
    try:
        stream = open(path, "rb")
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror}") from None
    if kind == "csv":
        try:
            # bytes that are not UTF-8 are kept as lone surrogates, for the row they are in to say so: a text
            # wrapper that raised would raise where it decodes ahead, some rows past the last one read
            return _csv(io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline=""), name)
        except BaseException:
            stream.close()
            raise
    reader = {"jsonl": _jsonl, "yaml": _yaml, "json": lambda s, n: iter(_JsonArray(io.TextIOWrapper(s, "utf-8-sig"), n))}
    return _closing(reader[kind](stream, name), stream)


def _closing(records: Iterator[Record], stream) -> Iterator[Record]:
    with stream:
        yield from records


def _jsonl(stream, name: str) -> Iterator[Record]:
    number = 0
    for line, text in enumerate(iter(lambda: stream.readline(MAX_RECORD_BYTES + 1), b""), start=1):
        size = len(text)
        while len(text) > MAX_RECORD_BYTES and not text.endswith(b"\n"):  # skip the rest of an oversized line
            text = stream.readline(_READ) or b"\n"
            size += len(text)
        if not text.strip():
            continue
        number += 1
        if size > MAX_RECORD_BYTES:
            yield _unreadable(name, number, line, f"a line of {size:,} bytes, more than the {MAX_RECORD_BYTES:,} "
                                                  "an order may have", size)
            continue
        try:
            yield Record(number, line, size, text=text.decode("utf-8-sig" if line == 1 else "utf-8"))
        except UnicodeDecodeError as exc:
            yield _unreadable(name, number, line, f"not UTF-8 text: {exc.reason} at byte {exc.start}", size)


class _JsonArray:
    """The elements of a JSON array, one at a time: ``json`` finds where each ends in a sliding buffer."""

    _SPACE = re.compile(r"[ \t\n\r]*")
    _decoder = json.JSONDecoder()

    def __init__(self, stream: io.TextIOBase, name: str):
        self.stream, self.name = stream, name
        self.buffer, self.pos, self.eof, self.number = "", 0, False, 0
        self.line, self.mark = 1, 0  # the line at ``mark``, a position never after ``pos``

    def _more(self) -> bool:
        """Drop what was consumed, read more; False at the end of the file."""
        if self.eof:
            return False
        self._line_at(self.pos)
        chunk = self.stream.read(_READ)
        self.buffer, self.pos, self.mark, self.eof = self.buffer[self.pos:] + chunk, 0, 0, not chunk
        return bool(chunk)

    def _next_char(self) -> str:
        """The next character after white space ('' at the end of the file)."""
        while True:
            self.pos = self._SPACE.match(self.buffer, self.pos).end()
            if self.pos < len(self.buffer) or not self._more():
                return self.buffer[self.pos:self.pos + 1]

    def _line_at(self, pos: int) -> int:
        """The line of ``pos`` (at or after the last position asked about): newlines are counted once."""
        self.line += self.buffer.count("\n", self.mark, pos)
        self.mark = pos
        return self.line

    def _element_end(self) -> int:
        """Where the element at ``pos`` ends; JSONDecodeError if it is malformed, InputError if too large."""
        while True:
            try:
                return self._decoder.raw_decode(self.buffer, self.pos)[1]
            except json.JSONDecodeError as exc:
                # the buffer may end inside the element: read on, unless the error is plainly inside it
                cut = exc.pos >= len(self.buffer) - 16 or exc.msg.startswith("Unterminated string")
                if not cut or self.eof:
                    raise
                if len(self.buffer) - self.pos > MAX_RECORD_BYTES:
                    raise InputError(f"an order of more than {MAX_RECORD_BYTES:,} characters") from None
                self._more()

    def _stop(self, message: str, pos: int | None = None) -> Record:
        """The last record: reading stops at a syntax error, since what follows cannot be told apart."""
        line = self._line_at(self.pos if pos is None else pos)
        return _unreadable(self.name, self.number + 1, line, f"{message}; the rest of the file is not read")

    def __iter__(self) -> Iterator[Record]:
        try:
            first = self._next_char()
            if first not in ("[", "{"):  # an array of orders, or one order as ``chipgate check`` takes it
                if first:
                    yield self._stop("malformed JSON: expected an array of orders, '['")
                return
            array = first == "["
            self.pos += array
            after = "]" if array and self._next_char() == "]" else ","
            self.pos += after == "]"
            while after == ",":
                self._next_char()
                try:
                    end = self._element_end()
                except json.JSONDecodeError as exc:
                    yield self._stop(f"malformed JSON: {exc.msg}", exc.pos)
                    return
                except RecursionError:
                    yield self._stop("malformed JSON: nested too deeply")
                    return
                self.number += 1
                text, self.pos = self.buffer[self.pos:end], end
                yield Record(self.number, self._line_at(end - len(text)), len(text), text=text)
                if not array:
                    break
                after = self._next_char()
                if after not in (",", "]"):
                    yield self._stop("malformed JSON: expected ',' or ']' after an order")
                    return
                self.pos += 1
            if self._next_char():
                yield self._stop(f"malformed JSON: text after the {'array' if array else 'order'}")
        except UnicodeDecodeError as exc:
            yield self._stop(f"not UTF-8 text: {exc.reason}")
        except InputError as exc:
            yield self._stop(str(exc))


def _element(loader: _Loader) -> tuple[Any, yaml.Node]:
    """The next top-level element, constructed; the alias budget is per order."""
    loader._aliased = 0
    node = loader.compose_node(None, None)
    return loader.construct_document(node), node


def _yaml(stream, name: str) -> Iterator[Record]:
    """A sequence of orders (each element a record), or documents that are each an order or a sequence."""
    loader, number, done = EventLoader(stream), 0, 0
    try:
        loader.get_event()  # stream start
        while not loader.check_event(yaml.StreamEndEvent):
            loader.get_event()  # document start
            sequence = loader.check_event(yaml.SequenceStartEvent)
            if sequence:
                loader.get_event()
            while not loader.check_event(yaml.SequenceEndEvent if sequence else yaml.DocumentEndEvent):
                data, node = _element(loader)
                if data is None and not sequence:
                    break  # an empty document is no order
                number += 1
                yield Record(number, node.start_mark.line + 1, max(0, node.end_mark.index - done), data=data)
                done = max(done, node.end_mark.index)
                if not sequence:
                    break
            if sequence:
                loader.get_event()
            loader.get_event()  # document end
            loader.anchors = {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        yield _unreadable(name, number + 1, mark.line + 1 if mark else None,
                          f"malformed YAML: {exc.problem or exc}; the rest of the file is not read")
    except yaml.YAMLError as exc:
        yield _unreadable(name, number + 1, None, f"malformed YAML: {exc}; the rest of the file is not read")


# --- CSV -------------------------------------------------------------------------------------------------

def _kind(model: type, name: str) -> str:
    """How a CSV cell of ``model.name`` is read: 'number', 'bool', 'list' or 'text'."""
    def kinds(annotation) -> set:
        found = {annotation} if isinstance(annotation, type) else set()
        if typing.get_origin(annotation) is list:
            found.add(list)
        for arg in typing.get_args(annotation):
            found |= kinds(arg)
        return found
    found = kinds(model.model_fields[name].annotation)
    return "list" if list in found else "number" if Decimal in found else "bool" if bool in found else "text"


_PARTY_FIELDS = ["name", "country", "address", "headquarters_country"]

CSV_COLUMNS: dict[str, str] = {
    **{n: _kind(Transaction, n) for n in ["id", "date", "export_from", "destination", "end_use_country", "end_uses"]},
    "exporter.headquarters_country": "text",
    **{f"hbm.{n}": _kind(HbmShipment, n) for n in HbmShipment.model_fields},
    **{f"{role}.{n}": _kind(Party, n) for role in sorted(ROLES) for n in _PARTY_FIELDS},
    **{f"item.{n}": _kind(Item, n) for n in Item.model_fields if n != "chip"},
    **{f"item.chip.{n}": _kind(Chip, n) for n in Chip.model_fields},
}
"""The columns a CSV batch may have and how each cell is read: a number exactly as written, ``true`` or
``false``, a list separated by ``;``, or text.  An empty cell is a fact not given.  ``<role>.<field>``
columns describe the order's party of that role (one per role)."""

_INTEGER = re.compile(r"^\s*[-+]?[0-9]+\s*$")


def _cell(kind: str, text: str) -> Any:
    """A cell as the models expect it; a cell that does not read as its kind stays text, for the model to refuse."""
    if kind == "list":
        return [part.strip() for part in text.split(";") if part.strip()]
    if kind == "bool":
        return {"true": True, "false": False}.get(text.strip().lower(), text)
    if kind == "number":
        if _INTEGER.match(text) and len(text.strip()) <= MAX_INT_DIGITS:
            return int(text)
        try:
            return Decimal(text.strip())
        except ArithmeticError:
            return text
    return text.strip()  # as the models read a text: rows that differ only by spaces agree


def _csv(stream, name: str) -> Iterator[Record]:
    """Rows grouped into orders: consecutive rows with the same ``id`` are one order's lines."""
    reader = csv.reader(stream, strict=True)  # an unclosed quote is an error, not the rest of the file in one cell
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(f"{name}:1: malformed CSV header: {exc}") from None
    if header is None:
        return _closing(iter(()), stream)
    if _NOT_UTF8.search("".join(header)):
        stream.close()
        raise InputError(f"{name}:1: the CSV header is not UTF-8 text")
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown or "id" not in header or len(set(header)) < len(header):
        what = (f"unknown column {brief(unknown[0])!r}" if unknown else "no 'id' column" if "id" not in header
                else "a column named twice")
        stream.close()
        raise InputError(f"{name}:1: {what} (the columns are listed in the README, 'Batches')")
    return _closing(_csv_orders(reader, header, name), stream)


_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, as errors="surrogateescape" reads it


def _csv_orders(reader, header: list[str], name: str) -> Iterator[Record]:
    """Each order of the rows (see :func:`_csv`).  An order is checked only if every one of its rows was read:
    a row with the wrong number of cells, or bytes that are not UTF-8, makes the order whose ``id`` it has an
    error record, rows before and after it alike (a row whose id cannot be read, the order before it, and
    itself one of its own), and a syntax error makes the order being read one, then ends the reading."""
    where = header.index("id")
    number, rows, broken, start, line = 0, [], [], 2, 2
    order_id: str | None = None

    def order() -> Record:
        if rows:
            return _csv_order(number, rows, name, tuple(broken))
        return Record(number, broken[0].line, problems=tuple(broken))

    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            cell_id = cells[where].strip() if len(cells) > where else None
            if (rows or broken) and cell_id is not None and cell_id == order_id:
                pass  # another row of the order being read
            else:
                unknown_id = cell_id is None or _NOT_UTF8.search(cell_id)
                if rows or broken:
                    if unknown_id:  # the row may be the order's: it is not checked without it
                        broken.append(Problem(name, start, f"line {start}, whose id cannot be read, may be a row of "
                                                           "this order; the order is not checked without it"))
                    yield order()
                number, rows, broken, order_id = number + 1, [], [], None if unknown_id else cell_id
            if len(cells) != len(header):
                broken.append(Problem(name, start, f"malformed CSV: {len(cells)} cells, {len(header)} columns; "
                                                   "the order is not checked without this row"))
            elif _NOT_UTF8.search("".join(cells)):
                broken.append(Problem(name, start, "not UTF-8 text; the order is not checked without this row"))
            elif len(rows) <= MAX_LINES:  # the model refuses more: hold no more of them
                rows.append((start, dict(zip(header, cells))))
    except (csv.Error, UnicodeDecodeError) as exc:
        message = f"malformed CSV: {exc}; the rest of the file is not read"
        if rows or broken:
            broken.append(Problem(name, reader.line_num, f"malformed CSV: {exc}; the order's rows from here on, and "
                                                         "the rest of the file, are not read"))
            yield order()
        yield _unreadable(name, number + 1, reader.line_num, message)
        return
    if rows or broken:
        yield order()


def _put(target: LineDict, path: list[str], value: Any, line: int) -> Any:
    """Set ``target[path]`` (making the mappings on the way), recording lines; returns the value already there."""
    for key in path[:-1]:
        if key not in target:
            target[key] = LineDict()
            target[key].line = target.lines[key] = line
        target = target[key]
    if path[-1] in target:
        return target[path[-1]]
    target[path[-1]] = value
    target.lines[path[-1]] = line
    return value


def _csv_order(number: int, rows: list[tuple[int, dict[str, str]]], name: str,
               broken: tuple[Problem, ...] = ()) -> Record:
    """One order from its rows: the order's and parties' cells from every row (they must agree), an item per row;
    ``broken``, the problems of rows that could not be read (the order is then an error record)."""
    order, parties, items, problems = LineDict(), LineDict(), LineList(), list(broken)
    order.line = parties.line = items.line = rows[0][0]
    for line, row in rows:
        item = LineDict()
        item.line = line
        for column, text in row.items():
            if not text.strip():
                continue
            value, path = _cell(CSV_COLUMNS[column], text), column.split(".")
            if path[0] == "item":
                _put(item, path[1:], value, line)
                continue
            if path[0] in ROLES:
                _put(parties, [path[0], "role"], path[0], line)
            before = _put(parties if path[0] in ROLES else order, path, value, line)
            if before != value:
                problems.append(Problem(name, line, f"{column}: {brief(text)!r} differs from {brief(before)!r} in an "
                                                    "earlier row of the order; an order has one", None, field=column))
        items.append(item)
        items.lines.append(line)
    if parties:
        order["parties"] = LineList(parties.values())
        order["parties"].line = order.lines["parties"] = rows[0][0]
        order["parties"].lines = [parties.lines[role] for role in parties]
    order["items"], order.lines["items"] = items, rows[0][0]
    size = sum(len(",".join(r.values())) + 1 for _, r in rows)
    return Record(number, rows[0][0], size, data=order, problems=tuple(problems))


# --- checking ---------------------------------------------------------------------------------------------

AUDIT_EVERY = 2048  # audit records appended per transaction: one commit per record would cost more than the checks


def _located(text: str, line: int | None, name: str) -> Any:
    """``text`` read by the line-tracking loader, its lines counted from ``line``: only to place an error."""
    try:
        return _shifted(loads_yaml(text, name), (line or 1) - 1)
    except YamlError:
        return None


def _shifted(data: Any, offset: int) -> Any:
    if isinstance(data, (LineDict, LineList)):
        data.line += offset
        if isinstance(data, LineDict):
            data.lines = {key: n + offset for key, n in data.lines.items()}
        else:
            data.lines = [n + offset for n in data.lines]
        for value in data.values() if isinstance(data, LineDict) else data:
            _shifted(value, offset)
    return data


Outcome = tuple[str | None, str, dict | None]  # decision (None: invalid), output line, audit entry


def check_record(engine: Engine, record: Record, as_of=None, name: str = "<batch>",
                 caller: str | None = None) -> Outcome:
    """(decision or None, the output line, audit entry or None) for one record: its determination, or its
    error record; with ``caller``, the determination's audit record too, made here (in the worker)."""
    raw = record.data
    try:
        if record.problems:
            raise invalid(list(record.problems), record.number)
        if record.text is not None:
            try:
                raw = parse_json(record.text)
            except (ValueError, RecursionError) as exc:
                message = (exc.msg if isinstance(exc, json.JSONDecodeError) else
                           "nested too deeply" if isinstance(exc, RecursionError) else str(exc))
                raise invalid([Problem(name, record.line, f"malformed JSON: {message}")], record.number) from None
        located = (lambda: _located(record.text, record.line, name) or raw) if record.text is not None else None
        txn = validate_order(raw, name, record.number, located)
        result = engine.check(txn, as_of=as_of)
    except InputError as exc:
        return None, error_record(exc, record, raw), None
    return result.decision.value, result.model_dump_json(), audit.entry(result, caller, txn) if caller else None


def error_record(exc: InputError, record: Record, raw: Any) -> str:
    """The output line for an invalid record: where it is, which fields, why."""
    problems = exc.problems or (Problem("", exc.line or record.line, str(exc), None, field=exc.field),)
    txn_id = raw.get("id") if isinstance(raw, dict) else None
    return json.dumps({
        "record": record.number, "line": exc.line or record.line,
        "transaction_id": brief(str(txn_id), 200) if isinstance(txn_id, (str, int)) else None,
        "error": "\n".join(brief(p.message, 1000) for p in problems[:100]),
        "errors": [{"field": p.field, "line": p.line, "message": brief(p.message.removeprefix(f"{p.field}: "), 1000)}
                   for p in problems[:100]],
    }, ensure_ascii=False)


# a chunk's decisions (None for an invalid record), its output lines joined, and its audit entries
Checked = tuple[list[str | None], str, list[dict]]


def check_chunk(engine: Engine, chunk: list[Record], as_of, name: str, caller: str | None = None) -> Checked:
    """A chunk's records checked: their decisions, their output lines joined and their audit entries (with
    ``caller``), so that a chunk is one message back from a worker and one write."""
    decisions, lines, entries = [], [], []
    for record in chunk:
        decision, text, entry = check_record(engine, record, as_of, name, caller)
        decisions.append(decision)
        lines.append(text)
        if entry:
            entries.append(entry)
    lines.append("")
    return decisions, "\n".join(lines), entries


_ENGINE: Engine | None = None  # the engine forked workers check with: set before the fork, shared by them
_OPTIONS: tuple = (None, "<batch>", None)  # as_of, file name, audit caller


def _check_chunk(chunk: list[Record]) -> Checked:
    return check_chunk(_ENGINE, chunk, *_OPTIONS)


@lru_cache(maxsize=4)
def _worker_engine(rules: str, lists: str) -> Engine:
    """A Dask worker's engine: loaded once per process and bundle."""
    return Engine.load(rules, lists)


def _check_on_worker(rules: str, lists: str, as_of, name: str, chunk: list[Record],
                     caller: str | None = None) -> tuple[str, list, Checked]:
    engine = _worker_engine(rules, lists)
    return engine.ruleset.digest, [s.digest for s in engine.lists], check_chunk(engine, chunk, as_of, name, caller)


def _result_of(future) -> Callable[[], Checked]:
    def result() -> Checked:
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise EngineError(f"a worker process died: {exc}") from None
    return result


def _chunks(records: Iterable[Record]) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _in_order(chunks: Iterable[list[Record]], submit: Callable[[list[Record]], Callable[[], Checked]],
              limit: int) -> Iterator[tuple[list[Record], Checked]]:
    """Each chunk with what checking it gave, in input order, with at most ``limit`` chunks submitted and not yet
    collected (a pool's own ``imap`` would read the whole input ahead of the workers)."""
    pending: deque = deque()
    for chunk in chunks:
        pending.append((chunk, submit(chunk)))
        if len(pending) >= limit:
            chunk, result = pending.popleft()
            yield chunk, result()
    while pending:
        chunk, result = pending.popleft()
        yield chunk, result()


def run_batch(engine: Engine, source: str | Path, out: str | Path, *, as_of=None, workers: int = 1,
              scheduler: str | None = None, progress: Callable[[int, int], None] | None = None,
              audit_log: audit.AuditLog | None = None, caller: str | None = None) -> Summary:
    """Check every order in ``source`` and write one line per record to ``out`` (JSON lines), in order.

    ``out`` appears whole or not at all.  ``progress(records, size)`` is called as results are written.
    Input errors are per record (see the summary); anything else (an engine failure, a worker that died)
    raises, and nothing is written.  With ``audit_log``, every determination is recorded there (by this
    process only, ``AUDIT_EVERY`` to a transaction, as caller ``caller``, default ``batch FILE``); a run
    that fails keeps the records of the determinations it made.
    """
    name = brief(str(source), 500) if str(source) != "-" else "<stdin>"
    caller = (caller or f"batch {name}") if audit_log else None
    records = read_records(source)
    summary, entries = Summary(), []
    try:
        with _checking(engine, as_of, name, workers, scheduler, caller) as (submit, limit), \
                _whole_or_nothing(out) as target, _appending(audit_log) as append:
            for chunk, (decisions, text, checked_entries) in _in_order(_chunks(records), submit, limit):
                target.write(text)
                entries += checked_entries
                for record, decision in zip(chunk, decisions, strict=True):
                    summary.add(record.number, decision)
                if len(entries) >= AUDIT_EVERY:
                    append(entries)
                    entries = []
                if progress:
                    progress(len(chunk), sum(r.size for r in chunk))
            if entries:
                append(entries)
    finally:
        records.close()
    return summary


@contextmanager
def _appending(audit_log: audit.AuditLog | None):
    """``append(entries)``: ``audit_log.append(entries)`` in a thread of its own, one list after the other.
    SQLite waits for the disk (most of the 0.1-0.2 ms a record takes) without holding the GIL, so results go on
    being collected meanwhile.  An append waits for the one before, and raises its error: none is made after a
    failed one.  Leaving waits for the last (a run that fails keeps its records) and raises its error."""
    if audit_log is None:
        yield None
        return
    appended = None
    with ThreadPoolExecutor(1, thread_name_prefix="audit") as writer:  # leaving waits for the last append
        def append(entries: list) -> None:
            nonlocal appended
            if appended is not None:
                appended.result()
            appended = writer.submit(audit_log.append, entries)
        yield append
    if appended is not None:
        appended.result()


@contextmanager
def _checking(engine: Engine, as_of, name: str, workers: int, scheduler: str | None, caller: str | None = None):
    """Where chunks are checked: ``(submit, limit)``, ``submit(chunk)`` giving a function that returns the
    chunk's decisions and output, with at most ``limit`` chunks in flight."""
    global _ENGINE, _OPTIONS
    if scheduler:
        with _dask(engine, scheduler, as_of, name, caller) as checking:
            yield checking
    elif workers > 1:
        _ENGINE, _OPTIONS = engine, (as_of, name, caller)
        engine.open_lists()  # before the fork: one screening index for all the workers, not one each
        gc.freeze()  # the collector leaves the engine's objects alone, so the workers keep sharing their pages
        # an executor, not a Pool: a worker that dies (the C engine can abort) fails the run instead of hanging it
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
        try:
            yield (lambda chunk: _result_of(pool.submit(_check_chunk, chunk))), workers * IN_FLIGHT
        finally:
            pool.shutdown(cancel_futures=True)
            gc.unfreeze()
            _ENGINE, _OPTIONS = None, (None, "<batch>", None)
    else:
        def here(chunk: list[Record]) -> Callable[[], Checked]:
            checked = check_chunk(engine, chunk, as_of, name, caller)
            return lambda: checked
        yield here, 1


@contextmanager
def _whole_or_nothing(out: str | Path):
    """A text file that appears at ``out`` only if the block completes: written beside it, then renamed."""
    out = Path(out)
    try:
        target = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=out.parent, prefix=f".{out.name}.",
                                             suffix=".part", delete=False)
    except OSError as exc:  # no such directory, not writable: the user's to fix, before any record is read
        raise InputError(f"--out {brief(str(out), 500)}: cannot write there: {exc.strerror or exc}") from None
    try:
        with target:
            yield target
            target.flush()
            os.fsync(target.fileno())
        os.chmod(target.name, 0o666 & ~_umask())  # as an ordinary new file would be (a temporary one is private)
        os.replace(target.name, out)
    except BaseException:
        Path(target.name).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def _dask(engine: Engine, scheduler: str, as_of, name: str, caller: str | None = None):
    """Chunks checked on a Dask cluster; each worker loads the same bundle and lists once, from the same paths."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - an optional dependency
        raise InputError("--scheduler needs the 'distributed' package: pip install 'chipgate[dask]'") from None
    if engine.sources is None:
        raise InputError("a batch on Dask needs an engine loaded from a rule directory (Engine.load)")
    rules, lists = (str(p) for p in engine.sources)
    expected = (engine.ruleset.digest, [s.digest for s in engine.lists])
    try:
        client = Client(scheduler, timeout=30)
    except OSError as exc:
        raise InputError(f"--scheduler {brief(scheduler)}: cannot connect: {exc}") from None

    def submit(chunk: list[Record]) -> Callable[[], Checked]:
        future = client.submit(_check_on_worker, rules, lists, as_of, name, chunk, caller, pure=False)

        def result() -> Checked:
            digest, list_digests, checked = future.result()
            if (digest, list_digests) != expected:
                raise EngineError(f"a Dask worker checked with bundle {digest} and lists {list_digests}, not "
                                  f"{expected[0]} and {expected[1]}: give every worker the same rules and lists")
            return checked
        return result

    with client:
        yield submit, max(1, len(client.scheduler_info().get("workers", {}))) * IN_FLIGHT
