"""Human-readable reports of determinations, for the compliance analyst at the terminal.

The report reads like an analyst's note: the decision in words, per party the lists screened and
what was found, per line the chain (classification, subject to the EAR and why, each requirement
and exception, each with its citation), every value written as an analyst writes it
(``controls.words``).  It is built from the determination alone (the order, when given, adds the
parties' names and the lines' descriptions), so a stored determination reads the same.
"""
from __future__ import annotations

import click

from . import words
from .engine.chain import MADE_ABROAD
from .models import Decision, Determination, Finding, LineResult, ScreeningResult, Transaction
from .numbers import plain
from .words import Glossary

EXIT_CODES = {Decision.NOT_SUBJECT: 0, Decision.NLR: 0, Decision.LICENSE_EXCEPTION: 0,
              Decision.LICENSE_REQUIRED: 3, Decision.PROHIBITED: 4, Decision.HOLD: 5}
COLOURS = {Decision.PROHIBITED: "red", Decision.LICENSE_REQUIRED: "red", Decision.HOLD: "yellow",
           Decision.LICENSE_EXCEPTION: "green", Decision.NLR: "green", Decision.NOT_SUBJECT: "green"}
CLASSIFYING = frozenset({"item.eccn", "item.outside_3a090"})


class _Pen:
    """Styles text for a terminal, or leaves it plain (piped, a file, a test)."""

    def __init__(self, colour: bool):
        self.colour = colour

    def decision(self, decision: Decision) -> str:
        return click.style(decision.value, fg=COLOURS[decision], bold=True) if self.colour else decision.value

    def heading(self, text: str) -> str:
        return click.style(text, bold=True) if self.colour else text

    def dim(self, text: str) -> str:
        return click.style(text, dim=True) if self.colour else text


def render(result: Determination, explain: bool = False, order: Transaction | None = None,
           glossary: Glossary | None = None, colour: bool = False, chains: dict | None = None) -> str:
    """The decision, the parties and their screening, each line's chain, the warnings.

    ``explain`` adds the rule behind each step and its sources; ``chains`` per line the
    foreign-direct-product and de minimis reasoning (``controls.engine.chain.Chain``).
    """
    glossary = glossary or Glossary()
    pen = _Pen(colour)
    out = [f"{pen.heading(result.transaction_id)}: {pen.decision(result.decision)} - "
           f"{words.DECISIONS[result.decision]}",
           f"  judged by the rules in force on {result.as_of}, rule bundle {result.ruleset.version} "
           f"({_short(result.ruleset.digest)})"]
    if order is not None:
        out.append("  " + _order_line(order))
    if len(result.jurisdictions) <= 1:
        out += _body(result, explain, order, glossary, pen, chains)
    else:  # one section per jurisdiction, each with its own decision, parties' findings and lines
        out += [f"  under {j}: {pen.decision(d)}" for j, d in result.jurisdictions.items()]
        for jurisdiction in result.jurisdictions:
            part = result.only(jurisdiction)
            out += ["", pen.heading(f"== {jurisdiction}: ") + pen.decision(part.decision)]
            out += _body(part, explain, order, glossary, pen, chains if jurisdiction == "US-EAR" else None)
    if result.warnings:
        out += ["", pen.heading("Warnings")] + [f"  - {words.facts_in_words(w)}" for w in result.warnings]
    return "\n".join(out)


def _body(result: Determination, explain: bool, order: Transaction | None, glossary: Glossary, pen: "_Pen",
          chains: dict | None) -> list[str]:
    """Parties, lines and the findings on the whole order."""
    out = ["", pen.heading("Parties")]
    if result.matcher:
        out.append(pen.dim(f"  names matched by {result.matcher.name} v{result.matcher.version}"))
    out += _parties(result, order, glossary, pen)
    out += ["", pen.heading("Lines")]
    for line in result.lines:
        item = order.items[line.line] if order is not None and line.line < len(order.items) else None
        out += _line(line, item, result, explain, glossary, pen, (chains or {}).get(line.line))
    general = [f for f in result.findings if f.line is None and f.enforced]
    if general:
        out += ["", pen.heading("Findings on the whole order")]
        for finding in general:
            out += _finding(finding, explain, glossary, pen, "  ")
    return out


def _short(digest: str) -> str:
    return digest[:19] + "..." if len(digest) > 22 else digest


def _order_line(order: Transaction) -> str:
    where = f"to {words.country(order.destination)}"
    if order.export_from:
        where = f"from {words.country(order.export_from)} " + where
    text = f"Order dated {order.date}, {where}"
    if order.end_uses:
        text += f"; end uses: {words.in_words(words.end_use(u) for u in order.end_uses)}"
    if order.end_use_country:
        text += f" in {words.country(order.end_use_country)}"
    return text + "."


def screening_summary(result: Determination) -> str:
    """Which lists, which editions: what every party was screened against."""
    if not result.lists:
        return "not screened: no restricted-party list could be used (none imported, or the store is damaged: " \
               "the warnings say which)"
    editions: dict[str, list[str]] = {}
    for snapshot in result.lists:
        editions.setdefault(snapshot.edition or "", []).append(snapshot.list)
    groups = [f"{words.in_words(names)} ({f'edition {edition}' if edition else 'edition not stated'})"
              for edition, names in sorted(editions.items(), reverse=True)]
    return f"screened against {len(result.lists)} lists: " + "; ".join(groups)


def party_findings(result: Determination, role: str) -> list[Finding]:
    """The findings on ``role``, once each (a party finding repeats on every line)."""
    seen, found = set(), []
    for f in result.findings:
        if f.party == role and f.enforced and f.rule not in seen:
            seen.add(f.rule)
            found.append(f)
    return found


def _parties(result: Determination, order: Transaction | None, glossary: Glossary, pen: _Pen) -> list[str]:
    roles = [p.role for p in order.parties] if order is not None else \
        list(dict.fromkeys(f.party for f in result.findings if f.party))
    if not roles:
        return ["  none given"]
    out = []
    for index, role in enumerate(roles):
        party = order.parties[index] if order is not None else None
        who = f"{party.name}, {words.country(party.country)}" if party else "(name not in the determination)"
        out.append(f"  {words.role(role).capitalize()}: {who}")
        if party and party.headquarters_country:
            out.append(f"    headquartered in {words.country(party.headquarters_country)}")
        out.append(f"    {screening_summary(result)}")
        found = party_findings(result, role)
        if not found:
            out.append("    result: no match on any list, no finding")
        quoted: set[str] = set()  # a footnote's text, once per party
        for finding in found:
            out.append(f"    result: {pen.decision(finding.effect)} - {headline(finding, glossary)}")
            out += [f"      {words.facts_in_words(finding.message)}"] if finding.message else []
            for match in finding.matches:
                out.append(f"      {match_line(match)}")
                for n, text in sorted(match.footnote_texts.items()):
                    if text not in quoted:
                        quoted.add(text)
                        out.append(f"        footnote {n}: {_clip(text)}")
    return out


def match_line(m) -> str:
    """A list match in words: which list, which entry, how close, what it triggers."""
    text = (f"{m.strength} match on the {m.list}: entry \u201c{m.entry}\u201d ({m.entry_id}), matched as "
            f"\u201c{m.matched_name}\u201d, score {m.score:.2f}")
    if getattr(m, "owner", None):
        text += f", through its owner \u201c{m.owner}\u201d ({m.share:.0%})"
    if getattr(m, "footnotes", None):
        text += f", {'footnote' if len(m.footnotes) == 1 else 'footnotes'} {words.in_words(m.footnotes)}"
    if getattr(m, "license_requirement", None):
        text += f"; licence requirement: {m.license_requirement}"
    if getattr(m, "review_policy", None):
        text += f"; review policy: {m.review_policy}"
    if getattr(m, "allowed", None):
        text += f"; reviewed as a false positive: {m.allowed}"
    return text


def _line(line: LineResult, item, result: Determination, explain: bool, glossary: Glossary, pen: _Pen,
          chain) -> list[str]:
    what = line.sku
    if item is not None:
        if item.description:
            what += f", {item.description}"
        what += f"; {words.number(item.quantity)}"
        if item.unit_value is not None:
            what += f" at {words.money(item.unit_value)} each"
    decision = pen.decision(line.decision)
    if line.license_exception:
        decision += f" (licence exception {line.license_exception})"
    out = [f"  Line {line.line}: {what} - {decision}"]
    classified = [d for d in line.derived if CLASSIFYING & d.facts.keys()]
    eccn = line.eccn or ("outside 3A090, no ECCN given" if any(d.facts.get("item.outside_3a090") for d in classified)
                         else "none")
    out.append(f"    Classification: {eccn}" + ("" if classified else " (as given)" if line.eccn else ""))
    for d in classified:
        out += _step(d, explain, glossary)
    if "US-EAR" in result.jurisdictions or not result.jurisdictions:  # whether it is subject: the EAR's question
        subject = {True: "yes", False: "no", None: "not decided"}[line.subject_to_ear]
        out.append(f"    Subject to the EAR: {subject}" + (f", {words.basis(line.basis)}" if line.basis else ""))
        for d in line.derived:
            if not CLASSIFYING & d.facts.keys():
                out += _step(d, explain, glossary)
    if chain is not None:
        out += [f"    {text}" for text in chain_lines(chain, glossary, pen)]
    findings = [f for f in result.findings if f.line == line.line and f.enforced]
    for finding in findings:
        if finding.party:
            out.append(f"    {pen.decision(finding.effect)} - {headline(finding, glossary)} (see Parties)")
        else:
            out += _finding(finding, explain, glossary, pen, "    ")
    return out


def _step(derivation, explain: bool, glossary: Glossary) -> list[str]:
    title = glossary.rules.get(derivation.rule)
    head = f"      {derivation.citation}" + (f": {title}" if title else "")
    if explain:
        head += f" [rule {derivation.rule}]"
    return [head] + [f"        - {words.reason(r, glossary)}" for r in derivation.because]


def headline(f: Finding, glossary: Glossary) -> str:
    """``The end user is on the Entity List: a licence is required, 15 CFR 744.11; review: ...``"""
    title = f.title or glossary.rules.get(f.rule, f.rule)
    if f.party and title.startswith("A party "):
        title = f"the {words.role(f.party)} " + title.removeprefix("A party ")
    effect = words.DECISIONS[f.effect]
    if f.effect == Decision.LICENSE_EXCEPTION and f.license_exception:
        effect = f"licence exception {f.license_exception} applies"
    footnotes = sorted({n for m in f.matches if m.strength == "strong" for n in m.footnotes})
    if footnotes:
        title += f" ({'footnote' if len(footnotes) == 1 else 'footnotes'} {words.in_words(footnotes)})"
    text = f"{title[:1].upper()}{title[1:]}: {effect} ({f.citation})"
    if f.review_policy:
        policy = f.review_policy if f.review_policy[:2].isupper() else f.review_policy[:1].lower() + f.review_policy[1:]
        text += f"; review policy: {policy}"  # "Presumption of denial" reads on in lower case; "MOFCOM" stays
    if f.overcome_by:
        text += f"; overcome by {glossary.rules.get(f.overcome_by, f.overcome_by)}"
    return text


def _finding(f: Finding, explain: bool, glossary: Glossary, pen: _Pen, indent: str) -> list[str]:
    lines = [f"{indent}{pen.decision(f.effect)} - {headline(f, glossary)}"]
    if f.message:
        lines.append(f"{indent}  {words.facts_in_words(f.message)}")
    lines += [f"{indent}  - {words.reason(r, glossary)}" for r in f.because]
    if explain:
        lines.append(pen.dim(f"{indent}  rule {f.rule}" + (f"; sources: {'; '.join(f.sources)}" if f.sources else "")))
    return lines


def _clip(text: str, width: int = 150) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def render_screening(result: ScreeningResult) -> str:
    where = f" ({words.country(result.country)})" if result.country else ""
    out = [f"{result.query}{where}: {result.decision.value} - {words.DECISIONS[result.decision]}"]
    for m in result.matches:
        out.append(f"  {m.effect.value}: {match_line(m)}")
        out.append(f"      {m.citation} [rule {m.rule}]")
    if not result.matches:
        out.append("  no match")
    out += [f"  warning: {words.facts_in_words(w)}" for w in result.warnings]
    if result.explanation:
        out += ["", "How the names were scored"] + [f"  {line}" for line in result.explanation]
    return "\n".join(out)


def chain_lines(chain, glossary: Glossary | None = None, pen: _Pen | None = None) -> list[str]:
    """A foreign-made line's chain in words: the de minimis arithmetic, then each rule and its prongs."""
    glossary, pen = glossary or Glossary(), pen or _Pen(False)
    out = [pen.heading("Foreign-made: the de minimis and foreign-direct-product rules (15 CFR 734.4, 734.9)"),
           f"  De minimis: {de_minimis_words(chain.de_minimis)}"]
    abroad = _made_abroad(chain, glossary)
    if abroad:
        out.append(f"  Made abroad: {abroad}")
    for rule in chain.rules:
        out.append(f"  [{_state(rule)}] {rule.citation}: {rule.title} [rule {rule.rule}]")
        out += [f"      {name}: {verdict}" for name, verdict in _prongs(rule, glossary)]
    return out


def chain_facts(chain, glossary: Glossary) -> tuple[list[str], list[str]]:
    """The same chain as sentences, one per rule in force (for the memo): those that applied (after
    "made abroad"), and those considered that did not."""
    applied = [f"Made abroad: {abroad}" for abroad in [_made_abroad(chain, glossary)] if abroad]
    others = []
    for rule in chain.rules:
        if rule.in_force:
            prongs = "; ".join(f"{name[:1].upper()}{name[1:]}: {verdict}" for name, verdict in _prongs(rule, glossary))
            text = f"{rule.citation} ({rule.title}): {_state(rule)}" + (f". {prongs}" if prongs else "")
            (applied if rule.fired else others).append(text)
    return applied, others


def _state(rule) -> str:
    if not rule.in_force:
        return "not in force on this date"
    if rule.fired:
        return "applied"
    return "met, but another rule had already decided the line" if all(p.met for p in rule.prongs) else "not met"


def _made_abroad(chain, glossary: Glossary) -> str:
    abroad = next((p for rule in chain.rules for p in rule.prongs if p.name == MADE_ABROAD and p.met), None)
    return "; ".join(words.reason(r, glossary) for r in abroad.reasons) if abroad else ""


def _prongs(rule, glossary: Glossary) -> list[tuple[str, str]]:
    """Each prong of a rule in force but the shared "made abroad" one, met or failed, and by which facts."""
    if not rule.in_force:
        return []
    return [(prong.name, f"{'met' if prong.met else 'failed'} - "
             + ("; ".join(words.reason(r, glossary) for r in prong.reasons) or "nothing to check"))
            for prong in rule.prongs if not (prong.name == MADE_ABROAD and prong.met)]


def de_minimis_words(dm) -> str:
    """``USD 30,000 of USD 100,000 = 30 % exactly, over the 25 % level (15 CFR 734.4(d))``."""
    if dm.share is None:
        given = "the controlled U.S.-origin content" if dm.content is None else "the unit value"
        return f"cannot be computed: {given} is not given"
    share = plain(dm.share)
    exactness = "" if share.startswith("about") else " exactly"
    text = (f"controlled U.S.-origin content {words.money(plain(dm.content))} of unit value "
            f"{words.money(plain(dm.value))} = {words.number(share)} %{exactness}")
    if dm.level is None:
        return text + "; no de minimis level rule is in force for this destination"
    verdict = "over" if dm.over else "not over"
    return f"{text}, {verdict} the {words.number(plain(dm.level))} % level ({dm.citation})"
