from __future__ import annotations

import httpx
import pytest
from starlette.testclient import TestClient

from privproc.errors import ConfigError
from privproc.relay.app import OHTTP_REQ, OHTTP_RES, RelayConfig, create_app

IDENTIFYING = {
    "forwarded": "for=198.51.100.7",
    "x-forwarded-for": "198.51.100.7",
    "x-forwarded-host": "example.com",
    "x-real-ip": "198.51.100.7",
    "via": "1.1 someproxy",
    "cookie": "session=abc",
    "user-agent": "MyPhone/1.0",
    "authorization": "PrivateToken token=abc",
    "accept-language": "pt-BR",
}


class _Gateway:
    def __init__(
        self, status: int = 200, media: str = OHTTP_RES, body: bytes = b"sealed-out"
    ) -> None:
        self.seen: list[httpx.Request] = []
        self.status, self.media, self.body = status, media, body

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return httpx.Response(
            self.status,
            content=self.body,
            headers={"content-type": self.media, "set-cookie": "x=y"},
        )


def _client(gateway: _Gateway, **kw: object) -> TestClient:
    config = RelayConfig(gateway_url="http://gateway.test/gateway", **kw)  # type: ignore[arg-type]
    return TestClient(create_app(config, transport=httpx.MockTransport(gateway)))


def test_forwards_bytes_and_strips_every_identifying_header() -> None:
    gateway = _Gateway()
    with _client(gateway) as client:
        answer = client.post(
            "/", content=b"\x00sealed-in", headers={"content-type": OHTTP_REQ, **IDENTIFYING}
        )
    assert answer.status_code == 200
    assert answer.content == b"sealed-out"
    assert answer.headers["content-type"] == OHTTP_RES
    assert "set-cookie" not in answer.headers
    (seen,) = gateway.seen
    assert seen.content == b"\x00sealed-in"
    assert str(seen.url) == "http://gateway.test/gateway"
    assert set(seen.headers.keys()) <= {"content-type", "content-length", "host"}
    assert seen.headers["content-type"] == OHTTP_REQ


def test_refuses_other_media_types() -> None:
    gateway = _Gateway()
    with _client(gateway) as client:
        answer = client.post("/", content=b"x", headers={"content-type": "application/json"})
    assert answer.status_code == 415
    assert gateway.seen == []


def test_body_is_bounded() -> None:
    gateway = _Gateway()
    with _client(gateway, max_body=16) as client:
        answer = client.post("/", content=b"x" * 17, headers={"content-type": OHTTP_REQ})
    assert answer.status_code == 413
    assert gateway.seen == []


def test_gateway_response_is_bounded() -> None:
    with _client(_Gateway(body=b"y" * 17), max_body=16) as client:
        answer = client.post("/", content=b"x", headers={"content-type": OHTTP_REQ})
    assert answer.status_code == 502


def test_gateway_problem_passes_back_with_status() -> None:
    gateway = _Gateway(
        status=422, media="application/problem+json", body=b'{"title":"unknown-key"}'
    )
    with _client(gateway) as client:
        answer = client.post("/", content=b"x", headers={"content-type": OHTTP_REQ})
    assert answer.status_code == 422
    assert answer.json() == {"title": "unknown-key"}


def test_unexpected_gateway_media_is_502() -> None:
    with _client(_Gateway(media="text/html")) as client:
        answer = client.post("/", content=b"x", headers={"content-type": OHTTP_REQ})
    assert answer.status_code == 502


def test_rate_limit_per_address() -> None:
    now = [0.0]
    gateway = _Gateway()
    with _client(gateway, rate=1.0, burst=2, clock=lambda: now[0]) as client:
        codes = [
            client.post("/", content=b"x", headers={"content-type": OHTTP_REQ}).status_code
            for _ in range(3)
        ]
    assert codes == [200, 200, 429]
    assert len(gateway.seen) == 2


def test_unreachable_gateway_is_502_without_detail() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    config = RelayConfig(gateway_url="http://gateway.test/")
    with TestClient(create_app(config, transport=httpx.MockTransport(down))) as client:
        answer = client.post("/", content=b"secret", headers={"content-type": OHTTP_REQ})
    assert answer.status_code == 502
    assert b"secret" not in answer.content


def test_config_is_checked() -> None:
    with pytest.raises(ConfigError):
        RelayConfig(gateway_url="ftp://x")
