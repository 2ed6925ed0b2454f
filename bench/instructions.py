"""Instructions a check executes, this checkout against another, counted by valgrind's callgrind.

    python bench/instructions.py --compare REF [--lines 1,10] [--orders 100] [--no-memory]

Wall-clock figures on a shared machine drift by more than the differences they are meant to show (two cores,
other work on them).  The number of instructions a check executes does not: the same interpreter on the same
orders executes the same instructions whatever else the machine runs, so this is the figure to compare when the
machine is busy.  It does not see memory stalls (a larger working set that misses the caches more costs time
but no instructions): confirm a result with ``check_bench.py --compare`` on an idle machine.  Nor does it
weigh string instructions right: valgrind counts ``rep stos``/``rep movs`` (glibc's memset and memcpy of more
than a few KB) once per byte, where the processor moves 32 bytes or more a cycle, so a checkout that clears
large buffers looks far costlier than it runs (76215cd created an engine session per check and cleared about
0.6 MB with it: some 590,000 of its counted instructions a check, a few microseconds of real time).  Each
figure is therefore also given without memset, memcpy and memmove.

For each checkout (this one, and REF checked out into a temporary worktree) and each order size, a worker runs
under ``valgrind --tool=callgrind`` with counting off: it loads the engine, checks the orders once (every cache
warm, as in a long-running process), turns counting on with ``callgrind_control``, checks the same orders again
and turns counting off.  The figure is instructions per check, and per line.  Needs valgrind (Debian's package).

--no-memory switches the engine's memory of lines off in both checkouts (as check_worker.py's ``unremembered``
does), so that every line goes through the rules: the cost of a line the engine has not seen before, which a
service whose lines vary (prices, U.S. content, parameters) pays on nearly every check.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from check_bench import _describe, _scratch, _worktree  # noqa: E402
from corpus import corpus  # noqa: E402

COLLECTED = re.compile(r"Collected : (\d+)")


def worker(root: Path, lists: Path, orders_file: Path, memory: bool = True) -> None:
    """Inside valgrind: load ``root``'s engine, check the orders once uncounted and once counted; without
    ``memory``, every line is sent to the rules (a checkout whose engine has no memory of lines always does)."""
    sys.path.insert(0, str(root))
    import controls
    from controls import Engine, Transaction

    if not Path(controls.__file__).resolve().is_relative_to(root.resolve()):
        raise RuntimeError(f"controls resolved to {controls.__file__}, not under {root}")
    engine = Engine.load(lists=lists)
    memo = getattr(engine, "_memo", None)
    if not memory and memo is not None:
        engine._memo = type(memo)(engine._compiled.network, size=0)
    orders = [Transaction.model_validate(o) for o in json.loads(orders_file.read_text())]
    for order in orders:
        engine.check(order)
    counting = ["callgrind_control", "--instr=on", str(os.getpid())]
    subprocess.run(counting, check=True, capture_output=True)
    for order in orders:
        engine.check(order)
    subprocess.run([*counting[:1], "--instr=off", *counting[2:]], check=True, capture_output=True)


STRING_OPS = re.compile(r"^\s*([\d,]+)\s.*:__?(?:memset|memcpy|memmove)\w*", re.M)


def count(root: Path, lists: Path, orders_file: Path, scratch: Path, memory: bool = True) -> tuple[int, int]:
    """Instructions counted while ``root`` checked the orders of ``orders_file`` (warm, with or without the
    engine's memory of lines): in all, and without those of memset, memcpy and memmove."""
    out = scratch / "callgrind.out"
    run = subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                          sys.executable, __file__, "--worker", str(root), str(lists), str(orders_file),
                          *([] if memory else ["--no-memory"])],
                         cwd=root, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    found = COLLECTED.search(run.stderr)
    if run.returncode or not found:
        raise SystemExit(f"{root}: the counted run failed:\n{run.stderr[-2000:]}")
    listing = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", str(out)],
                             capture_output=True, text=True).stdout
    string_ops = sum(int(n.replace(",", "")) for n in STRING_OPS.findall(listing))
    return int(found.group(1)), int(found.group(1)) - string_ops


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--compare", metavar="REF", help="the commit, branch or tag to compare with")
    ap.add_argument("--lines", default="1,10", help="order sizes, in lines, or 'mixed' for the mixed corpus "
                                                    "of check_bench (1-3 lines; default 1,10)")
    ap.add_argument("--orders", type=int, default=100, help="orders of each size (default 100)")
    ap.add_argument("--no-memory", action="store_true", help="the engine's memory of lines switched off: "
                                                             "every line goes through the rules")
    ap.add_argument("--worker", nargs=3, metavar=("ROOT", "LISTS", "ORDERS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(*map(Path, args.worker), memory=not args.no_memory)
        return 0
    if not args.compare:
        ap.error("--compare REF is required")
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    lists = Path(os.environ.get("CHIPGATE_LISTS") or ROOT / "rules" / "lists")
    sizes = [None if n == "mixed" else int(n) for n in args.lines.split(",")]
    print(f"this = {ROOT} at {_describe()}; REF = {args.compare} at {_describe(args.compare)}")
    memory = "the engine's memory of lines off" if args.no_memory else "the engine's memory of lines on"
    print(f"list store: {lists}; {args.orders} orders of each size, checked once to warm, then counted; {memory}")
    print(f"{'':>28}{'this':>16}{'REF':>16}{'this/REF':>10}   instructions per check (per line)", flush=True)
    with _scratch() as scratch, _worktree(args.compare, scratch / "ref") as ref:
        for size in sizes:
            orders_file = scratch / f"orders-{size}.json"
            orders = corpus(args.orders, lines=size)
            orders_file.write_text(json.dumps(orders))
            (this, this_bare), (other, other_bare) = (count(root, lists, orders_file, scratch, not args.no_memory)
                                                    for root in (ROOT, ref))
            lines = sum(len(o["items"]) for o in orders) / len(orders) * args.orders
            label = f"{size:>3}-line orders" if size else " mixed orders"
            for what, mine, theirs in (("", this, other), ("  without mem*", this_bare, other_bare)):
                print(f"{label + what:>28}{mine / args.orders:>16,.0f}{theirs / args.orders:>16,.0f}"
                      f"{mine / theirs:>10.2f}   ({mine / lines:,.0f} / {theirs / lines:,.0f})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
