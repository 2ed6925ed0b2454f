"""Throughput and latency of single checks on the full bundled rules.

    python bench/check_bench.py [N]

Prints load time, checks per second and p50/p99/max latency over a deterministic mixed corpus
(1-3 lines an order from a customer master of 800 end users, each screened), median of three rounds: this machine's
timings vary by 10-15 % from run to run.  Uses the list store the engine finds by default.
"""
from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import corpus  # noqa: E402

from controls import Engine, Transaction  # noqa: E402


def main(n: int, rounds: int = 3) -> None:
    started = time.perf_counter()
    engine = Engine.load()
    load_s = time.perf_counter() - started
    orders = [Transaction.model_validate(o) for o in corpus(n)]
    lines = sum(len(o.items) for o in orders)
    print(f"bundle load+compile: {load_s * 1000:.0f} ms ({len(engine.rules)} rules, "
          f"{sum(s.entries or 0 for s in engine.lists):,} list entries)")
    for order in orders[:200]:  # warm-up
        engine.check(order)
    results = []
    for _ in range(rounds):
        latencies = []
        decisions: Counter = Counter()
        started = time.perf_counter()
        for order in orders:
            t0 = time.perf_counter()
            decisions[engine.check(order).decision.value] += 1
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        latencies.sort()
        results.append((n / elapsed, statistics.median(latencies), latencies[int(0.99 * n) - 1], latencies[-1]))
        print(f"  round: {n / elapsed:,.0f} checks/s")
    rate, p50, p99, worst = sorted(results)[len(results) // 2]
    print(f"checks: {n} orders, {lines} lines; median of {rounds} rounds -> {rate:,.0f} checks/s")
    print(f"latency: p50 {p50 * 1e6:.0f} us, p99 {p99 * 1e6:.0f} us, max {worst * 1e6:.0f} us")
    print("decisions:", dict(sorted(decisions.items())))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
