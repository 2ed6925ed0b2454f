"""A rule directory's compiled bundle is cached: the second process start reads no YAML, and the cache
never answers for rules or code other than those it was built from."""
import shutil

import pytest
from conftest import REPO, order

from controls import Engine
from controls.rulebook import cache


@pytest.fixture
def pack(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIPGATE_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "rules"
    shutil.copytree(REPO / "rules", root, ignore=shutil.ignore_patterns("lists"))
    return root


def _no_yaml(monkeypatch):
    def refuse(root):
        raise AssertionError(f"{root} read from YAML")
    monkeypatch.setattr(cache, "load_rulebook", refuse)


def test_the_second_load_reads_the_cached_bundle_and_judges_alike(pack, tmp_path, monkeypatch):
    first = Engine.load(pack, lists=tmp_path / "no-lists")
    _no_yaml(monkeypatch)
    second = Engine.load(pack, lists=tmp_path / "no-lists")
    assert second.ruleset == first.ruleset and second.rulebook.root == pack
    txn = order(eccn="3A090.a")
    assert second.check(txn).model_dump() == first.check(txn).model_dump()


def test_an_edited_rule_file_is_read_again(pack, tmp_path, monkeypatch):
    before = Engine.load(pack, lists=tmp_path / "no-lists")
    meta = pack / "bundle.yaml"
    meta.write_text(meta.read_text().replace("version:", "# edited\nversion:", 1))
    calls = []
    real = cache.load_rulebook
    monkeypatch.setattr(cache, "load_rulebook", lambda root: calls.append(root) or real(root))
    after = Engine.load(pack, lists=tmp_path / "no-lists")
    assert calls == [pack] and after.ruleset == before.ruleset  # a comment: read again, same rules


def test_a_damaged_cached_bundle_is_built_again(pack, tmp_path):
    Engine.load(pack, lists=tmp_path / "no-lists")
    [cached] = (tmp_path / "cache" / "bundles").glob("*.pickle")
    cached.write_bytes(cached.read_bytes()[:1000])
    engine = Engine.load(pack, lists=tmp_path / "no-lists")
    assert len(engine.rules) > 100 and len(cached.read_bytes()) > 1000


def test_an_altered_cached_bundle_is_not_read(pack, tmp_path, monkeypatch):
    """A byte changed inside the pickle, its length kept: the sha256 in the first line tells, and the
    YAML is read again."""
    first = Engine.load(pack, lists=tmp_path / "no-lists")
    [cached] = (tmp_path / "cache" / "bundles").glob("*.pickle")
    data = bytearray(cached.read_bytes())
    data[len(data) // 2] ^= 0x01
    cached.write_bytes(bytes(data))
    calls = []
    real = cache.load_rulebook
    monkeypatch.setattr(cache, "load_rulebook", lambda root: calls.append(root) or real(root))
    again = Engine.load(pack, lists=tmp_path / "no-lists")
    assert calls == [pack] and again.ruleset == first.ruleset


def test_an_unwritable_cache_is_not_kept(pack, tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("CHIPGATE_CACHE", str(blocked))
    assert len(Engine.load(pack, lists=tmp_path / "no-lists").rules) > 100
