"""``chipgate check`` starts fast: it imports what a check needs, and reads its rules and screening index
from caches that load in parts.  What it must not import is named here; time is not measured (the
bench does that: bench/check_bench.py's process start)."""
import os
import subprocess
import sys

from conftest import REPO

# what other commands use: the service, batches and their progress bar, the audit trail, memos, rule
# authoring, the eCFR cell splitter; and pycountry, which reads printed country names (its codes and
# names a check needs are in controls/iso3166.py)
NOT_FOR_A_CHECK = ("fastapi", "uvicorn", "starlette", "jinja2", "dask", "distributed", "tqdm", "sqlite3",
                   "controls.service", "controls.batch", "controls.audit", "controls.memo",
                   "controls.engine.authoring", "controls.rulebook.lint", "controls.lists._cells", "pycountry")


def _imported(args: list[str], lists) -> set[str]:
    env = dict(os.environ, CHIPGATE_LISTS=str(lists))
    done = subprocess.run([sys.executable, "-X", "importtime", "cli.py", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 3, 4, 5), done.stderr[-2000:]
    return {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def test_a_check_imports_none_of_the_other_commands_modules(list_store):
    # the first check on a store builds its screening index (reading printed country names, with pycountry);
    # the checks after it read the index: those are the checks measured here, whichever test came first
    _imported(["check", "examples/order.yaml"], list_store)
    imported = _imported(["check", "examples/order.yaml"], list_store)
    assert "controls.screening.index" in imported  # the parties were screened
    assert not {m for m in imported for banned in NOT_FOR_A_CHECK if m == banned or m.startswith(banned + ".")}


def test_a_check_screens_against_the_cached_index_as_against_a_fresh_one(list_store, tmp_path):
    """The second process reads the index the first one built: both answer alike."""
    env = dict(os.environ, CHIPGATE_LISTS=str(list_store))
    answers = [subprocess.run([sys.executable, "cli.py", "check", "--format", "json", "examples/possible-match.yaml"],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=300) for _ in range(2)]
    assert answers[0].returncode == answers[1].returncode == 5
    assert answers[0].stdout == answers[1].stdout
