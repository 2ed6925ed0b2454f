"""The HTTP service against a real server on loopback: the contract's JSON in and out, problem
details with the field path, size limits, the streamed NDJSON batch, the bundle endpoints."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal

import httpx
import pytest

from controls.audit import AuditLog
from tests.conftest import REPO, chip, on, order
from tests.service_server import TOKEN, served

MAX_BODY = 64 * 1024
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def server(list_store, tmp_path_factory):
    audit = tmp_path_factory.mktemp("audit") / "audit.sqlite"
    with served("--lists", str(list_store), "--audit", str(audit), "--max-body", str(MAX_BODY)) as (url, _):
        yield url, audit


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server[0], timeout=60) as client:
        yield client


def accelerator(**extra) -> dict:
    return order(**chip(tpp=5000, die_area_mm2=800, datacenter=True), **extra)


def assert_problem(response, status: int, *pointers: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys() and problem["status"] == status
    assert {e["pointer"] for e in problem.get("errors", [])} >= set(pointers)
    return problem


def test_check_answers_as_the_library_does(client, engine):
    data = accelerator()
    response = client.post("/v1/check", json=data)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(engine.check(data).model_dump_json())
    assert response.json()["decision"] == "LICENSE_REQUIRED"


def test_check_as_of_a_date(client, engine):
    response = client.post("/v1/check", params={"as_of": "2023-01-01"}, json=accelerator())
    assert response.json()["as_of"] == "2023-01-01"
    assert response.json() == json.loads(engine.check(accelerator(), as_of=on("2023-01-01")).model_dump_json())


def test_numbers_are_read_exactly(client, engine):
    """$327.78 of U.S. content in a $1,311.12 item is exactly 25 %: the JSON's decimals are not floats."""
    body = ('{"id": "T-1", "date": "2026-11-28", "export_from": "DE", "destination": "CN", "items": [{"sku": "X-1", '
            '"quantity": 1, "origin": "DE", "eccn": "3A090.a", "unit_value": 1311.12, "us_content_value": 327.78}]}')
    response = client.post("/v1/check", content=body)
    assert response.status_code == 200
    assert response.json() == json.loads(engine.check(json.loads(body, parse_float=Decimal))
                                         .model_dump_json())


@pytest.mark.parametrize("change, pointer", [
    ({"destination": "ZZ"}, "/destination"),
    ({"items": []}, "/items"),
    ({"items": [{"sku": "X-1", "quantity": "8"}]}, "/items/0/quantity"),
    ({"items": [{"sku": "X-1", "quantity": 1, "eccn": "3A09"}]}, "/items/0/eccn"),
    ({"surprise": 1}, "/surprise"),
])
def test_invalid_orders_are_problems_naming_the_field(client, change, pointer):
    problem = assert_problem(client.post("/v1/check", json={**accelerator(), **change}), 422, pointer)
    assert problem["type"].endswith("invalid-order")


def test_a_missing_field_is_named(client):
    data = accelerator()
    del data["destination"]
    assert_problem(client.post("/v1/check", json=data), 422, "/destination")


@pytest.mark.parametrize("body", [b"{bad", b"", b'{"id": "a", "id": "b"}', b"[" * 60_000,
                                  b'{"id": "a", "items": [{"sku": "X", "quantity": 1e99999999999999999999}]}'])
def test_malformed_json_is_a_problem(client, body):
    assert_problem(client.post("/v1/check", content=body), 400)


@pytest.mark.parametrize("path", ["/v1/check", "/v1/check/batch"])
@pytest.mark.parametrize("as_of", ["yesterday", "0", "1728000000", "2026-11-28T00:00:00", "2026-11-28Z"])
def test_a_bad_query_parameter_is_a_problem(client, path, as_of):
    """``as_of`` is a date written YYYY-MM-DD, as an order's date is: never a number of seconds or a time."""
    problem = assert_problem(client.post(path, params={"as_of": as_of}, content=json.dumps(accelerator())), 422,
                             "/query/as_of")
    assert problem["errors"][0]["detail"] == "expected a date written as YYYY-MM-DD"


def test_bodies_over_the_limit_are_413(client):
    big = accelerator(description="x" * 9000)
    big["items"] = big["items"] * 10
    body = json.dumps(big).encode()
    assert len(body) > MAX_BODY
    assert_problem(client.post("/v1/check", content=body), 413)
    # without a Content-Length the body is counted as it arrives
    assert_problem(client.post("/v1/check", content=iter([body[:40000], body[40000:]])), 413)


def test_batch_answers_every_line_in_order_with_errors_in_place(client, engine):
    good = accelerator()
    unknown_country = {**accelerator(), "id": "T-3", "destination": "XX"}
    missing = {k: v for k, v in accelerator().items() if k != "items"}
    lines = [json.dumps(good), "{not json", json.dumps(unknown_country), json.dumps(missing),
             json.dumps({**good, "id": "T-5", "destination": "DE"})]
    response = client.post("/v1/check/batch", content="\n".join(lines) + "\n")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    out = [json.loads(line) for line in response.text.splitlines()]
    assert len(out) == 5
    assert out[0] == json.loads(engine.check(good).model_dump_json())
    assert [o.get("record") for o in out] == [None, 2, 3, 4, None]
    assert out[1]["status"] == 400 and out[1]["type"].endswith("malformed-json")
    assert [e["pointer"] for e in out[2]["errors"]] == ["/destination"]
    assert [e["pointer"] for e in out[3]["errors"]] == ["/items"]
    assert out[4]["transaction_id"] == "T-5" and out[4]["decision"] == engine.check({**good, "destination": "DE"}).decision


def test_batch_line_over_the_limit_is_an_error_in_place(client):
    big = json.dumps(accelerator(description="x" * MAX_BODY))
    response = client.post("/v1/check/batch", content="\n".join([json.dumps(accelerator()), big, json.dumps(accelerator())]))
    out = [json.loads(line) for line in response.text.splitlines()]
    assert [o.get("status") for o in out] == [None, 413, None] and out[1]["record"] == 2


def test_a_batch_line_with_a_number_decimal_cannot_hold_is_a_problem_in_place(client, engine):
    """It used to end the stream (the answers before it lost too) with an InvalidOperation nobody caught."""
    huge = json.dumps(accelerator()).replace('"quantity": 1', '"quantity": 1e99999999999999999999')
    assert huge != json.dumps(accelerator())
    response = client.post("/v1/check/batch", content="\n".join([json.dumps(accelerator()), huge,
                                                                  json.dumps(accelerator())]))
    out = [json.loads(line) for line in response.text.splitlines()]
    assert [o.get("status") for o in out] == [None, 400, None] and out[1]["record"] == 2
    assert "out of range" in out[1]["detail"] and out[2] == json.loads(engine.check(accelerator()).model_dump_json())


def test_a_batch_whose_check_fails_ends_with_a_problem_saying_where(engine):
    """An internal error after the status line is sent cannot change the status: the stream's last line is a
    500 problem naming the first record left unanswered, rather than a cut-off response."""
    import asyncio

    from controls.service.app import Settings, create_app

    class Failing:  # the bundle, failing on order T-boom as a broken engine would
        def __getattr__(self, name):
            return getattr(engine, name)

        def check(self, txn, as_of=None):
            if txn.id == "T-boom":
                raise RuntimeError("the rule network failed")
            return engine.check(txn, as_of=as_of)

    app = create_app(Settings())
    app.state.service.engine = Failing()
    good = json.dumps(accelerator()).encode()

    async def lines():
        yield good + b"\n"
        await asyncio.sleep(0.05)  # a group of its own
        yield json.dumps({**accelerator(), "id": "T-boom"}).encode() + b"\n" + good + b"\n"

    async def post():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
            return await client.post("/v1/check/batch", content=lines())

    response = asyncio.run(post())
    out = [json.loads(line) for line in response.text.splitlines()]
    assert response.status_code == 200 and len(out) == 2
    assert out[0] == json.loads(engine.check(accelerator()).model_dump_json())
    assert out[1]["status"] == 500 and out[1]["record"] == 2 and "RuntimeError" in out[1]["detail"]


def test_batch_is_streamed_both_ways(server):
    """The first answer arrives while the rest of the batch has not been sent."""
    host, port = server[0].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as s:
        s.sendall(b"POST /v1/check/batch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  b"Content-Type: application/x-ndjson\r\n\r\n")
        line = json.dumps(accelerator()).encode() + b"\n"
        s.sendall(b"%x\r\n%s\r\n" % (len(line), line))
        received = b""
        while b'"transaction_id"' not in received:
            chunk = s.recv(65536)
            assert chunk, "the server closed the connection"
            received += chunk
        assert received.startswith(b"HTTP/1.1 200")
        s.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(line), line))
        while not received.endswith(b"0\r\n\r\n"):
            received += s.recv(65536)
    assert received.count(b'"transaction_id"') == 2


def test_screen(client, engine):
    response = client.post("/v1/screen", json={"name": "Huawei Technologies Co., Ltd.", "country": "CN"})
    assert response.status_code == 200
    expected = engine.screen("Huawei Technologies Co., Ltd.", country="CN")
    assert response.json()["decision"] == expected.decision == "LICENSE_REQUIRED"
    assert_problem(client.post("/v1/screen", json={"name": " "}), 422)
    assert_problem(client.post("/v1/screen", json={"name": "X", "country": "ZZ"}), 422)
    assert_problem(client.post("/v1/screen", json={"nmae": "Huawei"}), 422, "/nmae", "/name")
    # as long as a party's name or address may be, no longer: screening time grows with the text
    assert_problem(client.post("/v1/screen", json={"name": "N" * 10_001}), 422, "/name")
    assert_problem(client.post("/v1/screen", json={"name": "Acme", "address": "A" * 10_001}), 422, "/address")


def test_rules_names_the_bundle(client, engine):
    answer = client.get("/v1/rules").json()
    assert answer["version"] == engine.ruleset.version and answer["digest"] == engine.ruleset.digest
    assert answer["rules"] == len(engine.rules)
    assert answer["effective"]["earliest"] <= answer["effective"]["latest_change"]
    assert answer["lists"] == [s.model_dump(mode="json") for s in engine.lists] and answer["lists"]


def test_health_and_readiness(client, engine):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["digest"] == engine.ruleset.digest


def test_not_ready_when_the_bundle_fails_to_load(tmp_path):
    (tmp_path / "bundle.yaml").write_text("name: broken\nversion: '1'\n")
    (tmp_path / "bad.yaml").write_text("rules:\n  - id: Not An Id\n")
    with served("--rules", str(tmp_path), "--no-audit", ready=False) as (url, _):
        problem = assert_problem(httpx.get(f"{url}/readyz", timeout=30), 503)
        while "loading" in problem["detail"]:
            time.sleep(0.2)
            problem = assert_problem(httpx.get(f"{url}/readyz", timeout=30), 503)
        assert "bad.yaml" in problem["detail"]
        assert_problem(httpx.post(f"{url}/v1/check", json=accelerator(), timeout=30), 503)


def test_admin_needs_the_token(client):
    assert_problem(client.post("/v1/admin/reload"), 401)
    assert_problem(client.post("/v1/admin/reload", headers={"Authorization": "Bearer wrong"}), 401)
    assert_problem(client.post("/v1/admin/reload", headers={"Authorization": f"Basic {TOKEN}"}), 401)


@pytest.mark.parametrize("header, allowed", [
    (f"Bearer {TOKEN}", True), (f"bearer {TOKEN}", True), (f"BEARER {TOKEN}", True), (f"Bearer  {TOKEN} ", True),
    (f"Bearer {TOKEN.upper()}", False), (f"Basic {TOKEN}", False), (TOKEN, False), ("Bearer", False), ("", False),
    (f"Bearer {TOKEN}x", False)])
def test_the_admin_tokens_scheme_is_case_insensitive_and_the_token_is_not(header, allowed):
    from starlette.requests import Request

    from controls.service.app import ProblemError, _authorise
    request = Request({"type": "http", "headers": [(b"authorization", header.encode())] if header else []})
    if allowed:
        _authorise(request, TOKEN)
    else:
        with pytest.raises(ProblemError, match="send Authorization: Bearer"):
            _authorise(request, TOKEN)


def test_openapi_is_generated_from_the_models(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"Transaction", "Determination", "ScreeningResult", "Problem"} <= schemas.keys()
    assert schemas["Transaction"]["required"] == ["id", "destination", "items"]
    body = spec["paths"]["/v1/check"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Transaction"}


def test_unknown_path_is_a_problem(client):
    assert_problem(client.get("/v2/nothing"), 404)


def test_every_determination_is_recorded(client, server):
    client.post("/v1/check", json={**accelerator(), "id": "AUDITED-1"}, headers={"X-Chipgate-Caller": "erp-eu"})
    # a caller's name in UTF-8 is read as UTF-8 (HTTP hands header bytes over as Latin-1); Latin-1 stays Latin-1
    for caller in ("Zürich-ERP".encode(), "Zürich-ERP".encode("latin-1")):
        client.post("/v1/check", json={**accelerator(), "id": "AUDITED-1"}, headers={"X-Chipgate-Caller": caller})
    records = [r for r in AuditLog(server[1]).records() if r["transaction_id"] == "AUDITED-1"]
    assert [r["caller"] for r in records] == ["erp-eu", "Zürich-ERP", "Zürich-ERP"]
    assert records[0]["decision"] == "LICENSE_REQUIRED" and records[0]["input_digest"].startswith("sha256:")
    verify = subprocess.run([sys.executable, "cli.py", "audit", "verify", "--db", str(server[1])], cwd=REPO,
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr



def test_no_answered_determination_is_missing_after_a_clean_shutdown(list_store, tmp_path):
    """Checks answered while the service is asked to stop (SIGTERM) are all in the trail, which verifies."""
    from concurrent.futures import ThreadPoolExecutor

    audit = tmp_path / "audit.sqlite"

    def send(url, n):
        try:
            response = httpx.post(f"{url}/v1/check", json={**accelerator(), "id": f"STOP-{n}"}, timeout=60)
        except httpx.TransportError:
            return None  # refused or cut once the server stopped: not answered
        return f"STOP-{n}" if response.status_code == 200 else None

    with served("--lists", str(list_store), "--audit", str(audit)) as (url, process):
        with ThreadPoolExecutor(16) as pool:
            sent = [pool.submit(send, url, n) for n in range(200)]
            while sum(f.done() for f in sent) < 20:
                time.sleep(0.01)
            process.terminate()
            answered = {f.result() for f in sent} - {None}
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once stopped
    recorded = [r["transaction_id"] for r in AuditLog(audit).records()]
    assert len(answered) >= 20 and answered <= set(recorded)
    assert AuditLog(audit).verify() is None


def test_several_processes_answer_as_promptly_as_one(list_store):
    """With --workers the processes listen on sockets of their own; an answer must not wait for the
    client's delayed acknowledgement (some 40 ms each) as it would without TCP_NODELAY."""
    import http.client

    with served("--lists", str(list_store), "--workers", "2", "--no-audit", ready=False) as (url, _):
        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        times = []
        for _ in range(21):
            started = time.perf_counter()
            connection.request("GET", "/healthz")
            assert connection.getresponse().read() == b'{"status":"ok"}'
            times.append(time.perf_counter() - started)
        connection.close()
    assert sorted(times)[10] < 0.030, times


def _listening_sockets(process, port: int) -> dict[int, str]:
    """The worker processes of ``chipgate serve`` listening on ``port``: pid -> the listening socket's identity."""
    import os

    import psutil

    held = {}
    for child in psutil.Process(process.pid).children(recursive=True):
        try:
            for c in child.net_connections("tcp"):
                if c.status == psutil.CONN_LISTEN and c.laddr.port == port:
                    held[child.pid] = os.readlink(f"/proc/{child.pid}/fd/{c.fd}")  # socket:[inode]
        except psutil.NoSuchProcess:
            pass
    return held


def _answered_on_new_connections(host: str, port: int, count: int) -> tuple[int, list]:
    """Open ``count`` keep-alive connections at once, then ask /healthz on each: how many were answered, and
    the connections (open, for the caller to count where they landed and close)."""
    import http.client

    connections = [http.client.HTTPConnection(host, port, timeout=60) for _ in range(count)]
    for connection in connections:
        connection.connect()
    answered = 0
    for connection in connections:
        connection.request("GET", "/healthz")
        answered += connection.getresponse().read() == b'{"status":"ok"}'
    return answered, connections


@pytest.mark.skipif(sys.platform != "linux", reason="reads sockets' identities from /proc")
def test_each_worker_listens_on_a_socket_of_its_own_and_a_replacement_takes_it_over(list_store):
    """With --workers, one listening socket each (SO_REUSEPORT): the kernel deals new connections
    between the processes, where on one shared socket the first to wake took every waiting one.  A
    worker that dies is replaced on its socket, and the service answers on every new connection."""
    import os

    import psutil

    with served("--lists", str(list_store), "--workers", "2", "--no-audit") as (url, process):
        host, port = url.removeprefix("http://").split(":")
        port = int(port)
        deadline = time.monotonic() + 120
        while len(sockets := _listening_sockets(process, port)) < 2:
            assert time.monotonic() < deadline, sockets
            time.sleep(0.2)
        assert len(set(sockets.values())) == 2, sockets  # two sockets, not one shared

        answered, connections = _answered_on_new_connections(host, port, 60)
        assert answered == 60
        held = {pid: sum(1 for c in psutil.Process(pid).net_connections("tcp")
                         if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port) for pid in sockets}
        for connection in connections:
            connection.close()
        assert min(held.values()) >= 12, held  # by hash: 30 each on average; below 12 one time in a million

        killed, its_socket = next(iter(sockets.items()))
        os.kill(killed, signal.SIGKILL)
        while (now := _listening_sockets(process, port)).get(killed) or len(now) < 2:
            assert time.monotonic() < deadline, now
            time.sleep(0.2)
        assert its_socket in now.values() and set(now.values()) == set(sockets.values()), (sockets, now)
        assert _answered_on_new_connections(host, port, 40)[0] == 40  # none left in a socket nobody accepts


def test_several_processes_refuse_a_port_another_program_listens_on():
    """Sockets with SO_REUSEPORT would join another listener of this user on the port, and share its
    connections: ``serve --workers`` refuses the port instead (exit 2, naming it)."""
    with socket.create_server(("127.0.0.1", 0), reuse_port=True) as other:
        port = other.getsockname()[1]
        done = subprocess.run([sys.executable, str(REPO / "cli.py"), "serve", "--workers", "2", "--port", str(port),
                               "--no-audit"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"--port {port}" in done.stderr and "in use" in done.stderr, done.stderr


def test_the_served_check_answers_as_its_fastapi_route(engine, tmp_path):
    """``POST /v1/check`` is served by ``CheckFirst`` beside FastAPI's routing: both paths give the same
    status, headers and bytes, and record the same audit entries, for valid and invalid requests."""
    import asyncio

    from controls.service.app import CheckFirst, Settings, create_app

    app = create_app(Settings(audit=tmp_path / "audit.sqlite", max_body=MAX_BODY))
    served_app = CheckFirst(app)
    data = accelerator()
    big = json.dumps({**data, "description": "x" * MAX_BODY}).encode()

    async def chunks():
        yield big[:40000]
        yield big[40000:]

    requests = [
        dict(json=data), dict(json=data, params={"as_of": "2023-01-01"}),
        dict(json=data, params=[("as_of", "2023-01-01"), ("as_of", "2024-02-29")]),
        dict(json=data, headers={"X-Chipgate-Caller": "erp-eu"}),
        dict(json=data, headers=[("X-Chipgate-Caller", "first"), ("x-chipgate-caller", "second")]),
        dict(json=data, params={"as_ofx": "yesterday", "other": "1"}),
        dict(json=data, params={"as_of": "yesterday"}), dict(json=data, params={"as_of": ""}),
        dict(json=data, params={"as_of": "0"}), dict(json=data, params={"as_of": "2026-11-28T00:00:00"}),
        dict(json={**data, "destination": "ZZ"}), dict(json={**data, "items": [{"sku": "X", "quantity": "8"}]}),
        dict(json={**data, "surprise": 1}), dict(content=b"{bad"), dict(content=b""),
        dict(content=b'{"id": "a", "id": "b"}'), dict(content=big), dict(content=chunks),
    ]

    async def answers(asgi) -> list:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(asgi), base_url="http://test") as client:
            out = []
            app.state.service.engine = None  # not ready yet: 503
            response = await client.post("/v1/check", json=data)
            out.append((response.status_code, response.headers.multi_items(), response.content))
            app.state.service.engine = engine
            for request in requests:
                request = {**request, "content": request["content"]()} if callable(request.get("content")) else request
                response = await client.post("/v1/check", **request)
                out.append((response.status_code, response.headers.multi_items(), response.content))
            return out

    through_fastapi = asyncio.run(answers(app))
    served = asyncio.run(answers(served_app))
    assert served == through_fastapi
    assert [status for status, _, _ in served] == [503, 200, 200, 200, 200, 200, 200, 422, 422, 422, 422, 422, 422,
                                                   422, 400, 400, 400, 413, 413]
    by_path = [r for r in AuditLog(tmp_path / "audit.sqlite").records()]
    assert len(by_path) == 12
    differ = {"seq", "time", "prev_hash", "hash"}
    assert [{k: v for k, v in r.items() if k not in differ} for r in by_path[:6]] == \
           [{k: v for k, v in r.items() if k not in differ} for r in by_path[6:]]
    assert [r["caller"] for r in by_path[:6]] == ["127.0.0.1"] * 3 + ["erp-eu", "first", "127.0.0.1"]


@pytest.mark.parametrize("path", ["/v1/check", "/v1/screen"])
def test_a_client_that_leaves_mid_body_is_no_internal_error(engine, caplog, path):
    """It was logged as an error with a traceback ("Exception in ASGI application")."""
    import asyncio
    import logging

    from controls.service.app import CheckFirst, Settings, create_app

    app = create_app(Settings())
    app.state.service.engine = engine
    messages = [{"type": "http.request", "body": b'{"name": "Acme', "more_body": True}, {"type": "http.disconnect"}]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "http_version": "1.1", "method": "POST", "path": path, "raw_path": path.encode(),
             "root_path": "", "scheme": "http", "query_string": b"", "headers": [(b"content-length", b"1000")],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    with caplog.at_level(logging.INFO):
        asyncio.run(CheckFirst(app)(scope, receive, send))
    assert sent[0]["status"] == 400 and not messages
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert "127.0.0.1 left before sending its whole request" in caplog.text


def test_a_serving_process_collects_garbage_less_often_than_python_by_default(monkeypatch):
    import gc

    from controls.service.app import SERVING_GC_THRESHOLD, Settings, app_from_env
    before = gc.get_threshold()
    monkeypatch.setenv("CHIPGATE_SERVE", Settings().to_env())
    try:
        app_from_env()
        assert gc.get_threshold() == (SERVING_GC_THRESHOLD, *before[1:]) and SERVING_GC_THRESHOLD > before[0]
    finally:
        gc.set_threshold(*before)
