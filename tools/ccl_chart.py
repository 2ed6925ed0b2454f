"""Generate the Commerce Country Chart rule pack from a machine-readable CCL and chart.

    python tools/ccl_chart.py ../shared/data/ear [-o rules/ear/country-chart.yaml]

Reads ``ccl-cat3-4-5-<date>.json`` and ``country-chart-<date>.json`` (the layout of the project's
shared EAR data) and writes one rule pack: the chart's columns as country sets, the CCL's reasons
for control as ECCN sets, one rule per chart column, one rule per "special" chart cell (worldwide
controls, Macau/D:5 rows, ...), and a HOLD rule for every control whose scope depends on something
an order does not say ("when usable in missiles", "software for ..."). Rerun it on a newer edition:
the rules take effect on that edition's date.

Where the data cannot be read with certainty, the pack says so rather than guess: a scope that does
not parse is treated as conditional (HOLD where the chart marks the destination), a chart cell this
script does not recognise is HOLD worldwide, and the chart rows the data's README calls unreliable
are left out, so those destinations stay undecided (HOLD) unless another rule decides them.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "rules" / "ear" / "country-chart.yaml"

# Rows the data's README calls parse loss (embargoed destinations showing only CB1): left out.
UNRELIABLE_ROWS = {"CU", "IR", "KP", "SY"}

# The chart has no AT column; AT column 1 marks the E:1 destinations (15 CFR 742.8, 742.9, 742.19).
AT_COLUMNS = {"AT1": {"union": ["E:1"]}}

REASON_CITATION = {
    "NS": "15 CFR 742.4", "RS": "15 CFR 742.6", "MT": "15 CFR 742.5", "NP": "15 CFR 742.3",
    "CB": "15 CFR 742.2", "CC": "15 CFR 742.7", "FC": "15 CFR 742.17",
    "AT": "15 CFR 742.8 (Iran), 742.9 (Syria), 742.19 (North Korea)",
}
REASON_NAME = {
    "NS": "national security", "RS": "regional stability", "MT": "missile technology",
    "NP": "nuclear nonproliferation", "CB": "chemical and biological weapons", "CC": "crime control",
    "FC": "firearms convention", "AT": "anti-terrorism", "EI": "encryption items",
    "SL": "surreptitious listening", "UN": "United Nations sanctions", "?": "Russian industry sector sanctions",
}
CHART = "15 CFR part 738, Supplement No. 1"


@dataclass(frozen=True)
class Cell:
    """What a chart cell that is not a plain column means: where it applies and what it cites."""

    key: str                                        # the destination scope, e.g. "macau-d5"
    title: str
    when: dict = field(default_factory=dict)        # conditions on the line besides the ECCN
    for_party: dict | None = None
    not_enforced: str | None = None                 # reason, when the codified scope is not enforced
    citation: str = ""                              # filled in from the cell's own "See § ..." text


MACAU_D5 = {"destination": {"in": "macau-or-d5"}}
WORLDWIDE = {"destination": {"ne": "US"}}

# (pattern on the chart text, cell).  The first match wins; order matters.
CELLS: list[tuple[str, Cell]] = [
    (r"^Worldwide control", Cell("worldwide", "worldwide control", WORLDWIDE)),
    (r"Worldwide \(see § 742\.6\(a\)\(6\)\(ii\)\)",
     Cell("from-macau-d5", "technology exported from Macau or D:5", {"export_from": {"in": "macau-or-d5"}})),
    (r"any destination worldwide.*742\.6\(a\)\(6\)\(iii\)\(A\)",
     Cell("ac-a-enforced", "enforced scope of the worldwide advanced-computing control",
          {"destination": {"in": "ac-a-enforced-scope"}})),
    (r"any destination worldwide.*742\.6\(a\)\(13\)",
     Cell("worldwide", "worldwide (AI model weights)", WORLDWIDE,
          not_enforced="codified by the AI Diffusion rule (90 FR 4544); BIS announced non-enforcement on 2025-05-13")),
    (r"United Arab Emirates or destinations specified in Country Groups D:1, D:4, and D:5",
     Cell("uae-d1-d4-d5", "to the UAE or D:1, D:4, D:5 outside A:5 and A:6", {"destination": {"in": "ac-b-scope"}})),
    (r"Country Groups D:1, D:4, and D:5 of supplement no\. 1 to part 740 of the EAR, excluding",
     Cell("d1-d4-d5", "to D:1, D:4, D:5 outside A:5 and A:6", {"destination": {"in": "ac-groups"}})),
    (r"Macau or a destination specified in Country Group D:5", Cell("macau-d5", "to Macau or D:5", MACAU_D5)),
    (r"742\.6\(a\)\(11\)",
     Cell("fn5-party", "for a footnote 5 Entity List party", {}, for_party={"party.footnotes": {"in": ["fn5"]}})),
    (r"China, Russia, or Venezuela",
     Cell("cn-ru-ve", "to China, Russia or Venezuela", {"destination": {"in": ["CN", "RU", "VE"]}})),
    (r"Iraq or Pakistan", Cell("iq-pk", "to Iraq or Pakistan", {"destination": {"in": ["IQ", "PK"]}})),
    (r"Pakistan", Cell("pk", "to Pakistan", {"destination": {"in": ["PK"]}})),
    (r"North Korea", Cell("kp", "to North Korea", {"destination": {"in": ["KP"]}})),
    (r"742\.13", Cell("worldwide", "to all destinations", WORLDWIDE)),
    (r"742\.15", Cell("not-canada", "to all destinations except Canada", {"destination": {"ne": "US", "not_in": ["CA"]}})),
    (r"746\.8", Cell("ru-by", "to Russia or Belarus", {"destination": {"in": ["RU", "BY"]}})),
    (r"746\.1\(b\)", Cell("un-review", "to destinations under review for UN sanctions", {"destination": {"in": "un-arms-embargo-review"}})),
]

# Cells the hand-written advanced-computing rules decide: the generated pack only lists their items,
# and tests/test_country_chart.py checks that the hand-written set holds every one of them.
DELEGATED = {
    "15 CFR 742.6(a)(6)(iii)(A)": "ac-a-items",
    "15 CFR 742.6(a)(6)(iii)(B)": "ac-b-items",
    "15 CFR 742.6(a)(6)(i)(B)": "hbm-items",
}
SECTION = {"NS": "742.4", "RS": "742.6", "MT": "742.5", "NP": "742.3", "CB": "742.2", "CC": "742.7",
           "AT": "742.19", "EI": "742.15", "SL": "742.13", "UN": "746.1(b)", "?": "746.8"}


def cell_citation(reason: str, chart_text: str) -> str:
    """The section the cell cites ("See § 742.6(a)(6)(iii)(A)"), else the reason's own section."""
    match = re.search(r"§\s*(7\d\d\.\d+(?:\([a-zA-Z0-9]+\))*)", chart_text)
    return f"15 CFR {match.group(1) if match else SECTION.get(reason, 'part 742')}"


ENTRY = r"\d[A-E]\d{3}"
REF = r"[a-z0-9]+(?:\.[a-z0-9]+)*"
TOKEN = re.compile(rf"^(?:(?P<eccn>{ENTRY})\.)?(?P<first>{REF})(?:\s+to\s+(?:{ENTRY}\.)?(?P<last>{REF}))?$")
PLAIN_PREFIXES = ("items controlled by ", "items in ", "“software” controlled by ", "“technology” controlled by ")


def parse_scope(entry: str, scope: str) -> tuple[str, list[str]] | None:
    """("entire", []), ("only", refs) or ("except", refs) for a reason's scope text; None if unsure."""
    text = re.sub(r"\s+", " ", scope.replace("\u00a0", " ")).strip().rstrip(".")
    head = re.match(r"^.*? appl(?:y|ies) (?:to )?(.*)$", text)
    if not head:
        return None
    rest = head.group(1).strip()
    if re.fullmatch(r"(?:the )?entire entry", rest):
        return ("entire", [])
    exception = re.fullmatch(r"(?:the )?entire entry,? except (?:for )?(.*)", rest)
    if exception:
        refs = _refs(entry, exception.group(1))
        return ("except", refs) if refs else None
    for prefix in PLAIN_PREFIXES:
        if rest.startswith(prefix):
            rest = rest[len(prefix):]
    refs = _refs(entry, rest)
    return ("only", refs) if refs else None


def _refs(entry: str, text: str) -> list[str] | None:
    refs: list[str] = []
    for token in re.split(r",\s*(?:and\s+)?|\s+and\s+", text.strip()):
        match = TOKEN.match(token.strip())
        if not match or (match.group("eccn") and match.group("eccn") != entry):
            return None
        expanded = _expand(match.group("first"), match.group("last"))
        if expanded is None:
            return None
        refs += [f"{entry}.{ref}" for ref in expanded]
    return refs or None


def _expand(first: str, last: str | None) -> list[str] | None:
    """"a.1 to a.3" -> a.1, a.2, a.3; "g to j" -> g, h, i, j; None when the range is not regular."""
    if last is None:
        return [first]
    head1, _, tail1 = first.rpartition(".")
    head2, _, tail2 = last.rpartition(".")
    if head1 != head2:
        return None
    stem = f"{head1}." if head1 else ""
    if tail1.isdigit() and tail2.isdigit() and int(tail1) < int(tail2):
        return [f"{stem}{n}" for n in range(int(tail1), int(tail2) + 1)]
    if len(tail1) == len(tail2) == 1 and tail1.isalpha() and tail2.isalpha() and tail1 < tail2:
        return [f"{stem}{chr(c)}" for c in range(ord(tail1), ord(tail2) + 1)]
    return None


RANGE = re.compile(rf"\b(?:{ENTRY}\.)?[a-z](?:\.[a-z0-9]+)*\s+to\s+(?:{ENTRY}\.)?[a-z](?:\.[a-z0-9]+)*\b")


def conditional_scope(entry: str, control: dict) -> list[str]:
    """Where a conditional control may apply: its listed paragraphs, or the whole entry if unsure.

    The data's paragraph list drops the inside of ranges ("a.1 to a.3" becomes a.1, a.3), so it is
    used only when the scope text names no range.
    """
    refs = control.get("paragraphs") or []
    if not refs or RANGE.search(control["scope"]):
        return [entry]
    return [f"{entry}.{ref}" for ref in refs]


def cell_for(reason: str, chart_text: str) -> Cell | None:
    for pattern, cell in CELLS:
        if re.search(pattern, chart_text):
            citation = cell_citation(reason, chart_text)
            key = f"{reason.lower().replace('?', 'ru')}-{citation.removeprefix('15 CFR ')}-{cell.key}"
            key = re.sub(r"[^a-z0-9.]+", "-", key.lower().replace("(", ".").replace(")", "")).strip("-")
            return Cell(key, cell.title, cell.when, cell.for_party, cell.not_enforced, citation)
    return None


@dataclass
class Pack:
    edition: str
    column_sets: dict[str, list[str]] = field(default_factory=dict)
    columns: dict[str, dict] = field(default_factory=dict)      # column -> included, excepted, why
    cells: dict[str, dict] = field(default_factory=dict)        # cell key -> cell, included, excepted
    conditional: list[dict] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    group_b: list[str] = field(default_factory=list)
    gbs: dict[str, list[str]] = field(default_factory=lambda: {"in": [], "except": []})
    lvs: dict[int, dict[str, list[str]]] = field(default_factory=dict)          # value limit -> in/except


def build(ccl: dict, chart: dict, groups: dict) -> Pack:
    edition = chart["stamp"]["asOf"]
    if ccl["stamp"]["asOf"] != edition:
        raise SystemExit(f"the CCL ({ccl['stamp']['asOf']}) and the chart ({edition}) are different editions")
    pack = Pack(edition=edition)
    for row in chart["rows"]:
        if row["iso2"] in UNRELIABLE_ROWS:
            continue
        for column in row["x"]:
            pack.column_sets.setdefault(column, []).append(row["iso2"])
    for entry in ccl["eccns"]:
        if entry.get("reserved"):
            continue
        pack.entries.append(entry["id"])
        for control in entry["controls"]:
            _add_control(pack, entry, control)
        for exception in entry.get("licenseExceptions", []):
            if exception["code"] == "GBS":
                _add_gbs(pack, entry["id"], exception)
            elif exception["code"] == "LVS":
                _add_lvs(pack, entry["id"], exception)
    pack.group_b = sorted(code for code, labels in groups["membership"].items() if "B" in labels)
    return pack


# License Exceptions GBS (15 CFR 740.4) and LVS (740.3) are read only where the CCL text is plain:
# "Yes", "Yes, except <paragraphs>", "Yes for <paragraphs>", "$N", "$N, except <paragraphs>",
# "$N for <paragraphs>", "$N: <paragraphs> $M: <paragraphs>".  A paragraph that carries its own
# condition in parentheses is left out, and text that does not read that way grants nothing.

def _plain_refs(entry: str, text: str, conditional: str = "drop") -> list[str] | None:
    """Paragraph refs of a CCL list; a ref carrying a parenthesised condition is dropped (``"drop"``,
    for what an exception grants) or kept (``"keep"``, for what it excepts).  None if unreadable."""
    flat, depth = "", 0
    for char in text:  # conditions in parentheses become a marker on the ref before them
        if char == "(":
            flat += "" if depth else " ~"
            depth += 1
        elif char == ")":
            depth -= 1
        elif not depth:
            flat += char
    refs: list[str] = []
    for token in re.split(r",|\band\b", flat):
        token = token.strip().rstrip(".;").strip()
        marked = token.endswith("~")
        token = token.rstrip("~ ").lstrip(".")
        if not token or (marked and conditional == "drop"):
            continue
        parsed = _refs(entry, token)
        if parsed is None:
            return None
        refs += parsed
    return refs


def _add_gbs(pack: Pack, eccn: str, exception: dict) -> None:
    text = exception["text"].strip().rstrip(".")
    if exception["status"] == "no":
        return
    if exception["status"] == "yes" or text == "Yes":
        pack.gbs["in"].append(eccn)
        return
    if match := re.fullmatch(r"Yes,? except (.*)", text):
        refs = _plain_refs(eccn, match.group(1), conditional="keep")
        if refs:
            pack.gbs["in"].append(eccn)
            pack.gbs["except"] += refs
            return
    elif match := re.fullmatch(r"Yes,? for (.*)", text):
        refs = _plain_refs(eccn, match.group(1))
        if refs:
            pack.gbs["in"] += refs
            return
    pack.notes.append(f"{eccn} GBS not read: {text[:70]}")


def _add_lvs(pack: Pack, eccn: str, exception: dict) -> None:
    text = exception["text"].strip().rstrip(".;")
    if exception["status"] == "no":
        return
    value = r"\$([\d,]+)"
    if match := re.fullmatch(value, text):
        pack.lvs.setdefault(int(match.group(1).replace(",", "")), {"in": [], "except": []})["in"].append(eccn)
        return
    if match := re.fullmatch(value + r"[,;]? (?:except|N/A for) (?:semiconductor manufacturing equipment specified in )?(.*)",
                             text):
        refs = _plain_refs(eccn, match.group(2), conditional="keep")
        if refs:
            tier = pack.lvs.setdefault(int(match.group(1).replace(",", "")), {"in": [], "except": []})
            tier["in"].append(eccn)
            tier["except"] += refs
            return
    tiers = re.findall(value + r"(?::| for) ([^$]*?)(?=\s*\$|;\s*N/A for (?:MT|NP)(?:, NP)?$|$)", text)
    if tiers:
        parsed = [(int(limit.replace(",", "")), _plain_refs(eccn, refs)) for limit, refs in tiers]
        if all(refs for _, refs in parsed):
            for limit, refs in parsed:
                pack.lvs.setdefault(limit, {"in": [], "except": []})["in"] += refs
            return
    pack.notes.append(f"{eccn} LVS not read: {text[:70]}")


def _add_control(pack: Pack, entry: dict, control: dict) -> None:
    eccn, reason = entry["id"], control["reason"]
    chart_text = control["chart"].strip()
    if chart_text.rstrip(".") == "N/A":
        return
    scope = None if control["conditional"] else parse_scope(eccn, control["scope"])
    columns = [c for c in control["columns"] if c in pack.column_sets or c in AT_COLUMNS]
    cell = None if columns else cell_for(reason, chart_text)
    if not columns and cell is None:
        pack.notes.append(f"{eccn} {reason}: chart text not recognised, HOLD worldwide: {chart_text[:80]}")
    if scope is None:
        pack.conditional.append({"eccn": eccn, "paragraphs": conditional_scope(eccn, control),
                                 "reason": reason, "scope": control["scope"].strip(),
                                 "chart": chart_text, "columns": columns, "cell": cell})
        return
    mode, refs = scope
    why = f"{eccn} (reasons for control: {', '.join(entry['reasonForControl'])}): {' '.join(control['scope'].split())}"
    for key in columns or ([cell.key] if cell else []):
        target = (pack.columns if columns else pack.cells).setdefault(key, {"in": [], "except": [], "cell": cell,
                                                                          "why": {}})
        added = [eccn] if mode != "only" else refs
        target["in"] += added
        target["except"] += refs if mode == "except" else []
        for code in added:
            target["why"].setdefault(code, why)


# --- writing the pack ----------------------------------------------------------------------------

def render(pack: Pack) -> dict:
    edition = pack.edition
    sets, rules = [], []
    verification = (f"generated from a third-party machine-readable rendering of the eCFR of {edition}; "
                    "spot-checked against the domain reference, not against ecfr.gov cell by cell")
    for column, members in sorted(pack.column_sets.items()):
        sets.append({"id": f"chart:{column}", "title": f"Commerce Country Chart, column {column}: destinations "
                     "marked X", "citation": f"{CHART} (eCFR {edition})", "members": sorted(members)})
    for column, spec in sorted(AT_COLUMNS.items()):
        sets.append({"id": f"chart:{column}", "title": f"Commerce Country Chart, column {column} (E:1)",
                     "citation": f"{CHART}; 15 CFR 742.8, 742.9, 742.19", **spec})
    sets.append({"id": "chart:destinations", "title": "destinations whose chart row the bundle holds",
                 "citation": f"{CHART} (eCFR {edition}); the rows of {', '.join(sorted(UNRELIABLE_ROWS))} "
                             "are left out (parse loss in the source)",
                 "members": sorted({c for members in pack.column_sets.values() for c in members})})
    sets.append({"id": "ccl:entries", "title": f"ECCNs of CCL Categories 3-5 decided by this chart pack from {edition}",
                 "kind": "eccn", "citation": f"15 CFR part 774, Supplement No. 1 (eCFR {edition})",
                 "members": [{"code": e, "from": edition} for e in sorted(pack.entries)]})

    for column in sorted(pack.columns):
        spec = pack.columns[column]
        reason = column[:2]
        set_id = f"ccl:{column}"
        sets.append(_eccn_set(set_id, f"paragraphs controlled under chart column {column}", spec["in"], edition,
                              spec["why"]))
        when: dict = {"item.subject_to_ear": True, "item.eccn": {"in": set_id}}
        if spec["except"]:
            sets.append(_eccn_set(f"{set_id}:except", f"paragraphs excepted from column {column}", spec["except"],
                                  edition))
            when["item.eccn"]["not_in"] = f"{set_id}:except"
        when["destination"] = {"in": f"chart:{column}"}
        rules.append(_rule(f"ear.738.chart.{column.lower()}",
                           f"Commerce Country Chart: {REASON_NAME[reason]} ({reason} column {column[2:]})",
                           f"{REASON_CITATION[reason]}; {CHART}", edition, verification, when,
                           f"The CCL entry is controlled for {REASON_NAME[reason]} under column {column}, and the "
                           f"Commerce Country Chart marks an X for the destination in that column."))
    for key in sorted(pack.cells):
        spec = pack.cells[key]
        cell = spec["cell"]
        set_id = f"ccl:{key}"
        sets.append(_eccn_set(set_id, f"paragraphs controlled under {cell.citation}, {cell.title}", spec["in"],
                              edition, spec["why"]))
        if cell.citation in DELEGATED:
            continue  # the hand-written rules on cell.delegated_to decide these (a test keeps them in step)
        when = {"item.subject_to_ear": True, "item.eccn": {"in": set_id}, **cell.when}
        if spec["except"]:
            sets.append(_eccn_set(f"{set_id}:except", f"paragraphs excepted from {cell.citation}", spec["except"],
                                  edition))
            when["item.eccn"] = {"in": set_id, "not_in": f"{set_id}:except"}
        reason = key.split("-")[0].upper().replace("RU", "?")
        rule = _rule(f"ear.738.chart.{key}", f"Commerce Country Chart: {REASON_NAME.get(reason, reason)} {cell.title}",
                     f"{cell.citation}; {CHART}",
                     edition, verification, when,
                     f"The CCL entry's reason for control applies here ({cell.citation}).", cell.for_party)
        if cell.not_enforced:
            rule["not_enforced"] = [{"from": edition, "reason": cell.not_enforced}]
        rules.append(rule)
    for cond in pack.conditional:
        rules.append(_conditional_rule(cond, edition, verification))
    _render_exceptions(pack, sets, rules, verification)
    return {"sets": sets, "rules": rules, "cases": _cases(pack, sets, rules)}


# An example destination for each named set of the hand-written packs that a chart rule names.
EXAMPLE_DESTINATION = {"chart:AT1": "SY", "macau-or-d5": "MO", "ac-a-enforced-scope": "CN", "ac-b-scope": "CN",
                       "ac-groups": "CN",
                       "un-arms-embargo-review": "CN", "B": "IN"}
AVOID = {"CN", "RU", "BY", "MO", "VE", "KP", "IR", "SY", "CU"}  # destinations many other rules decide
CASE_DATE = "2026-11-28"


def _cases(pack: Pack, sets: list, rules: list) -> list[dict]:
    """One case per rule, showing it fire on a U.S.-origin item of its entry to a destination of its
    scope (and, for LVS, a case just above the limit too): the pack's cases are made with it."""
    members = {s["id"]: [m if isinstance(m, str) else m["code"] for m in s.get("members", [])] for s in sets}
    named = {m for ids in members.values() for m in ids} | _eccns_named_by_hand()
    leaves = {e for e in named if not any(o.startswith(e + ".") for o in named)}  # no paragraph reading
    cases = []
    for rule in rules:
        when = rule["when"]
        eccn_spec = when["item.eccn"]
        candidates = members[eccn_spec["in"]] if isinstance(eccn_spec["in"], str) else eccn_spec["in"]
        excepted = set(members.get(eccn_spec.get("not_in"), []))
        destination = _destination(when, pack, members)
        if rule["then"]["decision"] == "LICENSE_EXCEPTION":  # it must overcome an NS requirement on the line
            ns = sorted({e for c in ("NS1", "NS2") if c in pack.columns for e in pack.columns[c]["in"]})
            candidates = [e for e in candidates if _under(e, ns)] + [e for e in ns if _under(e, candidates)]
            if rule["id"] != "ear.740.4.gbs":  # a line GBS covers reports GBS as what overcame the requirement
                gbs_excepted = members.get("ccl:gbs:except", [])
                candidates = [e for e in candidates if not _under(e, members["ccl:gbs"]) or _under(e, gbs_excepted)] \
                    or candidates
            ns_destinations = set(pack.column_sets.get("NS2", [])) | set(pack.column_sets.get("NS1", []))
            destination = next((c for c in pack.group_b if c in ns_destinations and c not in AVOID), destination)
        eccn = next((e for e in candidates if not _under(e, excepted) and e in leaves),
                    next(e for e in candidates if not _under(e, excepted)))
        item = {"sku": "X-1", "quantity": 1, "origin": "US", "eccn": eccn}
        txn = {"id": f"chart-{len(cases) + 1}", "date": CASE_DATE, "export_from": "US", "destination": destination,
               "parties": [{"role": "end_user", "name": "Example Customer Ltd", "country": destination}],
               "items": [item]}
        if "export_from" in when:
            txn.update(export_from="CN", destination="DE")
            txn["parties"][0]["country"] = "DE"
        case = {"name": f"{rule['id']} fires: {eccn} to {txn['destination']}", "transaction": txn}
        if rule.get("for_party"):
            case["screening"] = {"end_user": {"list": "Entity List", "footnotes": [5]}}
        case.update(fires=[rule["id"]], findings=[{"rule": rule["id"], "effect": rule["then"]["decision"]}])
        limit = when.get("item.order_value_of_eccn", {}).get("lte")
        if limit is None:
            cases.append(case)
            continue
        item["unit_value"] = limit
        above = json.loads(json.dumps(case))
        above["transaction"]["items"][0]["unit_value"] = limit + 1
        above["transaction"]["id"] += "-above"
        above.update(name=f"{rule['id']} does not fire: {eccn} worth ${limit + 1:,}", not_fires=[rule["id"]])
        del above["fires"], above["findings"]
        cases += [case, above]
    return cases


def _under(eccn: str, entries) -> bool:
    """``eccn`` is one of ``entries`` or a paragraph below one."""
    return any(eccn == e or eccn.startswith(e + ".") for e in entries)


def _eccns_named_by_hand() -> set[str]:
    """The ECCNs the hand-written packs name (sets, literal lists): a case's item must have no
    paragraph named anywhere, or it is checked as each paragraph (the most restrictive stands)."""
    found: set[str] = set()
    for path in (REPO / "rules").rglob("*.yaml"):
        if path != DEFAULT_OUT and "lists" not in path.relative_to(REPO / "rules").parts:
            found |= set(re.findall(r"\b\d[A-E]\d{3}(?:\.[a-z0-9]+)+", path.read_text()))
    return found


def _destination(when: dict, pack: Pack, members: dict) -> str:
    """A destination the rule's condition holds for, outside the destinations many other rules decide."""
    spec = when.get("destination") or when.get("any", [{}])[0].get("destination") or {"ne": "US"}
    target = spec.get("in")
    if target is None:
        return "DE"
    if isinstance(target, list):
        return target[0]
    if target in EXAMPLE_DESTINATION:
        return EXAMPLE_DESTINATION[target]
    column = pack.column_sets.get(target.removeprefix("chart:"))
    choices = column if column is not None else members.get(target, [])
    return next((c for c in choices if c not in AVOID), choices[0] if choices else "DE")


NS_RULES = ["ear.738.chart.ns1", "ear.738.chart.ns2"]


def _render_exceptions(pack: Pack, sets: list, rules: list, verification: str) -> None:
    """GBS and LVS overcome only the national security column requirements, to Country Group B."""
    edition = pack.edition
    sets.append({"id": "B", "title": "Country Group B", "citation": f"15 CFR part 740, Supplement No. 1 (eCFR {edition})",
                 "members": pack.group_b})
    overcomes = [r for r in NS_RULES if r in {rule["id"] for rule in rules}]

    def eccn_condition(set_id: str, spec: dict, title: str) -> dict:
        sets.append(_eccn_set(set_id, title, spec["in"], edition))
        if not spec["except"]:
            return {"in": set_id}
        sets.append(_eccn_set(f"{set_id}:except", f"{title}: paragraphs excepted", spec["except"], edition))
        return {"in": set_id, "not_in": f"{set_id}:except"}

    gbs = {"item.subject_to_ear": True,
           "item.eccn": eccn_condition("ccl:gbs", pack.gbs, "paragraphs eligible for License Exception GBS"),
           "destination": {"in": "B"}}
    rules.append(_exception("ear.740.4.gbs", "License Exception GBS: national security items to Country Group B",
                            "15 CFR 740.4", edition, verification, gbs, "GBS", overcomes,
                            "GBS is unavailable where a restriction of 15 CFR 740.2 applies (check the other findings "
                            "on this line) and needs the destination control statement on the export documents."))
    for limit in sorted(pack.lvs):
        when = {"item.subject_to_ear": True,
                "item.eccn": eccn_condition(f"ccl:lvs-{limit}", pack.lvs[limit],
                                            f"paragraphs eligible for License Exception LVS up to ${limit:,}"),
                "destination": {"in": "B"},
                "item.order_value_of_eccn": {"lte": limit}}
        rules.append(_exception(f"ear.740.3.lvs-{limit}", f"License Exception LVS: shipments of up to ${limit:,} to "
                                "Country Group B", "15 CFR 740.3(a)", edition, verification, when, "LVS", overcomes,
                                f"The order's items of this ECCN are worth ${limit:,} or less in all (LVS counts the "
                                "net value per ECCN per shipment).  LVS is unavailable where a restriction of 15 CFR "
                                "740.2 applies, and a shipment may not be split to stay under the limit."))


def _exception(rule_id, title, citation, edition, verification, when, code, overcomes, message) -> dict:
    return {"id": rule_id, "title": title, "citation": citation, "effective": {"from": edition},
            "verification": verification + "; the exception's paragraphs are read only where the CCL text is plain",
            "when": when, "then": {"decision": "LICENSE_EXCEPTION", "license_exception": code,
                                   "overcomes": overcomes, "message": message}}


def _eccn_set(set_id: str, title: str, members: list[str], edition: str, why: dict | None = None) -> dict:
    """An ECCN set; a member with a ``why`` carries it as its source (explanations quote it)."""
    why = why or {}
    return {"id": set_id, "title": title, "kind": "eccn", "citation": f"15 CFR part 774, Supplement No. 1 (eCFR {edition})",
            "members": [{"code": m, "source": why[m]} if m in why else m for m in sorted(set(members))]}


def _rule(rule_id, title, citation, edition, verification, when, message, for_party=None) -> dict:
    rule = {"id": rule_id, "title": title, "citation": citation, "effective": {"from": edition},
            "verification": verification, "when": when}
    if for_party:
        rule["for_party"] = for_party
    rule["then"] = {"decision": "LICENSE_REQUIRED", "message": message}
    return rule


def _conditional_rule(cond: dict, edition: str, verification: str) -> dict:
    eccn, reason, cell = cond["eccn"], cond["reason"], cond["cell"]
    if cond["columns"]:
        where = {"destination": {"in": f"chart:{cond['columns'][0]}"}} if len(cond["columns"]) == 1 else \
            {"any": [{"destination": {"in": f"chart:{c}"}} for c in cond["columns"]]}
        cites, applies = f"{REASON_CITATION.get(reason, '15 CFR part 742')}; {CHART}", \
            f"the chart marks the destination in column {'/'.join(cond['columns'])}"
    elif cell is not None:
        where, cites, applies = dict(cell.when), f"{cell.citation}; {CHART}", f"the chart cell reads: {cond['chart']}"
    else:
        where, cites, applies = dict(WORLDWIDE), f"15 CFR part 742; {CHART}", \
            f"the chart cell could not be read: {cond['chart']}"
    slug = re.sub(r"[^a-z0-9]+", "-", f"{eccn} {reason} {'-'.join(cond['columns']) or (cell.key if cell else 'x')}"
                  .lower()).strip("-")
    rule = {"id": f"ear.738.chart.conditional.{slug}",
            "title": f"{eccn}: {REASON_NAME.get(reason, reason)} control on a condition the order does not state",
            "citation": cites, "effective": {"from": edition}, "verification": verification,
            "when": {"item.subject_to_ear": True, "item.eccn": {"in": cond["paragraphs"]}, **where}}
    if cell is not None and cell.for_party:
        rule["for_party"] = cell.for_party
    rule["then"] = {"decision": "HOLD", "message": f"{cond['scope']} ({applies}). Whether the item meets this "
                    "condition cannot be told from the order: confirm it, and a licence is required if it does."}
    return rule


HEADER = """\
# GENERATED by tools/ccl_chart.py from {source}, edition {edition}.
# Do not edit by hand: rerun `python tools/ccl_chart.py ../shared/data/ear` on a newer edition.
#
# The Commerce Country Chart (15 CFR part 738, Supplement No. 1) and the reasons for control of CCL
# Categories 3-5 (15 CFR part 774, Supplement No. 1), as rules: one rule per chart column, one per
# special chart cell, and a HOLD rule for each control whose scope depends on facts an order does
# not carry.  Cells that the advanced-computing pack decides (742.6(a)(6)(iii), (i)(B)) get an ECCN
# set here but no rule; tests/test_country_chart.py keeps those sets inside the hand-written ones.
# What the script did not read from the data (no rule or exception is made of it):
{notes}
"""


class _PlainDumper(yaml.SafeDumper):
    """Writes a value shared by several rules out in full each time: no YAML anchors, which a reader
    of the pack would have to chase (rules share conditions by name, not by anchor)."""

    def ignore_aliases(self, data) -> bool:
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with ccl-cat3-4-5-<date>.json and country-chart-<date>.json")
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    ccl_file = max(args.data.glob("ccl-cat3-4-5-*.json"))
    chart_file = max(args.data.glob("country-chart-*.json"))
    groups_file = max(args.data.glob("country-groups-*.json"))
    pack = build(json.loads(ccl_file.read_text()), json.loads(chart_file.read_text()),
                 json.loads(groups_file.read_text()))
    body = render(pack)
    notes = "\n".join(f"#   {note}" for note in pack.notes) or "#   nothing"
    text = HEADER.format(source=f"{ccl_file.name} and {chart_file.name}", edition=pack.edition, notes=notes)
    text += "jurisdiction: US-EAR\n\n" + yaml.dump(body, Dumper=_PlainDumper, sort_keys=False, width=110,
                                                   allow_unicode=True, default_flow_style=None)
    args.out.write_text(text)
    print(f"{args.out}: {len(body['sets'])} sets, {len(body['rules'])} rules "
          f"({len(pack.conditional)} conditional), edition {pack.edition}", file=sys.stderr)
    for note in pack.notes:
        print(f"  note: {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
