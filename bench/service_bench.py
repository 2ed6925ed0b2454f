"""Latency of checks in process and over HTTP, at 1 and at 50 concurrent clients.

    python bench/service_bench.py [N] [--lists STORE] [--no-audit]

Starts ``chipgate serve`` (one worker, the audit trail on, as by default) on a free loopback port,
then sends the deterministic mixed corpus of ``bench/corpus.py``: one client in turn, then 50
clients at once (asyncio and httpx in this process, one connection each).  The same orders are
checked in process (one thread, then 50 threads sharing the engine) for comparison.  Prints p50,
p99 and max latency per request, and checks per second.  Lists: ``--lists``, else the store the
engine finds by default, else the published lists of ``shared/data`` imported into a scratch store.
Client and server share this machine's cores, so the HTTP figures include the client's own work.
Each client sends its next order as soon as it has an answer (a closed loop), so at 50 clients a
request waits, on average, for 50 / throughput seconds (Little's law): latency at 50 clients says
more about checks per second than about the time of one check.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import corpus  # noqa: E402

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


async def over_http(url: str, bodies: list[bytes], clients: int) -> None:
    latencies: list[float] = []
    shares = [bodies[i::clients] for i in range(clients)]

    async def run(share):
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            for body in share:
                t0 = time.perf_counter()
                response = await client.post("/v1/check", content=body, headers={"content-type": "application/json"})
                latencies.append(time.perf_counter() - t0)
                assert response.status_code == 200, response.text

    started = time.perf_counter()
    await asyncio.gather(*(run(share) for share in shares))
    report(f"HTTP, {clients} client{'s' * (clients > 1)}", latencies, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=5_000)
    parser.add_argument("--lists", type=Path, default=None)
    parser.add_argument("--no-audit", action="store_true")
    options = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="chipgate-service-bench-"))
    lists = options.lists or default_list_store()
    if not ListStore(lists).manifest().lists:
        lists = scratch / "lists"
        for path in (ECFR_FILE, CSL_FILE):
            ListStore(lists).import_file(path)
    raw = corpus(options.n)
    orders = [Transaction.model_validate(o) for o in raw]
    bodies = [json.dumps(o, default=str).encode() for o in raw]
    engine = Engine.load(lists=lists)
    print(f"{options.n:,} orders; {len(engine.rules)} rules; {sum(s.entries or 0 for s in engine.lists):,} list "
          f"entries; audit {'off' if options.no_audit else 'on'}")
    for order in orders[:300]:  # warm-up: caches as a running service has them
        engine.check(order)
    in_process(engine, orders, 1)
    in_process(engine, orders, CONCURRENT)
    audit = ["--no-audit"] if options.no_audit else ["--audit", str(scratch / "audit.sqlite")]
    with served("--lists", str(lists), *audit) as (url, _):
        asyncio.run(over_http(url, bodies[:300], 1))  # warm-up
        asyncio.run(over_http(url, bodies, 1))
        asyncio.run(over_http(url, bodies, CONCURRENT))


if __name__ == "__main__":
    main()
