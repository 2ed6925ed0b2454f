"""Latency of checks in process and over HTTP, at 1, 10 and 50 concurrent clients.

    python bench/service_bench.py [N] [--warm W] [--lists STORE] [--no-audit] [--workers P]
                                  [--clients 1,10,50] [--rates 500,1000] [--days D]

Starts ``chipgate serve`` (``--workers`` processes, by default one per CPU; the audit trail on, as by
default) on a free loopback port and sends it orders of the deterministic mixed corpus of
``bench/corpus.py`` (asyncio in this process, one keep-alive connection per client, speaking HTTP/1.1
directly: an HTTP library would spend more CPU per request than the check, on the cores the server
needs; the CPU the client used per check is printed too).  First a warm-up: the corpus's first W
orders (default 10,000) at 50 clients, reported apart, as a service just started meets them (its
memories empty).  Then each measurement sends N orders (default 10,000) of its own, new to the
service, from the same customer master, as an ERP's next orders are: the figures of a service that
has run a while.  The same orders are checked in process (one thread, then 50 threads sharing the
engine, warmed up alike) for comparison.  Prints p50, p99 and max latency per request, checks per
second, and the CPU the server used per check; at the end, the audit trail's size per record.
Lists: ``--lists``, else the store the engine finds by default, else the published lists of
``shared/data`` imported into a scratch store.

Each client sends its next order as soon as it has an answer (a closed loop), so at 50 clients a
request waits, on average, for 50 / throughput seconds (Little's law): latency at 50 clients says
more about checks per second than about the time of one check.  With several server processes, a
process holding more of the connections than its share answers its clients more slowly, which the
aggregate p99 hides (each process keeps its core busy either way): the connections each process holds
are printed too, and the p50 of the fastest and of the slowest client.

``--days D``: the orders dated within D days (``corpus.released_within``), as an ERP releasing a week's
orders sends them, instead of over the corpus's four and a half years: more of their lines were answered
before (a line's remembered outcome serves every day between the same rule windows).

``--rates``: then, in an open loop, orders sent at each rate (Poisson arrivals) over 50 connections, as
many independent users send them: below the server's capacity, latency there is the time of one
request (its check, its audit commit, the requests it found ahead of it), which the closed loop hides
behind its queue.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import corpus, released_within  # noqa: E402

from controls import Engine, Transaction  # noqa: E402
from controls.engine.engine import default_list_store  # noqa: E402
from controls.lists.store import ListStore  # noqa: E402
from tests.conftest import CSL_FILE, ECFR_FILE  # noqa: E402
from tests.service_server import served  # noqa: E402

CONCURRENT = 50


def report(label: str, latencies: list[float], elapsed: float) -> None:
    latencies = sorted(latencies)
    n = len(latencies)
    print(f"{label:<28} p50 {statistics.median(latencies) * 1e3:6.2f} ms   p99 {latencies[int(0.99 * n) - 1] * 1e3:6.2f} ms"
          f"   max {latencies[-1] * 1e3:7.2f} ms   {n / elapsed:7,.0f} checks/s")


def in_process(engine: Engine, orders: list[Transaction], clients: int) -> None:
    latencies: list[float] = []
    shares = [orders[i::clients] for i in range(clients)]

    def run(share):
        for order in share:
            t0 = time.perf_counter()
            engine.check(order)
            latencies.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=run, args=(share,)) for share in shares]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report(f"in process, {clients} client{'s' * (clients > 1)}", latencies, time.perf_counter() - started)


async def _client(host: str, port: int, bodies: list[bytes], latencies: list[float]) -> None:
    """One keep-alive connection posting ``bodies`` in turn to /v1/check; every answer must be 200."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for body in bodies:
            t0 = time.perf_counter()
            await _post(reader, writer, body)
            latencies.append(time.perf_counter() - t0)
    finally:
        writer.close()


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes) -> None:
    writer.write(b"POST /v1/check HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    answer = await reader.readexactly(length)
    assert head.startswith(b"HTTP/1.1 200"), head + answer


def at_rate(url: str, bodies: list[bytes], rate: float, server: psutil.Process) -> None:
    """Open loop: orders sent at ``rate`` a second (Poisson arrivals, as independent ERP users send them),
    each on an idle one of CONCURRENT keep-alive connections; a request's latency runs from the moment it
    was due, so time spent waiting for a free connection counts (no coordinated omission)."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    due: asyncio.Queue = asyncio.Queue()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while (job := await due.get()) is not None:
                scheduled, body = job
                await _post(reader, writer, body)
                latencies.append(time.perf_counter() - scheduled)
        finally:
            writer.close()

    async def run() -> None:
        connections = [asyncio.create_task(connection()) for _ in range(CONCURRENT)]
        arrivals, at = random.Random(len(bodies)), time.perf_counter() + 0.2
        for body in bodies:
            at += arrivals.expovariate(rate)
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            due.put_nowait((at, body))
        for _ in connections:
            due.put_nowait(None)
        await asyncio.gather(*connections)

    processes = _tree(server)
    cpu = [p.cpu_times() for p in processes]
    started = time.perf_counter()
    _run(run())
    elapsed = time.perf_counter() - started
    used = sum(_cpu_since(processes, cpu))
    report(f"HTTP, {rate:,.0f} a second", latencies, elapsed)
    print(f"{'':28} server CPU {used / len(latencies) * 1e3:.2f} ms a check, {used / elapsed:.2f} CPUs busy")


def _run(main) -> None:
    """``asyncio.run``, on uvloop where it is installed (as the server runs): the load generator shares the
    server's cores, and uvloop's loop spends less of them per request."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _tree(server: psutil.Process) -> list[psutil.Process]:
    """The server's processes: the supervisor and its workers."""
    return [server, *server.children(recursive=True)]


def _cpu_since(processes: list[psutil.Process], before: list) -> tuple[float, float]:
    """The user and system seconds ``processes`` used since their ``cpu_times()`` were ``before``."""
    after = [p.cpu_times() for p in processes]
    return tuple(sum(getattr(b, f) - getattr(a, f) for a, b in zip(before, after)) for f in ("user", "system"))


def _connections(processes: list[psutil.Process], port: int) -> list[int]:
    """Open client connections each server process holds, most first (each process listens on a socket of
    its own, and the kernel deals new connections between them by a hash of the client's port)."""
    held = [sum(1 for c in p.net_connections("tcp") if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port)
            for p in processes]
    return sorted((n for n in held if n), reverse=True)


def over_http(url: str, bodies: list[bytes], clients: int, server: psutil.Process | None = None,
              label: str = "") -> None:
    host, port = url.removeprefix("http://").split(":")
    each: list[list[float]] = [[] for _ in range(clients)]  # per client
    split: list[int] = []

    async def run() -> None:
        if server is not None:  # once every client is connected and sending
            asyncio.get_running_loop().call_later(0.5, lambda: split.extend(_connections(processes, int(port))))
        await asyncio.gather(*(_client(host, int(port), bodies[i::clients], each[i]) for i in range(clients)))

    processes = _tree(server) if server else []
    cpu, client = [p.cpu_times() for p in processes], psutil.Process().cpu_times()
    started = time.perf_counter()
    _run(run())
    elapsed = time.perf_counter() - started
    latencies = [t for client in each for t in client]
    if server is None:
        return
    user, system = (seconds / len(latencies) * 1e3 for seconds in _cpu_since(processes, cpu))
    client = sum(b - a for a, b in zip(client[:2], psutil.Process().cpu_times()[:2])) / len(latencies) * 1e3
    report(label or f"HTTP, {clients} client{'s' * (clients > 1)}", latencies, elapsed)
    print(f"{'':28} server CPU {user + system:.2f} ms a check ({user:.2f} user, {system:.2f} system), the "
          f"client's {client:.2f} ms; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
          + (f"; connections per server process {', '.join(map(str, split))}" if len(split) > 1 else ""))
    if clients > 1:  # a client served by a busier process waits longer than the others
        medians = sorted(statistics.median(client) * 1e3 for client in each)
        print(f"{'':28} p50 of each client: fastest {medians[0]:.2f} ms, slowest {medians[-1]:.2f} ms")


def every_process_ready(url: str, tries: int = 40, timeout: float = 300) -> None:
    """Wait until ``tries`` new connections in a row find the bundle loaded: with several processes,
    /readyz on one connection says only that the process which took it is ready."""
    deadline, ready = time.monotonic() + timeout, 0
    while ready < tries:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=10):
                ready += 1
        except urllib.error.HTTPError:
            ready = 0
            if time.monotonic() > deadline:
                raise RuntimeError("the server's processes did not all become ready") from None
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=10_000, help="orders each measurement sends")
    parser.add_argument("--warm", type=int, default=10_000,
                        help="orders sent first, at 50 clients, measured apart: the service as it has run a while")
    parser.add_argument("--lists", type=Path, default=None)
    parser.add_argument("--no-audit", action="store_true")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server processes")
    parser.add_argument("--clients", default=f"1,10,{CONCURRENT}", help="concurrent clients to measure, e.g. 1,10,50")
    parser.add_argument("--rates", default="", help="then orders a second to send in an open loop, e.g. 500,1000")
    parser.add_argument("--days", type=int, default=0, help="date the orders within this many days (0: as the corpus)")
    options = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="chipgate-service-bench-"))
    lists = options.lists or default_list_store()
    if not ListStore(lists).manifest().lists:
        lists = scratch / "lists"
        for path in (ECFR_FILE, CSL_FILE):
            ListStore(lists).import_file(path)
    levels = list(map(int, filter(None, options.clients.split(","))))
    rates = list(map(float, filter(None, options.rates.split(","))))
    # the warm-up's orders, then each measurement's own: orders new to the service, from the same customers
    raw = corpus(options.warm + options.n * max(1, len(levels) + len(rates)))
    if options.days:
        raw = released_within(raw, options.days)
    bodies = [json.dumps(o, default=str).encode() for o in raw]
    warm, measured = bodies[:options.warm], bodies[options.warm:]
    engine = Engine.load(lists=lists)
    print(f"{options.n:,} orders a measurement, after {options.warm:,} others; {len(engine.rules)} rules; "
          f"{sum(s.entries or 0 for s in engine.lists):,} list entries; audit {'off' if options.no_audit else 'on'}; "
          + (f"orders dated within {options.days} days" if options.days else "orders dated over the corpus's 4.5 years"))
    for order in raw[:options.warm]:
        engine.check(order)
    orders = [Transaction.model_validate(o) for o in raw[options.warm:options.warm + options.n]]
    in_process(engine, orders, 1)
    in_process(engine, orders, CONCURRENT)
    audit = ["--no-audit"] if options.no_audit else ["--audit", str(scratch / "audit.sqlite")]
    print(f"HTTP: {options.workers} server process{'es' * (options.workers > 1)}")
    with served("--lists", str(lists), "--workers", str(options.workers), *audit) as (url, process):
        every_process_ready(url)
        server = psutil.Process(process.pid)
        if warm:  # a service just started: its first orders meet empty memories
            over_http(url, warm, CONCURRENT, server, f"warm-up, {CONCURRENT} clients")
        slices = (measured[i * options.n:(i + 1) * options.n] for i in range(len(levels) + len(rates)))
        for clients in levels:
            over_http(url, next(slices), clients, server)
        for rate in rates:
            at_rate(url, next(slices), rate, server)
    if not options.no_audit and (scratch / "audit.sqlite").exists():
        trail = scratch / "audit.sqlite"
        wal = scratch / "audit.sqlite-wal"
        wal_size = wal.stat().st_size if wal.exists() else 0  # as the server left it
        db = sqlite3.connect(trail)
        records = db.execute("SELECT count(*) FROM records").fetchone()[0] or 1
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every record in the database file, to measure it alone
        db.close()
        print(f"audit trail: {records:,} records, {trail.stat().st_size / records:,.0f} bytes a record; the server "
              f"left a write-ahead log of {wal_size / 2**20:,.1f} MB")


if __name__ == "__main__":
    main()
