from __future__ import annotations

import json
import time

import httpx
import httpx2
import pytest
from starlette.testclient import TestClient

from privproc import bhttp, ohttp
from privproc.errors import ReplayError, TokenError
from privproc.gateway.app import GatewayConfig, create_app
from privproc.gateway.keys import ActiveKey, GatewayKeys
from privproc.gateway.routing import NodeMap
from privproc.sealed import SUITE, node_key_id, seal_request

NODES = [SUITE.kem.derive_key_pair(bytes([i]) * 32) for i in range(3)]
URLS = [f"http://node-{i}.test" for i in range(3)]


class Nodes:
    """Stand-in nodes: record which URL got what; ``down`` ones refuse to connect."""

    def __init__(self, down: frozenset[str] = frozenset(), status: int = 200) -> None:
        self.seen: list[str] = []
        self.down, self.status = down, status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        base = f"{request.url.scheme}://{request.url.host}"
        self.seen.append(base)
        if base in self.down:
            raise httpx.ConnectError("down", request=request)
        if self.status != 200:
            body = json.dumps({"title": "open-failed"}).encode()
            return httpx.Response(
                self.status, content=body, headers={"content-type": "application/problem+json"}
            )
        return httpx.Response(200, content=b"sealed answer from " + base.encode())


class Tokens:
    def __init__(self, error: Exception | None = None) -> None:
        self.seen: list[str] = []
        self.error = error

    async def __call__(self, authorization: str) -> None:
        self.seen.append(authorization)
        if self.error is not None:
            raise self.error


def _derive(i: int) -> ohttp.ServerKey:
    return ohttp.ServerKey.derive(i, bytes([i]) * 32)


def _setup(nodes: Nodes, tokens: Tokens) -> tuple[TestClient, GatewayKeys]:
    keys = GatewayKeys(lifetime=3600, make=lambda i: ohttp.ServerKey.derive(i, bytes([i]) * 32))
    keys.tick(0)
    table = NodeMap()
    for (_, pk), url in zip(NODES, URLS, strict=True):
        table.learn(node_key_id(pk), url)
    app = create_app(
        GatewayConfig(nodes=()), keys, tokens, nodes=table, transport=httpx.MockTransport(nodes)
    )
    return TestClient(app), keys


def _post(
    client: TestClient,
    config: ohttp.KeyConfig,
    named: list[int],
    token: str = "PrivateToken token=x",
) -> tuple[httpx2.Response, ohttp.ClientResponseContext]:
    sealed, _ = seal_request(b'{"feature":"x"}', [NODES[i][1] for i in named])
    inner = bhttp.Request(
        "POST",
        "https",
        "gateway",
        "/process",
        headers=((b"authorization", token.encode()),),
        content=sealed,
    )
    data, ctx = ohttp.encapsulate_request(config, bhttp.encode(inner))
    answer = client.post("/gateway", content=data, headers={"content-type": "message/ohttp-req"})
    return answer, ctx


def _open(answer: httpx2.Response, ctx: ohttp.ClientResponseContext) -> bhttp.Response:
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "message/ohttp-res"
    return bhttp.decode_response(ctx.open(answer.content))


def test_forwards_only_to_a_named_node_after_redeeming() -> None:
    nodes, tokens = Nodes(), Tokens()
    client, keys = _setup(nodes, tokens)
    with client:
        for _ in range(8):
            response = _open(*_post(client, keys.configs[0], [0, 2]))
            assert response.status == 200
            assert response.content.startswith(b"sealed answer from http://node-")
    assert set(nodes.seen) <= {URLS[0], URLS[2]}
    assert len(tokens.seen) == 8


def test_retries_the_other_named_nodes_on_failure() -> None:
    nodes = Nodes(down=frozenset({URLS[0]}))
    client, keys = _setup(nodes, Tokens())
    with client:
        for _ in range(4):
            response = _open(*_post(client, keys.configs[0], [0, 1]))
            assert response.content == b"sealed answer from " + URLS[1].encode()


def test_node_refusal_is_not_retried_and_named_in_the_problem() -> None:
    nodes = Nodes(status=400)
    client, keys = _setup(nodes, Tokens())
    with client:
        response = _open(*_post(client, keys.configs[0], [0, 1]))
    assert response.status == 502
    assert json.loads(response.content)["title"] == "open-failed"
    assert len(nodes.seen) == 1


@pytest.mark.parametrize(
    ("error", "status"),
    [(TokenError("token.authenticator", "bad"), 401), (ReplayError("spent"), 403)],
)
def test_token_refusals_are_sealed_inside(error: Exception, status: int) -> None:
    nodes = Nodes()
    client, keys = _setup(nodes, Tokens(error))
    with client:
        response = _open(*_post(client, keys.configs[0], [0]))
    assert response.status == status
    assert nodes.seen == []


def test_unknown_node_keys_are_refused() -> None:
    client, keys = _setup(Nodes(), Tokens())
    stranger = SUITE.kem.derive_key_pair(b"s" * 32)[1]
    sealed, _ = seal_request(b"x", [stranger])
    inner = bhttp.Request("POST", "https", "gateway", "/process", content=sealed)
    data, ctx = ohttp.encapsulate_request(keys.configs[0], bhttp.encode(inner))
    with client:
        answer = client.post(
            "/gateway", content=data, headers={"content-type": "message/ohttp-req"}
        )
    response = _open(answer, ctx)
    assert response.status == 403
    assert json.loads(response.content)["title"] == "policy"


def test_stale_key_id_gets_the_ohttp_key_problem() -> None:
    client, _ = _setup(Nodes(), Tokens())
    stale = ohttp.ServerKey.derive(99, b"z" * 32).config
    with client:
        answer, _ctx = _post(client, stale, [0])
    assert answer.status_code == 400
    assert answer.json()["type"] == ohttp.PROBLEM_TYPE_KEY


def test_metrics_are_content_free() -> None:
    client, keys = _setup(Nodes(), Tokens())
    with client:
        _post(client, keys.configs[0], [0])
        text = client.get("/metrics").text
        published = client.get("/ohttp-keys")
    assert 'privproc_gateway_requests_total{outcome="ok"} 1.0' in text
    for url in URLS:
        assert url not in text
    for _, pk in NODES:
        assert node_key_id(pk).hex() not in text
    assert published.headers["content-type"] == "application/ohttp-keys"


def test_wrong_media_type() -> None:
    client, _ = _setup(Nodes(), Tokens())
    with client:
        answer = client.post("/gateway", content=b"x", headers={"content-type": "text/plain"})
    assert answer.status_code == 415


def test_ledger_down_degrades_health_not_service() -> None:
    """Issue 12 item 5: a key that cannot be recorded leaves the rotation loop running,
    failing visibly (/healthz, metric), while the gateway keeps serving its keys."""
    recorded: list[int] = []

    def on_new(key: ActiveKey) -> None:
        if recorded:
            raise OSError("ledger down")
        recorded.append(key.key.config.key_id)

    keys = GatewayKeys(lifetime=100, announce=10, make=_derive, on_new=on_new)
    keys.tick(0)
    app = create_app(
        GatewayConfig(nodes=(), poll_every=0.01, max_backoff=0.02),
        keys,
        Tokens(),
        clock=lambda: 95.0,  # the next key is due
    )
    with TestClient(app) as client:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            health = client.get("/healthz").json()
            if health["loops"]["keys"]["failures"] >= 2:
                break
            time.sleep(0.02)
        assert health["status"] == "degraded"
        assert health["loops"]["keys"]["last_error"] == "OSError"
        assert health["loops"]["nodes"]["ok"]
        metrics = client.get("/metrics").text
        assert 'privproc_gateway_loop_failures_total{loop="keys"}' in metrics
        assert ohttp.decode_list(client.get("/ohttp-keys").content)[0].key_id == 1
