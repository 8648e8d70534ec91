"""The consent service in process (starlette TestClient): auth, bad input, receipts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from privproc.consent.events import ConsentEvent, ConsentState, verify_chain
from privproc.consent.receipt import Receipt, unb64url, verify_receipt
from privproc.consent_service.app import MAX_LOOKUP, create_app
from privproc.consent_service.sqlite import SqliteStore

ADMIN = "operator-token"
ADMIN_H = {"authorization": f"Bearer {ADMIN}"}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 4, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = SqliteStore(tmp_path / "c.db")
    app = create_app(store, Ed25519PrivateKey.generate(), admin_token=ADMIN, now=Clock())
    with TestClient(app) as test_client:
        yield test_client
    store.close()


def register(client: TestClient, account: str, region: str) -> dict[str, str]:
    r = client.post("/accounts", json={"account": account, "region": region}, headers=ADMIN_H)
    assert r.status_code == 201, r.text
    return {"authorization": f"Bearer {r.json()['secret']}"}


def test_objection_is_one_call_with_a_verifiable_receipt(client: TestClient) -> None:
    alice = register(client, "alice", "US")
    assert client.get("/accounts/alice", headers=alice).json()["effective"] == "granted"
    r = client.post("/objection", headers=alice)
    assert r.status_code == 200
    receipt = Receipt.from_json(r.json()["receipt"])
    key = unb64url(client.get("/key").json()["public_key"], "key")
    assert verify_receipt(receipt, key).state is ConsentState.REFUSED
    status = client.get("/accounts/alice", headers=alice).json()
    assert (status["state"], status["effective"], status["seq"]) == ("refused", "refused", 1)
    events = [
        ConsentEvent.from_json(e)
        for e in client.get("/accounts/alice/history", headers=alice).json()["events"]
    ]
    assert verify_chain(events, account="alice") == events[-1]
    assert events[-1].hash == receipt.event_hash
    assert events[-1].source == "objection"


def test_region_rules_in_status(client: TestClient) -> None:
    eu = register(client, "eu", "FR")
    assert client.get("/accounts/eu", headers=eu).json()["effective"] == "refused"
    r = client.put("/accounts/eu/consent", json={"state": "granted"}, headers=eu)
    assert r.status_code == 200
    assert r.json()["event"]["source"] == "user"
    assert client.get("/accounts/eu", headers=eu).json()["effective"] == "granted"
    policy = client.get("/policy").json()
    assert policy["default_elsewhere"] == "granted"
    assert "FR" in policy["ask_required"]


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("POST", "/objection", {}),
        ("POST", "/objection", {"authorization": "Bearer wrong"}),
        ("POST", "/objection", {"authorization": "Basic abc"}),
        ("POST", "/objection", ADMIN_H),
        ("PUT", "/accounts/alice/consent", {}),
        ("PUT", "/accounts/alice/consent", "bob"),
        ("GET", "/accounts/alice", "bob"),
        ("GET", "/accounts/alice/history", {"authorization": "Bearer " + "x" * 300}),
        ("POST", "/accounts", "bob"),
        ("POST", "/lookup", "bob"),
    ],
)
def test_unauthenticated_is_401_and_changes_nothing(
    client: TestClient, method: str, path: str, headers: dict[str, str] | str
) -> None:
    register(client, "alice", "US")
    bob = register(client, "bob", "US")
    sent = bob if headers == "bob" else headers
    assert isinstance(sent, dict)
    r = client.request(method, path, headers=sent, json={"state": "refused"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "urn:privproc:problem:unauthorized"
    assert client.get("/accounts/alice", headers=ADMIN_H).json()["state"] == "unset"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/accounts", {"account": "bad name", "region": "US"}, 400),
        ("/accounts", {"account": "x", "region": "usa"}, 400),
        ("/accounts", {"account": "alice", "region": "US"}, 409),
        ("/accounts", [], 400),
        ("/lookup", {"accounts": "alice"}, 400),
        ("/lookup", {"accounts": ["ok"] * (MAX_LOOKUP + 1)}, 400),
        ("/lookup", {"accounts": [1]}, 400),
    ],
)
def test_bad_input_is_a_clear_error(
    client: TestClient, path: str, body: object, status: int
) -> None:
    register(client, "alice", "US")
    r = client.post(path, json=body, headers=ADMIN_H)
    assert r.status_code == status
    assert r.json()["detail"]
    assert "bad name" not in r.text


def test_bad_state_and_bodies(client: TestClient) -> None:
    alice = register(client, "alice", "US")
    for body in (b"{", b"[]", b'{"state": "unset"}', b'{"state": 1}', b"x" * 5000):
        r = client.put("/accounts/alice/consent", content=body, headers=alice)
        assert r.status_code in (400, 413)
    assert client.get("/accounts/alice", headers=alice).json()["seq"] == 0


def test_operator_lookup_and_unknown_account(client: TestClient) -> None:
    register(client, "alice", "DE")
    r = client.post("/lookup", json={"accounts": ["alice", "ghost"]}, headers=ADMIN_H)
    statuses = r.json()["statuses"]
    assert set(statuses) == {"alice"}
    assert statuses["alice"]["effective"] == "refused"
    assert client.get("/accounts/ghost", headers=ADMIN_H).status_code == 404
    r = client.put("/accounts/ghost/consent", json={"state": "granted"}, headers=ADMIN_H)
    assert r.status_code == 404
    r = client.put("/accounts/alice/consent", json={"state": "granted"}, headers=ADMIN_H)
    assert r.json()["event"]["source"] == "operator"


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    store = SqliteStore(tmp_path_factory.mktemp("fuzz") / "c.db")
    store.register("alice", "US", b"a" * 32, datetime(2026, 1, 1, tzinfo=UTC))
    with TestClient(create_app(store, Ed25519PrivateKey.generate(), admin_token=ADMIN)) as c:
        yield c
    store.close()


@given(
    method=st.sampled_from(["GET", "POST", "PUT"]),
    path=st.sampled_from(
        [
            "/objection",
            "/accounts",
            "/lookup",
            "/accounts/alice/consent",
            "/accounts/alice",
            "/accounts/alice/history",
            "/accounts/%00/consent",
            "/accounts/" + "a" * 200,
        ]
    ),
    auth=st.sampled_from(["", "Bearer " + ADMIN, "Bearer x", "bearer", "Bearer " + ADMIN + " x"]),
    body=st.one_of(
        st.binary(max_size=64),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(["state", "account", "region", "accounts"]), inner
                )
            ),
            max_leaves=6,
        ).map(lambda v: json.dumps(v).encode()),
    ),
)
@settings(max_examples=60)
def test_random_requests_never_crash_the_service(
    fuzz_client: TestClient, method: str, path: str, auth: str, body: bytes
) -> None:
    headers = {"authorization": auth} if auth else {}
    r = fuzz_client.request(method, path, content=body, headers=headers)
    assert r.status_code in {200, 201, 400, 401, 404, 405, 409, 413}
    if r.status_code >= 400 and r.status_code != 405:
        assert r.headers["content-type"] == "application/problem+json"
