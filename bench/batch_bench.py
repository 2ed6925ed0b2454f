"""Throughput and peak memory of ``chipgate check --batch`` on the full bundled rules and lists.

    python bench/batch_bench.py [N ...] [--workers 1,2]

For each N (default 100,000) writes N orders of the benchmark corpus to a temporary ``.jsonl`` (the
10,000 orders of ``corpus.py`` repeated, each copy with its own ids), runs the command line once per
worker count, and prints the time, orders per second once started (the start-up, measured on an empty
batch, is subtracted) and the memory high-water mark of the process tree:
the largest sum of resident memory (RSS) of the command and its workers, sampled every 0.2 s, and the
same for their proportional share (PSS: forked workers share the engine's pages, which RSS counts once per
process), plus the largest single process (``getrusage``).  Memory that does not grow with N is what
"constant memory" means.  Uses the list store the command finds by default ($CHIPGATE_LISTS).  Each run
records its determinations in a scratch audit database (the command's default is to record them; some
5 KB an order, deleted after the run).
Needs psutil (installed with the ``dask`` and ``test`` extras).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import corpus  # noqa: E402

CLI = Path(__file__).resolve().parent.parent / "cli.py"
BLOCK = 10_000


def write_orders(path: Path, n: int) -> None:
    block = corpus(min(n, BLOCK))
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            order = block[i % len(block)]
            copy = i // len(block)
            f.write(json.dumps(order | {"id": f"{order['id']}-{copy}"} if copy else order) + "\n")


def tree_memory(process: psutil.Process) -> tuple[int, int]:
    """(RSS, PSS) summed over ``process`` and its descendants, in bytes."""
    rss = pss = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            info = p.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss, pss = rss + info.rss, pss + getattr(info, "pss", info.rss)
    return rss, pss


def run(source: Path, workers: int) -> dict:
    out = source.with_suffix(f".w{workers}.out.jsonl")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    audit = source.with_suffix(f".w{workers}.audit.sqlite")  # recorded, as by default, but not in the user's trail
    command = subprocess.Popen([sys.executable, str(CLI), "check", "--batch", str(source), "--out", str(out),
                                "--workers", str(workers), "--audit", str(audit)], stderr=subprocess.PIPE, text=True)
    process, peak_rss, peak_pss = psutil.Process(command.pid), 0, 0
    while command.poll() is None:
        try:
            rss, pss = tree_memory(process)
        except psutil.NoSuchProcess:
            break
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command's, and its workers' (it waits for them)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    summary = command.stderr.read().strip().splitlines()[-1]
    out.unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{audit}{suffix}").unlink(missing_ok=True)
    return {"workers": workers, "seconds": elapsed, "cpu": cpu, "exit": command.returncode, "peak_rss": peak_rss,
            "peak_pss": peak_pss, "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000])
    parser.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.jsonl"
        empty.write_text("")
        startup = {workers: run(empty, workers)["seconds"] for workers in counts}
        print("start-up (an empty batch: load the rules and lists, fork the workers): "
              + ", ".join(f"{s:.1f} s with {w} worker{'s' * (w > 1)}" for w, s in startup.items()), flush=True)
        for n in args.sizes:
            source = Path(tmp) / f"orders-{n}.jsonl"
            write_orders(source, n)
            print(f"{n:,} orders ({source.stat().st_size / 2**20:,.0f} MiB of JSON lines)", flush=True)
            for workers in counts:
                r = run(source, workers)
                largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                rate = n / max(r["seconds"] - startup[workers], 1e-9)
                print(f"  workers {workers}: {r['seconds']:,.1f} s in all, {rate:,.0f} orders/s after start-up, "
                      f"CPU {r['cpu']:,.1f} s, exit {r['exit']}; load average {os.getloadavg()[0]:.1f}; "
                      f"peak memory of the process tree: RSS {r['peak_rss'] / 2**20:,.0f} MiB, "
                      f"PSS {r['peak_pss'] / 2**20:,.0f} MiB; largest single process so far {largest:,.0f} MiB", flush=True)
                print(f"    {r['summary']}", flush=True)
            source.unlink()


if __name__ == "__main__":
    main()
