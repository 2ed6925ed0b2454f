"""Turn a Transaction into the flat facts the engine matches, set membership already answered.

Facts are plain ``{field: value}`` maps keyed by catalogue names (``item.chip.tpp``).  Missing
data stays missing (never ``None``: durable-rules treats a null as present); an empty list is
missing too.  Numbers are exact (``Decimal``; performance density and the U.S.-content share are
``Fraction``s computed here) and never reach the engine: every comparison on them is a probe
answered here, and the engine sees only its boolean answer.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from ..compiler import CompiledBundle, Probe
from ..models import Item, Party, Scope, Transaction
from ..numbers import compare, ratio
from .sets import SetResolver

Values = dict[str, Any]

NAC_WAIT = dt.timedelta(days=25)  # 15 CFR 740.8: notify at least 25 calendar days before shipping
# a line's NAC notification, best first: the exception rules read the first a notification gives it
NAC_STATES = ("confirmed", "unconfirmed", "undecided", "waiting", "refused")


def same(code: str) -> str:
    return code


def line_values(txn: Transaction, item: Item, day: dt.date | None = None,
                canonical: Callable[[str], str] = same, values_by_eccn: dict | None = None) -> Values:
    """The facts of one order line as judged on ``day`` (default: the order's date); ``canonical``
    names a country as the rules see it (Hong Kong as China); ``values_by_eccn`` is the order's
    ``order_values_by_eccn``, computed once for all its lines."""
    # the models' fields read from their __dict__s: an attribute of a pydantic model is looked up through the
    # model's __getattr__ hook (some 375 instructions a read, callgrind), several times a dict item's cost
    order, given = vars(txn), vars(item)
    chip = given["chip"]
    day = day or order["date"]
    values: Values = {
        "destination": order["destination"],
        "export_from": order["export_from"],
        "end_uses": list(order["end_uses"]),
        "end_use_country": order["end_use_country"],
        "party_count": len(order["parties"]),
        "item.eccn": given["eccn"],
        "item.origin": given["origin"],
        "item.quantity": given["quantity"],
        "item.unit_value": given["unit_value"],
        "item.us_content_value": given["us_content_value"],
        "item.direct_product_of": given["direct_product_of"],
        "item.direct_product_count": _count(given["direct_product_of"]),
        "item.plant_direct_product_of": given["plant_direct_product_of"],
        "item.plant_direct_product_count": _count(given["plant_direct_product_of"]),
        "item.contains_us_ic": given["contains_us_ic"],
        "item.contains_us_ic_count": _count(given["contains_us_ic"]),
        "item.ecad_tcad": given["ecad_tcad"],
        "item.material": " ".join(given["material"].casefold().split()) if given["material"] else None,
        "item.hs_code": given["hs_code"],
        "item.cn_control_code": given["cn_control_code"],
        "item.cn_content_value": given["cn_content_value"],
        "item.cn_re_technology": given["cn_re_technology"],
        "item.software_kind": given["software_kind"],
        "cn_reach": cn_reach(txn, item),
    }
    values.update(notice_values(txn, item, day, canonical))
    if values_by_eccn is None:
        values_by_eccn = order_values_by_eccn(txn)
    values["item.order_value_of_eccn"] = values_by_eccn.get(given["eccn"])
    if given["us_content_value"] is not None and given["unit_value"]:
        values["item.us_content_pct"] = ratio(given["us_content_value"], given["unit_value"], 100)
    if given["cn_content_value"] is not None and given["unit_value"]:
        values["item.cn_content_pct"] = ratio(given["cn_content_value"], given["unit_value"], 100)
    if chip is not None:
        chip_given = vars(chip)
        values.update({
            "item.chip.tpp": chip_given["tpp"],
            "item.chip.die_area_mm2": chip_given["die_area_mm2"],
            "item.chip.performance_density": chip.density,
            "item.chip.datacenter": chip_given["datacenter"],
            "item.chip.memory_bandwidth_density": chip_given["memory_bandwidth_density"],
            "item.chip.interconnect_bandwidth": chip_given["interconnect_bandwidth"],
            "item.chip.dram_bandwidth": chip_given["dram_bandwidth"],
            "item.chip.us_available_2026_01_15": chip_given["us_available_2026_01_15"],
        })
    return present(values)


def cn_reach(txn: Transaction, item: Item) -> str | None:
    """How PRC export control can reach the line: ``export`` (it leaves China), ``origin`` (a PRC-origin
    item abroad), ``content`` (a foreign-made item with PRC-origin content), ``unknown`` (where it leaves
    from or where it was made is not given), or None: it cannot.  Hong Kong and Macau are not China
    here: they have their own export-control laws."""
    if txn.export_from == "CN":
        return "export" if txn.destination != "CN" else None  # a sale within China is no export
    if txn.export_from is None or item.origin is None:
        return "unknown"
    if item.origin == "CN":
        return "origin"
    return "content" if item.cn_content_value else None


def notice_values(txn: Transaction, item: Item, day: dt.date, canonical: Callable[[str], str] = same) -> Values:
    """What the order's notices say of this line on ``day``: the exporter's headquarters, the bases of the
    "is informed" letters in force that cover it, its NAC notification state and its VEU authorisations.

    A notice that names ECCNs cannot be matched to a line without a declared ECCN: such a letter is
    ``letters_undecided``, such a notification ``undecided``, such an authorisation never covers it."""
    exporter = txn.exporter
    if exporter is None and not txn.veu and txn.hbm is None:
        return {}  # an order with no notices, most of them
    letters = exporter.letters if exporter else []
    notifications = exporter.nac_notifications if exporter else []
    in_force = [(letter, covers(letter, txn, item, canonical)) for letter in letters if letter.in_force(day)]
    states = {nac_state(n, day) if covered else "undecided"
              for n in notifications if (covered := covers(n, txn, item, canonical)) is not False}
    hbm = txn.hbm
    return {
        "exporter.headquarters_country": exporter.headquarters_country if exporter else None,
        "exporter.cn_general_licences": exporter.cn_general_licences if exporter else None,
        "letters_in_force": sorted({letter.basis for letter, covered in in_force if covered}),
        "letters_undecided": sorted({letter.basis for letter, covered in in_force if covered is None}),
        "nac_notification": next((s for s in NAC_STATES if s in states), None),
        "veu": sorted({a.veu for a in txn.veu if covers(a, txn, item, canonical)}),
        "hbm.bought_by_copackage_designer": hbm.bought_by_copackage_designer if hbm else None,
        "hbm.shipped_to_packaging_site": hbm.shipped_to_packaging_site if hbm else None,
        "hbm.advanced_node_facility": hbm.advanced_node_facility if hbm else None,
    }


def nac_state(notification, day: dt.date) -> str:
    """refused; waiting (fewer than 25 days since filing); confirmed; or unconfirmed (25 days have
    passed, but the order does not give the confirmation number that says NAC may be used)."""
    if notification.refused:
        return "refused"
    if day < notification.filed + NAC_WAIT:
        return "waiting"
    return "confirmed" if notification.confirmation else "unconfirmed"


def covers(scope: Scope, txn: Transaction, item: Item, canonical: Callable[[str], str] = same) -> bool | None:
    """Whether ``scope`` covers this line; None when it names ECCNs, the SKU is not named and the
    line declares no ECCN."""
    countries = {canonical(c) for c in scope.destinations}
    parties = {canonical(c) for c in scope.party_countries}
    where = (not countries and not parties or canonical(txn.destination) in countries
             or any(canonical(c) in parties for p in txn.parties for c in (p.country, p.headquarters_country) if c))
    if not where:
        return False
    if not scope.eccns and not scope.skus or item.sku in scope.skus:
        return True
    if not scope.eccns:
        return False
    if item.eccn is None:
        return None
    return any(item.eccn == e or item.eccn.startswith(e + ".") for e in scope.eccns)


def _count(given: list | None) -> int | None:
    """How many entries a list fact has, so that a list given empty ([]: none) is told from one not given."""
    return None if given is None else len(given)


def order_values_by_eccn(txn: Transaction) -> dict:
    """What the order's items of each declared ECCN are worth together (LVS limits count per ECCN per
    shipment); None for an ECCN one of whose lines has no unit value."""
    totals: dict = {}
    for item in txn.items:
        if item.eccn is None:
            continue
        known = totals.get(item.eccn, 0)
        totals[item.eccn] = None if known is None or item.unit_value is None else known + item.quantity * item.unit_value
    return totals


def party_values(party: Party, screening: Values) -> Values:
    """A party's own facts plus what screening concluded about it (see controls.screening.parties)."""
    return present({"party.role": party.role, "party.name": party.name, "party.country": party.country,
                    "party.headquarters_country": party.headquarters_country, **screening})


def present(values: Values) -> Values:
    """The facts that are known: no None, no empty list."""
    return {k: v for k, v in values.items() if v is not None and (v or not isinstance(v, list))}


_SENT_AS_IS = (str, bool)  # the values the network tests itself; any other reaches it as True ("present")


class Answers:
    """A line's or a party's probe answers, kept per fact as cached (most are never read: the engine is
    sent only the answers it tests, the yeses mostly, and an explanation reads the few its rule asks)."""

    __slots__ = ("_by_field", "_field_of", "epoch")

    def __init__(self, field_of: dict[str, str], epoch: dt.date):
        # field -> (its probes' answers, those the engine is sent)
        self._by_field: dict[str, tuple[dict[str, bool], dict[str, bool]]] = {}
        self._field_of = field_of  # a probe's key -> the fact it asks about
        self.epoch = epoch  # the set epoch they were answered in: each answer is its fact's value's in it

    def get(self, key: str) -> bool | None:
        """The answer of probe ``key``; None when its fact is missing."""
        found = self._by_field.get(self._field_of[key])
        return None if found is None else found[0][key]

    def get_all(self, keys: tuple[str, ...]) -> tuple[bool | None, ...]:
        """``get`` of each of ``keys``, in one call (an explanation reads every probe of its rule)."""
        by_field, field_of = self._by_field, self._field_of
        return tuple(None if (found := by_field.get(field_of[key])) is None else found[0][key] for key in keys)

    def send_in(self, fact: dict) -> None:
        """Put in ``fact`` the answers the engine is sent: every yes, and the no of a probe some rule asks a no of."""
        for _, sent in self._by_field.values():
            fact.update(sent)

    def sent_about(self, newer: "Answers") -> list[str]:
        """The keys of the answers sent about the facts ``newer`` answers again (a few yeses, mostly)."""
        return [key for field in newer._by_field.keys() & self._by_field.keys() for key in self._by_field[field][1]]

    def merge(self, newer: "Answers") -> None:
        """``newer`` answers (of facts just derived) over these."""
        self._by_field.update(newer._by_field)


class FactBuilder:
    def __init__(self, compiled: CompiledBundle, resolver: SetResolver):
        self._compiled = compiled
        self._resolver = resolver
        self._by_field: dict[str, tuple[Probe, ...]] = {}
        for probe in compiled.probes.values():
            self._by_field[probe.field] = self._by_field.get(probe.field, ()) + (probe,)
        # one fact value asks the same questions on every day of an epoch: answer them once
        self._field_answers = lru_cache(maxsize=65536)(self._answers_for)
        self._field_of = {probe.key: probe.field for probe in compiled.probes.values()}

    def answers(self, values: Values, day: dt.date, fields=None) -> Answers:
        """Answers of every probe about ``values`` (only about ``fields``, if given); missing facts get none."""
        epoch = self._resolver.first_day(day)
        found = Answers(self._field_of, epoch)
        for field in self._by_field.keys() & (values.keys() if fields is None else values.keys() & fields):
            value = values[field]
            found._by_field[field] = self._field_answers(field, tuple(value) if isinstance(value, list) else value,
                                                         epoch)
        return found

    def _answers_for(self, field: str, value, epoch: dt.date) -> tuple[dict[str, bool], dict[str, bool]]:
        contains = self._resolver.contains
        values = value if isinstance(value, tuple) else (value,)
        answered = {p.key: any(contains(p.target, v, epoch) if p.op == "in" else compare(p.op, v, p.target)
                               for v in values)
                    for p in self._by_field[field]}
        sent_no = self._compiled.probes_sent_no
        return answered, {key: yes for key, yes in answered.items() if yes or key in sent_no}

    def engine_view(self, values: Values, answers: Answers) -> dict:
        """A line as the network can see it: the properties its conditions test and the probe answers it is sent.
        Each stratum is sent its projection (``line_fact``); derived facts update it in place."""
        view = self._engine_facts(values)
        answers.send_in(view)
        return view

    def update_view(self, view: dict, fields: Values, answers: Answers, before: Answers) -> None:
        """Derived ``fields`` and their probes' new ``answers`` into a line's ``view``, whose answers
        about those fields were ``before``'s: what was sent then is taken back (a yes may become a no)."""
        view.update(self._engine_facts(fields))
        for key in before.sent_about(answers):
            del view[key]
        answers.send_in(view)

    def line_fact(self, index: int, stratum: int, view: dict, day: int) -> dict:
        """The line as one stratum's rules see it: only the properties they test, and the bookkeeping."""
        reads = self._compiled.line_reads[stratum]
        fact = {k: v for k, v in view.items() if k in reads}  # a view holds far fewer properties than a stratum reads
        # its bookkeeping, item by item: an update with keyword arguments builds and merges a dict of its own
        fact["kind"], fact["id"], fact["line"], fact["stratum"], fact["day"] = (
            "line", f"l{index}s{stratum}", index, stratum, day)
        return fact

    def party_fact(self, index: int, values: Values, answers: Answers) -> dict:
        fact = self._engine_facts(values)
        answers.send_in(fact)
        fact.update(kind="party", id=f"p{index}", index=index)
        return fact

    def _engine_facts(self, values: Values) -> dict:
        """The facts the network tests itself: texts and booleans; a list or a number reaches it only
        as "present" (``exists``), since its comparisons are probes."""
        return {k: v if isinstance(v := values[k], _SENT_AS_IS) else True
                for k in self._compiled.fields_read & values.keys()}  # inline: a call per fact cost more
