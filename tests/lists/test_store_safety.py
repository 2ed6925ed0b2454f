"""The list store under faults: kills mid-commit, concurrent imports, broken and read-only stores,
and shrinkage guards that cannot be walked around or switched off together (issue 7)."""
from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, order

from cli import main
from controls import Decision, Engine
from controls.errors import ListDataError
from controls.lists import ListStore
from controls.lists import store as store_module

from .conftest import DPL, FSE, csl_subset, snapshot

ITAR = "ITAR Debarred (DTC) - State Department"
DPL_KEY = "csl:Denied Persons List"
FSE_KEY = "csl:Foreign Sanctions Evaders"

# Imports a file into a store; the Nth rename of the commit (1: the commit point itself, 2 and on:
# moving files into place) kills the process, as a power cut or kill -9 would.
KILLED_IMPORT = """
import os, signal, sys
from controls.lists import store
calls = 0
real = store._replace
def dying(source, target):
    global calls
    calls += 1
    if calls == int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)
    real(source, target)
store._replace = dying
store.ListStore(sys.argv[1]).import_file(sys.argv[2])
"""


def leftovers(path: Path) -> list[str]:
    """Anything an import leaves in the store besides lists, manifest and lock."""
    return sorted(p.name for p in path.iterdir() if p.name.startswith(".") and p.name != store_module.LOCK)


def raw_state_is_mixed(path: Path) -> bool:
    """Whether a list file on disk disagrees with the manifest on disk (read without the store)."""
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))["lists"]
    return any(hashlib.sha256((path / info["file"]).read_bytes()).hexdigest() != info["content_sha256"]
               for info in manifest.values() if (path / info["file"]).exists())


def dpl_rows_removed(csl_file: Path, target: Path, share: float, *sources: str) -> Path:
    """A CSL subset (DPL and ``sources``) without the first ``share`` of its DPL rows."""
    subset = csl_subset(csl_file, target.with_suffix(".full.csv"), DPL, *sources)
    lines = subset.read_text(encoding="utf-8").splitlines(keepends=True)
    dpl = [i for i, line in enumerate(lines) if f",{DPL}," in line]
    cut = set(dpl[:round(len(dpl) * share)])
    target.write_text("".join(line for i, line in enumerate(lines) if i not in cut), encoding="utf-8")
    return target


@pytest.fixture
def bigger(tmp_path, csl_file) -> Path:
    """The small store's lists, 5 % of the DPL removed, plus ITAR Debarred: an import that changes a
    list file and the manifest and adds a file."""
    return dpl_rows_removed(csl_file, tmp_path / "more.csv", 0.05, FSE, ITAR)


# --------------------------------------------------------------------------- kill during the commit

def killed_import(store: ListStore, source: Path, at_rename: int) -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_IMPORT, str(store.path), str(source), str(at_rename)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr


def test_a_kill_before_the_commit_point_is_rolled_back_on_the_next_open(small_store, bigger):
    before = snapshot(small_store.path)
    killed_import(small_store, bigger, at_rename=1)
    assert [name for name in leftovers(small_store.path) if name.startswith(".import-")]  # it was interrupted

    assert set(ListStore(small_store.path).load()) == {DPL_KEY, FSE_KEY}
    assert snapshot(small_store.path) == before and leftovers(small_store.path) == []


@pytest.mark.parametrize("at_rename", [2, 4, 5])  # committed: no file moved / some / all but the manifest
def test_a_kill_after_the_commit_point_is_rolled_forward_on_the_next_open(small_store, bigger, at_rename):
    killed_import(small_store, bigger, at_rename)
    assert leftovers(small_store.path) == [".commit"]
    if at_rename > 2:
        assert raw_state_is_mixed(small_store.path)  # what the old store served with status OK

    reopened = ListStore(small_store.path)
    assert reopened.verify() == {}
    assert set(reopened.load()) == {DPL_KEY, FSE_KEY, "csl:ITAR Debarred"}
    assert reopened.manifest().lists["csl:ITAR Debarred"].source_file == "more.csv"
    assert leftovers(small_store.path) == [] and not raw_state_is_mixed(small_store.path)


def test_a_kill_mid_commit_screens_nobody_against_mixed_lists(small_store, bigger):
    killed_import(small_store, bigger, at_rename=3)
    engine = Engine.load(lists=small_store.path)  # opening the store finishes the import first
    assert {s.list for s in engine.lists} == {"Denied Persons List", "Foreign Sanctions Evaders", "ITAR Debarred"}


def test_an_io_error_after_the_commit_point_is_finished_on_the_next_open(small_store, bigger, monkeypatch):
    calls = []

    def failing_replace(source, target):
        calls.append(target)
        if len(calls) == 3:
            raise OSError(5, "Input/output error (simulated)")
        os.replace(source, target)

    monkeypatch.setattr(store_module, "_replace", failing_replace)
    with pytest.raises(ListDataError, match="committed but not yet in place"):
        small_store.import_file(bigger)
    monkeypatch.undo()
    assert set(ListStore(small_store.path).load()) == {DPL_KEY, FSE_KEY, "csl:ITAR Debarred"}
    assert leftovers(small_store.path) == []


def test_leftovers_of_the_old_commit_are_undone_or_removed(small_store, bigger, tmp_path):
    """Chipgate before the two-phase commit moved files one by one, backing them up in
    ``.import-*/previous``; a kill there left a mixed store and megabytes of backups."""
    dpl_file = small_store.path / "csl-denied-persons-list.jsonl"
    old_dpl = dpl_file.read_bytes()
    before = snapshot(small_store.path)
    staging = small_store.path / ".import-legacy1"
    (staging / "previous").mkdir(parents=True)
    os.link(dpl_file, staging / "previous" / dpl_file.name)
    (staging / dpl_file.name).write_bytes(old_dpl.replace(b"ABDIEL", b"ABDIAL"))
    os.replace(staging / dpl_file.name, dpl_file)  # the new file was moved into place ...
    (staging / "manifest.json").write_text("{}")  # ... and the manifest was not
    assert raw_state_is_mixed(small_store.path)
    assert ListStore(small_store.path).verify() == {}
    assert snapshot(small_store.path) == before

    finished = small_store.path / ".import-legacy2"  # killed after its manifest was moved: only the backup is left
    (finished / "previous").mkdir(parents=True)
    (finished / "previous" / dpl_file.name).write_bytes(b"x" * 1000)
    assert ListStore(small_store.path).verify() == {} and snapshot(small_store.path) == before


# --------------------------------------------------------------------------- the import lock

def test_concurrent_imports_never_interleave(small_store, tmp_path, csl_file):
    files = [dpl_rows_removed(csl_file, tmp_path / f"import{i}.csv", cut, FSE, ITAR)
             for i, cut in enumerate([0.0, 0.05, 0.0, 0.05])]
    script = "import sys; from controls.lists import ListStore; ListStore(sys.argv[1]).import_file(sys.argv[2])"
    running = [subprocess.Popen([sys.executable, "-c", script, str(small_store.path), str(f)], cwd=REPO,
                                stderr=subprocess.PIPE, text=True) for f in files]
    assert [p.wait(timeout=120) for p in running] == [0, 0, 0, 0], [p.stderr.read() for p in running]
    assert small_store.verify() == {} and leftovers(small_store.path) == []
    assert not raw_state_is_mixed(small_store.path)


def hold_lock(store: ListStore) -> int:
    fd = os.open(store.path / store_module.LOCK, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_an_import_waits_for_the_running_one_or_fails_clearly(small_store, bigger):
    fd = hold_lock(small_store)
    try:
        before = snapshot(small_store.path)
        with pytest.raises(ListDataError, match="another import into this list store is still running"):
            ListStore(small_store.path, lock_timeout=0.2).import_file(bigger)
        with pytest.raises(ListDataError, match="still running"):  # readers do not read half an import
            ListStore(small_store.path, lock_timeout=0.2).load()
        assert snapshot(small_store.path) == before
        threading.Timer(0.5, os.close, [fd]).start()
        started = time.monotonic()
        report = ListStore(small_store.path, lock_timeout=30).import_file(bigger)
        assert time.monotonic() - started >= 0.4 and report.diff("csl:ITAR Debarred").new_count > 0
    finally:
        with pytest.raises(OSError):
            os.close(fd)  # already released by the timer


# --------------------------------------------------------------------------- status and broken stores

def status(store: Path):
    return CliRunner().invoke(main, ["lists", "status", "-o", str(store)])


def test_status_verifies_every_digest(small_store):
    result = status(small_store.path)
    assert result.exit_code == 0 and "ok: 2 lists verified" in result.output

    dpl_file = small_store.path / "csl-denied-persons-list.jsonl"
    dpl_file.write_bytes(dpl_file.read_bytes().replace(b"ABDIEL", b"ABDIAL"))
    result = status(small_store.path)
    assert result.exit_code == 2
    assert "BROKEN" in result.output and "csl-denied-persons-list.jsonl" in result.output
    assert "1 of 2 lists fail verification" in result.output


@pytest.mark.parametrize("damage, message", [
    (lambda text: text[:len(text) // 2], "unreadable list-store manifest"),
    (lambda text: text.replace('"content_sha256"', '"sha"'), "lacks content_sha256"),
    (lambda text: text.replace('"file": "csl-denied-persons-list.jsonl"', '"file": "../../etc/passwd"'),
     "names no file of the store"),
])
def test_a_damaged_manifest_is_exit_2_with_a_message(small_store, damage, message):
    manifest = small_store.path / "manifest.json"
    manifest.write_text(damage(manifest.read_text(encoding="utf-8")), encoding="utf-8")
    result = status(small_store.path)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("edition", ["2026-13-45", "yesterday"])
def test_an_edition_that_is_no_date_breaks_the_store_and_every_party_is_held(small_store, edition):
    """Review 2, item 12: a hand-edited edition crashed every check (exit 1) while status said 0."""
    manifest = small_store.path / "manifest.json"
    raw = json.loads(manifest.read_text(encoding="utf-8"))
    raw["lists"][DPL_KEY]["edition"] = edition
    manifest.write_text(json.dumps(raw), encoding="utf-8")
    message = f"the record of {DPL_KEY}: edition: is not a date written YYYY-MM-DD (found {edition!r})"
    result = status(small_store.path)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    result = Engine.load(lists=small_store.path).check(order("DE", eccn="EAR99"))
    assert result.decision == Decision.HOLD
    assert any("list store cannot be used" in w and message in w for w in result.warnings)


def test_a_commit_plan_naming_files_outside_the_store_is_refused(small_store, tmp_path):
    (small_store.path / ".commit").mkdir()
    (small_store.path / ".commit" / "plan.json").write_text('{"move": ["../outside.jsonl"], "remove": []}')
    result = status(small_store.path)
    assert result.exit_code == 2 and "names files outside the store" in result.output
    assert not (tmp_path / "outside.jsonl").exists()


def test_engines_hold_every_party_against_a_broken_store(small_store):
    dpl_file = small_store.path / "csl-denied-persons-list.jsonl"
    dpl_file.write_bytes(dpl_file.read_bytes()[:-200])
    engine = Engine.load(lists=small_store.path)
    assert engine.lists == []
    result = engine.check(order("DE", eccn="EAR99"))
    assert result.decision == Decision.HOLD
    assert any("list store cannot be used" in w and "csl-denied-persons-list.jsonl" in w for w in result.warnings)
    screened = engine.screen("Example Customer Ltd", country="DE")
    assert screened.decision == Decision.HOLD and any("digest" in w for w in screened.warnings)
    cli = CliRunner().invoke(main, ["screen", "Example Customer Ltd", "--country", "DE",
                                    "--lists", str(small_store.path)])
    assert cli.exit_code == 5 and "list store cannot be used" in cli.output


def test_a_read_only_store_is_read_and_refuses_imports_clearly(small_store, bigger, monkeypatch):
    """A store this process may not write (simulated: the tests may run as root, who may write anyway)."""
    (small_store.path / store_module.LOCK).unlink()  # a store never opened for writing by this version
    real_open = os.open

    def read_only_open(path, flags, *args):
        if flags & os.O_CREAT and not Path(path).exists():
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    def read_only_mkdtemp(**kwargs):
        raise PermissionError(13, "Permission denied")

    before = snapshot(small_store.path)
    monkeypatch.setattr(os, "open", read_only_open)
    assert status(small_store.path).exit_code == 0
    result = CliRunner().invoke(main, ["lists", "import", str(bigger), "-o", str(small_store.path)])
    assert result.exit_code == 2 and "cannot write to the list store: Permission denied" in result.output
    monkeypatch.undo()
    assert snapshot(small_store.path) == before

    (small_store.path / store_module.LOCK).touch()  # where the lock exists, the staging directory fails
    before = snapshot(small_store.path)
    monkeypatch.setattr(store_module.tempfile, "mkdtemp", read_only_mkdtemp)
    result = CliRunner().invoke(main, ["lists", "import", str(bigger), "-o", str(small_store.path)])
    assert result.exit_code == 2 and "Permission denied" in result.output and "nothing was changed" in result.output
    assert status(small_store.path).exit_code == 0 and snapshot(small_store.path) == before


def test_a_store_that_cannot_be_created_is_exit_2(tmp_path, bigger):
    not_a_directory = tmp_path / "rules"
    not_a_directory.write_text("")
    result = CliRunner().invoke(main, ["lists", "import", str(bigger), "-o", str(not_a_directory / "lists")])
    assert result.exit_code == 2 and "cannot create the list store" in result.output


def test_an_interrupted_import_in_a_read_only_store_is_a_clear_error(small_store, bigger, monkeypatch):
    killed_import(small_store, bigger, at_rename=3)

    def read_only_replace(source, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(store_module, "_replace", read_only_replace)
    result = status(small_store.path)
    assert result.exit_code == 2 and "interrupted" in result.output and "Permission denied" in result.output
    monkeypatch.undo()
    assert status(small_store.path).exit_code == 0


def test_a_damaged_list_is_replaced_by_a_normal_import(small_store, tmp_path, csl_file):
    dpl_file = small_store.path / "csl-denied-persons-list.jsonl"
    dpl_file.write_bytes(b"garbage\n")
    report = small_store.import_file(csl_subset(csl_file, tmp_path / "again.csv", DPL, FSE))
    assert report.diff(DPL_KEY).damaged and "damaged and is replaced" in report.render()
    assert not report.forced and report.overridden == () and small_store.verify() == {}


def test_a_damaged_list_is_not_a_way_around_the_shrink_guard(small_store, tmp_path, csl_file):
    dpl_file = small_store.path / "csl-denied-persons-list.jsonl"
    dpl_file.write_bytes(b"garbage\n")
    with pytest.raises(ListDataError, match=r"Denied Persons List would lose 92 of 462 entries"):
        small_store.import_file(dpl_rows_removed(csl_file, tmp_path / "cut.csv", 0.20, FSE))


# --------------------------------------------------------------------------- shrinkage guards

def test_five_cuts_of_nine_percent_do_not_walk_a_list_down(small_store, tmp_path, csl_file):
    accepted = []
    for step in range(1, 6):
        cut = dpl_rows_removed(csl_file, tmp_path / f"cut{step}.csv", 1 - 0.91 ** step, FSE)
        try:
            accepted.append(small_store.import_file(cut).diff(DPL_KEY).new_count)
        except ListDataError as refused:
            assert "below its baseline of 462 entries" in str(refused)
    assert accepted == [420]  # 9 % once; every later edition is refused against the baseline
    assert small_store.manifest().lists[DPL_KEY].entries == 420


def test_repeated_small_cuts_are_measured_against_the_baseline(small_store, tmp_path, csl_file):
    first = small_store.import_file(dpl_rows_removed(csl_file, tmp_path / "cut1.csv", 0.09, FSE))
    assert (first.diff(DPL_KEY).new_count, first.diff(DPL_KEY).baseline_count) == (420, 462)
    assert small_store.manifest().lists[DPL_KEY].baseline.entries == 462

    second = dpl_rows_removed(csl_file, tmp_path / "cut2.csv", 0.17, FSE)  # 9 % of the rest: 17 % in all
    before = snapshot(small_store.path)
    with pytest.raises(ListDataError) as refused:
        small_store.import_file(second)
    message = str(refused.value)
    assert "17% below its baseline of 462 entries" in message and "--allow-shrink 'csl:Denied Persons List'" in message
    assert snapshot(small_store.path) == before

    accepted = small_store.import_file(second, allow_shrink=["Denied Persons List"])
    assert accepted.overridden == ("shrink of csl:Denied Persons List",) and not accepted.forced
    assert small_store.manifest().lists[DPL_KEY].baseline.entries == 383  # accepted: the new baseline
    assert small_store.manifest().lists[FSE_KEY].baseline.entries == 3


def test_a_cut_within_the_limit_of_both_is_accepted_and_the_baseline_follows_growth(small_store, tmp_path, csl_file):
    small_store.import_file(dpl_rows_removed(csl_file, tmp_path / "cut.csv", 0.05, FSE))
    assert small_store.manifest().lists[DPL_KEY].baseline.entries == 462
    small_store.import_file(csl_subset(csl_file, tmp_path / "full.csv", DPL, FSE))  # back to 462
    small_store.import_file(dpl_rows_removed(csl_file, tmp_path / "cut.csv", 0.10, FSE))  # 10 %: at the limit
    assert small_store.manifest().lists[DPL_KEY].entries == 416


def test_a_store_from_before_baselines_uses_its_current_edition(small_store, tmp_path, csl_file):
    manifest_path = small_store.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for info in manifest["lists"].values():
        del info["baseline"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    report = small_store.import_file(dpl_rows_removed(csl_file, tmp_path / "cut.csv", 0.09, FSE))
    assert report.diff(DPL_KEY).baseline_count == 462


def test_overriding_one_guard_leaves_the_others_on(small_store, tmp_path, csl_file):
    cut_and_dropped = dpl_rows_removed(csl_file, tmp_path / "no_fse.csv", 0.20)  # DPL -20 %, FSE gone
    with pytest.raises(ListDataError) as refused:
        small_store.import_file(cut_and_dropped)
    assert "--allow-drop 'csl:Foreign Sanctions Evaders'" in str(refused.value)
    assert "--allow-shrink 'csl:Denied Persons List'" in str(refused.value)  # every refusal is named at once
    with pytest.raises(ListDataError, match="Denied Persons List would lose") as refused:
        small_store.import_file(cut_and_dropped, allow_drop=["Foreign Sanctions Evaders"])
    assert "Foreign Sanctions Evaders" not in str(refused.value)
    with pytest.raises(ListDataError, match="no csl:Foreign Sanctions Evaders list") as refused:
        small_store.import_file(cut_and_dropped, allow_shrink=["csl:Denied Persons List"])
    assert "Denied Persons" not in str(refused.value)
    report = small_store.import_file(cut_and_dropped, allow_shrink=["csl:denied persons list"],
                                     allow_drop=["Foreign Sanctions Evaders"])
    assert set(report.overridden) == {"shrink of csl:Denied Persons List", "drop of csl:Foreign Sanctions Evaders"}
    assert set(small_store.load()) == {DPL_KEY}


def test_an_override_must_name_a_list_of_the_import(small_store, tmp_path, csl_file):
    with pytest.raises(ListDataError, match=r"--allow-shrink 'Denied Person List': .*no such list"):
        small_store.import_file(csl_subset(csl_file, tmp_path / "same.csv", DPL, FSE),
                                allow_shrink=["Denied Person List"])


def test_cli_overrides_per_guard_and_force_for_all(small_store, tmp_path, csl_file):
    runner = CliRunner()
    cut_and_dropped = dpl_rows_removed(csl_file, tmp_path / "no_fse.csv", 0.20)
    store = ["-o", str(small_store.path)]
    result = runner.invoke(main, ["lists", "import", str(cut_and_dropped), *store, "--allow-drop", FSE_KEY])
    assert result.exit_code == 2 and "--allow-shrink" in result.output
    copy = tmp_path / "copy"
    shutil.copytree(small_store.path, copy)
    result = runner.invoke(main, ["lists", "import", str(cut_and_dropped), "-o", str(copy), "--force"])
    assert result.exit_code == 0 and "[forced]" in result.output
    result = runner.invoke(main, ["lists", "import", str(cut_and_dropped), *store, "--allow-drop", FSE_KEY,
                                  "--allow-shrink", "Denied Persons List"])
    assert result.exit_code == 0 and "overridden: shrink of csl:Denied Persons List" in result.output
    assert leftovers(small_store.path) == [] and status(small_store.path).exit_code == 0


def test_a_gzipped_import_leaves_no_leftovers(small_store, tmp_path, csl_file):
    packed = tmp_path / "more.csv.gz"
    packed.write_bytes(gzip.compress(csl_subset(csl_file, tmp_path / "m.csv", DPL, FSE, ITAR).read_bytes()))
    small_store.import_file(packed)
    assert leftovers(small_store.path) == [] and small_store.verify() == {}
