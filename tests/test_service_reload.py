"""Reload without a restart: under concurrent checks every determination comes from one whole
bundle, named by its digest; a bad rule file keeps the old bundle serving; SIGHUP reloads too."""
from __future__ import annotations

import os
import shutil
import signal
import threading
import time

import httpx
import pytest

from controls import Engine
from controls.engine.engine import DEFAULT_RULES
from tests.conftest import chip, order
from tests.service_server import TOKEN, served

RULE = "ear.742.6.a6.iii.a.macau-d5"
ORIGINAL = 'Licence required for a ".a" advanced-computing item to Macau or D:5.  Exports'
CHANGED = "Bundle B requires a licence.  Exports"
ACCELERATOR = order(**chip(tpp=5000, die_area_mm2=800, datacenter=True))
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def _bundle(directory, changed=False, broken=False):
    shutil.copytree(DEFAULT_RULES, directory, ignore=shutil.ignore_patterns("lists"))
    if changed:
        path = directory / "ear" / "advanced-computing.yaml"
        text = path.read_text()
        assert text.count(ORIGINAL) == 1
        path.write_text(text.replace(ORIGINAL, CHANGED))
    if broken:
        (directory / "ear" / "broken.yaml").write_text("rules:\n  - id: Not An Id\n    title: x\n")
    return directory


def _point(link, target):
    """Point the served rule directory at ``target`` in one rename."""
    fresh = link.with_name("next")
    fresh.symlink_to(target)
    os.replace(fresh, link)


def _reload(url):
    return httpx.post(f"{url}/v1/admin/reload", headers=ADMIN, timeout=300)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, list_store):
    root = tmp_path_factory.mktemp("bundles")
    a, b = _bundle(root / "a"), _bundle(root / "b", changed=True)
    bad = _bundle(root / "bad", broken=True)
    link = root / "current"
    link.symlink_to(a)
    with served("--rules", str(link), "--lists", str(list_store), "--no-audit") as (url, process):
        digest_a = httpx.get(f"{url}/v1/rules").json()["digest"]
        _point(link, b)
        digest_b = _reload(url).json()["current"]["digest"]
        assert digest_a != digest_b
        messages = {}
        for directory in (a, b):  # what each bundle says, checked in process
            result = Engine.load(directory, list_store).check(ACCELERATOR)
            messages[result.ruleset.digest] = [f.message for f in result.findings if f.rule == RULE]
        assert set(messages) == {digest_a, digest_b} and CHANGED in messages[digest_b][0]
        yield {"url": url, "process": process, "link": link, "a": a, "b": b, "bad": bad, "messages": messages,
               "names": {digest_a: "a", digest_b: "b"}}


def test_reload_under_concurrent_checks_never_mixes_bundles(bundles):
    url, messages = bundles["url"], bundles["messages"]
    stop, answers, failures = threading.Event(), [], []

    def checker():
        with httpx.Client(base_url=url, timeout=120) as client:
            while not stop.is_set():
                response = client.post("/v1/check", json=ACCELERATOR)
                if response.status_code != 200:
                    failures.append(response.text)
                    continue
                answers.append(response.json())

    threads = [threading.Thread(target=checker) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for target in ["a", "b"] * 3:
            _point(bundles["link"], bundles[target])
            assert _reload(url).status_code == 200
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not failures
    seen = set()
    for answer in answers:
        digest = answer["ruleset"]["digest"]
        assert digest in messages, digest
        assert [f["message"] for f in answer["findings"] if f["rule"] == RULE] == messages[digest]
        seen.add(digest)
    assert seen == set(messages), "checks ran on both bundles"


def test_a_failed_reload_keeps_the_old_bundle(bundles):
    url = bundles["url"]
    before = httpx.get(f"{url}/v1/rules").json()["digest"]
    _point(bundles["link"], bundles["bad"])
    try:
        response = _reload(url)
        assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("reload-failed") and "broken.yaml" in problem["detail"]
        assert any(e["file"].endswith("broken.yaml") for e in problem["errors"])
        assert httpx.get(f"{url}/v1/rules").json()["digest"] == before
        check = httpx.post(f"{url}/v1/check", json=order(eccn="3A090.a"), timeout=60)
        assert check.status_code == 200 and check.json()["ruleset"]["digest"] == before
    finally:
        _point(bundles["link"], bundles["a"])


def test_sighup_reloads(bundles):
    url = bundles["url"]
    before = httpx.get(f"{url}/v1/rules").json()["digest"]
    other = next(d for d in bundles["messages"] if d != before)
    _point(bundles["link"], bundles[bundles["names"][other]])
    bundles["process"].send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 300
    while httpx.get(f"{url}/v1/rules").json()["digest"] != other:
        assert time.monotonic() < deadline, "SIGHUP did not reload the bundle"
        time.sleep(0.2)


def test_engine_reload_returns_a_new_engine_and_leaves_the_old(engine):
    fresh = engine.reload()
    assert fresh is not engine and fresh.sources == engine.sources
    assert fresh.ruleset == engine.ruleset and fresh.lists == engine.lists
    assert engine.check(ACCELERATOR) == fresh.check(ACCELERATOR)
