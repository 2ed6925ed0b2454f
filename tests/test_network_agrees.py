"""Property: the compiled durable-rules network fires a rule on a line (and party) exactly when the
Python evaluator of conditions (``conditions.holds``, which explanations use) says its ``when`` (and
``for_party``) holds.

Random small packs (conditions over numbers with exact thresholds, country codes, texts, booleans and
a list, with ``in``/``not_in`` named sets and literal lists, ``exists``, ``all``/``any``/``not``; on the
line, on a party, or both) are
compiled with the real compiler and run by the real engine on random orders whose facts sit on, just
beside, or away from the thresholds, or are missing.  The evaluator's probe answers come from an
oracle written here from rules/README.md (exact decimal comparison, set membership on the order's
date, a list holding any member), not from the fact builder, so the builder's answers are checked too.
"""
import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controls import Engine
from controls.compiler import compile_rulebook
from controls.facts.builder import line_values, party_values
from controls.facts.catalog import END_USE_TAGS, LINE_FIELDS, PARTY_FIELDS
from controls.models import ROLES
from controls.orders import validate_order
from controls.rulebook import conditions
from controls.rulebook.loader import EVERY_LINE, LoadedRule, RuleBook
from controls.rulebook.schema import BundleMeta, NamedSet, Rule
from controls.screening.parties import PartyScreen

DAY_FROM = dt.date(2020, 1, 1)
SETS = [
    NamedSet.model_validate({"id": "test-countries", "title": "t", "kind": "country", "members": [
        "CN", "MO", {"code": "KH", "from": "2021-12-09", "until": "2026-02-03"}]}),
    NamedSet.model_validate({"id": "test-materials", "title": "t", "kind": "text", "members": ["gallium", "germanium"]}),
]
TAGS = sorted(END_USE_TAGS)[:3]
NUMBERS = ["item.chip.tpp", "item.chip.die_area_mm2", "item.unit_value", "item.quantity"]
THRESHOLDS = [Decimal(x) for x in ("0", "1", "2.5", "100", "4800", "4800.5")]
NEAR = [Decimal(x) for x in ("0", "0.5", "1", "2.5", "2.6", "99.999", "100", "4799", "4800", "4800.5", "4801", "1e6")]
ON = THRESHOLDS[1:]  # a positive number on a threshold: where an exact comparison is decided


def _number(low: int = 0):
    """Mostly exactly on a threshold, otherwise just beside one or far away."""
    return st.one_of(st.sampled_from(ON), st.sampled_from(NEAR[low:]))

COUNTRIES = {"destination": ["KH", "CN", "MO", "DE", "US"], "item.origin": ["KH", "CN", "US", "TW"],
             "end_use_country": ["KH", "CN", "DE"]}  # KH: in test-countries only from 2021-12-09 to 2026-02-03
MATERIALS = ["gallium", "Gallium", "germanium  oxide", "tin"]


def _leaf_node():
    number = st.tuples(st.sampled_from(NUMBERS), st.sampled_from(["eq", "ne", "lt", "lte", "gt", "gte"]),
                       st.sampled_from(THRESHOLDS)).map(lambda t: {t[0]: {t[1]: t[2]}})
    country = st.sampled_from(sorted(COUNTRIES)).flatmap(lambda f: st.one_of(
        st.sampled_from(COUNTRIES[f]).map(lambda v: {f: v}),
        st.tuples(st.sampled_from(["ne", "in", "not_in"]), st.sampled_from(["CN", "DE"])).map(
            lambda t: {f: {t[0]: t[1] if t[0] == "ne" else [t[1], "MO"]}}),
        st.sampled_from(["in", "not_in"]).map(lambda op: {f: {op: "test-countries"}}),
        st.just({f: {"in": "test-countries"}})))  # the dated member: weighted up
    text = st.one_of(st.sampled_from(["gallium", "germanium oxide"]).map(lambda v: {"item.material": v}),
                     st.sampled_from(["in", "not_in"]).map(lambda op: {"item.material": {op: "test-materials"}}),
                     st.just({"item.material": {"ne": "tin"}}))
    boolean = st.tuples(st.sampled_from(["item.chip.datacenter", "item.ecad_tcad"]), st.sampled_from(["eq", "ne"]),
                        st.booleans()).map(lambda t: {t[0]: {t[1]: t[2]}})
    listed = st.tuples(st.sampled_from(["in", "not_in"]), st.sampled_from(TAGS)).map(
        lambda t: {"end_uses": {t[0]: [t[1]]}})
    exists = st.tuples(st.sampled_from(NUMBERS + sorted(COUNTRIES) + ["item.material", "item.chip.datacenter",
                                                                      "end_uses"]),
                       st.booleans()).map(lambda t: {t[0]: {"exists": t[1]}})
    return st.one_of(number, country, text, boolean, listed, exists)


def _party_leaf():
    country = st.sampled_from(["party.country", "party.headquarters_country"]).flatmap(lambda f: st.one_of(
        st.sampled_from(["KH", "CN", "DE"]).map(lambda v: {f: v}),
        st.sampled_from(["in", "not_in"]).map(lambda op: {f: {op: "test-countries"}}),
        st.booleans().map(lambda given: {f: {"exists": given}})))
    role = st.one_of(st.sampled_from(list(ROLES)[:2]).map(lambda r: {"party.role": r}),
                     st.just({"party.role": {"in": ["end_user", "purchaser"]}}))
    return st.one_of(country, role, st.booleans().map(lambda b: {"party.screened": b}))


def _tree(leaf):
    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"all": parts}),
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"any": parts}),
        inner.map(lambda part: {"not": part})), max_leaves=5)


CONDITION = _tree(_leaf_node())
# a rule: conditions on the line, on a party, or on both
RULE = st.one_of(CONDITION.map(lambda when: (when, None)),
                 st.tuples(st.one_of(st.none(), CONDITION), _tree(_party_leaf())))

ITEM = st.fixed_dictionaries({"sku": st.just("X"), "quantity": _number(1)}, optional={
    "unit_value": _number(), "origin": st.sampled_from(COUNTRIES["item.origin"]),
    "material": st.sampled_from(MATERIALS), "ecad_tcad": st.booleans(),
    "chip": st.fixed_dictionaries({}, optional={"tpp": _number(), "datacenter": st.booleans(),
                                                "die_area_mm2": _number(1)})})
ORDER = st.fixed_dictionaries({
    "id": st.just("P-1"), "date": st.sampled_from(["2021-12-08", "2021-12-09", "2026-02-02", "2026-02-03"]),
    "destination": st.sampled_from(COUNTRIES["destination"]), "items": st.lists(ITEM, min_size=1, max_size=2)},
    optional={"end_uses": st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
              "end_use_country": st.sampled_from(COUNTRIES["end_use_country"]),
              "parties": st.lists(st.fixed_dictionaries(
                  {"role": st.sampled_from(list(ROLES)), "name": st.just("Example Party Ltd"),
                   "country": st.sampled_from(["KH", "CN", "DE"])},
                  optional={"headquarters_country": st.sampled_from(["CN", "US"])}),
                  max_size=2, unique_by=lambda p: p["role"])})


def _engine(conds: list[tuple[dict | None, dict | None]]) -> Engine:
    names = conditions.Names({s.id: s.kind for s in SETS})
    rules = []
    for i, (when, for_party) in enumerate(conds):
        rule = Rule.model_validate({"id": f"prop.r{i}", "title": "random rule", "citation": "property test",
                                    "effective": {"from": DAY_FROM}, "when": when, "for_party": for_party,
                                    "then": {"decision": "HOLD", "message": "m"}})
        rules.append(LoadedRule(rule, "US-EAR", "prop.yaml", i,
                                conditions.parse(when, LINE_FIELDS, names) if when is not None else EVERY_LINE,
                                conditions.parse(for_party, PARTY_FIELDS, names) if for_party is not None else None,
                                {}))
    book = RuleBook(BundleMeta(name="prop", version="2026.1.0"), None, rules, {s.id: s for s in SETS}, [])
    return Engine(compile_rulebook(book))


def _members(set_id: str, day: dt.date) -> set[str]:
    [named] = [s for s in SETS if s.id == set_id]
    return {m if isinstance(m, str) else m.code for m in named.members if isinstance(m, str) or m.covers(day)}


def _oracle(values: dict, day: dt.date):
    """The answer to a probe leaf's positive question, as rules/README.md defines it."""
    def member(leaf: conditions.Leaf) -> bool | None:
        value = values.get(leaf.field)
        if value is None:
            return None
        op, target = leaf.question[0], leaf.value
        if op == "in":
            target = _members(target, day) if isinstance(target, str) else target
            return any(v in target for v in (value if isinstance(value, list) else [value]))
        return {"eq": value == target, "gt": value > target, "gte": value >= target}[op]
    return member


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(conds=st.lists(RULE, min_size=1, max_size=3), orders=st.lists(ORDER, min_size=1, max_size=3))
def test_the_network_fires_exactly_where_the_python_evaluator_says_the_conditions_hold(conds, orders):
    engine = _engine(conds)
    for data in orders:
        txn = validate_order(data)
        result = engine.check(txn)
        fired = {(f.rule, f.line, f.party) for f in result.findings if f.rule.startswith("prop.")}
        # the engine screens no party here (no lists): each is "not screened", matching nothing
        parties = [party_values(p, PartyScreen(screened=False).facts()) for p in txn.parties]
        expected = set()
        for i, item in enumerate(txn.items):
            values = line_values(txn, item, txn.date)
            for rule in engine.rules.values():
                if not conditions.holds(rule.when, values.get, _oracle(values, txn.date)):
                    continue
                if rule.for_party is None:
                    expected.add((rule.id, i, None))
                expected |= {(rule.id, i, party["party.role"]) for party in parties if rule.for_party is not None
                             and conditions.holds(rule.for_party, party.get, _oracle(party, txn.date))}
        assert fired == expected, (conds, data)
