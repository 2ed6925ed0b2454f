"""The readable report: words an analyst writes, never Python's or the engine's; colour only on a terminal."""
import re

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, order

from cli import main
from controls import words
from controls.engine.explain import _describe, read_reason
from controls.facts.catalog import LINE_FIELDS, PARTY_FIELDS
from controls.models import Transaction
from controls.report import render
from controls.rulebook.conditions import Leaf

EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
REPR = re.compile(r"\('|\['|\bNone\b|\bTrue\b|\bFalse\b|\(in \[|because [a-z_]+\.[a-z_]")


@pytest.fixture(autouse=True)
def _imported_lists(cli_lists):
    """The command line screens against the lists the tests imported."""


def run(*args):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("command", [["check"], ["check", "--explain"], ["explain"]])
def test_reports_of_every_example_have_no_python_reprs_or_engine_jargon(example, command):
    output = run(*command, str(example)).output
    assert output and not REPR.search(output), REPR.search(output)
    assert not re.search(r"\bitem\.[a-z_.]+\b", output.replace("[rule ", "")), "a raw fact name"


def test_entity_list_finding_reads_as_a_sentence():
    output = run("check", str(REPO / "examples" / "fdp-footnote-1-chip.yaml")).output
    assert ("The end user is on the Entity List (footnotes 1 and 2): a licence is required (15 CFR 744.11"
            in output)
    assert "review policy: presumption of denial" in output
    assert "entry \u201cHuawei Technologies Co., Ltd.\u201d" in output


def test_each_party_shows_the_lists_and_editions_screened_and_the_result():
    output = run("check", str(REPO / "examples" / "order.yaml")).output
    assert "End user: Example Cloud Computing Co., Ltd., China (CN)" in output
    assert re.search(r"screened against \d+ lists: .*Entity List.*\(edition", output)
    assert "result: no match on any list, no finding" in output


def test_a_party_screened_against_nothing_says_why_without_guessing(tmp_path, monkeypatch):
    """A store that cannot be used is not a store with nothing imported: the report points to the warning that
    says which (it said "no restricted-party lists are imported" for a damaged store too)."""
    store = tmp_path / "lists"
    store.mkdir()
    (store / "manifest.json").write_text("{not json")
    monkeypatch.setenv("CHIPGATE_LISTS", str(store))
    output = run("check", str(REPO / "examples" / "order.yaml")).output
    assert "not screened: no restricted-party list could be used (none imported, or the store is damaged" in output
    assert "manifest" in output and "no restricted-party lists are imported" not in output


def test_each_line_shows_its_chain():
    output = run("check", str(REPO / "examples" / "order.yaml")).output
    line0 = output.split("Line 0:")[1].split("Line 1:")[0]
    assert "ACC-100, AI accelerator, H100 class; 8 at USD 25,000 each - LICENSE_REQUIRED" in line0
    assert "Classification: 3A090.a" in line0 and "15 CFR 774 Supp. 1, ECCN 3A090.a" in line0
    assert "Subject to the EAR: yes, U.S.-origin item" in line0 and "15 CFR 734.3(a)(2)" in line0
    assert "15 CFR 742.6(a)(6)(iii)(A)" in line0
    assert "the destination is China (CN), in Macau or a destination specified in Country Group D:5" in line0


def test_values_as_an_analyst_writes_them():
    assert words.reason("item.us_content_pct = 20 (<= 25)") == \
        "the controlled U.S.-origin content share is 20 %, at most 25 %"
    assert words.reason("item.eccn missing") == "the item has no ECCN"
    assert words.reason("item.direct_product_of = ('3E001', '4E001') (in ['3E001'])") == \
        "the U.S. technology or software it is a direct product of: 3E001 and 4E001, in 3E001"
    assert words.value("item.unit_value", "25000") == "USD 25,000"
    assert words.value("end_uses", ["advanced_node_ic_production", "civil"]) == \
        "IC production at an advanced-node facility and a civil end use"
    assert words.reason("item.chip.dram_bandwidth missing, so not (item.chip.dram_bandwidth < 6500)") == \
        "the total DRAM bandwidth is not given, so it could not be shown to be under 6,500 GB/s"


def test_every_fact_of_the_catalogue_has_words():
    assert set(LINE_FIELDS) | set(PARTY_FIELDS) <= set(words.LABELS)


@pytest.mark.parametrize("leaf, value, negate", [
    (Leaf("item.origin", "ne", "US"), "KR", False),
    (Leaf("export_from", "eq", "US"), "TW", True),
    (Leaf("item.direct_product_of", "in", "fdp-cat345-technology"), ["3E001"], False),
    (Leaf("end_uses", "in", frozenset({"military"})), None, True),
    (Leaf("item.eccn", "exists", False), None, False),
    (Leaf("destination", "in", "macau-or-d5"), "DE", True),
])
def test_a_reason_reads_back_into_its_parts(leaf, value, negate):
    text = _describe(leaf, value, negate)
    parts = read_reason(text)
    assert parts is not None and parts.field == leaf.field


def test_colour_only_on_a_terminal(engine):
    txn = Transaction.model_validate(order("CN", eccn="3A090.a"))
    result = engine.check(txn)
    assert "\x1b[" in render(result, order=txn, colour=True)
    assert "\x1b[" not in render(result, order=txn, colour=False)
    assert "\x1b[" not in run("check", str(REPO / "examples" / "order.yaml")).output  # piped


def test_report_without_the_order_still_reads(engine, tmp_path):
    result = engine.check(order("CN", eccn="3A090.a"))
    text = render(result)
    assert "End user: (name not in the determination)" in text or "none given" in text
    assert not REPR.search(text)


def test_json_is_unchanged_by_the_report(tmp_path):
    path = tmp_path / "o.yaml"
    path.write_text(yaml.safe_dump(order("CN", eccn="3A090.a")))
    out = run("check", str(path), "--format", "json").output
    assert '"because"' in out and "item.eccn = 3A090.a" in out
