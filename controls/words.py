"""How reports say facts in words: one label per fact of the catalogue, values as an analyst writes them.

The text report, the explanation and the determination memo all speak through this module, so a
fact is named the same way everywhere and a new fact in ``controls.facts.catalog`` needs its
label here (a test checks).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .countries import name_of
from .engine.explain import NEGATED, Reason, read_reason
from .facts.catalog import END_USE_TAGS, LINE_FIELDS, PARTY_FIELDS
from .models import ROLES, Decision

LABELS: dict[str, str] = {
    "destination": "the destination",
    "export_from": "the country it ships from",
    "end_uses": "the end uses",
    "end_use_country": "the country of the end use",
    "party_count": "the number of parties",
    "item.eccn": "the ECCN",
    "item.origin": "the country of origin",
    "item.quantity": "the quantity",
    "item.unit_value": "the unit value",
    "item.us_content_value": "the controlled U.S.-origin content",
    "item.us_content_pct": "the controlled U.S.-origin content share",
    "item.direct_product_of": "the U.S. technology or software it is a direct product of",
    "item.direct_product_count": "the number of U.S. technologies or software it is a direct product of",
    "item.plant_direct_product_of": "the U.S. technology or software its plant or major component is a direct "
                                    "product of",
    "item.plant_direct_product_count": "the number of U.S. technologies or software its plant is a direct "
                                       "product of",
    "item.contains_us_ic": "the U.S.-origin ICs inside",
    "item.contains_us_ic_count": "the number of U.S.-origin ICs inside",
    "item.chip.tpp": "the total processing performance (TPP)",
    "item.chip.die_area_mm2": "the applicable die area",
    "item.chip.performance_density": "the performance density",
    "item.chip.datacenter": "designed or marketed for datacenters",
    "item.chip.memory_bandwidth_density": "the memory bandwidth density",
    "item.chip.interconnect_bandwidth": "the aggregate I/O bandwidth",
    "item.chip.dram_bandwidth": "the total DRAM bandwidth",
    "item.chip.us_available_2026_01_15": "commercially available in the U.S. on 2026-01-15",
    "item.ecad_tcad": "ECAD or TCAD software or technology",
    "item.outside_3a090": "outside ECCN 3A090",
    "item.subject_to_ear": "subject to the EAR",
    "item.basis": "the ground on which it is subject to the EAR",
    "item.material": "the material",
    "item.hs_code": "the HS code",
    "item.cn_control_code": "the PRC control list number",
    "item.cn_content_value": "the PRC-origin controlled content",
    "item.cn_content_pct": "the PRC-origin controlled content share",
    "item.cn_re_technology": "made with PRC-origin rare-earth technology",
    "item.order_value_of_eccn": "the order's value of this ECCN",
    "item.software_kind": "the kind of software",
    "exporter.headquarters_country": "the exporter's headquarters country",
    "exporter.cn_general_licences": "what the exporter's MOFCOM general licences cover",
    "cn_reach": "how PRC export control reaches the line",
    "letters_in_force": "the \"is informed\" letters in force",
    "letters_undecided": "the \"is informed\" letters that name ECCNs the line does not give",
    "nac_notification": "the NAC notification",
    "veu": "the validated end-user authorisations",
    "hbm.bought_by_copackage_designer": "bought by the co-package designer",
    "hbm.shipped_to_packaging_site": "shipped to the packaging site",
    "hbm.advanced_node_facility": "the packaging site is an advanced-node facility in Macau or D:5",
    "party.role": "the party's role",
    "party.name": "the party's name",
    "party.country": "the party's country",
    "party.headquarters_country": "the party's headquarters country",
    "party.screened": "screened against the restricted-party lists",
    "party.name_screenable": "a name that can be screened",
    "party.lists_missing": "the lists missing from the list store",
    "party.lists": "the lists the party is on",
    "party.possible_lists": "the lists the party may be on",
    "party.footnotes": "the party's Entity List footnotes",
    "party.affiliate_of": "the listed owners it is an affiliate of",
    "party.possible_affiliate_of": "the listed owners it may be an affiliate of",
}
MONEY = frozenset({"item.unit_value", "item.us_content_value", "item.cn_content_value", "item.order_value_of_eccn"})
PERCENT = frozenset({"item.us_content_pct", "item.cn_content_pct"})
UNITS = {"item.chip.die_area_mm2": "mm²", "item.chip.memory_bandwidth_density": "GB/s per mm²",
         "item.chip.interconnect_bandwidth": "GB/s", "item.chip.dram_bandwidth": "GB/s"}
MISSING = {"item.eccn": "the item has no ECCN", "party.footnotes": "no Entity List footnote applies to the party",
           "party.lists": "the party is on no list", "party.possible_lists": "the party may be on no list", "item.subject_to_ear": "no rule has yet decided whether it is "
           "subject to the EAR", "item.basis": "no ground is yet known on which it is subject to the EAR"}
GIVEN = {"item.outside_3a090": "the item was found to be outside ECCN 3A090",
         "item.subject_to_ear": "a rule has already decided whether it is subject to the EAR"}
BASES = {"us-origin": "U.S.-origin item", "in-us": "in the United States", "de-minimis": "above the de minimis "
         "level (controlled U.S.-origin content)", "foreign-made-under-de-minimis": "foreign-made, at or under the "
         "de minimis level, and no foreign-direct-product rule applies"}
DECISIONS = {
    Decision.PROHIBITED: "prohibited, no licence can be expected",
    Decision.LICENSE_REQUIRED: "a licence is required",
    Decision.HOLD: "on hold, it cannot be cleared automatically",
    Decision.LICENSE_EXCEPTION: "a licence exception applies",
    Decision.NLR: "no licence required",
    Decision.NOT_SUBJECT: "not subject to the EAR",
}
_NEGATIVE = {"eq": "", "ne": "not ", "lt": "under ", "lte": "at most ", "gt": "over ", "gte": "at least ",
             "in": "in ", "not_in": "not in "}
_GROUP = re.compile(r"^[A-E]:[0-9]$")
# fact names as rule messages write them (``item.chip.tpp``, ``end_uses``); a plain word such as
# "destination" is left alone, since messages use it in its ordinary sense
_FIELD_NAMES = re.compile(r"\b(" + "|".join(re.escape(f) for f in sorted(LABELS, key=len, reverse=True)
                                            if "." in f or "_" in f) + r")\b")
FIELD_TYPES = {**LINE_FIELDS, **PARTY_FIELDS}
COUNTRY_FIELDS = frozenset(f for f, t in FIELD_TYPES.items() if t.name == "country")


@dataclass
class Glossary:
    """What the rule bundle calls its sets and rules, and the names of the lists, for the words of a report."""

    sets: dict[str, str] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)
    lists: dict[str, str] = field(default_factory=dict)  # a list's tag in the rules -> its name

    @classmethod
    def of(cls, engine) -> "Glossary":
        from .screening.parties import list_tag
        return cls(sets={k: s.title for k, s in engine.rulebook.sets.items()},
                   rules={r.id: r.rule.title for r in engine.rulebook.rules},
                   lists={list_tag(s.list): s.list for s in engine.lists})

    def set_name(self, set_id: str) -> str:
        if _GROUP.match(set_id):
            return f"Country Group {set_id}"
        return self.sets.get(set_id, set_id.replace("-", " "))


def label(name: str) -> str:
    return LABELS.get(name, name)


def country(code: str) -> str:
    """``China (CN)``; the code alone if it names no country."""
    name = name_of(code)
    return f"{name} ({code})" if name else str(code)


def number(value) -> str:
    """``15,832``, ``19.45``, ``about 19.449631`` as written, with thousands separators."""
    text = str(value)
    about = text.startswith("about ")
    digits = text.removeprefix("about ")
    try:
        parsed = Decimal(digits)
    except InvalidOperation:
        return text
    whole, _, fraction = format(parsed, "f").partition(".")
    shown = f"{int(whole):,}" + (f".{fraction}" if fraction else "")
    if whole == "-0":
        shown = "-" + shown
    return ("about " if about else "") + shown


def money(value, currency: str = "USD") -> str:
    return f"{currency} {number(value)}"


def in_words(items, conjunction: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return items[0] if items else "none"
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def value(name: str, given, glossary: Glossary | None = None) -> str:
    """A fact's value as an analyst writes it."""
    glossary = glossary or Glossary()
    if isinstance(given, (list, tuple, set, frozenset)):
        return in_words([value(name, v, glossary) for v in given]) if given else "none"
    if isinstance(given, bool):
        return "yes" if given else "no"
    if given is None:
        return "not given"
    if isinstance(given, dt.date):
        return given.isoformat()
    if name in COUNTRY_FIELDS:
        return country(given)
    if name in MONEY:
        return money(given)
    if name in PERCENT:
        return f"{number(given)} %"
    if name == "end_uses":
        return end_use(given)
    if name in ("party.lists", "party.possible_lists", "party.lists_missing", "party.affiliate_of",
                "party.possible_affiliate_of"):
        return glossary.lists.get(given, str(given).replace("-", " "))
    if name == "party.footnotes":
        return f"footnote {str(given).removeprefix('fn')}"
    if name == "party.role":
        return ROLES.get(given, given)
    if name == "item.basis":
        return basis(given)
    if name in FIELD_TYPES and FIELD_TYPES[name].name == "number":
        unit = UNITS.get(name)
        return number(given) + (f" {unit}" if unit else "")
    return str(given)


def basis(text: str | None) -> str:
    """``fdp:734.9(h)`` -> ``foreign-direct-product rule 15 CFR 734.9(h)``; each ground of a list."""
    if not text:
        return "not decided"
    words = []
    for ground in str(text).split(", "):
        kind, _, paragraph = ground.partition(":")
        if kind == "fdp":
            words.append(f"the foreign-direct-product rule of 15 CFR {paragraph}")
        elif kind == "undecided":
            words.append(f"undecided under 15 CFR {paragraph}")
        else:
            words.append(BASES.get(ground, ground))
    return in_words(words)


def _operand(reason: Reason, glossary: Glossary) -> str:
    operand = reason.operand
    if reason.op in ("in", "not_in") and isinstance(operand, str):
        return glossary.set_name(operand)
    if isinstance(operand, list):
        return in_words([value(reason.field, v, glossary) for v in operand], "or")
    return value(reason.field, operand, glossary)


def reason(text: str, glossary: Glossary | None = None) -> str:
    """One "because" line in words: ``item.origin = KR (!= US)`` -> ``the country of origin is South Korea
    (KR), not the United States (US)``; text that is not a condition keeps its words, its fact names labelled."""
    glossary = glossary or Glossary()
    parts = read_reason(text)
    if parts is None:
        return facts_in_words(text)
    name = label(parts.field)
    many = FIELD_TYPES.get(parts.field) is not None and FIELD_TYPES[parts.field].many
    verb = ":" if many else " is"  # a list reads as "the U.S.-origin ICs inside: 3A991", whatever its length
    if parts.op == "exists":
        if parts.operand:
            return GIVEN.get(parts.field, f"{name}{verb} given")
        return MISSING.get(parts.field, f"{name}{verb} not given")
    if parts.missing:  # a comparison on a missing fact never holds: the rule asked for the opposite
        if isinstance(parts.operand, bool):
            return f"{name}: not given"
        wanted = NEGATED[parts.op]
        return MISSING.get(parts.field, f"{name}{verb} not given") + \
            f", so it could not be shown to be {_NEGATIVE[wanted] or 'equal to '}{_operand(parts, glossary)}"
    if parts.op == "eq" and parts.value == parts.operand:
        if isinstance(parts.value, bool):
            return f"{name}: {value(parts.field, parts.value, glossary)}"
        return f"{name}{verb} {value(parts.field, parts.value, glossary)}"
    seen = value(parts.field, parts.value, glossary)
    return f"{name}{verb} {seen}, {_NEGATIVE[parts.op] or 'equal to '}{_operand(parts, glossary)}"


def facts_in_words(text: str) -> str:
    """Fact names in free text (a rule's message) replaced by their labels."""
    return _FIELD_NAMES.sub(lambda m: label(m.group(1)), text)


def role(name: str | None) -> str:
    return ROLES.get(name, name or "")


def end_use(tag: str) -> str:
    return END_USE_TAGS.get(tag, tag).split(" (")[0]
