"""bench/check_bench.py --compare: the driver, its worker protocol and the worktree it makes, on a tiny corpus."""
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench" / "check_bench.py"


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True).stdout


@pytest.fixture
def in_git_checkout():
    if shutil.which("git") is None or not _git("rev-parse", "--git-dir").strip():
        pytest.skip("--compare needs a git checkout")


def test_compare_with_head_runs_every_measurement_and_cleans_up(in_git_checkout, tmp_path, monkeypatch):
    lists, scratch = tmp_path / "lists", tmp_path / "tmp"
    lists.mkdir()
    scratch.mkdir()
    monkeypatch.setenv("CHIPGATE_LISTS", str(lists))  # an empty list store: parties HOLD, quickly
    monkeypatch.setenv("TMPDIR", str(scratch))  # where the driver makes REF's worktree
    # HEAD judges like this checkout unless this checkout has uncommitted changes
    same = [] if _git("status", "--porcelain", "--untracked-files=no").strip() else ["--assert-same"]
    run = subprocess.run([sys.executable, str(BENCH), "5", "--compare", "HEAD", "--rounds", "1", "--scales", "1,2",
                          "--profile-orders", "5", *same], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "round 1: this" in out
    for figure in ("bundle load+compile", "checks/s (mixed)", "p50 (mixed)", "p50 (mixed, no memory)",
                   "p99 (100-line orders)",
                   "screening fresh p50", "screening cached p50", "process start", "compile 1x", "compile 2x"):
        row = next(line for line in out.splitlines() if line.startswith(figure))
        assert row.split()[-1].replace(".", "").isdigit(), row  # a ratio: both sides measured it
    assert "phases:" in out and "controls/engine/engine.py check" in out
    assert "of 5 orders differ between this and HEAD" in out
    if same:
        assert "determinations: 0 of 5 orders differ" in out
    assert str(scratch) not in _git("worktree", "list")  # REF's worktree is removed
    assert not list(scratch.iterdir())


def _driver(monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))  # the driver puts bench/ on it
    spec = importlib.util.spec_from_file_location("check_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_assert_same_fails_on_a_differing_determination(capsys, monkeypatch):
    bench = _driver(monkeypatch)
    same = {"SO-1": ["NLR", ["a"]], "SO-2": ["HOLD", ["b", "c"]]}
    runs = {"this": [{"determinations": same}], "REF": [{"determinations": dict(same)}]}
    assert bench._determinations(runs, "REF", assert_same=True) == 0
    runs["REF"][0]["determinations"]["SO-2"] = ["HOLD", ["b"]]
    assert bench._determinations(runs, "REF", assert_same=False) == 0
    assert bench._determinations(runs, "REF", assert_same=True) == 1
    out = capsys.readouterr().out
    assert "1 of 2 orders differ" in out and "SO-2: this HOLD, REF HOLD; rules only in this: c" in out


def test_a_worker_given_rules_checks_with_them_not_its_own(tmp_path, monkeypatch):
    """--ref-rules: each worker loads the rule directory it is given (REF's), so that the two engines are
    compared on one rule book."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    sys.path.insert(0, str(REPO / "bench"))
    from check_worker import Checkout
    from corpus import corpus, unseen_parties

    lists = tmp_path / "lists"
    lists.mkdir()
    orders = corpus(3)
    work = {"mixed": orders, "sizes": {"1": corpus(1, lines=1)}, "fresh": [unseen_parties(orders[:1])]}
    pack = REPO / "tests" / "packs" / "conflicting-classifiers"
    given = Checkout(REPO, lists, work, rules=pack)
    own = Checkout(REPO, lists, work)
    assert given.loaded()["rules"] == len(given.engine.rules) < len(own.engine.rules)
    assert not set(given.engine.rules) & set(own.engine.rules)  # the pack's rules, none of the bundled ones
    assert given.process_start().get("s") is not None  # cli.py check --rules PACK
