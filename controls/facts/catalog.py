"""The facts a rule may test: their names, their types, and which ones rules may derive.

The compiler checks every field a rule names against this catalogue, so a typo in a rule file
is an error with a suggestion, never a condition that silently never matches.  The closed
vocabulary of end-use tags lives here too (party roles live with the order models, ``models.ROLES``):
the order models and the rule loader both check against them, so a misspelt tag is an error on either
side, never a silent "clear".
"""
from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches


@dataclass(frozen=True)
class FieldType:
    name: str
    many: bool = False  # the fact holds a list; ``in`` means "any element is in"


COUNTRY = FieldType("country")
ECCN = FieldType("eccn")
NUMBER = FieldType("number")
BOOL = FieldType("bool")
TEXT = FieldType("text")
ROLE = FieldType("role")
END_USES = FieldType("end_use", many=True)
TAGS = FieldType("tag", many=True)
ECCNS = FieldType("eccn", many=True)

LINE_FIELDS: dict[str, FieldType] = {
    "destination": COUNTRY,
    "export_from": COUNTRY,
    "end_uses": END_USES,
    "end_use_country": COUNTRY,
    "party_count": NUMBER,
    "item.eccn": ECCN,
    "item.origin": COUNTRY,
    "item.quantity": NUMBER,
    "item.unit_value": NUMBER,
    "item.us_content_value": NUMBER,
    "item.us_content_pct": NUMBER,
    "item.direct_product_of": ECCNS,
    "item.direct_product_count": NUMBER,
    "item.plant_direct_product_of": ECCNS,  # technology of the plant that made it (or, for 3B, a part of it)
    "item.plant_direct_product_count": NUMBER,  # 0: given as [] (no such plant); missing: not given
    "item.contains_us_ic": ECCNS,  # ECCNs of the U.S.-origin ICs inside
    "item.contains_us_ic_count": NUMBER,  # 0: given as [] (none inside); missing: not given
    "item.chip.tpp": NUMBER,
    "item.chip.die_area_mm2": NUMBER,
    "item.chip.performance_density": NUMBER,
    "item.chip.datacenter": BOOL,
    "item.chip.memory_bandwidth_density": NUMBER,
    "item.chip.interconnect_bandwidth": NUMBER,
    "item.chip.dram_bandwidth": NUMBER,
    "item.chip.us_available_2026_01_15": BOOL,
    "item.ecad_tcad": BOOL,
    "item.outside_3a090": BOOL,
    "item.subject_to_ear": BOOL,
    "item.basis": TEXT,
    "item.material": TEXT,
    "item.hs_code": TEXT,
    "item.cn_control_code": TEXT,
    "item.cn_content_value": NUMBER,
    "item.cn_content_pct": NUMBER,  # PRC-origin controlled content / unit value x 100 (MOFCOM No. 61 of 2025)
    "item.cn_re_technology": BOOL,  # made abroad with PRC-origin rare-earth technology (No. 61 § 1(2))
    "exporter.cn_general_licences": TAGS,  # what the exporter's MOFCOM general licences cover
    "cn_reach": TEXT,  # how PRC export control reaches the line: export | origin | content | unknown (builder.cn_reach)
    "item.order_value_of_eccn": NUMBER,  # quantity x unit value of every line with this line's ECCN
    "item.software_kind": TEXT,  # operation | error_fix | mass_market (License Exception TSU)
    # the order's notices, matched to the line on the check date (controls.facts.builder.notice_values)
    "exporter.headquarters_country": COUNTRY,
    "letters_in_force": TAGS,  # paragraphs of the "is informed" letters in force that cover the line
    "letters_undecided": TAGS,  # ... of those that name ECCNs, where the line declares none
    "nac_notification": TEXT,  # confirmed | unconfirmed | undecided | waiting | refused
    "veu": TAGS,  # validated end-user authorisations that cover the line
    "hbm.bought_by_copackage_designer": BOOL,
    "hbm.shipped_to_packaging_site": BOOL,
    "hbm.advanced_node_facility": BOOL,
}

PARTY_FIELDS: dict[str, FieldType] = {
    "party.role": ROLE,
    "party.name": TEXT,
    "party.country": COUNTRY,
    "party.headquarters_country": COUNTRY,
    # screening results, computed before the engine (controls.screening.parties)
    "party.screened": BOOL,
    "party.name_screenable": BOOL,  # false: only punctuation, a legal form or "N/A", or in a script not read
    "party.lists_missing": TAGS,  # lists the importers know that the list store lacks
    "party.lists": TAGS,
    "party.possible_lists": TAGS,
    "party.footnotes": TAGS,  # Entity List footnote designations of strong matches: fn1 ... fn5
    "party.affiliate_of": TAGS,
    "party.possible_affiliate_of": TAGS,
}

# Facts every valid order gives (the models require them): a rule may test them with ne/not_in safely.
ALWAYS_GIVEN = frozenset({"destination", "party_count", "item.quantity", "party.role", "party.name", "party.country"})

# Fields a rule's ``then.derive`` may set (forward chaining: parameters -> ECCN -> licence).
DERIVABLE = frozenset({"item.eccn", "item.outside_3a090", "item.subject_to_ear", "item.basis"})
# Derived facts to which several rules may each add a value (a line subject to the EAR on several
# grounds: de minimis and two foreign-direct-product rules); the line lists every value, in order.
ACCUMULATED = frozenset({"item.basis"})


# What an order's ``end_uses`` may say the exporter knows of the end use, and the rules that read each.
END_USE_TAGS: dict[str, str] = {
    "military": "military end use (15 CFR 744.21)",
    "supercomputer": "a supercomputer (15 CFR 744.23(a)(1))",
    "advanced_node_ic_production": "IC production at an advanced-node facility (15 CFR 744.23(a)(2)(i))",
    "ic_production_node_unknown": "IC production at a facility whose node is not known (15 CFR 744.23(a)(2)(ii))",
    "advanced_node_ic_design": "design of advanced-node ICs with ECAD or TCAD items (15 CFR 744.23(a)(2)(iii))",
    "sme_development": "development or production of semiconductor manufacturing equipment (15 CFR 744.23(a)(4))",
    "advanced_chip_14nm_256layer": "R&D or production of logic chips of 14 nm and below or memory chips of 256 "
                                   "layers and above, or of their production and test equipment and materials "
                                   "(MOFCOM No. 61 of 2025)",
    "datacenter": "a datacenter (no rule reads it alone)",
    "civil": "a civil end use (no rule reads it)",
}


def unknown_word(what: str, value: str, known) -> str | None:
    """The error for ``value`` outside the closed vocabulary ``known``, with a suggestion; None if known."""
    if value in known:
        return None
    return f"unknown {what} {value[:80]!r}{suggest(value, known)}; known: {', '.join(known)}"


def suggest(name: str, known) -> str:
    """A "did you mean" hint for a misspelt name, or ''."""
    close = get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
