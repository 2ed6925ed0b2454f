"""The review queue: held orders from the audit trail, and a reviewer's decision on each.

``/review`` lists the HOLD determinations the service and batch runs recorded that no reviewer has
released or blocked yet (an escalated one stays, marked), with why each is held; ``/review/{seq}``
shows one: why, a possible list match beside the party it may be, the determination memo, and a form
to release it (with a reason; a possible match can go into the allow-list in the same step), escalate
it, or confirm the match and block it.  The decision is appended to the audit trail as a review
record (``AuditLog.review``): the determination is never edited.

Who may: the holder of a configured token (``--review-token USER=TOKEN``: a bearer header, or the
cookie the login form sets), or the user a trusted reverse proxy names in a header
(``--trust-user-header``).  With neither configured the pages are not served at all (404).  A
decision is a POST carrying, besides the cookie or proxy header a browser sends by itself, a form
field only the page knows (an HMAC of the user): another site cannot post one in the reviewer's name.
Every page is rendered by Jinja2 with autoescape: names from orders and lists are text, never markup.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import anyio
import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import memo, words
from ..audit import FINAL_ACTIONS, REVIEW_ACTIONS, AuditLog
from ..engine.chain import chains
from ..errors import ChipgateError, InputError
from ..models import ROLES, Decision, Determination, Finding, ListMatch, Transaction
from ..report import headline
from ..rulebook.yamlsource import brief
from ..screening.parties import Allowance, add_allowances
from ..words import Glossary

COOKIE = "chipgate_review"
MAX_FORM = 64 * 1024
SHOWN = 500  # queue rows on one page: the oldest first
MIN_REASON = 10  # characters: as long as the allow-list asks of a reason

# Why an order is held, from the rules that held it (see rules/: the HOLD rules, and the engine's own)
REASONS = {
    "possible-match": "possible list match",
    "missing-fact": "missing fact",
    "rule-window": "unconfirmed rule window",
    "unmodelled": "unmodelled item",
    "red-flag": "red flag to review",
}
_WINDOW_RULES = {"chipgate.unconfirmed-end-date", "chipgate.no-rule-in-force"}
_UNMODELLED_RULES = {"chipgate.undecided-eccn", "chipgate.undecided-destination", "cn.scope.item-undecided",
                     "chipgate.cn-ecl.not-reached"}


def reason_of(finding: dict) -> str:
    """Why one HOLD finding holds: a possible list match, a fact the order lacks, a rule whose window is
    unconfirmed (or not yet begun), an item or destination the bundle does not decide, else a red flag."""
    rule = finding["rule"]
    if any(m.get("strength") == "possible" for m in finding.get("matches", [])) or rule.endswith("possible-match"):
        return "possible-match"
    if rule in _WINDOW_RULES or ".before-" in rule:
        return "rule-window"
    if rule in _UNMODELLED_RULES:
        return "unmodelled"
    if any(" missing" in b or b.endswith("missing") for b in finding.get("because", [])):
        return "missing-fact"
    return "red-flag"


def holding(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f["effect"] == Decision.HOLD.value and f.get("enforced", True)]


@dataclass
class Row:
    """One held order in the queue."""

    seq: int
    time: str
    order_id: str
    date: str
    customer: str
    destination: str
    reasons: list[str]
    summary: list[str]
    escalated: str | None


def _customer(order: dict | None) -> str:
    parties = (order or {}).get("parties") or []
    for role in ROLES:  # the end user first, then the consignees, then the purchaser
        for p in parties:
            if p.get("role") == role:
                return f"{p.get('name', '')} ({p.get('country', '?')})"
    return f"{parties[0].get('name', '')} ({parties[0].get('country', '?')})" if parties else "none given"


def _title(f: dict, glossary: Glossary) -> str:
    title = f.get("title") or glossary.rules.get(f["rule"], f["rule"])
    return title + (f" ({f['citation']})" if f.get("citation") else "")


def queue(log: AuditLog, glossary: Glossary, reason: str | None = None) -> tuple[list[Row], int, dict[str, int]]:
    """The held orders (``reason``: only those held for it): the first ``SHOWN``, how many in all, and how
    many are held for each reason."""
    escalated = {r["record"]: f"{r['reviewer']}, {r['time'][:16].replace('T', ' ')} UTC"
                 for r in log.reviews() if r["action"] == "escalate"}
    rows, total, counts = [], 0, dict.fromkeys(REASONS, 0)
    for record in log.held():
        held = holding(json.loads(record["findings"]))
        why = list(dict.fromkeys(reason_of(f) for f in held)) or ["red-flag"]
        for key in why:
            counts[key] += 1
        if reason and reason not in why:
            continue
        total += 1
        if len(rows) >= SHOWN:
            continue
        order = json.loads(record["input"]) if record["input"] else None
        titles = list(dict.fromkeys(_title(f, glossary) for f in held))
        rows.append(Row(record["seq"], record["time"][:16].replace("T", " "), record["transaction_id"],
                        (order or {}).get("date", ""), _customer(order),
                        words.country(order["destination"]) if order and order.get("destination") else "not given",
                        [REASONS[k] for k in why], titles[:2] + ([f"and {len(titles) - 2} more"] if len(titles) > 2
                                                                 else []),
                        escalated.get(record["seq"])))
    return rows, total, counts


@dataclass
class Candidate:
    """A possible list match beside the party it may be: what the reviewer compares."""

    index: int
    role: str
    party: dict
    match: ListMatch
    finding: str


def candidates(record: dict) -> list[Candidate]:
    """The possible matches the held determination carries, each with the order's party of that role."""
    order = json.loads(record["input"]) if record["input"] else {}
    parties = {p.get("role"): p for p in order.get("parties") or []}
    found, seen = [], set()
    for f in holding(json.loads(record["findings"])):
        for m in f.get("matches", []):
            key = (f.get("party"), m["list"], m["entry_id"])
            if m.get("strength") != "possible" or key in seen:
                continue
            seen.add(key)
            found.append(Candidate(len(found), f.get("party") or "", parties.get(f.get("party"), {}),
                                   ListMatch.model_validate(m), f["rule"]))
    return found


class Access:
    """Who is asking: a configured token's user, or the user a trusted proxy names; and the form field
    (an HMAC of the user) that makes a POST the page's own."""

    def __init__(self, tokens: dict[str, str], header: str | None, secret: str | None):
        self.users = {token: user for user, token in tokens.items()}
        self.header = header
        self.secret = (secret or secrets.token_hex(32)).encode()

    @property
    def enabled(self) -> bool:
        return bool(self.users or self.header)

    def token_user(self, token: str | None) -> str | None:
        if not token:
            return None
        found = None
        for known, user in self.users.items():  # compare with every token, in constant time
            if hmac.compare_digest(known.encode(), token.encode()):
                found = user
        return found

    def user(self, request: Request) -> tuple[str | None, bool]:
        """(the user, whether the request proved itself without a cookie: a bearer header)."""
        if self.header:
            name = request.headers.get(self.header, "").strip()
            if name:
                return brief(name, 200), False
        given = request.headers.get("authorization", "")
        if given.startswith("Bearer "):
            user = self.token_user(given.removeprefix("Bearer ").strip())
            if user:
                return user, True
        return self.token_user(request.cookies.get(COOKIE)), False

    def form_key(self, user: str) -> str:
        return hmac.new(self.secret, user.encode(), hashlib.sha256).hexdigest()


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.globals.update(style=memo.STYLE, reasons=REASONS, actions=REVIEW_ACTIONS)
    return env


async def _form(request: Request) -> dict[str, list[str]]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise InputError(f"a form of more than {MAX_FORM:,} bytes")
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def mount(app: FastAPI, service, access: Access) -> None:
    """Add the review pages to the service's app (only called when ``access`` is configured)."""
    env = _environment()

    def page(name: str, status: int = 200, **values) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**values), status_code=status,
                            headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                     "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                                "script-src 'unsafe-inline'; form-action 'self'"})

    def who(request: Request) -> tuple[str | None, bool, Response | None]:
        user, bearer = access.user(request)
        if user:
            return user, bearer, None
        if access.users:
            return None, False, RedirectResponse("/review/login?" + urlencode({"next": str(request.url.path)}), 303)
        return None, False, page("message.html", 401, title="Not signed in", user=None,
                                 text=f"The review queue takes its user from the {access.header} header, "
                                      "which this request does not carry.")

    def trail() -> AuditLog:
        if service.audit is None:
            raise InputError("the review queue needs the audit trail: start the service without --no-audit")
        return service.audit.log  # the service's checks append through its queue; reviews write here

    def glossary() -> Glossary:
        return Glossary.of(service.engine) if service.engine is not None else Glossary()

    @app.get("/review/login", include_in_schema=False)
    async def login_form(next: str = "/review"):
        return page("login.html", user=None, next=next if next.startswith("/review") else "/review", failed=False)

    @app.post("/review/login", include_in_schema=False)
    async def login(request: Request):
        form = await _form(request)
        token = (form.get("token") or [""])[0]
        target = (form.get("next") or ["/review"])[0]
        target = target if target.startswith("/review") and not target.startswith("//") else "/review"
        if not access.token_user(token):
            return page("login.html", 401, user=None, next=target, failed=True)
        response = RedirectResponse(target, 303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/review",
                            secure=request.url.scheme == "https")
        return response

    @app.post("/review/logout", include_in_schema=False)
    async def logout(request: Request):
        response = RedirectResponse("/review/login", 303)
        response.delete_cookie(COOKIE, path="/review")
        return response

    @app.get("/review", include_in_schema=False)
    async def review_queue(request: Request, reason: str | None = None, done: str | None = None):
        user, _, refused = who(request)
        if refused:
            return refused
        reason = reason if reason in REASONS else None
        rows, total, counts = await anyio.to_thread.run_sync(queue, trail(), glossary(), reason)
        return page("queue.html", user=user, rows=rows, total=total, counts=counts, reason=reason,
                    shown=SHOWN, done=done)

    def show(user: str, seq: int, error: str | None = None, status: int = 200) -> HTMLResponse:
        log = trail()
        record = log.record_at(seq)
        if record is None:
            return page("message.html", 404, title="No such record", user=user, text=f"No audit record {seq}.")
        reviews = list(log.reviews(seq))
        recheck, note = _recheck(service.engine, log, record)
        memo_html = ""
        if recheck is not None:
            order, result = recheck
            memo_html = memo.html_sections([memo.Memo(order, result, chains(service.engine, order, result))],
                                           glossary())
        held = holding(json.loads(record["findings"]))
        why = [(REASONS[reason_of(f)], headline(Finding.model_validate(f), glossary()),
                words.facts_in_words(f.get("message") or "")) for f in held]
        decided = next((r for r in reviews if r["action"] in FINAL_ACTIONS), None)
        return page("detail.html", status, user=user, record=record, why=why, candidates=candidates(record),
                    reviews=reviews, decided=decided, memo_html=memo_html, note=note, error=error,
                    form_key=access.form_key(user), country=words.country, role=words.role)

    @app.get("/review/{seq}", include_in_schema=False)
    async def review_record(request: Request, seq: int):
        user, _, refused = who(request)
        if refused:
            return refused
        return await anyio.to_thread.run_sync(show, user, seq)

    @app.post("/review/{seq}", include_in_schema=False)
    async def review_decision(request: Request, seq: int):
        user, bearer, refused = who(request)
        if refused:
            return refused
        form = await _form(request)
        first = lambda name: (form.get(name) or [""])[0].strip()  # noqa: E731
        if not bearer and not hmac.compare_digest(first("form_key").encode(), access.form_key(user).encode()):
            return page("message.html", 403, title="Refused", user=user,
                        text="This decision did not come from the review page (its form key is missing or "
                             "wrong). Open the order again and decide there.")
        action, reason = first("action"), first("reason")
        allow = [int(i) for i in form.get("allow", []) if i.isdigit()]
        problem = _problem(action, reason, allow)
        try:
            if not problem:
                await anyio.to_thread.run_sync(decide, user, seq, action, reason, allow)
        except InputError as exc:
            problem = str(exc)
        if problem:
            return await anyio.to_thread.run_sync(lambda: show(user, seq, problem, 422))
        return RedirectResponse("/review?" + urlencode({"done": f"{seq}:{action}"}), 303)

    def decide(user: str, seq: int, action: str, reason: str, allow: list[int]) -> None:
        log = trail()
        record = log.record_at(seq)
        if record is None:
            raise InputError(f"no audit record {seq}")
        if record["decision"] != Decision.HOLD.value:
            raise InputError(f"record {seq} is {record['decision']}, not held: there is nothing to review")
        found = candidates(record)
        chosen = [found[i] for i in allow if i < len(found)]
        allowed = [Allowance(list=c.match.list, entry=c.match.entry_id, name=c.party.get("name", ""), by=user,
                             on=dt.date.today(), why=reason) for c in chosen]
        if allowed and (service.engine is None or service.engine.sources is None):
            raise InputError("the allow-list is in the list store, which this service does not know yet")
        log.review(seq, user, action, reason, [a.model_dump(mode="json") for a in allowed])  # refuses a 2nd decision
        if allowed:
            add_allowances(service.engine.sources[1], allowed)
            try:
                service.load()  # the next check screens with the new allow-list
            except ChipgateError:
                pass  # the old bundle goes on serving; the allow-list is read at the next reload


def _problem(action: str, reason: str, allow: list[int]) -> str | None:
    if action not in REVIEW_ACTIONS:
        return "Choose a decision: release, escalate, or confirm the match and block."
    if len(reason) < MIN_REASON:
        return f"Give the reason for the decision (at least {MIN_REASON} characters); it goes in the audit trail."
    if allow and action != "release":
        return "Only a released order's possible match can be added to the allow-list."
    return None


def _recheck(engine, log: AuditLog, record: dict) -> tuple[tuple[Transaction, Determination] | None, str | None]:
    """The order checked again by the bundle serving now, as of the recorded date, for the memo; and a note
    when that bundle, or its answer, is not the recorded one."""
    if engine is None:
        return None, "The rule bundle is still loading: the memo is shown once it has loaded."
    try:
        order = log.order(record["seq"])
    except InputError as exc:
        return None, f"No memo: {exc}."
    result = engine.check(order, as_of=dt.date.fromisoformat(record["as_of"]))
    notes = []
    if record["lists"] is None:
        notes.append(f"The list snapshot this record refers to ({record['lists_digest']}) is missing from the audit "
                     f"trail: run chipgate audit verify")
    if result.ruleset.digest != record["bundle_digest"] or (
            record["lists"] is not None
            and [s.model_dump(mode="json") for s in result.lists] != json.loads(record["lists"])):
        notes.append(f"The memo below is this order checked again by the bundle serving now "
                     f"({result.ruleset.version}, {result.ruleset.digest[:19]}...) and its lists; the recorded "
                     f"determination was made by {record['bundle_version']} ({record['bundle_digest'][:19]}...)")
    if result.decision.value != record["decision"]:
        notes.append(f"checked again, the order is {result.decision.value}, not {record['decision']}")
    return (order, result), ("; ".join(notes) + ".") if notes else None
