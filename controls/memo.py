"""The licence-determination memo: what an auditor files for an order, as Markdown or as HTML.

One document model (headings, paragraphs, tables, lists, a signature block) rendered two ways, so
the Markdown and the HTML say the same thing.  The HTML is self-contained (inline CSS, no
network, no script), styled for print; every text that comes from the order, the lists or the
rules is escaped.  The words are the text report's (``controls.report``, ``controls.words``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
from dataclasses import dataclass

from . import words
from .models import Determination, Transaction
from .report import chain_facts, de_minimis_words, headline, match_line, party_findings, screening_summary
from .words import Glossary


@dataclass
class Memo:
    """One order's determination, with what the memo needs beside it."""

    order: Transaction
    result: Determination
    chains: dict  # line -> controls.engine.chain.Chain (foreign-made lines)


def digest(data) -> str:
    """sha256 of canonical JSON: the same content gives the same digest, however it was written."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def blocks(memo: Memo, glossary: Glossary, prepared: dt.date) -> list[tuple]:
    """The memo as blocks: ("h1"|"h2"|"h3"|"p", text), ("table", header, rows), ("ul", items), ("sign",)."""
    order, result = memo.order, memo.result
    out: list[tuple] = [
        ("h1", f"Licence determination: order {order.id}"),
        ("p", f"Decision: {result.decision.value} - {words.DECISIONS[result.decision]}."),
        ("table", ("", ""), [
            ("Order", order.id),
            ("Order date", str(order.date)),
            ("Judged by the rules in force on", str(result.as_of)),
            ("Exported from", words.country(order.export_from) if order.export_from else "not given"),
            ("Destination", words.country(order.destination)),
            ("End uses", words.in_words(words.end_use(u) for u in order.end_uses) if order.end_uses else "none stated"),
            ("Rule bundle", f"{result.ruleset.version}, {result.ruleset.digest}"),
            ("Memo prepared on", str(prepared)),
        ]),
        ("h2", "Parties"),
    ]
    if order.parties:
        out.append(("table", ("Role", "Name", "Country", "Headquarters", "Screening result"),
                    [(words.role(p.role), p.name, words.country(p.country),
                      words.country(p.headquarters_country) if p.headquarters_country else "not given",
                      "; ".join(f"{f.effect.value}: {headline(f, glossary)}" for f in party_findings(result, p.role))
                      or "no match on any list")
                     for p in order.parties]))
        out.append(("p", "Every party was " + screening_summary(result) + "."))
        matches = [(p, m) for p in order.parties for f in party_findings(result, p.role) for m in f.matches]
        if matches:
            out.append(("h3", "List matches"))
            out.append(("ul", [f"{words.role(p.role)} \u201c{p.name}\u201d: {match_line(m)}" for p, m in matches]))
    else:
        out.append(("p", "No parties are given."))
    out += [("h2", "Items"),
            ("table", ("Line", "SKU", "Description", "Quantity", "Unit value", "ECCN", "Origin", "U.S. content"),
             [(str(i), item.sku, item.description or "", words.number(item.quantity),
               words.money(item.unit_value) if item.unit_value is not None else "not given",
               item.eccn or "not given", words.country(item.origin) if item.origin else "not given",
               words.money(item.us_content_value) if item.us_content_value is not None else "not given")
              for i, item in enumerate(order.items)])]
    out.append(("h2", "Determination"))
    for line in result.lines:
        out += _line_steps(line, memo, glossary)
    general = [f for f in result.findings if f.line is None and f.enforced]
    if general:
        out.append(("h3", "Findings on the whole order"))
        out.append(("ul", [_finding_text(f, glossary) for f in general]))
    if result.warnings:
        out += [("h2", "Warnings"), ("ul", [words.facts_in_words(w) for w in result.warnings])]
    out += [("h2", "Editions and digests"),
            ("table", ("What", "Edition or version", "Digest"),
             [("Rule bundle", result.ruleset.version, result.ruleset.digest)]
             + [(f"{s.list} ({s.source or 'source not stated'}, "
                 f"{'' if s.entries is None else f'{s.entries:,} entries'})",
                 s.edition or "not stated", s.digest or "not stated") for s in result.lists]
             + [("This order", str(order.date), digest(order.model_dump(mode="json", by_alias=True))),
                ("This determination", str(result.as_of), digest(result.model_dump(mode="json")))])]
    if not result.lists:
        out.append(("p", "No restricted-party list could be used (none was imported, or the store is damaged: "
                         "the warnings say which): the parties were not screened."))
    out += [("h2", "Review"), ("sign",)]
    return out


def _line_steps(line, memo: Memo, glossary: Glossary) -> list[tuple]:
    item = memo.order.items[line.line]
    decision = line.decision.value + (f" (licence exception {line.license_exception})" if line.license_exception
                                      else "")
    out: list[tuple] = [("h3", f"Line {line.line}: {item.sku} - {decision}")]
    steps = []
    classified = [d for d in line.derived if {"item.eccn", "item.outside_3a090"} & d.facts.keys()]
    if classified:
        steps += [f"Classification: {line.eccn or 'outside 3A090'}, {d.citation}. Because "
                  + "; ".join(words.reason(r, glossary) for r in d.because) + "." for d in classified]
    else:
        steps.append(f"Classification: {line.eccn or 'none given and none derived'} (as given in the order).")
    subject = {True: "subject to the EAR", False: "not subject to the EAR", None: "not decided"}[line.subject_to_ear]
    grounds = [d for d in line.derived if d not in classified]
    steps.append(f"Jurisdiction: {subject}" + (f", {words.basis(line.basis)}" if line.basis else "") + "."
                 + "".join(f" {d.citation}: " + "; ".join(words.reason(r, glossary) for r in d.because) + "."
                           for d in grounds))
    chain = memo.chains.get(line.line)
    others: list[str] = []
    if chain is not None:
        applied, others = chain_facts(chain, glossary)
        steps.append(f"De minimis (15 CFR 734.4): {de_minimis_words(chain.de_minimis)}.")
        steps += [f"{text}." for text in applied]
    findings = [f for f in memo.result.findings if f.line == line.line and f.enforced]
    steps += [_finding_text(f, glossary) for f in findings]
    if not findings:
        steps.append("No licence requirement, prohibition or hold applies to this line.")
    out.append(("ol", steps))
    if others:
        out += [("p", "The other de minimis and foreign-direct-product rules considered for this line, and the "
                      "facts that decided each:"), ("ul", [f"{text}." for text in others])]
    return out


def _finding_text(f, glossary: Glossary) -> str:
    text = f"{f.effect.value}: {headline(f, glossary)}."
    if f.message:
        text += " " + words.facts_in_words(f.message)
    if f.because:
        text += " Because " + "; ".join(words.reason(r, glossary) for r in f.because) + "."
    return text


SIGNATURE = ("Reviewed by", "Title", "Date", "Signature")


def markdown(memos: list[Memo], glossary: Glossary, prepared: dt.date | None = None) -> str:
    prepared = prepared or dt.date.today()
    return "\n\n---\n\n".join(_markdown(blocks(m, glossary, prepared)) for m in memos) + "\n"


def _md(text: str) -> str:
    """Text as Markdown shows it literally: its markup characters escaped, raw HTML neutralised."""
    return re.sub(r"([\\`*_\[\]<>|~&])", r"\\\1", str(text)).replace("\n", " ")


def _markdown(parts: list[tuple]) -> str:
    out = []
    for part in parts:
        kind = part[0]
        if kind in ("h1", "h2", "h3"):
            out.append(f"{'#' * int(kind[1])} {_md(part[1])}")
        elif kind == "p":
            out.append(_md(part[1]))
        elif kind == "table":
            header, rows = part[1], part[2]
            out.append("\n".join([f"| {' | '.join(_md(h) for h in header)} |",
                                  f"|{'|'.join('---' for _ in header)}|"]
                                 + [f"| {' | '.join(_md(c) for c in row)} |" for row in rows]))
        elif kind in ("ul", "ol"):
            out.append("\n".join(f"{f'{i}.' if kind == 'ol' else '-'} {_md(t)}" for i, t in enumerate(part[1], 1)))
        elif kind == "sign":
            out.append("\n".join([f"{name}: ______________________________" + "  " for name in SIGNATURE]
                                 + ["Reviewer's decision: [ ] concur  [ ] do not concur, because: "
                                    "______________________________"]))
    return "\n\n".join(out)


STYLE = """
body { font-family: Georgia, "Times New Roman", serif; max-width: 60em; margin: 2em auto; color: #111;
       line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.5em; border-bottom: 2px solid #333; padding-bottom: .2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #999; }
h3 { font-size: 1.05em; margin-top: 1.2em; }
table { border-collapse: collapse; width: 100%; margin: .6em 0; font-size: .9em; }
th, td { border: 1px solid #bbb; padding: .3em .5em; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #eee; }
.decision { font-size: 1.15em; font-weight: bold; padding: .4em .6em; border: 2px solid #333; }
.PROHIBITED, .LICENSE_REQUIRED { border-color: #a00; } .HOLD { border-color: #b80; }
.NLR, .NOT_SUBJECT, .LICENSE_EXCEPTION { border-color: #070; }
.sign td { height: 2.4em; } .sign th { width: 12em; }
.memo + .memo { page-break-before: always; break-before: page; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  @page { size: A4; margin: 18mm 16mm; }
  h2, h3 { page-break-after: avoid; break-after: avoid; }
  table, tr, li, .sign { page-break-inside: avoid; break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def html_sections(memos: list[Memo], glossary: Glossary, prepared: dt.date | None = None) -> str:
    """The memos as HTML sections (styled by ``STYLE``), to embed in a page such as the review queue's."""
    prepared = prepared or dt.date.today()
    return "\n".join(f'<section class="memo">\n{_html(blocks(m, glossary, prepared), m.result)}\n</section>'
                     for m in memos)


def html_document(memos: list[Memo], glossary: Glossary, prepared: dt.date | None = None) -> str:
    title = "Licence determination: " + ", ".join(m.order.id for m in memos)
    body = html_sections(memos, glossary, prepared)
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def _html(parts: list[tuple], result: Determination) -> str:
    e = html.escape
    out = []
    for part in parts:
        kind = part[0]
        if kind in ("h1", "h2", "h3"):
            out.append(f"<{kind}>{e(part[1])}</{kind}>")
        elif kind == "p":
            if part[1].startswith("Decision: "):
                out.append(f'<p class="decision {result.decision.value}">{e(part[1])}</p>')
            else:
                out.append(f"<p>{e(part[1])}</p>")
        elif kind == "table":
            header, rows = part[1], part[2]
            head = "" if not any(header) else "<tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>"
            cells = "".join("<tr>" + "".join((f"<th>{e(row[0])}</th>" if not any(header) and i == 0 else
                                              f"<td>{e(c)}</td>") for i, c in enumerate(row)) + "</tr>"
                            for row in rows)
            out.append(f"<table>{head}{cells}</table>")
        elif kind in ("ul", "ol"):
            out.append(f"<{kind}>" + "".join(f"<li>{e(t)}</li>" for t in part[1]) + f"</{kind}>")
        elif kind == "sign":
            rows = "".join(f"<tr><th>{name}</th><td></td></tr>" for name in SIGNATURE)
            out.append(f'<table class="sign">{rows}<tr><th>Reviewer\'s decision</th><td>&#9744; concur '
                       f"&nbsp; &#9744; do not concur, because:</td></tr></table>")
    return "\n".join(out)
