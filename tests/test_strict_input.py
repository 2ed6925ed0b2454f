"""Strict input (issue 7): no coercion, fields that contradict each other, closed vocabularies,
size caps, and errors that name the field without rendering unbounded input."""
import json

import pytest
from click.testing import CliRunner
from conftest import chip, fired, order
from pydantic import ValidationError
from test_rulebook import problems, rule

from cli import main
from controls import Decision
from controls import orders as orders_module
from controls.errors import InputError
from controls.facts.catalog import END_USE_TAGS
from controls.models import MAX_LINES, MAX_OWNERS, MAX_PARTIES, MAX_SCREENED_TEXT, MAX_TEXT
from controls.orders import read_orders, validate_order
from controls.rulebook.conditions import leaves

H100 = {"tpp": 15832, "die_area_mm2": 814, "datacenter": True}


def rejected(engine, txn) -> str:
    """The message of the InputError ``engine.check`` raises for ``txn`` (never a pydantic error)."""
    with pytest.raises(InputError) as info:
        engine.check(txn)
    assert not isinstance(info.value, ValidationError)
    return str(info.value)


def test_an_h100_class_chip_needs_a_licence_and_tpp_true_is_an_error(engine):
    assert engine.check(order("CN", **chip(**H100))).decision == Decision.LICENSE_REQUIRED
    message = rejected(engine, order("CN", **chip(**{**H100, "tpp": True})))
    assert "items.0.chip.tpp" in message and "expected a number, not true" in message


NUMBER_FIELDS = [("quantity",), ("unit_value",), ("us_content_value",), ("cn_content_value",),
                 ("chip", "tpp"), ("chip", "die_area_mm2"), ("chip", "performance_density"),
                 ("chip", "memory_bandwidth_density"), ("chip", "dram_bandwidth"),
                 ("chip", "interconnect_bandwidth")]


@pytest.mark.parametrize("path", NUMBER_FIELDS, ids=".".join)
@pytest.mark.parametrize("value, says", [(True, "not true"), (False, "not false"), ("4800", "not the text '4800'"),
                                         ("", "not the text"), ([1], "not list"), ({"v": 1}, "not dict")])
def test_a_number_field_takes_only_a_number(path, value, says):
    item = {"sku": "X-1", "quantity": 1, "unit_value": 10**6}
    (item.setdefault("chip", {}) if path[0] == "chip" else item)[path[-1]] = value
    with pytest.raises(InputError) as info:
        validate_order({"id": "T-1", "destination": "CN", "items": [item]})
    assert f"items.0.{'.'.join(path)}" in str(info.value) and says in str(info.value)


def test_owner_share_takes_only_a_number():
    party = {"role": "end_user", "name": "A Co", "country": "CN", "owners": [{"name": "P", "country": "CN"}]}
    for share in (True, "0.6"):
        party["owners"][0]["share"] = share
        with pytest.raises(InputError, match=r"parties\.0\.owners\.0\.share"):
            validate_order(order(parties=[party]))
    party["owners"][0]["share"] = 0.6
    assert validate_order(order(parties=[party])).parties[0].owners[0].share == 0.6


def test_numbers_written_in_yaml_and_json_read_as_numbers_and_quoted_ones_are_errors():
    text = "id: T-1\ndestination: CN\nitems:\n  - {sku: X-1, quantity: 8, unit_value: 25000.50, chip: {tpp: %s}}\n"
    [txn], _ = read_orders("order.yaml", text % "4992")
    assert str(txn.items[0].chip.tpp) == "4992" and str(txn.items[0].unit_value) == "25000.50"
    with pytest.raises(InputError, match=r"order.yaml:4: \[transaction T-1\] items.0.chip.tpp: expected a number"):
        read_orders("order.yaml", text % '"4992"')
    raw = {"id": "T-1", "destination": "CN", "items": [{"sku": "X-1", "quantity": "8"}]}
    with pytest.raises(InputError, match=r"items.0.quantity: expected a number, not the text '8'"):
        read_orders("order.json", json.dumps(raw))


@pytest.mark.parametrize("field", ["datacenter", "us_available_2026_01_15"])
@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "on"])
def test_a_boolean_is_only_true_or_false(engine, field, value):
    assert "items.0.chip." + field in rejected(engine, order("CN", **chip(**{**H100, field: value})))


def test_ecad_tcad_is_only_true_or_false(engine):
    assert "items.0.ecad_tcad" in rejected(engine, order("CN", eccn="3D991", ecad_tcad="yes"))
    assert engine.check(order("CN", eccn="3D991", ecad_tcad=True)).decision


@pytest.mark.parametrize("value", [True, 1.5, ["T-1"], None])
def test_the_id_is_text_or_a_whole_number(value):
    with pytest.raises(InputError, match="id"):
        validate_order({**order(), "id": value})
    assert validate_order({**order(), "id": 1001}).id == "1001"


@pytest.mark.parametrize("value", [20261128, 1796000000, "28.11.2026", "2026-11-28T10:00", "2026-11-31"])
def test_the_date_is_written_yyyy_mm_dd(value):
    with pytest.raises(InputError, match="date"):
        validate_order(order(date=value))


# --- cross-field checks -------------------------------------------------------------------------

def foreign_made(**values):
    return order("CN", eccn="3A090.a", **{"origin": "TW", "unit_value": 1000, **values})


@pytest.mark.parametrize("field", ["us_content_value", "cn_content_value"])
def test_content_worth_more_than_the_item_is_an_error(engine, field):
    message = rejected(engine, foreign_made(**{field: 1000.01}))
    assert "items.0" in message and f"{field} 1000.01 is more than unit_value 1000" in message
    assert engine.check(foreign_made(**{field: 1000})).decision  # all of the item: a value it may have


def test_us_and_prc_content_together_cannot_exceed_the_item(engine):
    assert "cannot overlap" in rejected(engine, foreign_made(us_content_value=600, cn_content_value=400.01))
    assert engine.check(foreign_made(us_content_value=600, cn_content_value=400)).decision


def test_content_without_a_unit_value_is_missing_data_not_an_error(engine):
    result = engine.check(order("CN", eccn="3A090.a", origin="TW", us_content_value=10))
    assert result.decision.rank >= Decision.HOLD.rank  # never clear


# --- closed vocabularies ------------------------------------------------------------------------

def military(tag):
    return {**order("CN", eccn="3A991.a.1"), "end_uses": [tag]}


def test_a_misspelt_end_use_is_an_error_with_a_suggestion(engine):
    assert "ear.744.21.military" in fired(engine.check(military("military")))
    message = rejected(engine, military("militray"))
    assert "end_uses.0" in message and "unknown end-use tag 'militray' (did you mean 'military'?)" in message


@pytest.mark.parametrize("tag", ["Military", "super_computer", "weapons", "military-end-use", ""])
def test_end_use_tags_outside_the_vocabulary_are_errors(tag):
    with pytest.raises(InputError, match="end_uses.1: unknown end-use tag"):
        validate_order({**order(), "end_uses": ["civil", tag]})


def test_every_tag_the_rule_packs_read_is_in_the_vocabulary(engine):
    read = {v for loaded in engine.rulebook.rules for leaf in leaves(loaded.when)
            if leaf.field == "end_uses" and isinstance(leaf.value, frozenset) for v in leaf.value}
    read |= {m for s in engine.rulebook.sets.values() if s.kind == "end_use" for m in s.members}
    assert read and read <= set(END_USE_TAGS)


def test_a_misspelt_role_is_an_error_with_a_suggestion():
    party = {"role": "enduser", "name": "A Co", "country": "CN"}
    with pytest.raises(InputError, match=r"parties.0.role: unknown role 'enduser' \(did you mean 'end_user'\?\)"):
        validate_order(order(parties=[party]))


def test_a_rule_testing_an_unknown_end_use_is_an_error_with_a_suggestion(tmp_path):
    [p] = problems(tmp_path, rule("end_uses: {in: [militray]}"))
    assert "unknown end-use tag 'militray'" in p.message and "did you mean 'military'" in p.message and p.line


def test_an_end_use_set_holds_only_known_tags_and_only_end_use_sets_test_end_uses(tmp_path):
    sets = ("sets:\n  - id: uses\n    title: t\n    citation: c\n    kind: {kind}\n    members: [supercomputr]\n")
    found = problems(tmp_path, sets.replace("{kind}", "end_use") + rule("end_uses: {in: uses}"))
    assert any("unknown end-use tag 'supercomputr'" in p.message and "did you mean 'supercomputer'" in p.message
               for p in found)
    found = problems(tmp_path / "tag", sets.replace("{kind}", "tag") + rule("end_uses: {in: uses}"))
    assert any("set 'uses' holds tag values" in p.message for p in found)


def test_a_rule_testing_an_unknown_role_is_an_error(tmp_path):
    text = rule("party_count: {gte: 1}").replace("    then:", "    for_party: {party.role: purchasr}\n    then:")
    [p] = problems(tmp_path, text)
    assert "unknown role 'purchasr'" in p.message and "did you mean 'purchaser'" in p.message


# --- size caps and bounded messages -------------------------------------------------------------

def lines(n):
    return {**order(), "items": [{"sku": f"X-{i}", "quantity": 1} for i in range(n)]}


def test_lines_per_order_are_capped():
    assert len(validate_order(lines(MAX_LINES)).items) == MAX_LINES
    with pytest.raises(InputError, match=f"items: List should have at most {MAX_LINES} items"):
        validate_order(lines(MAX_LINES + 1))


def test_parties_and_owners_per_order_are_capped():
    party = {"role": "purchaser", "name": "A Co", "country": "CN"}
    assert validate_order(order(parties=[party] * MAX_PARTIES))
    with pytest.raises(InputError, match=f"parties: List should have at most {MAX_PARTIES} items"):
        validate_order(order(parties=[party] * (MAX_PARTIES + 1)))
    owners = [{"name": "P", "country": "CN", "share": 0.001}] * (MAX_OWNERS + 1)
    with pytest.raises(InputError, match=f"parties.0.owners: List should have at most {MAX_OWNERS} items"):
        validate_order(order(parties=[{**party, "owners": owners}]))


def test_the_text_an_order_sends_to_screening_is_capped(engine):
    """Names and addresses of parties and owners, all counted: each text under its own cap, 100 parties of them
    took 22 s to screen.  At the cap an order is checked; one character more is an error naming ``parties``."""
    def party(name_size, address_size=0, owners=()):
        return {"role": "purchaser", "name": "N" * name_size, "country": "CN", "address": "A" * address_size or None,
                "owners": [{"name": "O" * size, "country": "CN", "share": 0.001} for size in owners]}
    at_cap = [party(MAX_TEXT, MAX_TEXT), party(MAX_TEXT, MAX_TEXT, owners=[MAX_TEXT - 2, 1]), party(1)]
    assert MAX_SCREENED_TEXT == 5 * MAX_TEXT
    assert engine.check(validate_order(order(parties=at_cap))).decision
    with pytest.raises(InputError, match="parties: 50,001 characters of names and addresses to screen, more than the "
                                         "50,000 an order may have"):
        validate_order(order(parties=[*at_cap, party(1)]))


def test_a_name_or_address_screened_alone_is_capped_as_a_partys(engine):
    assert engine.screen("N" * MAX_TEXT, address="A" * MAX_TEXT).decision
    for field, given in (("name", {"name": "N" * (MAX_TEXT + 1)}), ("address", {"name": "N", "address": "A" * 10_001})):
        with pytest.raises(InputError, match=f"{field}: 10,001 characters, more than the 10,000 it may have"):
            engine.screen(**given)


def test_a_text_longer_than_the_cap_is_an_error_naming_the_field():
    party = {"role": "end_user", "name": "A" * (MAX_TEXT + 1), "country": "CN"}
    with pytest.raises(InputError, match=f"parties.0.name: String should have at most {MAX_TEXT} characters"):
        validate_order(order(parties=[party]))


def test_the_longest_texts_in_four_byte_letters_reach_the_engine_intact(engine):
    # 40,000 bytes: well inside the 65,535 bytes durable-rules holds
    long = "\U0001d400" * MAX_TEXT
    result = engine.check(order("CN", eccn="1C999", material=long, hs_code=long, cn_control_code=long,
                                parties=[{"role": "end_user", "name": "Acme " + long[:MAX_TEXT - 5], "country": "CN"}]))
    assert result.decision in (Decision.HOLD, Decision.LICENSE_REQUIRED, Decision.NLR)


def test_an_order_file_larger_than_the_cap_is_refused_unread(monkeypatch, tmp_path):
    monkeypatch.setattr(orders_module, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(order(description="x" * 2000)))
    for args in ((path,), ("<stdin>", path.read_text())):
        with pytest.raises(InputError, match="more than the 1,000 an order file may have"):
            read_orders(*args)


def test_stdin_larger_than_the_cap_is_exit_2(monkeypatch):
    monkeypatch.setattr("cli.MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(orders_module, "MAX_FILE_BYTES", 1000)
    result = CliRunner().invoke(main, ["check", "-"], input=json.dumps(order(description="x" * 5000)))
    assert result.exit_code == 2 and "more than the 1,000" in result.output


@pytest.mark.parametrize("txn", [
    {**order(), "k" * 10**6: 1},                                          # an unknown field's name
    {**order(), "id": "i" * 10**6},                                       # an id over the cap
    {**order(), "end_uses": ["m" * 9000]},                                # an unknown tag
    {**order(), "destination": "C" * 10**5},                               # an unknown country
    order(quantity="9" * 10**5),                                          # a number as text
    {**order(), "parties": [{"role": "r" * 10**5, "name": "A", "country": "CN"}]},  # an unknown role
])
def test_error_messages_never_render_unbounded_input(engine, txn):
    assert len(rejected(engine, txn)) < 1500


def test_cli_bad_field_is_exit_2_naming_field_and_line(tmp_path):
    path = tmp_path / "order.yaml"
    path.write_text("id: T-1\ndestination: CN\nend_uses: [militray]\nitems:\n  - {sku: X, quantity: 1, "
                    "chip: {tpp: true}}\n")
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "order.yaml:3: [transaction T-1] end_uses.0: unknown end-use tag 'militray'" in result.output
    assert "order.yaml:5: [transaction T-1] items.0.chip.tpp: expected a number, not true" in result.output
