"""The review queue over HTTP (issue 14): who may see it, why each order is held, a decision appended to
the audit trail (never an edit), the allow-list, forged posts refused, markup from orders escaped."""
from __future__ import annotations

import json
import re
import sqlite3

import httpx
import pytest
from click.testing import CliRunner

from cli import main
from controls.audit import AuditLog
from controls.errors import InputError
from controls.service.app import Settings, create_app
from controls.service.review import reason_of
from tests.review_trail import HEADER, TOKEN, USER, XSS, review_service

BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def service(engine, list_store, tmp_path_factory):
    with review_service(engine, list_store, tmp_path_factory.mktemp("review"),
                        "--trust-user-header", HEADER) as served:
        yield served


@pytest.fixture(scope="module")
def client(service):
    with httpx.Client(base_url=service[0], timeout=120) as client:
        yield client


def record_of(log: AuditLog, order_id: str) -> int:
    return next(r["seq"] for r in log.records() if r["transaction_id"] == order_id)


def form_key(client: httpx.Client, seq: int, headers: dict) -> str:
    page = client.get(f"/review/{seq}", headers=headers)
    assert page.status_code == 200
    return re.search(r'name="form_key" value="([0-9a-f]+)"', page.text).group(1)


def queue_ids(client: httpx.Client, query: str = "") -> list[str]:
    return re.findall(r'data-order="([^"]*)"', client.get(f"/review{query}", headers=BEARER).text)


def test_the_queue_is_not_served_without_a_reviewer_configured(tmp_path):
    paths = lambda app: {getattr(r, "path", "") for r in app.routes}  # noqa: E731
    assert not {p for p in paths(create_app(Settings())) if p.startswith("/review")}
    assert "/review" in paths(create_app(Settings(review_tokens={"alice": TOKEN})))
    assert "/review" in paths(create_app(Settings(trust_user_header=HEADER)))


def test_serve_refuses_a_short_token_and_a_queue_without_its_audit_trail():
    runner = CliRunner()
    assert "at least 16 characters" in runner.invoke(main, ["serve", "--review-token", "alice=short"]).output
    assert "drop --no-audit" in runner.invoke(main, ["serve", "--review-token", f"a={TOKEN}", "--no-audit"]).output


@pytest.mark.parametrize("finding, reason", [
    ({"rule": "screening.possible-match", "matches": [{"strength": "possible"}], "because": []}, "possible-match"),
    ({"rule": "ear.744.15.unverified-list", "matches": [{"strength": "strong"}], "because": []}, "red-flag"),
    ({"rule": "chipgate.unclassified", "because": ["item.eccn missing"]}, "missing-fact"),
    ({"rule": "chipgate.unclassified", "because": ["item.eccn given"]}, "red-flag"),
    ({"rule": "chipgate.unconfirmed-end-date", "because": []}, "rule-window"),
    ({"rule": "chipgate.no-rule-in-force", "because": []}, "rule-window"),
    ({"rule": "ear.744.21.military.before-2021-10-05", "because": []}, "rule-window"),
    ({"rule": "chipgate.undecided-eccn", "because": ["item.eccn given"]}, "unmodelled"),
])
def test_why_a_finding_holds(finding, reason):
    assert reason_of(finding) == reason


def test_who_may_see_the_queue(client):
    assert client.get("/review").status_code == 303  # to the login form
    assert client.get("/review", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 303
    assert client.get("/review", headers=BEARER).status_code == 200
    assert client.get("/review", headers={HEADER: "bob"}).text.count("Signed in as <strong>bob</strong>") == 1
    login = client.post("/review/login", data={"token": "wrong", "next": "/review"})
    assert login.status_code == 401
    login = client.post("/review/login", data={"token": TOKEN, "next": "/review"})
    assert login.status_code == 303 and "chipgate_review" in login.headers["set-cookie"]
    assert "httponly" in login.headers["set-cookie"].lower() and "samesite=strict" in login.headers["set-cookie"].lower()


def test_the_queue_lists_held_orders_by_reason_with_markup_escaped(client, service):
    held = [r["transaction_id"] for r in AuditLog(service[1]).records("HOLD")]
    assert queue_ids(client) == held and {"SO-MATCH", "SO-XSS", "SO-1999", "SO-UNMODELLED"} <= set(held)
    assert queue_ids(client, "?reason=possible-match") == ["SO-MATCH"]
    assert queue_ids(client, "?reason=rule-window") == ["SO-1999"]
    assert "SO-UNMODELLED" in queue_ids(client, "?reason=unmodelled")
    assert "SO-XSS" in queue_ids(client, "?reason=missing-fact") and "SO-MATCH" not in queue_ids(client, "?reason=missing-fact")
    page = client.get("/review", headers=BEARER).text
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    detail = client.get(f"/review/{record_of(AuditLog(service[1]), 'SO-XSS')}", headers=BEARER).text
    assert XSS not in detail and "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "Licence determination: order SO-XSS" in detail  # the memo


def test_a_possible_match_is_shown_beside_the_party(client, service):
    page = client.get(f"/review/{record_of(AuditLog(service[1]), 'SO-MATCH')}", headers=BEARER).text
    side = page[page.index('id="match-0"'):]
    side = side[:side.index("</table>")]
    assert "Huawey Technologys" in side and "Huawei Technologies Co., Ltd." in side
    assert "EL-CN-huawei-technologies-co-ltd" in side and "score 0.90" in side


def test_a_decision_without_the_page_s_form_key_is_refused(client, service):
    log = AuditLog(service[1])
    seq = record_of(log, "SO-1999")
    cookie = {"Cookie": f"chipgate_review={TOKEN}"}
    forged = client.post(f"/review/{seq}", data={"action": "release", "reason": "forged from another site"},
                         headers=cookie)
    assert forged.status_code == 403
    forged = client.post(f"/review/{seq}", data={"action": "release", "reason": "forged from another site"},
                         headers={HEADER: "bob"})
    assert forged.status_code == 403
    assert list(log.reviews(seq)) == []


def test_a_release_is_appended_attributed_and_the_order_leaves_the_queue(client, service):
    log = AuditLog(service[1])
    seq = record_of(log, "SO-1999")
    headers = {HEADER: "bob"}
    short = client.post(f"/review/{seq}", data={"action": "release", "reason": "ok",
                                                "form_key": form_key(client, seq, headers)}, headers=headers)
    assert short.status_code == 422 and "at least 10 characters" in short.text
    before = log.record_at(seq)
    done = client.post(f"/review/{seq}", data={"action": "release", "reason": "Order date typed wrongly; re-entered",
                                               "form_key": form_key(client, seq, headers)}, headers=headers)
    assert done.status_code == 303 and done.headers["location"] == f"/review?done={seq}%3Arelease"
    [review] = log.reviews(seq)
    assert (review["reviewer"], review["action"], review["transaction_id"]) == ("bob", "release", "SO-1999")
    assert review["record_hash"] == before["hash"] and log.record_at(seq) == before  # appended, not edited
    assert "SO-1999" not in queue_ids(client)
    again = client.post(f"/review/{seq}", data={"action": "block", "reason": "a second decision on it"},
                        headers=BEARER)
    assert again.status_code == 422 and "decided already" in again.text
    runner = CliRunner()
    shown = runner.invoke(main, ["audit", "show", "--db", str(service[1])]).output
    assert f"SO-1999  record {seq} released by bob: Order date typed wrongly; re-entered" in shown
    verified = runner.invoke(main, ["audit", "verify", "--db", str(service[1])])
    assert verified.exit_code == 0 and "review" in verified.output


def test_an_escalated_order_stays_in_the_queue_marked(client, service):
    log = AuditLog(service[1])
    seq = record_of(log, "SO-UNMODELLED")
    answer = client.post(f"/review/{seq}", data={"action": "escalate", "reason": "needs a classification ruling"},
                         headers=BEARER)
    assert answer.status_code == 303
    assert "SO-UNMODELLED" in queue_ids(client)
    assert f"escalated by {USER}" in client.get("/review", headers=BEARER).text


def test_a_released_possible_match_goes_into_the_allow_list(client, service):
    url, audit, lists = service
    log = AuditLog(audit)
    seq = record_of(log, "SO-MATCH")
    refused = client.post(f"/review/{seq}", data={"action": "escalate", "reason": "not the listed company",
                                                  "allow": "0"}, headers=BEARER)
    assert refused.status_code == 422 and "Only a released order" in refused.text
    answer = client.post(f"/review/{seq}", data={"action": "release", "allow": "0",
                                                 "reason": "Different company: registry number checked"},
                         headers=BEARER)
    assert answer.status_code == 303
    [review] = log.reviews(seq)
    [allowed] = json.loads(review["allowed"])
    assert allowed | {"on": None} == {"list": "Entity List", "entry": "EL-CN-huawei-technologies-co-ltd",
                                      "name": "Huawey Technologys", "by": USER, "on": None,
                                      "why": "Different company: registry number checked"}
    assert "EL-CN-huawei-technologies-co-ltd" in (lists / "allow-list.yaml").read_text()
    order = json.loads(log.record_at(seq)["input"])
    again = client.post("/v1/check", json=order).json()
    assert any("Huawei Technologies Co., Ltd." in w and "allowed by alice" in w for w in again["warnings"])
    matched = {m["entry_id"] for f in again["findings"] for m in f["matches"]}
    assert "EL-CN-huawei-technologies-co-ltd" not in matched


def test_verify_detects_an_edited_review(tmp_path, engine):
    from tests.conftest import order
    log = AuditLog(tmp_path / "audit.sqlite")
    held = engine.check(order("BR"))
    seq = log.record(held, caller="erp")
    log.review(seq, "alice", "escalate", "the customer's registry is unclear")
    log.review(seq, "bob", "block", "the customer is the listed one")
    with pytest.raises(InputError, match="decided already: blocked"):
        log.review(seq, "carol", "release", "a second final decision")
    db = sqlite3.connect(log.path)
    db.executescript("DROP TRIGGER reviews_no_update; UPDATE reviews SET reviewer = 'mallory' WHERE seq = 1;")
    db.commit()
    db.close()
    result = CliRunner().invoke(main, ["audit", "verify", "--db", str(log.path)])
    assert result.exit_code == 2 and "broken at review 1:" in result.output


def test_only_a_held_order_can_be_reviewed(client, service):
    log = AuditLog(service[1])
    seq = next(r["seq"] for r in log.records() if r["decision"] != "HOLD")
    assert "nothing to review" in client.get(f"/review/{seq}", headers=BEARER).text
    answer = client.post(f"/review/{seq}", data={"action": "block", "reason": "blocking a cleared order"},
                         headers=BEARER)
    assert answer.status_code == 422 and list(log.reviews(seq)) == []
