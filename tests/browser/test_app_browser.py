"""The messenger web app in headless Chromium, against a real ``privproc up`` (issue 17).

One module-scoped deployment: ``privproc up --nodes 2 --rogue-nodes 1`` (two nodes running
the released build, one running a build that is not in the ledger) and ``privproc app``
on a free loopback port, both separate processes; Debian's ``chromium`` driven by
``chromedriver`` through Selenium. The tests find every control by the accessible names
issue 17 fixes. With ``PRIVPROC_SCREENSHOTS=DIR`` they also save the main views there
(``scripts/app-screenshots.sh`` makes docs/app/*.png that way).

Skipped, with the reason, when Chromium, chromedriver or Selenium is missing
(``make services`` installs them; ``make test`` runs it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._servers import free_port
from tests.system._procs import as_background_job, env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement
    from selenium.webdriver.support.ui import WebDriverWait

    HAVE_SELENIUM = True
except ImportError:  # pragma: no cover - the pinned requirements carry it
    HAVE_SELENIUM = False

pytestmark = [
    pytest.mark.skipif(not HAVE_SELENIUM, reason="selenium is not installed (requirements.lock)"),
    pytest.mark.skipif(
        CHROMIUM is None or DRIVER is None,
        reason="chromium and chromedriver are not installed (make services installs them)",
    ),
]

SHOTS = os.environ.get("PRIVPROC_SCREENSHOTS")


@dataclass
class Deployment:
    home: Path
    url: str


def _wait_line(proc: subprocess.Popen[bytes], prefix: bytes, what: str) -> bytes:
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith(prefix):
            return line
    raise AssertionError(f"{what} never printed its JSON line")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    home = tmp_path_factory.mktemp("app") / "home"
    up = subprocess.Popen(
        as_background_job(
            [sys.executable, "-m", "privproc", "up", "--nodes", "2", "--rogue-nodes", "1", "--json"]
        ),
        env=env(PRIVPROC_HOME=str(home)),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    app: subprocess.Popen[bytes] | None = None
    try:
        _wait_line(up, b'{"client_config"', "privproc up")
        port = free_port()
        app = subprocess.Popen(
            as_background_job(
                [sys.executable, "-m", "privproc", "app", "--port", str(port), "--json"]
            ),
            env=env(PRIVPROC_HOME=str(home)),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = json.loads(_wait_line(app, b'{"url"', "privproc app"))["url"]
        assert url == f"http://127.0.0.1:{port}/"
        yield Deployment(home, url)
    finally:
        if app is not None:
            _stop(app)
        _stop(up)
    assert app.returncode == 0
    assert up.returncode == 0


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,860",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(browser: WebDriver, test: Any, timeout: float = 60) -> Any:
    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(lambda _: test())


def _find(browser: WebDriver, name: str) -> WebElement | None:
    for candidate in browser.find_elements(By.CSS_SELECTOR, "button, section, textarea, input"):
        if candidate.accessible_name.strip() == name:
            return candidate
    return None


def _named(browser: WebDriver, name: str) -> WebElement:
    """The control or region whose accessible name is ``name`` (Chromium's own computation)."""
    found: WebElement = _wait(browser, lambda: _find(browser, name), timeout=10)
    return found


def _shot(browser: WebDriver, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(SHOTS) / f"{name}.png"))


def _open(browser: WebDriver, deployment: Deployment, chat: str) -> None:
    browser.get(f"{deployment.url}?chat={chat}")
    _wait(browser, lambda: browser.execute_script("return document.readyState") == "complete")


def test_summarize_a_chat_and_see_the_summary_linked_to_its_messages(
    browser: WebDriver, deployment: Deployment
) -> None:
    _open(browser, deployment, "01-family")
    unread = browser.find_element(By.CSS_SELECTOR, "nav a[aria-current] + .badge")
    assert unread.accessible_name == "4 unread"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#messages .msg.unread")) == 4
    _named(browser, "Summarize unread").click()
    summary = _named(browser, "Summary")
    _wait(browser, lambda: summary.find_elements(By.CSS_SELECTOR, "li.point a"))
    assert "apple pie" in summary.text
    assert "Sunday" in summary.text  # the correction wins over "Saturday"
    point = summary.find_elements(By.CSS_SELECTOR, "li.point a")[0]
    source = browser.find_element(By.ID, f"m-{point.get_attribute('data-message')}")
    point.click()
    assert "highlight" in str(source.get_attribute("class"))
    requests = _named(browser, "Requests")
    _wait(browser, lambda: "summarize" in requests.text)
    _shot(browser, "summary")


def test_suggest_then_one_click_puts_a_suggestion_in_the_draft(
    browser: WebDriver, deployment: Deployment
) -> None:
    _open(browser, deployment, "03-book-club")
    draft = _named(browser, "Message")
    draft.send_keys("can u bring the book tmrw")
    _named(browser, "Suggest").click()
    suggestions = _named(browser, "Suggestions")
    _wait(browser, lambda: suggestions.find_elements(By.CSS_SELECTOR, "button.use"))
    use = suggestions.find_elements(By.CSS_SELECTOR, "button.use")[-1]
    text = use.text
    use.click()
    assert draft.get_attribute("value") == text
    _shot(browser, "suggestions")


def test_verification_panel_shows_the_checks_and_the_refused_node(
    browser: WebDriver, deployment: Deployment
) -> None:
    _open(browser, deployment, "01-family")
    _named(browser, "Verification").click()
    panel = browser.find_element(By.CSS_SELECTOR, "section[aria-label='Verification']")
    _wait(browser, lambda: panel.find_elements(By.CSS_SELECTOR, ".node"))
    assert panel.is_displayed()
    assert "cosigned by 2 independent witnesses" in panel.text
    assert "published in the ledger at index" in panel.text
    nodes = {n.get_attribute("data-node"): n for n in panel.find_elements(By.CSS_SELECTOR, ".node")}
    refused = [n for n in nodes.values() if "refused" in str(n.get_attribute("class"))]
    verified = [n for n in nodes.values() if "refused" not in str(n.get_attribute("class"))]
    assert len(refused) == 1
    assert len(verified) == 2
    assert "refused" in refused[0].text
    assert "The node's code is not in the public ledger" in refused[0].text
    for node in verified:
        assert "The node's code is published in the public ledger" in node.text
        assert "The node's hardware proved it runs that code" in node.text
    # The hex stays behind a details toggle until asked for.
    root = panel.find_element(By.CSS_SELECTOR, "details dd code")
    assert not root.is_displayed()
    assert "Named 2 nodes" in panel.text  # the summarize test's request
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", refused[0])
    _shot(browser, "verification")


def test_advanced_chat_privacy_disables_the_ai_buttons_and_sends_nothing(
    browser: WebDriver, deployment: Deployment
) -> None:
    reports = deployment.home / "client" / "reports.jsonl"
    before = reports.read_text() if reports.exists() else ""
    _open(browser, deployment, "02-equipe")
    summarize = _named(browser, "Summarize unread")
    assert summarize.is_enabled()
    switch = _named(browser, "Advanced Chat Privacy")
    switch.click()
    _wait(browser, lambda: not summarize.is_enabled())
    assert not _named(browser, "Suggest").is_enabled()
    reason = browser.find_element(By.ID, "ai-reason")
    assert reason.is_displayed()
    assert "nothing is sent" in reason.text
    # Kept on the device: a reload shows it still on.
    _wait(browser, (deployment.home / "client" / "app-privacy.json").exists)
    _open(browser, deployment, "02-equipe")
    assert not _named(browser, "Summarize unread").is_enabled()
    _shot(browser, "privacy")
    # The server refuses too, even if the button were forced on.
    browser.execute_script("document.getElementById('summarize').disabled = false")
    _named(browser, "Summarize unread").click()
    alert = browser.find_element(By.ID, "error")
    _wait(browser, alert.is_displayed)
    assert "Advanced Chat Privacy is on for this chat: nothing was sent" in alert.text
    assert "client.ai_blocked" in alert.text
    assert (reports.read_text() if reports.exists() else "") == before
    _named(browser, "Advanced Chat Privacy").click()
    _wait(browser, lambda: _named(browser, "Summarize unread").is_enabled())


def test_the_real_socket_refuses_a_wrong_host_and_a_missing_token(
    deployment: Deployment,
) -> None:
    with httpx.Client(base_url=deployment.url) as http:
        assert http.get("/").status_code == 200
        assert http.get("/", headers={"host": "rebound.example:80"}).status_code == 403
        assert http.get("/api/requests").status_code == 403
        assert http.post("/api/privacy", json={"chat": "01-family", "on": True}).status_code == 403
