"""What a rule pack may ask of the process: every limit refused at load with its file and line
(exit 2), on both sides of each threshold, and never a hang, a crash or memory exhausted.

Inputs are sized so that the code before each limit took minutes (or forever): a test that
returns at all proves the refusal comes first.
"""
import textwrap

import orjson
import pytest
from click.testing import CliRunner
from conftest import order

from cli import main
from controls import Engine, RuleError
from controls.errors import InputError
from controls.rulebook import bundle

BUNDLE = "name: test-bundle\nversion: 2026.1.0\n"

RULE = """\
rules:
  - id: test.rule
    title: a test rule
    citation: 15 CFR 742.6
    effective: {from: 2020-01-01}
    when:
      WHEN
    then: {decision: HOLD}
"""


def pack(path, text: str, name: str = "rules.yaml"):
    path.mkdir(parents=True, exist_ok=True)
    (path / "bundle.yaml").write_text(BUNDLE)
    (path / name).write_text(textwrap.dedent(text))
    return path


def problems(path, text):
    with pytest.raises(RuleError) as info:
        Engine.load(pack(path, text), path / "no-lists")
    return info.value.problems


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


# --- numbers: bounded as an order's (item 2) ----------------------------------------------------------

@pytest.mark.parametrize("number, why", [
    ("1e999999999", "larger than 10^15"), ("1e-999999999", "more than 20 decimal places"),
    ("1000000000000001", "larger than 10^15"), ("1e16", "larger than 10^15"),
    ("0.000000000000000000001", "more than 20 decimal places"),
])
def test_a_number_out_of_range_is_refused_with_file_and_line(tmp_path, number, why):
    [p] = problems(tmp_path, RULE.replace("WHEN", f"item.chip.tpp: {{gte: {number}}}"))
    assert p.file.endswith("rules.yaml") and p.line == 7 and "out of range" in p.message and why in p.message


@pytest.mark.parametrize("number", ["1e15", "1000000000000000", "0.00000000000000000001",
                                    "1.000000000000000000000000", "0"])
def test_a_number_within_range_loads(tmp_path, number):
    Engine.load(pack(tmp_path, RULE.replace("WHEN", f"item.chip.tpp: {{gte: {number}}}")), tmp_path / "no-lists")


def test_a_huge_number_is_refused_by_every_command_that_reads_the_pack(tmp_path):
    path = pack(tmp_path / "p", RULE.replace("WHEN", "item.chip.tpp: {gte: 1e999999999}")
                + "cases:\n  - name: c\n    transaction: {id: A, date: 2026-01-01, export_from: US, destination: DE, "
                  "items: [{sku: X, quantity: 1, origin: US, chip: {tpp: 5}}]}\n    expect: NLR\n")
    orders = tmp_path / "o.json"
    orders.write_text(orjson.dumps(order(parties=[])).decode())
    for args in (["rules", "validate", path], ["rules", "lint", path], ["rules", "test", path],
                 ["check", orders, "--rules", path]):
        result = cli(*args)
        assert result.exit_code == 2 and "rules.yaml:7:" in result.output and "out of range" in result.output, args


def test_a_forged_bundle_with_a_huge_number_is_refused(tmp_path):
    path = pack(tmp_path / "p", RULE.replace("WHEN", "item.chip.tpp: {gte: 4800}"))
    built = tmp_path / "b.json"
    assert cli("rules", "build", path, "-o", built).exit_code == 0
    document = orjson.loads(built.read_bytes())
    document["body"]["rules"][0]["when"]["$leaf"][2] = {"$decimal": "1e999999999"}
    document["header"]["content_digest"] = bundle._digest(document["body"])
    built.write_bytes(orjson.dumps(document))
    with pytest.raises(InputError, match="out of range"):
        Engine.load(built, tmp_path / "no-lists")
