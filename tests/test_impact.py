"""chipgate rules impact: two packs or bundles, or one on two dates, the changes grouped by rule; the
answer does not depend on the local list store unless --lists asks for it."""
import json

import pytest
from conftest import REPO, order
from test_cli import changed_tiers, run, write

TIER_ORDERS = [order("CN", chip={"tpp": 4900, "performance_density": 2.0, "datacenter": True}) | {"id": "A"},
               order("CN", chip={"tpp": 9000, "performance_density": 2.0, "datacenter": True}) | {"id": "B"},
               order("DE", eccn="3A090.a") | {"id": "C"}]


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """The shipped rules, and the same with the 3A090.a threshold raised from 4800 to 5000, as bundles."""
    tmp = tmp_path_factory.mktemp("impact")
    changed = changed_tiers(tmp, lambda t: t.replace("4800", "5000"))
    paths = {}
    for name, pack in (("before", REPO / "rules"), ("after", changed)):
        paths[name] = tmp / f"{name}.bundle.json"
        assert run("rules", "build", str(pack), "-o", str(paths[name])).exit_code == 0
    return paths


def test_two_bundles_grouped_by_the_rule_that_made_the_difference(tmp_path, bundles):
    orders = write(tmp_path, TIER_ORDERS)
    result = run("rules", "impact", orders, "--baseline", str(bundles["before"]), "--rules", str(bundles["after"]))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("A: LICENSE_REQUIRED -> LICENSE_REQUIRED")
    assert "  + ear.742.6.a6.iii.b.macau-d5: 1 order (e.g. A); LICENSE_REQUIRED -> LICENSE_REQUIRED (1)" \
        in result.output
    assert "  - ear.742.6.a6.iii.a.macau-d5: 1 order (e.g. A); LICENSE_REQUIRED -> LICENSE_REQUIRED (1)" \
        in result.output
    assert result.output.splitlines()[-1] == "1 of 3 orders change"


def test_a_bundle_and_a_directory_compare_as_two_directories(tmp_path, bundles):
    orders = write(tmp_path, TIER_ORDERS)
    mixed = run("rules", "impact", orders, "--baseline", str(REPO / "rules"), "--rules", str(bundles["after"]))
    same = run("rules", "impact", orders, "--baseline", str(bundles["before"]), "--rules", str(bundles["after"]))
    assert mixed.exit_code == 0 and mixed.output == same.output


def test_one_bundle_on_two_dates(tmp_path, bundles):
    # 4900 TPP at density 2.0 for a datacenter: outside 3A090 under the 2022 text (no I/O rate given:
    # unclassified, HOLD), 3A090.a under the 2023 text
    orders = write(tmp_path, TIER_ORDERS[:1] + TIER_ORDERS[2:])
    result = run("rules", "impact", orders, "--rules", str(bundles["before"]), "--as-of", "2023-06-01",
                 "--vs", "2025-01-01", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["orders"] == 2 and [c["transaction_id"] for c in report["changes"]] == ["A"]
    grouped = {(g["rule"], g["change"]): g for g in report["by_rule"]}
    assert grouped[("ear.3a090.a.classify", "added")]["decisions"] == {"HOLD -> LICENSE_REQUIRED": 1}
    assert grouped[("ear.3a090.a.classify", "added")]["example"] == "A"
    same_day = run("rules", "impact", orders, "--rules", str(bundles["before"]), "--as-of", "2025-01-01",
                   "--vs", "2025-01-01")
    assert same_day.exit_code == 0 and same_day.output == "0 of 2 orders change\n"


def test_the_list_store_sways_nothing_unless_asked(tmp_path, bundles, cli_lists):
    listed = [order("CN", chip={"tpp": 4900, "performance_density": 2.0, "datacenter": True},
                    parties=[{"role": "end_user", "name": "Huawei Technologies Co., Ltd.", "country": "CN"}])]
    orders = write(tmp_path, listed)
    args = ["rules", "impact", orders, "--rules", str(bundles["before"]), "--as-of", "2023-06-01", "--vs", "2025-01-01"]
    unasked = run(*args)  # $CHIPGATE_LISTS points at the real lists: not read
    assert unasked.exit_code == 0 and "T-1: HOLD -> LICENSE_REQUIRED" in unasked.output
    asked = run(*args, "--lists", str(cli_lists))  # the Entity List requirement stands on both dates
    assert asked.exit_code == 0 and "T-1: HOLD -> LICENSE_REQUIRED" not in asked.output


def test_impact_needs_two_packs_or_two_dates(tmp_path):
    result = run("rules", "impact", write(tmp_path, TIER_ORDERS), "--rules", str(REPO / "rules"))
    assert result.exit_code == 2 and "--as-of A --vs B" in result.output
