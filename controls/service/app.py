"""The HTTP service: checks, screening and the rule bundle over JSON, on FastAPI.

One ``Service`` holds the current engine.  A request takes the engine once, at its start, and
finishes on it; a reload builds the new engine beside the old one and swaps the reference in one
assignment, so a check (or a whole batch) never sees half of each bundle, and each
determination's ``ruleset.digest`` and ``lists`` say which bundle answered.  A reload that fails
(a bad rule file) leaves the old engine serving.

A check runs on the event loop itself.  The engine holds the GIL and serialises checks on its
rule network's lock (``controls.engine.durable_adapter``), so threads would add no parallelism, only
a hand-over to a thread and back per request (which cost more than the check) and an unfair order
among waiting checks; on the loop, checks are answered in the order they arrived.  The loop is
uvloop's (a dependency, which uvicorn takes when it is installed: some 0.05 ms less CPU a request than
asyncio's).  More CPUs are used with more processes (``chipgate serve --workers``).  Batches
(``/v1/check/batch``) are checked in a small thread pool, so that their body is read while they are
checked.  The audit trail commits many records at a time (:class:`AuditQueue`); an answer waits for its
record.  ``chipgate serve`` serves :class:`CheckFirst`, which answers ``POST /v1/check`` as its route
does without FastAPI's routing and dependency machinery.
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import gc
import hmac
import json
import logging
import os
import signal
import sqlite3
import threading
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from ..audit import BUSY_TIMEOUT_MS, WRITE_LOCK_POLL_S, AuditLog, entry
from ..engine import Engine
from ..errors import ChipgateError, InputError, RuleError
from ..models import MAX_TEXT, Date, Determination, ScreeningResult, Transaction
from ..orders import parse_json as parse_order_json
from ..rulebook.yamlsource import brief
from . import review
from .problems import MEDIA_TYPE, ProblemError, invalid, malformed_json, too_large

log = logging.getLogger("uvicorn.error.chipgate")  # shown in the server log with uvicorn's own

CALLER_HEADER = "X-Chipgate-Caller"
CALLER_HEADER_KEY = CALLER_HEADER.lower().encode("latin-1")  # as ASGI servers give header names
NDJSON = "application/x-ndjson"
AsOf = Date | None  # the check endpoints' ``as_of`` query parameter: YYYY-MM-DD, as an order's date


@dataclasses.dataclass(frozen=True)
class Settings:
    """How the service runs; ``chipgate serve`` fills it in from its options."""

    rules: Path | None = None          # the rule directory (default: the bundled rules)
    lists: Path | None = None          # the list store (default: $CHIPGATE_LISTS or RULES/lists)
    audit: Path | None = None          # the audit database; None: nothing is recorded
    admin_token: str | None = None     # required by /v1/admin/*; None: admin endpoints are off
    max_body: int = 4 * 2**20          # bytes of one request, and of one order line of a batch
    max_batch_body: int = 1 * 2**30    # bytes of one batch request
    threads: int = 4                   # batch requests checked at once in one process
    workers: int = 1                   # processes; with more than one, a reload also signals the others
    review_tokens: dict = dataclasses.field(default_factory=dict)  # user -> token for /review
    trust_user_header: str | None = None  # /review's user is this header's, set by a trusted reverse proxy
    review_secret: str | None = None   # keys the review forms (one for all worker processes)

    def to_env(self) -> str:
        return json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(self).items()})

    @classmethod
    def from_env(cls, text: str) -> "Settings":
        values = json.loads(text)
        return cls(**{k: Path(v) if k in ("rules", "lists", "audit") and v else v for k, v in values.items()})


class ScreenRequest(BaseModel):
    """A name to screen against the imported lists (``chipgate screen``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=MAX_TEXT)  # as a party's: screening time grows with the text
    country: str | None = None
    address: str | None = Field(default=None, max_length=MAX_TEXT)
    as_of: Date | None = None


def parse_json(body: bytes) -> Any:
    """JSON as ``chipgate check`` reads it (numbers exactly, no repeated keys), or a problem saying why not."""
    try:
        return parse_order_json(body)
    except (ValueError, RecursionError) as exc:
        raise malformed_json(exc) from None


def read_order(body: bytes) -> Transaction:
    data = parse_json(body)
    try:
        return Transaction.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc, "order") from None


class Service:
    """The engine the service answers with, its reloads, and the audit log."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.audit = AuditQueue(AuditLog(settings.audit, autocheckpoint=False)) if settings.audit else None
        self.engine: Engine | None = None  # swapped whole by reload(); read once per request
        self.load_error: str | None = None
        self.loaded_at: dt.datetime | None = None
        self._reloading = threading.Lock()
        self.limiter = anyio.CapacityLimiter(settings.threads)

    def load(self) -> Engine:
        """Build the bundle (rules and lists) beside the current one, then swap it in; raises if it fails."""
        with self._reloading:
            current = self.engine
            try:
                fresh = current.reload() if current else Engine.load(self.settings.rules, self.settings.lists)
                fresh.open_lists()  # before it answers: no request waits for the screening index
            except Exception as exc:
                self.load_error = str(exc) if current is None else self.load_error
                raise
            self.engine, self.load_error, self.loaded_at = fresh, None, dt.datetime.now(dt.timezone.utc)
            log.info("bundle %s %s loaded", fresh.ruleset.version, fresh.ruleset.digest)
            return fresh

    def current(self) -> Engine:
        engine = self.engine
        if engine is None:
            detail = f"the rule bundle failed to load: {self.load_error}" if self.load_error else \
                "the rule bundle is still loading"
            raise ProblemError(503, "not-ready", "Not ready", brief(detail, 2000))
        return engine

    def check(self, engine: Engine, body: bytes, as_of: dt.date | None, caller: str) -> tuple[bytes, dict | None]:
        """One order's JSON in: its determination's JSON out, and what the audit trail is to record of it
        (None without a trail)."""
        order = read_order(body)
        result = engine.check(order, as_of=as_of)
        return _DETERMINATION_JSON(result), entry(result, caller, order) if self.audit else None

    async def answer(self, scope: dict, receive, as_of: dt.date | None) -> bytes:
        """``POST /v1/check``: the request's order checked on the bundle serving when it began, and the
        determination's JSON once it is in the audit trail (raises a problem in its place)."""
        engine = self.current()
        body = await _body(scope, receive, self.settings.max_body)
        answer, recorded = self.check(engine, body, as_of, _caller(scope))  # on the loop: see the module's doc
        await self.record([recorded] if recorded else [])
        return answer

    def check_lines(self, engine: Engine, lines: list[tuple[int, bytes | ProblemError]], as_of: dt.date | None,
                    caller: str) -> tuple[bytes, list[dict]]:
        """NDJSON: one output line per numbered input line, a determination or a problem in its place;
        and what the audit trail is to record of them."""
        out, entries = [], []
        for number, line in lines:
            try:
                if isinstance(line, ProblemError):
                    raise line
                if not line.strip():
                    raise ProblemError(400, "empty-record", "Empty record", "an empty line; expected one order")
                answer, recorded = self.check(engine, line, as_of, caller)
                out.append(answer)
                entries += [recorded] if recorded else []
            except (ProblemError, ChipgateError) as exc:
                problem = exc if isinstance(exc, ProblemError) else _problem_of(exc)
                out.append(json.dumps(problem.body(record=number), ensure_ascii=False, separators=(",", ":")).encode())
        return b"".join(line + b"\n" for line in out), entries

    async def record(self, entries: list[dict]) -> None:
        """Once ``entries`` are in the audit trail (raises if they could not be: no answer without its record)."""
        if self.audit and entries:
            await self.audit.append(entries)


class AuditQueue:
    """Group commit on the event loop: records wait in a list while the write lock is taken, then all go
    in one transaction.  An answer waits for its record's commit, so no answered determination is
    missing from the trail; :meth:`close` waits for the last commit (a clean shutdown loses nothing).

    A commit runs on the loop, between checks (some 0.3 ms for one record, 1.5 ms for ten); the loop
    never waits in it.  Where another process holds the write lock the commit is tried again in
    WRITE_LOCK_POLL_S, checks going on meanwhile, and the log is copied into the database (checkpointed,
    with its syncs) by another thread, every CHECKPOINT_COMMITS commits, while commits go on.  The log is
    to be opened without its own checkpoints (``AuditLog(path, autocheckpoint=False)``, as the service
    does).  Committing in a thread instead, each commit waited for the GIL the loop holds during checks,
    and for the loop to hear that it was done: measured open loop, 1 process at 300 checks/s, p50
    5.6-6.0 ms and p99 19.5-21.1 ms in a thread, against 4.8 and 15.4-19.1 ms here, and 8-10 % more CPU."""

    def __init__(self, log: AuditLog):
        self.log = log
        self._waiting: list[tuple[list[dict], asyncio.Future]] = []  # a commit is due while it is not empty
        self._commits = 0  # since the last checkpoint asked for
        self._checkpoints = threading.Event()  # set: a checkpoint is wanted (or, closing, the thread ends)
        self._checkpointer: threading.Thread | None = None
        self._closing = False

    async def append(self, entries: list[dict]) -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        if not self._waiting:  # the first: a commit once the checks already due have run (all that arrive join)
            loop.call_soon(self._commit, loop, loop.time() + BUSY_TIMEOUT_MS / 1000)
        self._waiting.append((entries, done))
        await done

    def _commit(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        """On the loop: commit every record waiting, or, the write lock taken, try again shortly (until
        ``deadline``, when every waiting answer fails, as a commit that fails does)."""
        batch = self._waiting
        try:
            if loop.time() > deadline:
                raise sqlite3.OperationalError("database is locked (the audit trail's write lock was not "
                                               f"released in {BUSY_TIMEOUT_MS / 1000:.0f} s)")
            if self.log.append([e for entries, _ in batch for e in entries], wait=False) is None:
                loop.call_later(WRITE_LOCK_POLL_S, self._commit, loop, deadline)
                return
        except Exception as exc:  # noqa: BLE001 - every waiting answer fails with it
            self._waiting = []
            _settle(batch, exc)
            return
        self._waiting = []
        _settle(batch, None)
        self._commits += 1
        if self._commits >= CHECKPOINT_COMMITS:
            self._commits = 0
            self._checkpoint_soon()

    def _checkpoint_soon(self) -> None:
        if self._checkpointer is None:
            self._checkpointer = threading.Thread(target=self._checkpointing, name="audit-checkpoint", daemon=True)
            self._checkpointer.start()
        self._checkpoints.set()

    def _checkpointing(self) -> None:
        """The checkpoint thread: one checkpoint each time one is asked for (a request made while one runs is
        served by the next), until closed."""
        while True:
            self._checkpoints.wait()
            self._checkpoints.clear()
            if self._closing:
                return
            try:
                self.log.checkpoint()
            except Exception as exc:  # noqa: BLE001 - the log keeps every record; the next checkpoint tries again
                log.warning("audit trail %s: checkpoint failed: %s", self.log.path, exc)

    async def close(self) -> None:
        while self._waiting:  # the last commit, due or being tried again
            await asyncio.sleep(WRITE_LOCK_POLL_S)
        if self._checkpointer is not None:
            self._closing = True
            self._checkpoints.set()
            await asyncio.to_thread(self._checkpointer.join)
            await asyncio.to_thread(self.log.checkpoint)  # a clean shutdown leaves the records in the database file


def _settle(answers: list[tuple[list[dict], asyncio.Future]], error: Exception | None) -> None:
    """The answers of one commit may go, or fail with its error (a request cancelled meanwhile is let be)."""
    for _, done in answers:
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)


# Commits between two checkpoints of the audit trail's log: some 60 pages at one record a commit (a commit writes at
# least 3: a records page, an index page, the sequence), near what SQLite's autocheckpoint copies (64); more when
# each commit holds many records. Measured off the commit path against autocheckpoint on it (open loop, interleaved):
# 1 process at 300 checks/s p99 13.6-23.9 ms against 17.2-35.9; 2 processes at 800/s p99 65.6-74.2 against 73.7-101.6
CHECKPOINT_COMMITS = 20


def _problem_of(exc: ChipgateError) -> ProblemError:
    if isinstance(exc, InputError):
        return ProblemError(422, "invalid-input", "Invalid input", brief(str(exc), 2000))
    return ProblemError(500, "engine-error", "Engine error", brief(str(exc), 2000))


def _bundle(engine: Engine) -> dict:
    return {"version": engine.ruleset.version, "digest": engine.ruleset.digest,
            "lists": [s.model_dump(mode="json") for s in engine.lists]}


_DETERMINATION_JSON = Determination.__pydantic_serializer__.to_json  # model_dump_json's bytes, not made a str


async def _body(scope: dict, receive, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is known to be over ``limit`` bytes.  Read from the
    ASGI messages as ``Request.stream`` reads them (a client gone is ``ClientDisconnect``), without a
    ``Request``: on ``POST /v1/check`` the objects cost more than reading."""
    length = _header(scope, b"content-length")
    if length and length.isdigit() and int(length) > limit:
        raise too_large(limit)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        if message["type"] != "http.request":
            continue
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _header(scope: dict, name: bytes) -> str | None:
    """The first value of header ``name`` (lower case, as ASGI servers give names), as ``Request.headers`` has it."""
    return next((value.decode("latin-1") for key, value in scope["headers"] if key == name), None)


def _caller(scope: dict) -> str:
    """Who the audit trail says asked: ``X-Chipgate-Caller`` (read as UTF-8 where its bytes are, as ERP systems
    send names: "Zürich-ERP", not "ZÃ¼rich-ERP"), else the client's address."""
    client = scope.get("client")
    given = _header(scope, CALLER_HEADER_KEY)
    if given and not given.isascii():
        try:
            given = given.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            pass  # Latin-1 bytes, as HTTP's own default has them
    return brief(given or (client[0] if client else "unknown"), 200)


def _invalid_request(errors: list[dict]) -> ProblemError:
    """A bad query parameter (pydantic's errors, ``loc`` starting with ``query``), as FastAPI reports it."""
    errors = [{"pointer": "/" + "/".join(map(str, e["loc"])), "field": ".".join(map(str, e["loc"])),
               "detail": e["msg"].removeprefix("Value error, ")} for e in errors]
    return ProblemError(422, "invalid-request", "Invalid request",
                        "; ".join(f"{e['field']}: {e['detail']}" for e in errors), errors)


def _problem_response(problem: ProblemError, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(problem.body(), status_code=problem.status, media_type=MEDIA_TYPE, headers=headers)


_PROBLEM = {"content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _body_schema(model: str, media_type: str = "application/json") -> dict:
    return {"requestBody": {"required": True, "content": {media_type: {"schema": {"$ref": f"#/components/schemas/{model}"}}}}}


def create_app(settings: Settings) -> FastAPI:
    """The service's ASGI application; the bundle loads in the background once it starts (see /readyz)."""
    service = Service(settings)

    async def reload_on_signal() -> None:
        try:
            await anyio.to_thread.run_sync(service.load)
        except Exception as exc:  # noqa: BLE001 - the old bundle goes on serving
            log.error("reload failed, the bundle %s goes on serving: %s",
                      service.engine.ruleset.digest if service.engine else None, exc)

    async def lifespan(app: FastAPI):
        loading = asyncio.get_running_loop().run_in_executor(None, service.load)
        loading.add_done_callback(lambda f: f.exception() and log.error("the bundle failed to load: %s",
                                                                        f.exception()))
        if threading.current_thread() is threading.main_thread():
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGHUP, lambda: asyncio.ensure_future(reload_on_signal()))
        yield
        if service.audit:
            await service.audit.close()

    app = FastAPI(title="chipgate", version=_version(), lifespan=lifespan,
                  description="Semiconductor export-control checks. Errors are RFC 9457 problem details.")
    app.state.service = service

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError):
        return _problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError):
        return _problem_response(_invalid_request(exc.errors()))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        return _problem_response(ProblemError(exc.status_code, f"http-{exc.status_code}", str(exc.detail),
                                              str(exc.detail)), headers=exc.headers)

    @app.exception_handler(ChipgateError)
    async def _chipgate(request: Request, exc: ChipgateError):
        return _problem_response(_problem_of(exc))

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect):
        """The client left before its request was read: no one to answer, and no fault of the service's."""
        log.info("%s left before sending its whole request", _caller(request.scope))
        return _problem_response(ProblemError(400, "client-disconnected", "Client disconnected",
                                              "the request body ended before its length"))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        log.exception("internal error")
        return _problem_response(ProblemError(500, "internal-error", "Internal error", type(exc).__name__))

    @app.post("/v1/check", response_model=Determination, responses={400: _PROBLEM, 413: _PROBLEM, 422: _PROBLEM},
              openapi_extra=_body_schema("Transaction"))
    async def check(request: Request, as_of: AsOf = None):
        """Check one order (the contract's transaction as JSON); the determination, recorded in the audit trail."""
        return Response(await service.answer(request.scope, request.receive, as_of), media_type="application/json")

    @app.post("/v1/check/batch", responses={200: {"content": {NDJSON: {}}}, 413: _PROBLEM},
              openapi_extra=_body_schema("Transaction", NDJSON))
    async def check_batch(request: Request, as_of: AsOf = None):
        """Check orders sent as NDJSON (one order a line), streamed: one line out per line in, in order,
        a problem (with its ``record``, the line number) in place of a bad order.  One bundle answers
        the whole batch (its digests are on every line)."""
        engine = service.current()
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_batch_body:
            raise too_large(settings.max_batch_body)
        caller = _caller(request.scope)

        async def results():
            first = 1  # the first record of the group being answered
            try:
                async for lines in _numbered_lines(request, settings.max_body, settings.max_batch_body):
                    first = lines[0][0]
                    answers, recorded = await anyio.to_thread.run_sync(service.check_lines, engine, lines, as_of,
                                                                       caller, limiter=service.limiter)
                    await service.record(recorded)
                    yield answers
            except ClientDisconnect:
                return
            except Exception as exc:  # the status line is sent: the stream's last line says why it ends early
                log.exception("internal error")
                problem = ProblemError(500, "internal-error", "Internal error",
                                       f"{type(exc).__name__}: no answer from this record on")
                yield json.dumps(problem.body(record=first), separators=(",", ":")).encode() + b"\n"

        return _DuplexResponse(results(), media_type=NDJSON)

    @app.post("/v1/screen", response_model=ScreeningResult, responses={413: _PROBLEM, 422: _PROBLEM},
              openapi_extra=_body_schema("ScreenRequest"))
    async def screen(request: Request):
        """Screen a name against the imported restricted-party lists (``chipgate screen``)."""
        engine = service.current()
        try:
            body = await _body(request.scope, request.receive, settings.max_body)
            query = ScreenRequest.model_validate(parse_json(body))
        except ValidationError as exc:
            raise invalid(exc, "screen-request") from None
        result = await anyio.to_thread.run_sync(
            lambda: engine.screen(query.name, country=query.country, address=query.address, as_of=query.as_of),
            limiter=service.limiter)
        return Response(result.model_dump_json(), media_type="application/json")

    @app.get("/v1/rules")
    async def rules():
        """The bundle answering now: version, digest, rule count, effective dates and list editions."""
        engine = service.current()
        book = engine.rulebook
        windows = [r.rule.effective for r in book.rules]
        changes = [w.start for w in windows] + [w.until for w in windows if w.until]
        return {"name": book.meta.name, **_bundle(engine), "rules": len(book.rules),
                "jurisdictions": sorted({r.jurisdiction for r in book.rules}),
                "effective": {"earliest": min(changes, default=None), "latest_change": max(changes, default=None)},
                "loaded_at": service.loaded_at}

    @app.get("/healthz")
    async def healthz():
        """The process answers (whether or not the bundle has loaded)."""
        return {"status": "ok"}

    @app.get("/readyz", responses={503: _PROBLEM})
    async def readyz():
        """Ready once the bundle is loaded (503 until then, or if it failed to load)."""
        engine = service.current()
        return {"status": "ready", **_bundle(engine)}

    @app.post("/v1/admin/reload", responses={401: _PROBLEM, 403: _PROBLEM, 422: _PROBLEM})
    async def reload(request: Request):
        """Load the rules and lists again and swap them in; a failure keeps the old bundle serving.

        Requires ``Authorization: Bearer TOKEN`` (``chipgate serve --admin-token`` or
        ``CHIPGATE_ADMIN_TOKEN``).  With several worker processes the others are signalled to reload too.
        """
        _authorise(request, settings.admin_token)
        before = service.engine
        try:
            engine = await anyio.to_thread.run_sync(service.load)
        except RuleError as exc:
            errors = [{"file": p.file, "line": p.line, "rule": p.rule, "detail": p.message} for p in exc.problems]
            raise ProblemError(422, "reload-failed", "Reload failed; the previous bundle goes on serving",
                               brief(str(exc), 2000), errors) from None
        except ChipgateError as exc:
            raise ProblemError(422, "reload-failed", "Reload failed; the previous bundle goes on serving",
                               brief(str(exc), 2000)) from None
        if settings.workers > 1:
            os.kill(os.getppid(), signal.SIGHUP)  # the supervisor passes it on to every worker
        return {"previous": _bundle(before) if before else None, "current": _bundle(engine),
                "loaded_at": service.loaded_at}

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model, mode in ((Transaction, "validation"), (ScreenRequest, "validation")):
                found = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
                components.update(found.pop("$defs", {}))
                components[model.__name__] = found
            components["Problem"] = _PROBLEM_SCHEMA
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
    access = review.Access(settings.review_tokens, settings.trust_user_header, settings.review_secret)
    if access.enabled:  # otherwise /review is not served at all
        review.mount(app, service, access)
    return app


_PROBLEM_SCHEMA = {
    "type": "object", "title": "Problem", "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "record": {"type": "integer", "description": "in a batch: the line number of the bad record"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "pointer": {"type": "string", "description": "JSON Pointer to the bad field"},
            "field": {"type": "string", "description": "the same path, dotted"},
            "detail": {"type": "string"}}}},
    },
}


class _DuplexResponse(StreamingResponse):
    """Streams the answer while the request body is still being read.  Starlette's response would
    also listen for the client leaving, and that listener takes the body's messages; here the body's
    reader sees the client leave (``ClientDisconnect``) instead."""

    async def __call__(self, scope, receive, send) -> None:
        await self.stream_response(send)


def _authorise(request: Request, token: str | None) -> None:
    if not token:
        raise ProblemError(403, "admin-disabled", "Admin endpoints are off",
                           "start the service with --admin-token (or CHIPGATE_ADMIN_TOKEN) to use them")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # the scheme's name is case-insensitive (RFC 9110, 11.1); the token is compared in constant time
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ProblemError(401, "unauthorised", "Unauthorised", "send Authorization: Bearer <the admin token>")


async def _numbered_lines(request: Request, max_line: int, max_total: int):
    """The body's lines as they arrive, numbered from 1, in groups; a line over ``max_line`` bytes
    becomes a problem in its place, and a body over ``max_total`` ends with one."""
    buffer, number, total, skipping = b"", 0, 0, False
    async for chunk in request.stream():
        total += len(chunk)
        if total > max_total:
            yield [(number + 1, too_large(max_total))]
            return
        *complete, buffer = (buffer + chunk).split(b"\n")
        group = []
        for line in complete:
            number += 1
            group.append((number, too_large(max_line, "order line") if skipping or len(line) > max_line else line))
            skipping = False
        if len(buffer) > max_line:  # the rest of this line is read and dropped
            buffer, skipping = b"", True
        if group:
            yield group
    if buffer.strip() or skipping:
        yield [(number + 1, too_large(max_line, "order line") if skipping else buffer)]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("chipgate")
    except PackageNotFoundError:
        return "0"


class CheckFirst:
    """The served application: ``POST /v1/check`` straight to what its route answers
    (:meth:`Service.answer`), every other request (and the lifespan) through the FastAPI app.

    FastAPI's middleware, routing, dependency solving and exception wrapping cost about 0.25 ms
    of CPU a request, half of what a remembered check costs; Starlette's ``Request`` and
    ``Response`` objects some 0.03 ms more.  Here the answer, its ``as_of`` parameter's type, the
    response's headers and the exception handlers are the FastAPI app's own, so the two paths answer
    alike, byte for byte (``tests/test_service.py``), and the OpenAPI document describes the route.
    """

    PATH = "/v1/check"
    HEADERS = [(b"content-type", b"application/json")]  # after content-length, as the route's Response has them

    def __init__(self, app: FastAPI):
        self.app = app
        self.service: Service = app.state.service
        self.handlers = app.exception_handlers

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != self.PATH or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        try:
            answer = await self.service.answer(scope, receive, _as_of(scope))
        except Exception as exc:
            request = Request(scope, receive)
            # as Starlette does: the most specific handler answers; an unexpected error is answered
            # by the handler of Exception, then raised again for the server to log
            handled = next((self.handlers[c] for c in type(exc).__mro__ if c in self.handlers and c is not Exception),
                           None)
            response = await (handled or self.handlers[Exception])(request, exc)
            await response(scope, receive, send)
            if handled is None:
                raise
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"%d" % len(answer)), *self.HEADERS]})
        await send({"type": "http.response.body", "body": answer})


_AS_OF = TypeAdapter(AsOf)


def _as_of(scope: dict) -> dt.date | None:
    """The ``as_of`` query parameter, read and refused as FastAPI does (the last one given counts)."""
    value = QueryParams(scope["query_string"]).get("as_of") if scope["query_string"] else None
    try:
        return None if value is None else _AS_OF.validate_python(value)
    except ValidationError as exc:
        raise _invalid_request([{**e, "loc": ("query", "as_of", *e["loc"])} for e in exc.errors()]) from None


# Container objects a serving process may gain before the garbage collector's youngest pass (Python's default: 700).
SERVING_GC_THRESHOLD = 10_000


def app_from_env() -> CheckFirst:
    """The app for ``uvicorn --factory``, configured by ``chipgate serve`` through ``CHIPGATE_SERVE``.

    A serving process collects garbage less often than Python's default.  Its requests in flight (some
    50 at 50 clients) hold a few dozen container objects each (tasks, coroutines, header tuples), and
    their number rises and falls by more than 700 as answers go out in groups (one audit commit answers
    several): the collector made a young pass every 50 checks or so, each walking every request in
    flight (some 0.6 ms), and every hundredth pass was a full one over all the engine had remembered
    since it loaded (50-100 ms, every few thousand checks: the answers in flight waited for it; the
    engine's memories now keep bytes, which the collector does not walk: ``controls.engine.memo``).
    Checks leave little cyclic garbage: at 10,000, one young pass came in 20,000 checks (50 clients, in
    process), and the collector's time fell from 12-44 µs a check to nothing measurable."""
    gc.set_threshold(SERVING_GC_THRESHOLD, *gc.get_threshold()[1:])
    return CheckFirst(create_app(Settings.from_env(os.environ["CHIPGATE_SERVE"])))
