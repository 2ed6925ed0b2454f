"""Property-based tests (issue 7): whatever the input, the order model, the YAML/JSON readers, the
rule loader and the screener's normaliser answer or refuse with chipgate's own error, bounded;
and 10,000 generated orders through the real engine never crash, hang or clear a look-alike of a
listed name.  Every property is bounded in examples and time, so the file runs in seconds."""
from __future__ import annotations

import json
import random
import string
import threading
import time
from decimal import Decimal

import pytest
import yaml
from conftest import order
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from screening.test_evasion import LOOK_ALIKES

from controls import Decision
from controls.errors import InputError, RuleError
from controls.facts.catalog import END_USE_TAGS, LINE_FIELDS
from controls.lists.store import ListStore
from controls.models import ROLES, Transaction
from controls.orders import read_orders, validate_order
from controls.rulebook import conditions
from controls.rulebook.loader import load_rulebook
from controls.screening.normalize import key_tokens, normalize, screenable, tokens

FAST = settings(max_examples=80, deadline=1000, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
BOUND = 2000  # characters an error message may have, whatever the input

# --- strategies --------------------------------------------------------------------------------

scalars = (st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True)
           | st.decimals(allow_nan=False, places=None) | st.text(max_size=30)
           | st.sampled_from(["CN", "US", "3A090.a", "military", "end_user", "2026-11-28", "4800", "yes", ""]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
numbers = st.integers(0, 10**6) | st.decimals(0, 10**6, places=3) | st.floats(0, 10**6)
chips = st.fixed_dictionaries({}, optional={"tpp": numbers | json_values, "die_area_mm2": numbers | json_values,
                                            "datacenter": st.booleans() | json_values,
                                            "memory_bandwidth_density": numbers})
items = st.fixed_dictionaries(
    {"sku": st.text(min_size=1, max_size=10) | json_values, "quantity": numbers | json_values},
    optional={"unit_value": numbers | json_values, "us_content_value": numbers, "cn_content_value": numbers,
              "eccn": st.sampled_from(["3A090.a", "4A090", "EAR99", "3A991.a.1", "5A992.c"]) | json_values,
              "origin": st.sampled_from(["US", "TW", "CN"]) | json_values, "chip": chips | json_values})
parties = st.fixed_dictionaries(
    {"role": st.sampled_from(list(ROLES)) | json_values, "name": st.text(max_size=40) | json_values,
     "country": st.sampled_from(["CN", "DE", "RU"]) | json_values})
transactions = st.fixed_dictionaries(
    {"id": st.text(max_size=20) | json_values, "destination": st.sampled_from(["CN", "DE", "MO"]) | json_values,
     "items": st.lists(items, max_size=3) | json_values},
    optional={"date": st.dates().map(str) | json_values, "parties": st.lists(parties, max_size=2),
              "end_uses": st.lists(st.sampled_from(list(END_USE_TAGS)) | st.text(max_size=12), max_size=3),
              "unknown": json_values})


# --- the order model ---------------------------------------------------------------------------

@FAST
@given(transactions)
def test_an_order_is_valid_or_an_input_error_naming_a_field(raw):
    try:
        txn = validate_order(raw)
    except InputError as exc:
        assert len(str(exc)) < BOUND * 10 and all(len(line) < BOUND for line in str(exc).splitlines())
        return
    assert isinstance(txn, Transaction)
    for item in txn.items:  # what passed is exactly what the contract allows
        assert isinstance(item.quantity, Decimal) and item.quantity >= 0
        if item.us_content_value is not None and item.unit_value is not None:
            assert item.us_content_value <= item.unit_value
        if item.chip is not None and item.chip.datacenter is not None:
            assert type(item.chip.datacenter) is bool
    assert set(txn.end_uses) <= set(END_USE_TAGS) and {p.role for p in txn.parties} <= set(ROLES)


@FAST
@given(st.sampled_from(["quantity", "unit_value", "us_content_value"]), st.booleans() | st.text(max_size=8))
def test_no_boolean_or_text_becomes_a_number(field, value):
    with pytest.raises(InputError, match=f"items.0.{field}: expected a number"):
        validate_order(order(**{"unit_value": 10, field: value}))


# --- the YAML and JSON readers -----------------------------------------------------------------

def read_or_refuse(name, text):
    try:
        orders, _ = read_orders(name, text)
    except InputError as exc:
        assert all(len(line) < BOUND for line in str(exc).splitlines())
        return None
    assert orders and all(isinstance(o, Transaction) for o in orders)
    return orders


@FAST
@given(st.text(max_size=300))
def test_any_text_is_read_or_refused_as_an_input_error(text):
    read_or_refuse("order.yaml", text)


@FAST
@given(st.text(alphabet="{}[]:,-&*!|>'\"#%@ \n\tabc019.", max_size=200))
def test_yaml_punctuation_is_read_or_refused_as_an_input_error(text):
    read_or_refuse("order.yaml", text)


@FAST
@given(transactions | st.lists(transactions, max_size=3))
def test_generated_orders_as_json_and_yaml_read_alike(raw):
    try:
        text_json = json.dumps(raw, default=str, allow_nan=True)
    except (TypeError, ValueError):
        return
    from_json = read_or_refuse("order.json", text_json)
    if from_json is not None:  # what JSON gives, YAML gives too
        assert read_or_refuse("order.yaml", yaml.safe_dump(json.loads(text_json)))


# --- the rule loader ---------------------------------------------------------------------------

OPS = list(conditions.OPS) + ["gtee", "all", "any", "not"]
leaf_values = (scalars | st.lists(scalars, max_size=3) | st.sampled_from(["D:5", "no-such-set", "military"])
               | st.dictionaries(st.sampled_from(OPS), scalars, max_size=2))
conds = st.recursive(
    st.dictionaries(st.sampled_from([*LINE_FIELDS, "item.chip.tp", "all"]), leaf_values, min_size=1, max_size=2),
    lambda inner: st.dictionaries(st.sampled_from(["all", "any"]), st.lists(inner, max_size=3), min_size=1, max_size=1)
    | st.builds(lambda c: {"not": c}, inner) | st.lists(inner, max_size=3), max_leaves=8)


@FAST
@given(conds)
def test_a_condition_parses_or_is_a_condition_error(cond):
    try:
        parsed = conditions.parse(cond, LINE_FIELDS, {"D:5": "country", "uses": "end_use"})
    except conditions.ConditionError as exc:
        assert len(str(exc)) < BOUND * 10
        return
    assert all(leaf.field in LINE_FIELDS for leaf in conditions.leaves(parsed))


@settings(max_examples=25, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture],
          derandomize=True)
@given(conds, st.sampled_from(["HOLD", "NLR", "LICENSE_REQUIRED", "maybe"]), st.dates().map(str) | scalars)
def test_a_rule_file_loads_or_is_a_rule_error_with_file_and_line(tmp_path_factory, cond, decision, start):
    root = tmp_path_factory.mktemp("pack")
    (root / "bundle.yaml").write_text("name: fuzz\nversion: 2026.1.0\n")
    rule = {"id": "fuzz.rule", "title": "t", "citation": "15 CFR 742.6", "effective": {"from": start},
            "when": cond, "then": {"decision": decision}}
    (root / "rules.yaml").write_text(json.dumps({"rules": [rule]}, default=str))  # JSON is YAML
    try:
        book = load_rulebook(root)
    except RuleError as exc:
        assert exc.problems and all(p.file.endswith(".yaml") for p in exc.problems)
        return
    assert [r.id for r in book.rules] == ["fuzz.rule"]


# --- the screener's normaliser -----------------------------------------------------------------

@FAST
@given(st.text(max_size=80))
def test_the_normaliser_takes_any_text(name):
    toks = tokens(name)
    assert all(t and not any(c.isspace() for c in t) for t in toks)
    assert key_tokens(name) and set(key_tokens(name)) <= set(toks) or not toks
    assert isinstance(screenable(name), bool)
    assert normalize(name) == " ".join(toks)


latin_names = st.lists(st.text(alphabet=string.ascii_letters, min_size=1, max_size=10), min_size=1, max_size=5).map(
    " ".join)


@FAST
@given(latin_names)
def test_look_alike_letters_fold_to_the_latin_name(name):
    assert tokens(name.translate(LOOK_ALIKES)) == tokens(name)


@FAST
@given(latin_names, st.integers(0, 50), st.sampled_from(["\u200b", "\u200d", "\u2060", "\ufeff", "\u202e"]))
def test_invisible_characters_change_nothing(name, where, invisible):
    where = min(where, len(name))
    assert tokens(name[:where] + invisible + name[where:]) == tokens(name)


# --- 10,000 orders through the real engine -----------------------------------------------------

FUZZ_ORDERS = 10_000
FUZZ_SECONDS = 60
ECCNS = ["3A090.a", "3A090.b", "4A090.a", "3A001.a.1", "3A991.a.1", "5A992.c", "3B993.f.1", "EAR99", "4A994.b"]
DESTINATIONS = ["CN", "MO", "RU", "DE", "AE", "IN", "VN", "KP", "IR", "TW", "SG", "MY", "BY", "JP"]


def generated_orders(names: list[str], seed: int = 7):
    """A deterministic stream of orders, every fourth to a look-alike spelling of a listed name
    (those lines are U.S.-origin: subject to the EAR, so the listing must show)."""
    rng = random.Random(seed)
    for i in range(FUZZ_ORDERS):
        spoofed = i % 4 == 0
        destination = rng.choice(DESTINATIONS)
        item = {"sku": f"S-{i}", "quantity": rng.randint(0, 500), "unit_value": rng.choice([0, 1, 999.99, 25000, 2 * 10**6])}
        item["origin"] = "US" if spoofed else rng.choice(["US", "TW", "CN", "KR"])
        if item["origin"] != "US" and rng.random() < 0.7:
            item["us_content_value"] = rng.choice([0, min(1, item["unit_value"]), item["unit_value"]])
        if rng.random() < 0.5:
            item["chip"] = {"tpp": rng.choice([0, 1600, 4799.99, 4800, 15832]),
                            "die_area_mm2": rng.choice([100, 814]), "datacenter": rng.random() < 0.5}
        else:
            item["eccn"] = rng.choice(ECCNS)
        name = (rng.choice(names).translate(LOOK_ALIKES) if spoofed
                else rng.choice(["Example Customer Ltd", "Acme Trading GmbH", "N/A", "Nordic Compute AB"]))
        txn = {"id": f"F-{i}", "date": f"{rng.randint(2019, 2027)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
               "export_from": rng.choice(["US", "TW", "DE"]), "destination": destination,
               "parties": [{"role": rng.choice(list(ROLES)), "name": name, "country": destination}],
               "end_uses": rng.sample(list(END_USE_TAGS), rng.choice([0, 0, 0, 1, 2])), "items": [item]}
        if txn["end_uses"]:
            txn["end_use_country"] = destination
        yield spoofed, txn


def test_ten_thousand_generated_orders_never_crash_hang_or_clear_a_look_alike(engine, list_store):
    entity_list = ListStore(list_store).screening_lists()["Entity List"]
    names = sorted({e.name for e in entity_list if len(key_tokens(e.name)) >= 2})
    names = random.Random(11).sample(names, 150)
    # screening is point in time: an order dated before the listing is not blocked by it
    listed_on: dict[str, str] = {}
    for e in entity_list:
        day = e.listed_on.isoformat() if e.listed_on else ""
        spelling = e.name.translate(LOOK_ALIKES)
        listed_on[spelling] = min(listed_on.get(spelling, day), day)
    outcome: dict = {"checked": 0, "cleared": [], "error": None}

    def run():
        try:
            for spoofed, txn in generated_orders(names):
                decision = engine.check(txn).decision
                outcome["checked"] += 1
                name = txn["parties"][0]["name"]
                if spoofed and decision.rank < Decision.HOLD.rank and listed_on[name] <= txn["date"]:
                    outcome["cleared"].append((txn["parties"][0]["name"], txn["date"], decision.value))
        except Exception as exc:  # noqa: BLE001 - reported below with the order it failed on
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)  # a hang fails the test instead of the suite
    worker.start()
    worker.join(FUZZ_SECONDS)
    elapsed = time.monotonic() - started
    assert not worker.is_alive(), f"hung or too slow: {outcome['checked']} orders in {elapsed:.0f} s"
    assert outcome["error"] is None, f"order #{outcome['checked']}: {outcome['error']!r}"
    assert outcome["checked"] == FUZZ_ORDERS and not outcome["cleared"], outcome["cleared"][:5]


def test_the_generated_orders_are_valid_orders():
    """The fuzz run above checks orders, not input errors: every generated order passes the model."""
    for _, txn in list(generated_orders(["Huawei Technologies Co., Ltd."]))[:2000]:
        validate_order(txn)
