"""Bundle files (chipgate rules build): the same determinations as the YAML, and a clear refusal of
any file that is not an intact bundle of this format."""
import json
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from conftest import REPO

from cli import main
from controls import Engine
from controls.errors import InputError
from controls.rulebook import bundle

sys.path.insert(0, str(REPO / "bench"))
from corpus import corpus  # noqa: E402


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("bundle") / "rules.bundle.json"
    result = CliRunner().invoke(main, ["rules", "build", str(REPO / "rules"), "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_the_header_names_format_version_digest_and_sources(built, engine):
    header = json.loads(built.read_text())["header"]
    assert header["format"] == "chipgate-bundle" and header["format_version"] == bundle.FORMAT_VERSION
    assert header["digest"] == engine.ruleset.digest  # the digest determinations report for the YAML
    assert header["version"] == engine.ruleset.version and header["built"].endswith("Z")
    assert "bundle.yaml" in header["sources"] and "ear/fdp.yaml" in header["sources"]
    assert all(d.startswith("sha256:") for d in header["sources"].values())


def test_determinations_from_the_bundle_equal_those_from_the_yaml(built, engine, list_store):
    from_bundle = Engine.from_bundle(built, lists=list_store)
    assert from_bundle.ruleset == engine.ruleset
    for order in corpus(300, seed=7):
        assert from_bundle.check(order).model_dump(mode="json") == engine.check(order).model_dump(mode="json"), \
            order["id"]


def test_the_cases_travel_in_the_bundle(built):
    book = Engine.load(built).rulebook
    assert len(book.cases) == len(Engine.load().rulebook.cases) and book.case_lines[0] is not None


def test_the_cli_takes_a_bundle_wherever_it_takes_rules(built, tmp_path, monkeypatch):
    monkeypatch.setenv("CHIPGATE_LISTS", str(tmp_path / "no-lists"))  # each engine opens no lists: a light test
    order = str(REPO / "examples" / "order.yaml")
    by_yaml = CliRunner().invoke(main, ["check", order, "--format", "json"])
    by_bundle = CliRunner().invoke(main, ["check", order, "--format", "json", "--rules", str(built)])
    assert by_bundle.exit_code == by_yaml.exit_code and by_bundle.output == by_yaml.output
    validated = CliRunner().invoke(main, ["rules", "validate", str(built)])
    assert validated.exit_code == 0 and "chipgate-default" in validated.output
    status = CliRunner().invoke(main, ["rules", "status", str(built), "--as-of", "2026-11-01"])
    assert status.exit_code == 0 and status.output.startswith("chipgate-default")
    classified = CliRunner().invoke(main, ["classify", "--tpp", "4800", "--density", "6", "--datacenter",
                                           "--rules", str(built)])
    assert classified.exit_code == 0 and classified.output.startswith("3A090.a")


def test_a_reloaded_bundle_engine_reads_the_bundle_again(built, tmp_path):
    first = Engine.load(built, tmp_path / "no-lists")
    assert first.reload().ruleset == first.ruleset


def _rewrite(source, target, change):
    document = orjson.loads(source.read_bytes())
    change(document)
    target.write_bytes(orjson.dumps(document))
    return target


def _reseal(document):  # a careless edit that recomputes the content digest, not the rules' digest
    document["header"]["content_digest"] = bundle._digest(document["body"])


def _retitle(document):
    document["body"]["rules"][0]["rule"]["title"] = "edited by hand"


BROKEN = {
    "truncated": (lambda src, dst: dst.write_bytes(src.read_bytes()[:5000]), "not JSON"),
    "not-json": (lambda src, dst: dst.write_text("rules: [1, 2]\n"), "not JSON"),
    "no-header": (lambda src, dst: dst.write_text('{"rules": []}'), "not a chipgate bundle"),
    "wrong-version": (lambda src, dst: _rewrite(src, dst, lambda d: d["header"].update(format_version=99)),
                      "bundle format version 99"),
    "tampered": (lambda src, dst: _rewrite(src, dst, _retitle), "does not match its content_digest"),
    "tampered-and-resealed": (lambda src, dst: _rewrite(src, dst, lambda d: (_retitle(d), _reseal(d))),
                              "do not match the bundle's digest"),
    "malformed": (lambda src, dst: _rewrite(src, dst, lambda d: (d["body"].pop("sets"), _reseal(d))),
                  "malformed bundle body"),
    "other-network": (lambda src, dst: _rewrite(src, dst, lambda d: (d["body"]["network"].popitem(), _reseal(d))),
                      "compiles the bundle's rules differently"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_damaged_bundle_is_bad_input_naming_the_file(built, tmp_path, kind):
    damage, message = BROKEN[kind]
    path = tmp_path / f"{kind}.json"
    damage(built, path)
    with pytest.raises(InputError, match=message):
        Engine.load(path)
    result = CliRunner().invoke(main, ["check", str(REPO / "examples" / "order.yaml"), "--rules", str(path)])
    assert result.exit_code == 2 and f"error: {path}: " in result.output and "Traceback" not in result.output


def test_a_bundle_that_is_no_regular_file_or_too_large_is_refused_unread(built, tmp_path, monkeypatch):
    """A FIFO given as --rules blocked for ever, /dev/zero never ended (read whole before parsing)."""
    import os

    from controls.rulebook import bundle
    fifo = tmp_path / "bundle.json"
    os.mkfifo(fifo)
    for path, says in ((fifo, "a FIFO, not a regular file: not read"),
                       (Path("/dev/zero"), "a character device, not a regular file: not read")):
        result = CliRunner().invoke(main, ["check", str(REPO / "examples" / "order.yaml"), "--rules", str(path)])
        assert result.exit_code == 2 and f"error: {path}: cannot read the bundle: {says}" in result.output
    monkeypatch.setattr(bundle, "MAX_BUNDLE_BYTES", built.stat().st_size)
    assert Engine.load(built).rules  # at the cap
    monkeypatch.setattr(bundle, "MAX_BUNDLE_BYTES", built.stat().st_size - 1)
    with pytest.raises(InputError, match=f"more than the {built.stat().st_size - 1:,} a bundle may have"):
        Engine.load(built)


def test_from_bundle_refuses_a_directory():
    with pytest.raises(InputError, match="not a bundle file"):
        Engine.from_bundle(REPO / "rules")
