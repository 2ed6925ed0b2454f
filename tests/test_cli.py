"""The chipgate command line, through click's runner: output, exit codes, bad input."""
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, order

from cli import main

EXAMPLE = str(REPO / "examples" / "order.yaml")


@pytest.fixture(autouse=True)
def _imported_lists(cli_lists):
    """Every command screens against the lists the tests imported, never whatever a local store holds."""


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def write(tmp_path, data, name="order.yaml"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return str(path)


def test_check_example_text_report(tmp_path):
    result = run("check", EXAMPLE)
    assert result.exit_code == 3
    assert "SO-1001: LICENSE_REQUIRED" in result.output
    assert "15 CFR 742.6(a)(6)(iii)(A)" in result.output and "3A090.a" in result.output


def test_check_json_follows_the_contract():
    result = run("check", EXAMPLE, "--format", "json")
    data = json.loads(result.output)
    assert {"transaction_id", "decision", "as_of", "ruleset", "lines", "findings"} <= set(data)
    assert data["ruleset"]["digest"].startswith("sha256:")
    assert {"line", "sku", "eccn", "subject_to_ear", "basis", "decision", "license_exception"} <= set(data["lines"][0])
    assert {"rule", "citation", "effect", "line", "party", "review_policy", "message"} <= set(data["findings"][0])


@pytest.mark.parametrize("destination, code", [("DE", 0), ("CN", 3), ("KP", 4)])
def test_exit_codes(tmp_path, destination, code):
    assert run("check", write(tmp_path, order(destination, eccn="3A090.a"))).exit_code == code


def test_hold_exit_code(tmp_path):
    assert run("check", write(tmp_path, order("CN"))).exit_code == 5


def test_as_of(tmp_path):
    path = write(tmp_path, order("CN", eccn="3A090.c", date="2026-11-28"))
    assert run("check", path).exit_code == 3
    # 3A090.c did not exist on 2024-06-01: the bundle decides nothing for it then
    assert run("check", path, "--as-of", "2024-06-01").exit_code == 5


def test_unknown_country_code_is_exit_2_naming_the_field(tmp_path):
    result = run("check", write(tmp_path, order("XX", eccn="3A090.a")))
    assert result.exit_code == 2
    assert "destination" in result.output and "'XX'" in result.output
    assert "order.yaml:" in result.output


def test_negative_quantity_is_exit_2_naming_field_and_line(tmp_path):
    result = run("check", write(tmp_path, order("CN", eccn="3A090.a", quantity=-5)))
    assert result.exit_code == 2
    assert "items.0.quantity" in result.output and "greater than or equal to 0" in result.output
    assert "LICENSE_REQUIRED" not in result.output  # nothing partial reported


def test_unknown_field_and_malformed_eccn(tmp_path):
    data = order("CN", eccn="3A09.a")
    data["destinaton"] = "CN"
    result = run("check", write(tmp_path, data))
    assert result.exit_code == 2
    assert "unknown field 'destinaton'" in result.output and "malformed ECCN" in result.output


def test_malformed_yaml_order_is_exit_2(tmp_path):
    result = run("check", write(tmp_path, "id: SO-1\nitems: [\n"))
    assert result.exit_code == 2 and "malformed YAML" in result.output


def test_missing_file_is_exit_2():
    assert run("check", "/nonexistent/order.yaml").exit_code == 2


def test_batch_exit_code_is_the_most_restrictive(tmp_path):
    path = write(tmp_path, [order("DE", eccn="3A090.a") | {"id": "A"}, order("KP", eccn="EAR99") | {"id": "B"}])
    result = run("check", path, "--format", "json")
    assert result.exit_code == 4
    assert [d["decision"] for d in json.loads(result.output)] == ["NLR", "PROHIBITED"]


def test_one_bad_order_in_a_batch_rejects_the_batch(tmp_path):
    path = write(tmp_path, [order("DE") | {"id": "A"}, order("XX") | {"id": "B"}])
    result = run("check", path)
    assert result.exit_code == 2 and "transaction B" in result.output and "A:" not in result.output


def test_stdin(tmp_path):
    result = run("check", "-", "--format", "json", input=json.dumps(order("DE", eccn="EAR99")))
    assert result.exit_code == 0 and json.loads(result.output)["decision"] == "NLR"


def test_rules_validate_reports_file_and_line(tmp_path):
    (tmp_path / "bundle.yaml").write_text("name: t\nversion: 2026.1.0\n")
    (tmp_path / "bad.yaml").write_text(
        "rules:\n  - id: t.r\n    title: bad rule\n    citation: none\n    effective: {from: 2020-01-01}\n"
        "    when: {item.chip.tpp: {greater: 1}}\n    then: {decision: HOLD}\n")
    result = run("rules", "validate", str(tmp_path))
    assert result.exit_code == 2
    assert "bad.yaml:6:" in result.output and "unknown operator 'greater'" in result.output


def test_rules_validate_and_test_on_bundled_rules(cli_lists):
    assert run("rules", "validate").exit_code == 0
    result = run("rules", "test")
    assert result.exit_code == 0 and "0 failed" in result.output


def test_classify():
    result = run("classify", "--tpp", "4800", "--density", "2", "--datacenter", "--date", "2026-01-01")
    assert result.exit_code == 0 and result.output.startswith("3A090.a")
    assert json.loads(run("classify", "--mbd", "2.5", "--format", "json").output)["eccn"] == "3A090.c"


def test_explain_shows_derivations():
    result = run("explain", EXAMPLE)
    assert "ear.3a090.a.classify" in result.output
    assert "the total processing performance (TPP) is 15,832, at least 4,800" in result.output


def changed_tiers(tmp_path, edit) -> Path:
    """A copy of the bundled rules with the 3A090 tier table of classification.yaml edited."""
    import shutil
    changed = tmp_path / "rules"
    shutil.copytree(REPO / "rules", changed, ignore=shutil.ignore_patterns("lists"))
    path = changed / "ear" / "classification.yaml"
    text = path.read_text()
    start, end = text.index("tables:"), text.index("\ncases:")
    path.write_text(text[:start] + edit(text[start:end]) + text[end:])
    return changed


def test_a_tier_change_that_leaves_a_gap_is_refused_with_an_example(tmp_path, cli_lists):
    # raising the .a threshold without moving .b and "outside" leaves a gap: the author sees it at once
    changed = changed_tiers(tmp_path, lambda t: t.replace("item.chip.tpp: {gte: 4800}}", "item.chip.tpp: {gte: 5000}}"))
    result = run("rules", "validate", str(changed))
    assert result.exit_code == 2
    assert "table 'ear.3a090.tiers': no row covers item.chip.tpp = 4800" in result.output


def test_rules_impact_lists_the_orders_a_change_affects(tmp_path, cli_lists):
    changed = changed_tiers(tmp_path, lambda t: t.replace("4800", "5000"))
    orders = write(tmp_path, [order("CN", chip={"tpp": 4900, "performance_density": 2.0, "datacenter": True}) | {"id": "A"},
                              order("CN", chip={"tpp": 9000, "performance_density": 2.0, "datacenter": True}) | {"id": "B"}])
    result = run("rules", "impact", orders, "--baseline", str(REPO / "rules"), "--rules", str(changed))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("A: LICENSE_REQUIRED -> LICENSE_REQUIRED")
    assert "+ ear.742.6.a6.iii.b.macau-d5" in result.output and "- ear.742.6.a6.iii.a.macau-d5" in result.output
    assert result.output.splitlines()[-1] == "1 of 2 orders change"


def test_an_impossible_date_is_exit_2_naming_field_and_line(tmp_path):
    data = order("CN", eccn="EAR99")
    text = yaml.safe_dump(data, sort_keys=False).replace("date: '2026-11-28'", "date: 2026-11-31")
    result = run("check", write(tmp_path, text))
    assert result.exit_code == 2 and "order.yaml:2:" in result.output and "date:" in result.output


@pytest.mark.parametrize("args", [[], ["check"], ["explain"], ["screen"], ["classify"], ["lists", "import"],
                                  ["rules", "test"]])
def test_dash_h_is_help_everywhere(args):
    result = run(*args, "-h")
    assert result.exit_code == 0 and "Usage:" in result.output


@pytest.mark.parametrize("args", [[], ["check"]])
def test_help_lists_the_exit_codes(args):
    output = run(*args, "--help").output
    for code, meaning in [("0", "may proceed"), ("2", "bad input"), ("3", "LICENSE_REQUIRED"),
                          ("4", "PROHIBITED"), ("5", "HOLD"), ("1", "internal error")]:
        assert f"{code}  " in output and meaning in output


def test_classify_without_parameters_is_usage_exit_2():
    result = run("classify")
    assert result.exit_code == 2
    assert "Usage:" in result.output and "--tpp" in result.output and "cannot classify" not in result.output


def test_license_file_matches_pyproject():
    assert "Apache License" in (REPO / "LICENSE").read_text() and "Version 2.0" in (REPO / "LICENSE").read_text()
    assert 'license = {text = "Apache-2.0"}' in (REPO / "pyproject.toml").read_text()


def test_every_determination_names_its_matcher_beside_the_rule_bundle():
    from controls.screening import logic

    data = json.loads(run("check", EXAMPLE, "--format", "json").output)
    assert data["matcher"] == {"name": logic.NAME, "version": logic.VERSION, "digest": logic.digest()}
    assert data["matcher"]["digest"].startswith("sha256:") and data["ruleset"]["digest"].startswith("sha256:")


def test_screen_explain_shows_words_listed_spelling_and_evidence():
    result = run("screen", "Positive Tehnologies", "--country", "RU", "--explain")
    assert result.exit_code in (3, 4)  # Entity List, and SDN in the CSL
    out = result.output
    assert "How the names were scored" in out and "matcher chipgate-names" in out
    assert "query words (weight): positive" in out and "on 'Positive Technologies'" in out
    assert "paired: positive, technology" in out and "party's country RU (+0.03)" in out
    assert "How the names were scored" not in run("screen", "Positive Tehnologies", "--country", "RU").output


def test_the_matcher_digest_changes_with_a_parameter(monkeypatch):
    from controls.screening import logic

    before = logic.digest()
    logic.digest.cache_clear()
    monkeypatch.setattr(logic, "POSSIBLE", 0.79)
    try:
        assert logic.digest() != before
    finally:
        logic.digest.cache_clear()


def test_the_report_lists_per_party_the_lists_and_editions_screened_and_the_result():
    out = run("check", EXAMPLE).output
    assert "End user: Example Cloud Computing Co., Ltd." in out and "result: no match on any list" in out
    assert "screened against" in out and "names matched by chipgate-names" in out
    data = json.loads(run("check", EXAMPLE, "--format", "json").output)
    [screening] = data["screenings"]
    assert screening["result"] == "no match" and "Entity List (ecfr, edition unknown)" in screening["lists"]


def test_a_matched_party_names_its_entries(tmp_path):
    path = write(tmp_path, order("CN", eccn="EAR99", parties=[
        {"role": "end_user", "name": "Huawei Technologies Co., Ltd.", "country": "CN"}]))
    data = json.loads(run("check", path, "--format", "json").output)
    assert data["screenings"][0]["result"] == "match"
    assert "EL-CN-huawei-technologies-co-ltd" in data["screenings"][0]["entries"]
