"""One checkout's side of ``check_bench.py --compare``: loads that checkout's engine and measures it on request.

    python bench/check_worker.py ROOT LISTS CORPUS

ROOT (a checkout) goes first on sys.path, so ``controls`` is that checkout's code, whatever checkout this file
is in.  LISTS is the list store to screen against, CORPUS the JSON file of orders the driver wrote.  Only the API
every commit has is relied on: ``from controls import Engine, Transaction``, ``Engine.load(path=None, lists=None)``,
``engine.check(txn)`` and ``Determination.decision/.findings[].rule``; what a checkout lacks (the compiler's API,
a phase function) is reported as missing, not failed on.

Protocol, one JSON object a line: the worker loads the engine and says ``{"loaded": ...}``; then it answers each
command read from stdin with one line, until stdin closes:

    {"do": "round", "round": R, "scales": [1, 5, 20], "counts": [1120], "determinations": false}
                                                                                 -> the round's measurements
    {"do": "profile", "orders": N}                                               -> per-phase shares
    failure of a command                                                         -> {"error": "traceback"}

The worker measures only while the driver waits for its answer, so two workers never run at once.
"""
from __future__ import annotations

import cProfile
import dataclasses
import gc
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

WARM_UP = 200  # orders checked once after loading, before any timing
UNREMEMBERED = 500  # mixed orders checked each round with the engine's memory of lines switched off

# Functions whose cumulative time is a phase of a check: (phase, file, function).  They nest (an assert
# call inside a check), so their shares overlap; one a checkout lacks is left out of its report.
PHASES = [
    ("check", "controls/engine/engine.py", "check"),
    ("screening", "controls/screening/parties.py", "screen_party"),
    ("fact building", "controls/facts/builder.py", "line_values"),
    ("fact building", "controls/facts/builder.py", "party_values"),
    ("fact building", "controls/facts/builder.py", "answers"),
    ("fact building", "controls/facts/builder.py", "line_fact"),
    ("fact building", "controls/facts/builder.py", "party_fact"),
    ("engine", "controls/engine/engine.py", "_run"),
    ("engine", "controls/engine/durable_adapter.py", "assert_facts"),
    ("engine", "controls/engine/durable_adapter.py", "retract_all"),
    ("engine", "json/__init__.py", "dumps"),
    ("engine", "json/__init__.py", "loads"),
    ("results", "controls/engine/engine.py", "_finding"),
    ("results", "controls/engine/engine.py", "_derivation"),
    ("results", "controls/engine/engine.py", "_line_result"),
    ("results", "controls/engine/decisions.py", "line_result"),
    ("results", "pydantic/main.py", "__init__"),
    ("results", "pydantic/main.py", "model_construct"),
]


def time_checks(engine, orders) -> tuple[float, list[float], list]:
    """Check each order once: (seconds in all, each check's seconds, the determinations)."""
    latencies, results = [], []
    started = time.perf_counter()
    for order in orders:
        t0 = time.perf_counter()
        results.append(engine.check(order))
        latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - started, latencies, results


class CollectorTime:
    """Seconds the garbage collector ran while this is entered (``gc.callbacks``): a program that keeps its
    determinations (the rounds keep theirs, for the comparison) has the collector walk them again and again."""

    def __init__(self):
        self.seconds, self._started = 0.0, None

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self._started = None

    def __enter__(self) -> "CollectorTime":
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self)


def quantiles(latencies: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max of check latencies."""
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[max(int(0.99 * len(ordered)) - 1, 0)], ordered[-1]


def _decision(result) -> str:
    return getattr(result.decision, "value", str(result.decision))


class Checkout:
    """The engine of one checkout, loaded once, with the corpus validated by its own models."""

    def __init__(self, root: Path, lists: Path, corpus: dict, rules: Path | None = None):
        import controls
        from controls import Engine, Transaction

        if not Path(controls.__file__).resolve().is_relative_to(root):
            raise RuntimeError(f"controls resolved to {controls.__file__}, not under {root}")
        self.root, self.lists, self.rules = root, lists, rules
        started = time.perf_counter()
        self.engine = Engine.load(rules, lists=lists)
        getattr(self.engine, "open_lists", lambda: None)()  # a checkout that opens lists lazily: in the load time
        self.load_s = time.perf_counter() - started
        self.invalid: dict[str, str] = {}  # order id -> why this checkout's models refuse it

        def valid(orders: list[dict]) -> list:
            out = []
            for order in orders:
                try:
                    out.append(Transaction.model_validate(order))
                except ValueError as exc:
                    self.invalid[order["id"]] = str(exc).splitlines()[0]
            return out

        self.mixed = valid(corpus["mixed"])
        self.sizes = {size: valid(orders) for size, orders in corpus["sizes"].items()}
        self.fresh = [valid(orders) for orders in corpus["fresh"]]
        time_checks(self.engine, self.mixed[:WARM_UP])
        for orders in self.sizes.values():
            time_checks(self.engine, orders[:1])

    def loaded(self) -> dict:
        return {"load_s": self.load_s, "rules": len(self.engine.rules),
                "entries": sum(s.entries or 0 for s in getattr(self.engine, "lists", [])),
                "orders": len(self.mixed), "lines": sum(len(o.items) for o in self.mixed), "invalid": self.invalid}

    def round(self, number: int, scales: list[int], determinations: bool = False, counts: list[int] = ()) -> dict:
        """Every figure of one round (seconds; checks/s); the determinations of the mixed corpus if asked."""
        with CollectorTime() as collector:
            elapsed, latencies, results = time_checks(self.engine, self.mixed)
        p50, p99, _ = quantiles(latencies)
        out = {"rate": len(self.mixed) / elapsed, "p50": p50, "p99": p99, "sizes": {}, "gc": collector.seconds / elapsed}
        for size, orders in self.sizes.items():
            out["sizes"][size] = quantiles(time_checks(self.engine, orders)[1])[:2]
        out["unremembered"] = quantiles(self.unremembered(self.mixed[:UNREMEMBERED]))[:2]
        fresh = self.fresh[number]  # each round's own end users: new to the engine the first time
        out["fresh"] = quantiles(time_checks(self.engine, fresh)[1])[0]
        out["cached"] = quantiles(time_checks(self.engine, fresh)[1])[0]
        out["start"] = self.process_start()
        out["compile"] = {str(k): self.compile_time(k) for k in scales}
        out["compile"].update({f"{n} rules": self.compile_time(0, n) for n in counts})
        if determinations:
            out["determinations"] = {r.transaction_id: [_decision(r), sorted(f.rule for f in r.findings)]
                                     for r in results}
            out["determinations"].update({i: ["INVALID", [why]] for i, why in self.invalid.items()})
        return out

    def unremembered(self, orders) -> list[float]:
        """Check latencies with every line sent to the rule network: the engine's memory of the lines it
        has answered (a checkout that has one) switched off for the while."""
        memo = getattr(self.engine, "_memo", None)
        if memo is None:
            return time_checks(self.engine, orders)[1]
        self.engine._memo = type(memo)(self.engine._compiled.network, size=0)
        try:
            return time_checks(self.engine, orders)[1]
        finally:
            self.engine._memo = memo

    def process_start(self) -> dict:
        """Wall time of ``python cli.py check examples/order.yaml`` in this checkout, on the same lists (and
        rules, when given)."""
        if not (self.root / "cli.py").is_file() or not (self.root / "examples/order.yaml").is_file():
            return {"note": "no cli.py or examples/order.yaml"}
        env = {**os.environ, "CHIPGATE_LISTS": str(self.lists)}
        started = time.perf_counter()
        rules = ["--rules", str(self.rules)] if self.rules else []
        done = subprocess.run([sys.executable, "cli.py", "check", "examples/order.yaml", *rules], cwd=self.root, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - started
        if done.returncode not in range(6):  # 0-5: the decisions' exit codes
            return {"note": f"exit {done.returncode}: {' '.join(done.stderr.strip().splitlines()[-1:])}"}
        return {"s": wall}

    def compile_time(self, scale: int, count: int | None = None) -> dict:
        """Seconds to compile the rule book with its rules ``scale`` times over, or with the first ``count``
        rules of as many copies as it takes.  A copy is renamed and tests one more fact, a value of its own
        (``item.hs_code`` is not ``copy K``, last, so the copies branch at the end of their rule's tests): no two
        copies are alike, so that a compiler that shares the work of identical rules cannot make a book of copies
        look cheaper than a book of as many different rules."""
        try:
            from controls.compiler import compile_rulebook
            from controls.rulebook.conditions import All, Leaf

            def _with(when, test):  # the test one more conjunct, so that guards stay at the top level
                return All((*when.parts, test) if isinstance(when, All) else (when, test))

            book = self.engine.rulebook
            if count is not None:
                scale = -(-count // len(book.rules))
            rules = [r if k == 0 else dataclasses.replace(
                r, rule=r.rule.model_copy(update={"id": f"{r.id}.x{k}"}),
                when=_with(r.when, Leaf("item.hs_code", "ne", f"copy {k}")))
                for k in range(scale) for r in book.rules][:count]
            bigger = dataclasses.replace(book, rules=rules)
        except (ImportError, AttributeError, TypeError) as exc:
            return {"note": f"cannot replicate the rule book: {exc}"}
        started = time.perf_counter()
        try:
            compile_rulebook(bigger)
        except Exception as exc:  # a limit of the compiler: the time to the refusal is still its cost
            return {"s": time.perf_counter() - started, "rules": len(rules), "note": f"refused: {exc}"}
        return {"s": time.perf_counter() - started, "rules": len(rules)}

    def profile(self, orders: int) -> dict:
        """Cumulative share of a cProfile'd round of each phase function found in this checkout."""
        profiler = cProfile.Profile()
        profiler.runcall(time_checks, self.engine, self.mixed[:orders])
        stats = pstats.Stats(profiler)
        shares = {}
        for phase, file, function in PHASES:
            found = [row[3] for (path, _, name), row in stats.stats.items()
                     if name == function and path.replace(os.sep, "/").endswith(file)]
            if found:
                shares[f"{phase}: {file} {function}"] = sum(found) / stats.total_tt
        return {"orders": min(orders, len(self.mixed)), "shares": shares}


def main() -> None:
    root, lists, corpus_file = (Path(a).resolve() for a in sys.argv[1:4])
    rules = Path(sys.argv[4]).resolve() if len(sys.argv) > 4 else None  # else the checkout's own
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C is the driver's: it ends the workers and cleans up
    sys.path.insert(0, str(root))
    # the protocol owns stdout: anything else the code prints goes to stderr
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    def say(message: dict) -> None:
        answers.write(json.dumps(message) + "\n")
        answers.flush()

    try:
        checkout = Checkout(root, lists, json.loads(corpus_file.read_text()), rules)
    except Exception:
        say({"error": traceback.format_exc()})
        return
    say({"loaded": checkout.loaded()})
    for line in sys.stdin:
        command = json.loads(line)
        try:
            if command["do"] == "round":
                say(checkout.round(command["round"], command["scales"], command.get("determinations", False),
                                   command.get("counts", ())))
            elif command["do"] == "profile":
                say(checkout.profile(command["orders"]))
            else:
                say({"error": f"unknown command {command['do']!r}"})
        except Exception:
            say({"error": traceback.format_exc()})


if __name__ == "__main__":
    main()
