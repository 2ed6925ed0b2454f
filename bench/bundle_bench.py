"""Load time of the bundled rules: from the YAML directory, and from a bundle file built from it.

    python bench/bundle_bench.py [ROUNDS]

Each load runs in a fresh process (as a CLI call or a service worker starts), without lists, timed
after the imports; the median
and range over ROUNDS (default 5), the two kinds taking turns.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOAD = ("import sys, time; from pathlib import Path; from controls import Engine; t = time.perf_counter(); "
        "Engine.load(Path(sys.argv[1]), lists=Path(sys.argv[2])); print(time.perf_counter() - t)")


def load_seconds(rules: Path, lists: Path) -> float:
    out = subprocess.run([sys.executable, "-c", LOAD, str(rules), str(lists)], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout
    return float(out)


def main(rounds: int = 5) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path, lists = Path(tmp) / "rules.bundle.json", Path(tmp) / "no-lists"
        sys.path.insert(0, str(REPO))
        from controls.rulebook import bundle
        bundle.build(REPO / "rules", path)
        times: dict[str, list[float]] = {"yaml": [], "bundle": []}
        for _ in range(rounds):
            times["yaml"].append(load_seconds(REPO / "rules", lists))
            times["bundle"].append(load_seconds(path, lists))
    for kind, values in times.items():
        print(f"{kind:6} Engine.load {statistics.median(values):.3f} s [{min(values):.3f}-{max(values):.3f}]")
    print(f"bundle/yaml {statistics.median(times['bundle']) / statistics.median(times['yaml']):.2f}; "
          f"bundle file {path.name}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
