"""Findings the engine makes itself (rules that disagree, an ECCN read as its paragraphs, no rule in
force) name rules that are not in the bundle: every output that looks a finding's rule up renders them."""
import json
import shutil
import textwrap

import pytest
from click.testing import CliRunner
from conftest import REPO, order

from cli import main
from controls import Decision, Engine, Transaction, memo
from controls.batch import run_batch
from controls.engine.chain import chains
from controls.models import Derivation, Finding
from controls.report import render
from controls.words import Glossary
from tests.service_server import served

SYNTHETIC = "chipgate.synthetic-test"
CONFLICT = "chipgate.conflicting-derivation"
CONFLICTING_CLASSIFIERS = """\
rules:
  - id: test.a
    title: says a
    citation: none
    effective: {from: 2020-01-01}
    when: {item.chip.tpp: {gte: 100}}
    then: {derive: {item.eccn: 3A090.a}}
  - id: test.b
    title: says b
    citation: none
    effective: {from: 2020-01-01}
    when: {item.chip.tpp: {gte: 100}}
    then: {derive: {item.eccn: 3A090.b}}
"""


def foreign_made() -> Transaction:
    """A line made and shipped abroad, so that the explanation chain has something to say."""
    data = order("CN", eccn="3A090.a", parties=[{"role": "end_user", "name": "Example Customer Ltd", "country": "CN"}])
    data["export_from"] = "TW"
    data["items"][0]["origin"] = "TW"
    return Transaction.model_validate(data)


@pytest.fixture(scope="module")
def synthetic(engine):
    """A real determination with a finding, an exception and a derivation of rules the bundle lacks."""
    txn = foreign_made()
    result = engine.check(txn)
    result.findings += [
        Finding(rule=SYNTHETIC, citation="chipgate rule bundle", effect=Decision.HOLD, line=0, party="end_user",
                title="", message="made by the engine", because=["no rule said so"], overcome_by="chipgate.nothing"),
        Finding(rule="chipgate.synthetic-exception", citation="chipgate rule bundle",
                effect=Decision.LICENSE_EXCEPTION, line=0, license_exception="XYZ", message="an exception"),
    ]
    result.lines[0].derived.append(Derivation(rule=SYNTHETIC, citation="chipgate rule bundle",
                                              facts={"item.eccn": "3A090.a"}, because=["read so"]))
    return txn, result


def test_report_and_chain_render_a_finding_of_no_rule(engine, synthetic):
    txn, result = synthetic
    for explain in (False, True):
        text = render(result, explain, txn, Glossary.of(engine), False, chains(engine, txn, result))
        assert "made by the engine" in text
    assert SYNTHETIC in render(result, True, txn, Glossary.of(engine), False, chains(engine, txn, result))


def test_memo_renders_a_finding_of_no_rule(engine, synthetic):
    txn, result = synthetic
    memos = [memo.Memo(txn, result, chains(engine, txn, result))]
    assert "made by the engine" in memo.markdown(memos, Glossary.of(engine))
    assert "made by the engine" in memo.html_document(memos, Glossary.of(engine))


def test_json_carries_a_finding_of_no_rule(synthetic):
    """Batch results and service answers are the determination's JSON."""
    _, result = synthetic
    assert SYNTHETIC in {f["rule"] for f in json.loads(result.model_dump_json())["findings"]}


@pytest.fixture(scope="module")
def conflicting(tmp_path_factory):
    """A rule pack whose two classifiers disagree: every check of a chip makes a conflict finding."""
    path = tmp_path_factory.mktemp("conflict")
    (path / "bundle.yaml").write_text("name: test-bundle\nversion: 2026.1.0\n")
    shutil.copytree(REPO / "rules" / "sets", path / "sets")
    (path / "rules.yaml").write_text(textwrap.dedent(CONFLICTING_CLASSIFIERS))
    return path


def chip_order() -> dict:
    data = order("CN", chip={"tpp": 5000})
    data["export_from"], data["items"][0]["origin"] = "TW", "TW"  # foreign-made: the chain runs too
    return data


def test_classify_with_disagreeing_classifiers_says_why_and_gives_no_eccn(conflicting):
    result = Engine.load(conflicting).classify({"tpp": 5000})
    assert result.eccn is None and "rules disagree" in result.missing
    run = CliRunner().invoke(main, ["classify", "--tpp", "5000", "--rules", str(conflicting)])
    assert run.exit_code == 5 and "internal error" not in run.output  # HOLD: no classification to rely on
    assert "the rules conflict" in run.output and "rules disagree" in run.output


@pytest.mark.parametrize("command", [["check", "--explain"], ["explain", "--format", "md"],
                                     ["explain", "--format", "html"], ["check", "--format", "json"]])
def test_cli_outputs_render_a_conflict(conflicting, tmp_path, command):
    path = tmp_path / "order.json"
    path.write_text(json.dumps(chip_order()))
    run = CliRunner().invoke(main, [*command, str(path), "--rules", str(conflicting), "--lists", str(tmp_path)])
    assert run.exit_code == 5 and "internal error" not in run.output, run.output  # HOLD
    assert "rules disagree" in run.output


def test_batch_writes_a_conflict(conflicting, tmp_path):
    source, out = tmp_path / "orders.jsonl", tmp_path / "results.jsonl"
    source.write_text(json.dumps(chip_order()) + "\n")
    run_batch(Engine.load(conflicting, tmp_path), source, out)
    assert CONFLICT in {f["rule"] for f in json.loads(out.read_text().splitlines()[0])["findings"]}


def test_service_answers_a_conflict(conflicting, tmp_path):
    import httpx

    with served("--rules", str(conflicting), "--lists", str(tmp_path)) as (url, _):
        response = httpx.post(f"{url}/v1/check", json=chip_order(), timeout=60)
    assert response.status_code == 200
    assert CONFLICT in {f["rule"] for f in response.json()["findings"]}
