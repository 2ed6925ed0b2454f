"""Throughput and latency of single checks on the full bundled rules.

    python bench/check_bench.py [N]

Prints load time, checks per second and p50/p99/max latency over a deterministic mixed corpus.
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


def main(n: int) -> None:
    started = time.perf_counter()
    engine = Engine.load()
    load_s = time.perf_counter() - started
    orders = [Transaction.model_validate(o) for o in corpus(n)]
    for order in orders[:200]:  # warm-up
        engine.check(order)
    latencies = []
    decisions: Counter = Counter()
    started = time.perf_counter()
    for order in orders:
        t0 = time.perf_counter()
        decisions[engine.check(order).decision.value] += 1
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    latencies.sort()
    lines = sum(len(o.items) for o in orders)
    print(f"bundle load+compile: {load_s * 1000:.0f} ms ({len(engine.rules)} rules)")
    print(f"checks: {n} orders, {lines} lines, {elapsed:.2f} s -> {n / elapsed:,.0f} checks/s")
    print(f"latency: p50 {statistics.median(latencies) * 1e6:.0f} us, "
          f"p99 {latencies[int(0.99 * n) - 1] * 1e6:.0f} us, max {latencies[-1] * 1e6:.0f} us")
    print("decisions:", dict(sorted(decisions.items())))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
