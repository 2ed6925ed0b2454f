"""Human-readable reports of determinations, for the compliance officer at the terminal."""
from __future__ import annotations

from .models import Decision, Determination, Finding, ScreeningResult

EXIT_CODES = {Decision.NOT_SUBJECT: 0, Decision.NLR: 0, Decision.LICENSE_EXCEPTION: 0,
              Decision.LICENSE_REQUIRED: 3, Decision.PROHIBITED: 4, Decision.HOLD: 5}


def render(result: Determination, explain: bool = False) -> str:
    """A decision line, a per-line table, then the findings with their citations."""
    out = [f"{result.transaction_id}: {result.decision.value}",
           f"  as of {result.as_of}; rules {result.ruleset.version} {result.ruleset.digest[:19]}...", ""]
    rows = [("line", "sku", "eccn", "subject", "basis", "decision")]
    for line in result.lines:
        subject = {True: "yes", False: "no", None: "unknown"}[line.subject_to_ear]
        decision = line.decision.value + (f" ({line.license_exception})" if line.license_exception else "")
        outside = any(d.facts.get("item.outside_3a090") for d in line.derived)
        eccn = line.eccn or ("not 3A090" if outside else "-")
        rows.append((str(line.line), line.sku, eccn, subject, line.basis or "-", decision))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    if explain:
        for line in result.lines:
            for d in line.derived:
                facts = ", ".join(f"{k} = {v}" for k, v in d.facts.items())
                out += ["", f"  line {line.line}: {facts}", f"      rule {d.rule} - {d.citation}"]
                out += [f"      because {reason}" for reason in d.because]
    enforced = [f for f in result.findings if f.enforced]
    if enforced:
        out += ["", "Findings"]
        for finding in enforced:
            out += _finding(finding, explain)
    out += render_screenings(result)
    if result.warnings:
        out += ["", "Warnings"] + [f"  - {w}" for w in result.warnings]
    return "\n".join(out)


def render_screenings(result: Determination) -> list[str]:
    """Per party: the result ("no match" too) and the lists and editions it was screened against."""
    if not result.screenings:
        return []
    out = ["", "Screening" + (f" ({result.matcher.name} v{result.matcher.version})" if result.matcher else "")]
    for s in result.screenings:
        entries = f": {', '.join(s.entries)}" if s.entries else ""
        out.append(f"  {s.role} {s.name!r}: {s.result}{entries}")
        out += [f"      screened against {name}" for name in s.lists]
    return out


def _finding(f: Finding, explain: bool) -> list[str]:
    where = f"line {f.line}" + (f", party {f.party}" if f.party else "")
    effect = f.effect.value + (f", overcome by {f.overcome_by}" if f.overcome_by else "")
    lines = [f"  [{effect}] {where}: {f.title}",
             f"      rule {f.rule} - {f.citation}" + (f"; review: {f.review_policy}" if f.review_policy else "")]
    if f.message:
        lines.append(f"      {f.message}")
    lines += [f"      because {reason}" for reason in f.because]
    for m in f.matches:
        lines.append(f"      match: {_match(m)}")
        lines += [f"        footnote {n}: {_clip(text)}" for n, text in sorted(m.footnote_texts.items())]
    if explain and f.sources:
        lines.append(f"      sources: {'; '.join(f.sources)}")
    return lines


def _clip(text: str, width: int = 150) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def _match(m) -> str:
    via = f" (owner {m.owner}, {m.share:.0%})" if getattr(m, "owner", None) else ""
    return (f"{m.list}: {m.entry!r} [{m.entry_id}] as {m.matched_name!r}, score {m.score:.2f} "
            f"({m.strength}){via}")


def render_screening(result: ScreeningResult) -> str:
    where = f" ({result.country})" if result.country else ""
    out = [f"{result.query}{where}: {result.decision.value}"]
    for m in result.matches:
        out.append(f"  [{m.effect.value}] {_match(m)}")
        out.append(f"      rule {m.rule} - {m.citation}" + (f"; review: {m.review_policy}" if m.review_policy else ""))
    if not result.matches:
        out.append("  no match")
    out += [f"  warning: {w}" for w in result.warnings]
    if result.explanation:
        out += ["", "How the names were scored"] + [f"  {line}" for line in result.explanation]
    return "\n".join(out)
