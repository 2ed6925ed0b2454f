"""The review queue in a real browser (issue 14): headless Chromium, driven by selenium, against a real
``chipgate serve`` over an audit trail a batch run filled.  A reviewer signs in, filters the queue,
opens a held order, releases it with a reason; the decision is in the audit trail, which still
verifies, and the order has left the queue.  Each test writes screenshots to a temporary folder (its
path is printed; ``$CHIPGATE_SHOTS`` names a folder to copy them to as well).

Needs Debian's ``chromium`` and ``chromium-driver``.  Without them these tests skip, unless
``CHIPGATE_BROWSER_REQUIRED=1`` (as ``.ci/run`` sets): then they fail.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from controls.audit import AuditLog
from tests.review_trail import TOKEN, USER, XSS, review_service

pytestmark = pytest.mark.browser

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900"]


def _unavailable(why: str):
    if os.environ.get("CHIPGATE_BROWSER_REQUIRED") == "1":
        pytest.fail(f"the browser tests are required here: {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser():
    missing = [str(p) for p in (CHROMIUM, DRIVER) if not p.exists()]
    if missing:
        _unavailable(f"{' and '.join(missing)} missing: apt-get install chromium chromium-driver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed: pip install -e '.[test]'")
    profile = tempfile.mkdtemp(prefix="chipgate-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(DRIVER)))
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def service(engine, list_store, tmp_path_factory):
    with review_service(engine, list_store, tmp_path_factory.mktemp("review-browser")) as served:
        yield served


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots of the review queue: {folder}")
    return folder


def screenshot(driver, folder: Path, name: str) -> Path:
    """The whole page (the window grown to its height) as PNG, also copied to ``$CHIPGATE_SHOTS``."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 900), 12000))
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 900)
    if os.environ.get("CHIPGATE_SHOTS"):
        copy = Path(os.environ["CHIPGATE_SHOTS"])
        copy.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, copy / path.name)
    print(f"screenshot: {path}")
    return path


def follow(driver, element) -> None:
    """Click a link or a submit button and wait for the next page (the old one gone, the new one loaded)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def gone(_) -> bool:  # Chromium says "stale" or "does not belong to the document", by timing
        try:
            old.tag_name  # noqa: B018
            return False
        except WebDriverException:
            return True
    wait = WebDriverWait(driver, 120)
    wait.until(gone)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def signed_in(driver, url: str) -> None:
    """Sign in through the login form the queue sends a stranger to."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get(f"{url}/review/login")  # a page of the service: its cookies are the ones deleted
    driver.delete_all_cookies()
    driver.get(f"{url}/review")
    WebDriverWait(driver, 60).until(lambda d: "Sign in to the review queue" in d.page_source)
    driver.find_element(By.ID, "token").send_keys(TOKEN)
    follow(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    assert driver.find_element(By.TAG_NAME, "h1").text == "Held orders awaiting review"
    assert f"Signed in as {USER}" in driver.find_element(By.TAG_NAME, "nav").text


def queue_rows(driver) -> list[str]:
    from selenium.webdriver.common.by import By
    return [row.get_attribute("data-order") for row in driver.find_elements(By.CSS_SELECTOR, "#queue tr[data-order]")]


def test_the_queue_lists_held_orders_and_filters_by_reason(browser, service, shots):
    from selenium.webdriver.common.by import By
    url, audit, _ = service
    signed_in(browser, url)
    held = [r["transaction_id"] for r in AuditLog(audit).records("HOLD")]
    assert queue_rows(browser) == held and {"SO-MATCH", "SO-XSS", "SO-1999", "SO-UNMODELLED"} <= set(held)
    header = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#queue tr:first-child th")]
    assert header == ["Record", "Order", "Order date", "Customer", "Destination", "Reason", "Findings",
                      "Recorded (UTC)"]
    customer = browser.find_element(By.CSS_SELECTOR, 'tr[data-order="SO-XSS"] td:nth-child(4)').text
    assert customer == f"{XSS} (BR)"  # shown as text, not run
    screenshot(browser, shots, "queue")
    follow(browser, browser.find_element(By.ID, "filter-possible-match"))
    assert queue_rows(browser) == ["SO-MATCH"]
    assert "held for: possible list match" in browser.find_element(By.ID, "count").text
    follow(browser, browser.find_element(By.ID, "filter-rule-window"))
    assert queue_rows(browser) == ["SO-1999"]
    follow(browser, browser.find_element(By.ID, "filter-unmodelled"))
    assert "SO-UNMODELLED" in queue_rows(browser) and "SO-MATCH" not in queue_rows(browser)
    follow(browser, browser.find_element(By.LINK_TEXT, "any reason"))
    assert queue_rows(browser) == held


def test_a_possible_match_is_shown_beside_the_party(browser, service, shots):
    from selenium.webdriver.common.by import By
    url, _, _ = service
    signed_in(browser, url)
    follow(browser, browser.find_element(By.LINK_TEXT, "SO-MATCH"))
    side = browser.find_element(By.ID, "match-0").text
    assert "Huawey Technologys" in side and "Huawei Technologies Co., Ltd." in side and "score 0.90" in side
    assert "Licence determination: order SO-MATCH" in browser.page_source
    screenshot(browser, shots, "possible-match")


def test_a_reviewer_releases_an_order_with_a_reason(browser, service, shots):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    url, audit, _ = service
    signed_in(browser, url)
    follow(browser, browser.find_element(By.LINK_TEXT, "SO-XSS"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Order SO-XSS: HOLD"
    assert "missing fact" in browser.find_element(By.ID, "why").text
    assert XSS in browser.find_element(By.CSS_SELECTOR, "section.memo").text  # the memo, the name as text
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - the party's name did not run
    screenshot(browser, shots, "memo")
    browser.find_element(By.ID, "action-release").click()
    browser.find_element(By.ID, "reason").send_keys("Item classified EAR99 by engineering; ticket ENG-4711")
    follow(browser, browser.find_element(By.ID, "submit"))
    assert "SO-XSS" not in queue_rows(browser)
    assert "released" in browser.find_element(By.ID, "done").text
    screenshot(browser, shots, "queue-after-release")
    log = AuditLog(audit)
    seq = next(r["seq"] for r in log.records() if r["transaction_id"] == "SO-XSS")
    [review] = log.reviews(seq)
    assert (review["reviewer"], review["action"]) == (USER, "release")
    assert review["reason"] == "Item classified EAR99 by engineering; ticket ENG-4711"
    runner = CliRunner()
    shown = runner.invoke(main, ["audit", "show", "--db", str(audit)]).output
    assert f"SO-XSS  record {seq} released by {USER}: Item classified EAR99 by engineering" in shown
    verified = runner.invoke(main, ["audit", "verify", "--db", str(audit)])
    assert verified.exit_code == 0, verified.output
