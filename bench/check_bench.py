"""Throughput and latency of single checks on the full bundled rules.

    python bench/check_bench.py [N]
    python bench/check_bench.py [N] --compare REF [--rounds 3] [--assert-same] [--ref-rules]

Prints load time, checks per second and p50/p99/max latency over a deterministic mixed corpus
(1-3 lines an order from a customer master of 800 end users, each screened), median of three rounds: this machine's
timings vary by 10-15 % from run to run.  Uses the list store the engine finds by default.

--compare REF measures this checkout and REF (a commit, branch or tag, checked out into a temporary worktree that
is removed at the end) side by side in one run.  Each checkout runs in a worker process of its own
(bench/check_worker.py, with that checkout first on sys.path), on the same corpus (made here by bench/corpus.py and
passed as a JSON file, so REF needs no corpus of its own) and the same lists (``$CHIPGATE_LISTS``, else this
checkout's rules/lists; REF screens a copy of them, so that each keeps its own screening index beside its store).

Interleaving: the machine is shared and its load drifts by more than the differences measured, so the two
checkouts take turns, round by round (this, REF, this, REF, ...), and only one worker runs at a time while the
other waits for its next command.  Load that lasts longer than a round hits both sides alike; each figure is shown
as the median over rounds with [min-max], and the ratio this/REF of the medians.

A round, per checkout: checks/s and p50/p99 on the mixed corpus, and the share of that time the garbage collector
ran (the round keeps its determinations, as a program collecting results in a list does); p50/p99 of its first 500 orders with every line
sent to the rule network (the engine's memory of lines it has answered switched off: the cost of a line never seen
before); p50/p99 of orders of exactly 1, 10 and 100 lines; screening fresh vs cached (p50 of orders whose end user
the engine has never seen, then of the same orders again); process start (``python cli.py check
examples/order.yaml`` in that checkout); compile time of the rule book replicated 1x/5x/20x, and of 1,120 rules
(copies cut to size: the same count for checkouts whose books differ; each copy tests one more fact, a value of its own,
so that no two are alike).  After the rounds: one
profiled round per checkout (share of each phase function), and each order's determination (decision and the rule
ids of its findings) compared between the two.

--ref-rules: both checkouts load REF's rule directory (this checkout's engine reads older rule books), so that the
rule book is held fixed: the figures compare the engines alone, and every determination must be the same (a
difference is the engine's).  Without it each checkout checks with its own rules, as its users would.
"""
from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from check_worker import WARM_UP, quantiles, time_checks  # noqa: E402
from corpus import corpus, unseen_parties  # noqa: E402

SIZES = {1: 5, 10: 25, 100: 200}  # lines an order -> one such order for every so many mixed orders
FRESH = 20  # one order with a new end user for every so many mixed orders
SHOWN = 5  # differing orders printed


def main(n: int, rounds: int = 3) -> None:
    """This checkout alone, in this process."""
    from controls import Engine, Transaction

    started = time.perf_counter()
    engine = Engine.load()
    load_s = time.perf_counter() - started
    orders = [Transaction.model_validate(o) for o in corpus(n)]
    lines = sum(len(o.items) for o in orders)
    print(f"bundle load+compile: {load_s * 1000:.0f} ms ({len(engine.rules)} rules, "
          f"{sum(s.entries or 0 for s in engine.lists):,} list entries)")
    time_checks(engine, orders[:WARM_UP])
    results = []
    for _ in range(rounds):
        elapsed, latencies, determinations = time_checks(engine, orders)
        decisions = Counter(d.decision.value for d in determinations)
        results.append((n / elapsed, *quantiles(latencies)))
        print(f"  round: {n / elapsed:,.0f} checks/s")
    rate, p50, p99, worst = sorted(results)[len(results) // 2]
    print(f"checks: {n} orders, {lines} lines; median of {rounds} rounds -> {rate:,.0f} checks/s")
    print(f"latency: p50 {p50 * 1e6:.0f} us, p99 {p99 * 1e6:.0f} us, max {worst * 1e6:.0f} us")
    print("decisions:", dict(sorted(decisions.items())))


def compare(n: int, ref: str, rounds: int, scales: list[int], profiled: int, assert_same: bool,
            counts: list[int] = (), ref_rules: bool = False) -> int:
    """This checkout against ``ref``, interleaved round by round; 1 if ``assert_same`` and determinations differ."""
    from controls.engine.engine import default_list_store
    from controls.screening.parties import INDEX_DIR

    lists = default_list_store().resolve()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the cleanup below runs
    orders = _corpora(n, rounds)
    with _scratch() as tmp, _worktree(ref, tmp / "ref") as ref_root:
        corpus_file = tmp / "corpus.json"
        corpus_file.write_text(json.dumps(orders))
        # REF screens a copy of the lists, its screening index cached beside the copy (built in its load time):
        # two checkouts whose index formats differ, sharing one store, would each rebuild the other's index
        # at every process start
        ref_lists = tmp / "ref-lists"
        shutil.copytree(lists, ref_lists, ignore=shutil.ignore_patterns(INDEX_DIR))
        rules = ref_root / "rules" if ref_rules else None
        with _worker("this", ROOT, lists, corpus_file, rules) as this, \
                _worker(ref, ref_root, ref_lists, corpus_file, rules) as other:
            workers = [this, other]
            runs: dict[str, list[dict]] = {w.name: [] for w in workers}
            for r in range(rounds):
                for w in workers:  # one at a time: the other waits for its next command
                    runs[w.name].append(w.ask(do="round", round=r, scales=scales, counts=list(counts),
                                              determinations=r == 0))
                print(f"  round {r + 1}: " + ", ".join(f"{w.name} {runs[w.name][-1]['rate']:,.0f} checks/s"
                                                       for w in workers), flush=True)
            profiles = {w.name: w.ask(do="profile", orders=profiled) for w in workers}
            loaded = {w.name: w.loaded for w in workers}
    print(f"\nthis = {ROOT} at {_describe()}; {ref} = {_describe(ref)} (a temporary worktree)")
    entries = ", ".join(f"{name}: {load['entries']:,} entries" for name, load in loaded.items())
    print(f"list store: {lists} ({entries})")
    print(f"rules: {f'{ref} rules/ for both' if ref_rules else 'each checkout its own'}")
    sizes = "/".join(str(len(o)) for o in orders["sizes"].values())
    print(f"corpus: {n} mixed orders ({loaded['this']['lines']} lines); {sizes} orders of {'/'.join(orders['sizes'])} "
          f"lines; {len(orders['fresh'][0])} new end users a round; {rounds} rounds interleaved")
    for name, load in loaded.items():
        if load["invalid"]:
            print(f"{name}: {len(load['invalid'])} orders refused by its models, e.g. "
                  f"{next(iter(load['invalid'].items()))}")
    _table(runs, loaded, scales, counts)
    _phases(profiles)
    return _determinations(runs, ref, assert_same)


def _corpora(n: int, rounds: int) -> dict:
    """Every order both workers check: the mixed corpus, fixed-size orders, and each round's new end users."""
    mixed = corpus(n)
    fresh = max(1, n // FRESH)
    return {"mixed": mixed,
            "sizes": {str(lines): corpus(max(1, n // every), lines=lines) for lines, every in SIZES.items()},
            "fresh": [unseen_parties(mixed[:fresh], first=r * fresh) for r in range(rounds)]}


class _Worker:
    """A check_worker.py process for one checkout, driven one JSON line at a time."""

    def __init__(self, name: str, root: Path, lists: Path, corpus_file: Path, rules: Path | None = None):
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH / "check_worker.py"), str(root), str(lists), str(corpus_file),
             *([str(rules)] if rules else [])],
            cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            self.loaded = self._answer()["loaded"]
        except BaseException:
            self.process.kill()
            raise

    def ask(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._answer()

    def _answer(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"{self.name}: the worker ended (exit {self.process.wait()})")
        answer = json.loads(line)
        if "error" in answer:
            raise SystemExit(f"{self.name}: the worker failed:\n{answer['error']}")
        return answer


@contextmanager
def _worker(name: str, root: Path, lists: Path, corpus_file: Path, rules: Path | None = None) -> Iterator[_Worker]:
    worker = None
    try:
        worker = _Worker(name, root, lists, corpus_file, rules)
        yield worker
    finally:
        process = worker.process if worker else None
        if process and process.poll() is None:
            process.stdin.close()  # end of commands: the worker exits
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def _scratch() -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix="chipgate-bench-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _worktree(ref: str, path: Path) -> Iterator[Path]:
    """A detached worktree of ``ref`` at ``path``, removed afterwards, also on error or ^C."""
    commit = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if not commit:
        raise SystemExit(f"--compare {ref}: no such commit, branch or tag")
    _git("worktree", "add", "--detach", "--quiet", str(path), commit)
    try:
        yield path
    finally:
        _git("worktree", "remove", "--force", str(path))


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True).stdout.strip()


def _describe(ref: str | None = None) -> str:
    """The commit of ``ref``, or of this checkout (and whether it has uncommitted changes)."""
    commit = _git("rev-parse", "--short", f"{ref or 'HEAD'}^{{commit}}")
    return commit if ref or not _git("status", "--porcelain", "--untracked-files=no") else f"{commit} + changes"


def _us(v: float) -> str:
    return f"{v * 1e6:,.0f} us"


def _ms(v: float) -> str:
    return f"{v * 1e3:,.0f} ms"


def _s(v: float) -> str:
    return f"{v:.2f} s"


def _rows(scales: list[int], counts: list[int] = ()):
    """(label, the figure of a round or a dict with "s" and perhaps a "note", its unit)."""
    yield "checks/s (mixed)", lambda r: r["rate"], lambda v: f"{v:,.0f}"
    yield "p50 (mixed)", lambda r: r["p50"], _us
    yield "p99 (mixed)", lambda r: r["p99"], _us
    yield "garbage collection (mixed)", lambda r: r.get("gc"), lambda v: f"{v:.0%}"
    yield "p50 (mixed, no memory)", lambda r: r.get("unremembered", [None])[0], _us
    yield "p99 (mixed, no memory)", lambda r: r.get("unremembered", [None, None])[1], _us
    for size in SIZES:
        yield f"p50 ({size}-line orders)", lambda r, k=str(size): r["sizes"][k][0], _us
        yield f"p99 ({size}-line orders)", lambda r, k=str(size): r["sizes"][k][1], _us
    yield "screening fresh p50", lambda r: r["fresh"], _us
    yield "screening cached p50", lambda r: r["cached"], _us
    yield "fresh/cached", lambda r: r["fresh"] / r["cached"], lambda v: f"{v:.2f}x"
    yield "process start", lambda r: r["start"], _s
    for k in scales:
        yield f"compile {k}x", lambda r, k=str(k): r["compile"][k], _ms
    for n in counts:
        yield f"compile {n:,} rules", lambda r, n=f"{n} rules": r["compile"][n], _ms


def _table(runs: dict[str, list[dict]], loaded: dict[str, dict], scales: list[int], counts: list[int] = ()) -> None:
    """Per figure and checkout: median [min-max] over rounds, and this/REF of the medians."""
    names = list(runs)
    notes: list[str] = []
    print("\nmedian [min-max] over rounds; this/REF of the medians (times: below 1 is faster here)")
    print(f"{'':24}" + "".join(f"{name:>36}" for name in names) + f"{'this/REF':>10}")
    load = [loaded[name]["load_s"] for name in names]
    cells = [f"{_ms(seconds)} ({loaded[name]['rules']} rules)" for name, seconds in zip(names, load)]
    print(f"{'bundle load+compile':24}" + "".join(f"{c:>36}" for c in cells) + f"{load[0] / load[1]:>10.2f}")
    for label, figure, unit in _rows(scales, counts):
        medians, cells = [], []
        for name in names:
            values = [figure(r) for r in runs[name]]
            mark = ""
            if isinstance(values[0], dict):
                found = [v for v in values if "note" in v]
                if found:
                    mark = "*"
                    notes.append(f"* {name} {label}: {found[0]['note']}")
                if "rules" in values[0]:
                    mark += f" ({values[0]['rules']} rules)"
                values = [v["s"] for v in values if "s" in v]
            if not values:
                medians.append(None)
                cells.append("-" + mark)
                continue
            medians.append(statistics.median(values))
            cells.append(f"{unit(medians[-1])} [{unit(min(values)).split()[0]}-{unit(max(values)).split()[0]}]{mark}")
        ratio = f"{medians[0] / medians[1]:.2f}" if None not in medians and medians[1] else "-"
        print(f"{label:24}" + "".join(f"{c:>36}" for c in cells) + f"{ratio:>10}")
    for note in notes:
        print(note)


def _phases(profiles: dict[str, dict]) -> None:
    names = list(profiles)
    functions = list(dict.fromkeys(f for p in profiles.values() for f in p["shares"]))
    orders = " / ".join(str(p["orders"]) for p in profiles.values())
    print(f"\nphases: cumulative share of a profiled round ({orders} mixed orders); functions nest, shares overlap")
    for function in functions:
        cells = [profiles[name]["shares"].get(function) for name in names]
        print(f"  {function:58}" + "".join(f"{'-' if c is None else f'{c:.1%}':>10}" for c in cells))
    print(f"  {'':58}" + "".join(f"{name[:10]:>10}" for name in names))


def _determinations(runs: dict[str, list[dict]], ref: str, assert_same: bool) -> int:
    """Print how many orders the two checkouts judge differently (and the first few); 1 if they must not."""
    this, other = (runs[name][0]["determinations"] for name in runs)
    differ = [i for i in dict.fromkeys([*this, *other]) if this.get(i) != other.get(i)]
    print(f"\ndeterminations: {len(differ)} of {len(this)} orders differ between this and {ref} "
          "(decision or the rules of the findings)")
    for i in differ[:SHOWN]:
        mine, theirs = this.get(i, ["-", []]), other.get(i, ["-", []])
        only_mine = sorted(set(mine[1]) - set(theirs[1]))
        only_theirs = sorted(set(theirs[1]) - set(mine[1]))
        print(f"  {i}: this {mine[0]}, {ref} {theirs[0]}; rules only in this: {', '.join(only_mine) or '-'}; "
              f"only in {ref}: {', '.join(only_theirs) or '-'}")
    if differ and assert_same:
        print(f"--assert-same: {len(differ)} determinations differ", file=sys.stderr)
        return 1
    return 0


def cli(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 3)[3], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("n", nargs="?", type=int, default=10_000, help="orders in the mixed corpus (default 10000)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per checkout (default 3)")
    ap.add_argument("--compare", metavar="REF", help="also measure REF (commit, branch, tag), interleaved")
    ap.add_argument("--assert-same", action="store_true",
                    help="with --compare: exit 1 if any order's determination differs")
    ap.add_argument("--scales", default="1,5,20", help="with --compare: compile the rule book at these multiples (default 1,5,20)")
    ap.add_argument("--rule-counts", default="1120",
                    help="with --compare: also compile this many rules (copies of the rule book cut to size; default "
                         "1120, the target's 20x of a 56-rule book)")
    ap.add_argument("--profile-orders", type=int, default=1000,
                    help="with --compare: orders in the profiled round (default 1000)")
    ap.add_argument("--ref-rules", action="store_true",
                    help="with --compare: both checkouts check with REF's rules (the engines compared alone)")
    args = ap.parse_args(argv)
    if args.compare is None:
        if args.assert_same or args.ref_rules:
            ap.error("--assert-same and --ref-rules need --compare REF")
        main(args.n, args.rounds)
        return 0
    scales = [int(k) for k in args.scales.split(",") if k]
    counts = [int(k) for k in args.rule_counts.split(",") if k]
    return compare(args.n, args.compare, args.rounds, scales, args.profile_orders, args.assert_same, counts,
                   args.ref_rules)


if __name__ == "__main__":
    try:
        sys.exit(cli())
    except KeyboardInterrupt:  # the workers and REF's worktree are gone by now
        sys.exit("interrupted")
