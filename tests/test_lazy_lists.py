"""Work on the rules alone (validate, lint, cases that stub screening) neither needs nor reads the list
store: a corrupt one is no obstacle, and is reported only where parties are screened."""
import pytest
from click.testing import CliRunner
from conftest import REPO, order

from cli import main
from controls import Engine
from controls.lists.store import MANIFEST, ListStore


@pytest.fixture
def corrupt_store(tmp_path, monkeypatch):
    """CHIPGATE_LISTS names a store whose manifest is not JSON; every read of a manifest is recorded."""
    (tmp_path / MANIFEST).write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("CHIPGATE_LISTS", str(tmp_path))
    reads = []
    read = ListStore._manifest
    monkeypatch.setattr(ListStore, "_manifest", lambda store: reads.append(store.path) or read(store))
    return reads


@pytest.mark.parametrize("command", [["rules", "validate"], ["rules", "lint"], ["rules", "test"]])
def test_rule_commands_do_not_read_the_list_store(corrupt_store, command):
    run = CliRunner().invoke(main, [*command, str(REPO / "rules")])
    assert run.exit_code == 0, run.output
    assert corrupt_store == []


def test_cases_that_stub_screening_do_not_open_the_store(corrupt_store):
    engine = Engine.load()
    assert all(outcome.passed for outcome in engine.run_cases())
    assert corrupt_store == []


def test_a_check_opens_the_store_and_says_it_cannot_be_used(corrupt_store):
    result = Engine.load().check(order("DE"))
    assert corrupt_store
    assert any("the list store cannot be used" in w for w in result.warnings)
