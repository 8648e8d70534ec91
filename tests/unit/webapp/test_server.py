"""The app server's guards (issue 17): Host check, per-launch token, CSP, no trace shown.

Starlette's TestClient drives the real ASGI app in memory; the browser tests
(tests/browser/) drive it over a real socket against a real ``privproc up``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from privproc.client.sdk import Device
from privproc.errors import ConfigError
from privproc.webapp.chats import PRIVACY_FILE, ChatBook
from privproc.webapp.server import CSP, TOKEN_HEADER, allowed_hosts, build_app

TOKEN = "t" * 43
HOST = "127.0.0.1:8090"


def _no_device() -> Device:
    raise ConfigError("client config missing: /secret/path/config.json")


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    book = ChatBook.open(None, tmp_path)
    app = build_app(
        book, _no_device, token=TOKEN, hosts=allowed_hosts("127.0.0.1", 8090), device_home=tmp_path
    )
    return TestClient(app, base_url=f"http://{HOST}")


def test_allowed_hosts_are_the_loopback_names_and_the_bound_host() -> None:
    assert allowed_hosts("127.0.0.1", 8090) == ("127.0.0.1:8090", "[::1]:8090", "localhost:8090")
    assert "[::1]:1" in allowed_hosts("::1", 1)
    assert "192.168.1.5:80" in allowed_hosts("192.168.1.5", 80)


@pytest.mark.parametrize("host", ["evil.example:8090", "127.0.0.1:8091", "localhost", ""])
def test_wrong_host_is_refused_before_anything(client: TestClient, host: str) -> None:
    for path in ("/", "/static/app.js", "/api/requests"):
        answer = client.get(path, headers={"host": host, TOKEN_HEADER: TOKEN})
        assert answer.status_code == 403
        assert answer.text == "wrong Host"
        assert answer.headers["content-security-policy"] == CSP


@pytest.mark.parametrize("token", [None, "", "t" * 42, "t" * 42 + "u", "T" * 43])
def test_api_without_the_launch_token_is_refused(client: TestClient, token: str | None) -> None:
    headers = {} if token is None else {TOKEN_HEADER: token}
    for method, path in (
        ("GET", "/api/requests"),
        ("GET", "/api/verification"),
        ("POST", "/api/privacy"),
        ("POST", "/api/summarize"),
        ("POST", "/api/suggest"),
    ):
        body = json.dumps({"chat": "01-family", "on": True})
        answer = client.request(method, path, headers=headers, content=body)
        assert answer.status_code == 403, path
        assert answer.text == "missing or wrong token"


def test_a_refused_privacy_post_changes_nothing(client: TestClient, tmp_path: Path) -> None:
    client.post("/api/privacy", json={"chat": "01-family", "on": True})
    assert not (tmp_path / PRIVACY_FILE).exists()


def test_page_carries_csp_token_and_the_accessible_names(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP
    assert "'unsafe-inline'" not in CSP
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    html = page.text
    assert f'<meta name="privproc-token" content="{TOKEN}">' in html
    for name in (
        ">Summarize unread</button>",
        'aria-label="Summary"',
        '<label for="draft">Message</label>',
        ">Suggest</button>",
        'aria-label="Suggestions"',
        "Advanced Chat Privacy</label>",
        ">Verification</button>",
        'aria-label="Verification"',
        'aria-label="Requests"',
    ):
        assert name in html, name
    assert "http://" not in html.replace(f"http://{HOST}", "")
    assert "https://" not in html
    assert "<script>" not in html  # the one script is a file, so the CSP needs no inline


def test_the_shielded_chat_renders_with_ai_buttons_disabled(client: TestClient) -> None:
    html = client.get("/?chat=04-health").text
    assert 'id="summarize" class="ai" disabled' in html
    assert 'id="suggest" class="ai" disabled' in html
    assert 'role="switch" id="privacy" checked' in html
    open_html = client.get("/?chat=01-family").text
    assert 'id="summarize" class="ai">' in open_html


def test_chat_text_is_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "chats"
    folder.mkdir()
    chat = {
        "chat": "x",
        "language": "en",
        "ai_blocked": False,
        "messages": [
            {"sender": "A", "time": "2026-11-20T18:04:00Z", "unread": True, "text": "<img src=x>"}
        ],
    }
    (folder / "x.json").write_text(json.dumps(chat))
    book = ChatBook.open(folder, tmp_path)
    app = build_app(book, _no_device, token=TOKEN, hosts=[HOST], device_home=tmp_path)
    html = TestClient(app, base_url=f"http://{HOST}").get("/").text
    assert "<img src=x>" not in html
    assert "&lt;img src=x&gt;" in html


def test_static_assets_come_from_the_package(client: TestClient) -> None:
    js = client.get("/static/app.js")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in js.text
    assert "http:" not in js.text
    assert "https:" not in js.text
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/../chats.py").status_code == 404
    assert client.get("/static/other.js").status_code == 404


def test_errors_are_the_named_check_in_plain_words(client: TestClient) -> None:
    headers = {TOKEN_HEADER: TOKEN}
    answer = client.get("/api/verification", headers=headers)
    assert answer.status_code == 500
    assert answer.json() == {
        "error": {"check": "config", "words": "This device is not set up: run `privproc up` first"}
    }
    assert "/secret/path" not in answer.text
    assert "Traceback" not in answer.text
    bad = client.post("/api/privacy", headers=headers, content=b"[1]")
    assert bad.status_code == 400
    assert bad.json()["error"] == {
        "check": "decode-error",
        "words": "Something received does not parse",
    }
    missing = client.post("/api/summarize", headers=headers, json={"chat": "nope"})
    assert missing.json()["error"] == {"check": "not-found", "words": "No such chat"}


def test_shielded_chat_refuses_before_the_device_is_opened(client: TestClient) -> None:
    headers = {TOKEN_HEADER: TOKEN}
    for path, body in (
        ("/api/summarize", {"chat": "04-health"}),
        ("/api/suggest", {"chat": "04-health", "draft": "hi", "tones": ["friendly"]}),
    ):
        answer = client.post(path, headers=headers, json=body)
        assert answer.json()["error"] == {
            "check": "client.ai_blocked",
            "words": "Advanced Chat Privacy is on for this chat: nothing was sent",
        }, path


def test_privacy_switch_is_kept_under_the_device_folder_only(
    client: TestClient, tmp_path: Path
) -> None:
    headers = {TOKEN_HEADER: TOKEN}
    answer = client.post("/api/privacy", headers=headers, json={"chat": "01-family", "on": True})
    assert answer.json() == {"chat": "01-family", "on": True}
    assert json.loads((tmp_path / PRIVACY_FILE).read_text()) == {"01-family": True}
    assert [p.name for p in tmp_path.iterdir()] == [PRIVACY_FILE]
    assert client.get("/api/requests", headers=headers).json() == []


def test_a_short_token_is_refused(tmp_path: Path) -> None:
    book = ChatBook.open(None, tmp_path)
    with pytest.raises(Exception, match="128 bits"):
        build_app(book, _no_device, token="short", hosts=[HOST], device_home=tmp_path)
