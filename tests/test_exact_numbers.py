"""Exact arithmetic: thresholds decided exactly in Python, no number ever reaching the C engine."""
import json
from decimal import Decimal

import pytest
from conftest import on, order, remembering
from test_cli import run, write
from test_rulebook import pack, rule

from controls import Decision, Engine
from controls.engine import durable_adapter
from controls.errors import InputError
from controls.orders import read_orders

ENGINE_IDS = {"kind", "id", "line", "stratum", "day", "index", "sid"}  # bookkeeping, small integers


def foreign_made(destination, unit_value, us_content_value, **item):
    """A Taiwan-made item exported from Taiwan, not a direct product of U.S. technology."""
    txn = order(destination, eccn="4A090.a", unit_value=unit_value, us_content_value=us_content_value,
                direct_product_of=[], **item)
    txn["export_from"] = "TW"
    txn["items"][0]["origin"] = "TW"
    return txn


def basis(engine, txn):
    return engine.check(txn).lines[0].basis


@pytest.mark.parametrize("destination, value, at_threshold, one_cent_over", [
    ("VN", Decimal("1311.12"), Decimal("327.78"), Decimal("327.79")),   # 25 % (in floats 100 * 327.78 / 1311.12 is 25.000000000000004)
    ("IR", Decimal("1311.10"), Decimal("131.11"), Decimal("131.12")),   # 10 % to E:1 (in floats 10.000000000000002)
])
def test_de_minimis_exactly_at_the_threshold_is_not_over_it(engine, destination, value, at_threshold, one_cent_over):
    for written in (Decimal, float):  # a number as text is an input error (test_strict_input.py)
        txn = foreign_made(destination, written(value), written(at_threshold))
        assert basis(engine, txn) == "foreign-made-under-de-minimis", written
        txn = foreign_made(destination, written(value), written(one_cent_over))
        assert basis(engine, txn) == "de-minimis", written


def test_de_minimis_threshold_read_from_order_text(engine, tmp_path):
    text = json.dumps(foreign_made("VN", 0, 0)).replace('"unit_value": 0', '"unit_value": 1311.12') \
        .replace('"us_content_value": 0', '"us_content_value": 327.78')
    [txn], _ = read_orders("order.json", text)
    assert txn.items[0].us_content_value == Decimal("327.78")
    assert basis(engine, txn) == "foreign-made-under-de-minimis"


def test_a_tiny_share_neither_crashes_nor_counts(engine):
    # $1 of U.S. content on a $2,000,000 unit is 0.00005 %: json would have sent the engine 5e-05
    result = engine.check(foreign_made("VN", 2_000_000, 1))
    assert result.lines[0].basis == "foreign-made-under-de-minimis"
    assert result.decision == Decision.NOT_SUBJECT
    because = [r for d in result.lines[0].derived for r in d.because]
    assert "item.us_content_pct = 0.00005 (<= 25)" in because


@pytest.mark.parametrize("chip, eccn", [
    ({"tpp": 4800, "die_area_mm2": 10000}, "3A090.a"),           # TPP 4800 or more
    ({"tpp": Decimal("4799.99"), "die_area_mm2": 10000}, None),           # just under: density 0.48, outside
    ({"tpp": Decimal("2054.24"), "die_area_mm2": 347}, "3A090.a"),        # density exactly 5.92 (floats: 5.919999999999999)
    ({"tpp": Decimal("2054.23"), "die_area_mm2": 347}, "3A090.b"),        # just under 5.92
    ({"tpp": 2400, "die_area_mm2": 1500}, "3A090.b"),            # TPP 2400 and density exactly 1.6
    ({"tpp": 2400, "die_area_mm2": Decimal("1500.01")}, None),            # density just under 1.6
    ({"tpp": 1600, "die_area_mm2": 500}, "3A090.b"),             # density exactly 3.2
    ({"tpp": 1600, "die_area_mm2": Decimal("500.01")}, None),             # just under 3.2
    ({"tpp": Decimal("1599.99"), "die_area_mm2": 100}, None),             # TPP under 1600
])
def test_3a090_tpp_and_density_thresholds_exactly(engine, chip, eccn):
    result = engine.classify(dict(chip, datacenter=True), on=on("2026-01-01"))
    assert result.eccn == eccn
    assert result.outside_3a090 == (eccn is None)


@pytest.mark.parametrize("mbd, eccn", [(Decimal("2"), None), (Decimal("2.000001"), "3A090.c")])
def test_hbm_memory_bandwidth_density_is_strictly_over_2(engine, mbd, eccn):
    assert engine.classify({"memory_bandwidth_density": mbd}).eccn == eccn


def test_explanations_show_values_and_thresholds_as_written(engine):
    result = engine.check(foreign_made("VN", Decimal("1311.12"), Decimal("327.78")))
    because = [r for d in result.lines[0].derived for r in d.because]
    assert "item.us_content_pct = 25 (<= 25)" in because
    over = engine.check(foreign_made("VN", Decimal("1311.12"), Decimal("327.79")))
    assert "item.us_content_pct = about 25.000763 (> 25)" in [r for d in over.lines[0].derived for r in d.because]
    chip = engine.classify({"tpp": Decimal("2054.24"), "die_area_mm2": 347, "datacenter": True})
    assert "item.chip.performance_density = 5.92 (>= 5.92)" in chip.derived[0].because
    text = json.dumps([result.model_dump(mode="json"), over.model_dump(mode="json"), chip.model_dump(mode="json")])
    assert "Decimal" not in text and "Fraction" not in text and "0000000000" not in text


@pytest.mark.parametrize("field, written, message", [
    ("unit_value", "1e+16", "less than or equal to 1000000000000000"),
    ("unit_value", "Infinity", "finite number"),
    ("unit_value", "NaN", "finite number"),
    ("us_content_value", "-Infinity", "finite number"),
    ("quantity", "1e-30", "no more than 20 decimal places"),
])
def test_absurd_numbers_are_input_errors_naming_the_field(tmp_path, field, written, message):
    txn = order("CN", eccn="3A090.a", unit_value=1000, us_content_value=0)
    txn["items"][0][field] = "@"
    text = json.dumps(txn).replace('"@"', written)  # the number as a JSON file writes it
    with pytest.raises(InputError, match=message) as info:
        read_orders("order.json", text)
    assert f"items.0.{field}" in str(info.value)
    result = run("check", write(tmp_path, text, "order.json"))
    assert result.exit_code == 2 and f"items.0.{field}" in result.output


@pytest.mark.parametrize("written", [".inf", ".nan", "-.inf"])
def test_yaml_infinity_and_nan_are_input_errors(written):
    text = f"id: T\ndestination: CN\nitems:\n  - {{sku: A, quantity: 1, chip: {{tpp: {written}}}}}\n"
    with pytest.raises(InputError, match="items.0.chip.tpp"):
        read_orders("order.yaml", text)


def test_tiny_values_in_exponent_form_are_read_exactly(engine):
    [txn], _ = read_orders("order.json", json.dumps(foreign_made("VN", 0, 0)).replace(
        '"us_content_value": 0', '"us_content_value": 4e-05').replace('"unit_value": 0', '"unit_value": 2e6'))
    assert txn.items[0].us_content_value == Decimal("0.00004") and txn.items[0].unit_value == 2_000_000
    assert basis(engine, txn) == "foreign-made-under-de-minimis"


def test_classify_cli_refuses_infinity_with_exit_2():
    result = run("classify", "--tpp", "inf", "--datacenter")
    assert result.exit_code == 2 and "chip.tpp" in result.output and "finite" in result.output


def test_order_json_output_keeps_numbers_as_numbers():
    from controls import Transaction
    txn = Transaction.model_validate(foreign_made("VN", Decimal("1311.12"), 1, quantity=3))
    item = json.loads(txn.model_dump_json())["items"][0]
    assert item["unit_value"] == 1311.12 and item["us_content_value"] == 1 and item["quantity"] == 3


def test_no_number_reaches_the_engine(engine, monkeypatch):
    sent = []
    original = durable_adapter.Session.assert_facts

    def record(self, facts):
        sent.extend(facts)
        return original(self, facts)

    monkeypatch.setattr(durable_adapter.Session, "assert_facts", record)
    engine = remembering(engine, size=0)  # every line to the rule network
    orders = [
        foreign_made("VN", Decimal("1311.12"), Decimal("327.79"), chip={"tpp": 15832, "die_area_mm2": 814, "datacenter": True}),
        foreign_made("VN", 2_000_000, 1),
        order("CN", chip={"tpp": Decimal("2054.24"), "die_area_mm2": 347, "datacenter": True, "dram_bandwidth": 8000,
                          "interconnect_bandwidth": 900, "memory_bandwidth_density": Decimal("2.5")},
              quantity=7, unit_value=25000, cn_content_value=Decimal("0.01")),
        order("MY", eccn="3A090.a", parties=[{"role": "end_user", "name": "X", "country": "MY",
                                               "headquarters_country": "CN"}]),
    ]
    for txn in orders:
        engine.check(txn)
    assert sent
    for fact in sent:
        for key, value in fact.items():
            assert not isinstance(value, float), (key, value)
            assert isinstance(value, (str, bool)) or key in ENGINE_IDS, (key, value)


def test_numeric_comparisons_keep_their_missing_data_meaning(tmp_path):
    text = rule("any: [{item.unit_value: {lt: 100}}, {item.unit_value: {ne: 500}}]").replace("HOLD", "PROHIBITED")
    text += rule("not: {item.unit_value: {gte: 100}}")[len("rules:\n"):].replace("test.rule", "test.negated")
    engine = Engine.load(pack(tmp_path, text))
    fired = lambda txn: {f.rule for f in engine.check(txn).findings}  # noqa: E731
    assert fired(order("DE")) == {"test.negated"}                    # missing: no comparison holds, "not" does
    assert fired(order("DE", unit_value=500)) == set()
    assert fired(order("DE", unit_value=Decimal("99.99"))) == {"test.rule", "test.negated"}
    assert fired(order("DE", unit_value=100)) == {"test.rule"}       # ne 500


def test_rule_thresholds_stay_numbers_in_json_and_the_digest(engine):
    # thresholds are read as Decimals; the bundle digest must not depend on that (same rules, same digest)
    rule = engine.rules["ear.3a090.a.classify"].rule
    assert '{"item.chip.performance_density":{"gte":5.92}}' in rule.model_dump_json()


@pytest.mark.parametrize("bounds", [{"ge": 0, "le": 10**15}, {"ge": 0, "le": 10**12}, {"gt": 0, "le": 10**6}])
def test_amount_bounds_and_digits_are_checked_as_pydantic_checks_them(bounds):
    """amount() checks its bounds and digits in one function: same outcome, same error, as pydantic's Field did
    after the same before-validator (each check a function of its own, in this order)."""
    from typing import Annotated

    from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

    from controls.numbers import _number_as_given, amount

    class Ours(BaseModel):
        model_config = ConfigDict(strict=True)
        value: amount(**bounds)

    class Pydantics(BaseModel):
        model_config = ConfigDict(strict=True)
        value: Annotated[Decimal, BeforeValidator(_number_as_given),
                         Field(max_digits=40, decimal_places=20, allow_inf_nan=False, **bounds)]

    def outcome(model, value):
        try:
            return model(value=value).value
        except ValidationError as exc:
            return [(e["type"], e["msg"], {k: repr(v) for k, v in e.get("ctx", {}).items()}) for e in exc.errors()]

    written = ["0", "-0", "-1", "0.0", "1e-20", "1e-21", "1.00000000000000000000000000", "0E-50", "0E+50",
               "0.000000000000000000010", "-0.000000000000000000000001", "1000000", "1000000.000000000000000000000",
               "1000001", "1e+16", "1E+39", "1E+40", "1e-1000", "1e999", "12345678901234.567890123456789012345",
               "0.1234567890123456789012", "123456789012345678901.5", "12345678901234567890123456789012345678901"]
    for text in written:
        assert outcome(Ours, Decimal(text)) == outcome(Pydantics, Decimal(text)), text
    given = [0, -0, -1, 1, 10**6, 10**6 + 1, 10**12, 10**12 + 1, 10**15, 10**15 + 1, 10**40, 0.0, 0.5, -0.5, 1e-21,
             1e16, True, False, "5", None, [1], Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")]
    for value in given:  # integers are compared as they are, not as Decimals; what is not finite, pydantic refuses
        assert outcome(Ours, value) == outcome(Pydantics, value), value
