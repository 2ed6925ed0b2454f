import copy
import datetime as dt
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from controls import Engine, RuleError
from controls.lists.store import ListStore

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CHIPGATE_SHARED_DATA", REPO.parent / "shared" / "data"))
ECFR_FILE = DATA / "bis_entity_list" / "ecfr_title15_part744_2026-07-23.xml.gz"
CSL_FILE = DATA / "csl" / "consolidated_screening_list_2022-04_watchman.csv.gz"


@pytest.fixture(scope="session", autouse=True)
def rule_cache(tmp_path_factory) -> Path:
    """Compiled rule bundles are cached in a folder of the test run's own, not the user's cache."""
    path = tmp_path_factory.mktemp("cache")
    os.environ["CHIPGATE_CACHE"] = str(path)  # the CLI's subprocesses inherit it
    return path


@pytest.fixture(scope="session", autouse=True)
def audit_default(tmp_path_factory) -> Path:
    """The audit database a batch or the service records in by default: the tests' own, never the user's."""
    path = tmp_path_factory.mktemp("audit") / "audit.sqlite"
    os.environ["CHIPGATE_AUDIT"] = str(path)
    return path


@pytest.fixture(scope="session")
def list_store(tmp_path_factory) -> Path:
    """The real published lists, imported with chipgate's own importer into a fresh store."""
    path = tmp_path_factory.mktemp("lists")
    store = ListStore(path)
    store.import_file(ECFR_FILE)
    store.import_file(CSL_FILE)
    return path


@pytest.fixture(scope="session")
def engine(list_store) -> Engine:
    """The real engine on the real bundled rules and the real lists."""
    return Engine.load(lists=list_store)


@pytest.fixture
def cli_lists(list_store, monkeypatch):
    """Point the command line at the imported lists."""
    monkeypatch.setenv("CHIPGATE_LISTS", str(list_store))
    return list_store


def order(destination="CN", date="2026-11-28", parties=None, **item) -> dict:
    """A one-line U.S.-origin order to an unlisted customer; keyword arguments fill in the item."""
    line = {"sku": "X-1", "quantity": 1, "origin": "US"}
    line.update(item)
    if parties is None:
        parties = [{"role": "end_user", "name": "Example Customer Ltd", "country": destination}]
    return {"id": "T-1", "date": date, "export_from": "US", "destination": destination,
            "parties": list(parties), "items": [line]}


def chip(**parameters) -> dict:
    return {"chip": parameters}


def remembering(engine: Engine, size: int = 16384) -> Engine:
    """``engine`` (its network shared) with a memory of lines of its own, empty; ``size=0``: none, so
    that every line goes to the rule network."""
    from controls.engine.memo import FiringMemo

    other = copy.copy(engine)
    other._memo = FiringMemo(engine._compiled.network, size)
    return other


def fired(result, jurisdiction: str | None = "US-EAR") -> set[str]:
    """The rules behind the enforced findings of one jurisdiction (the EAR by default; None: all)."""
    return {f.rule for f in result.findings if f.enforced and jurisdiction in (None, f.jurisdiction)}


def on(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


TEST_BUNDLE = "name: test-bundle\nversion: 2026.1.0\n"


def rule_pack(directory: Path, rules_yaml: str, *, sets: bool = False, name: str = "rules.yaml") -> Path:
    """A rule directory for one test: a bundle file, ``rules_yaml`` (dedented) as ``name`` and, with
    ``sets``, the bundled rules' sets (country groups, ECCN lists) that real rules name."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "bundle.yaml").write_text(TEST_BUNDLE)
    if sets:
        shutil.copytree(REPO / "rules" / "sets", directory / "sets")
    (directory / name).write_text(textwrap.dedent(rules_yaml))
    return directory


def rule_problems(directory: Path, rules_yaml: str, **options) -> list:
    """The problems loading ``rule_pack(directory, rules_yaml, **options)`` reports (it must fail); no list
    store is read."""
    with pytest.raises(RuleError) as info:
        Engine.load(rule_pack(directory, rules_yaml, **options), directory / "no-lists")
    return info.value.problems
