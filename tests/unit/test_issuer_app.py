"""The issuer over HTTP, in memory (Starlette TestClient): RFC 9578 answers and refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.testclient import TestClient

from privproc.issuer.app import REQUEST_PATH, IssuerConfig, IssuerService, create_app
from privproc.issuer.keys import DAY, KeyRing
from privproc.tokens import device_auth, issuance
from privproc.tokens.protocol import (
    DIRECTORY_MEDIA_TYPE,
    DIRECTORY_PATH,
    REQUEST_MEDIA_TYPE,
    RESPONSE_MEDIA_TYPE,
    IssuerDirectory,
    TokenChallenge,
    TokenRequest,
    TokenResponse,
    b64url_encode,
)

CHALLENGE = TokenChallenge(2, "issuer.example", b"", "gateway.example")
NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _client(tmp_path: Path, clock: Clock, **kw: object) -> Iterator[TestClient]:
    service = IssuerService(IssuerConfig(home=tmp_path / "issuer", **kw), clock=clock)  # type: ignore[arg-type]
    with TestClient(create_app(service)) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path, clock: Clock) -> Iterator[TestClient]:
    yield from _client(tmp_path, clock, quota_per_day=3)


def _directory(client: TestClient) -> IssuerDirectory:
    r = client.get(DIRECTORY_PATH)
    assert r.status_code == 200
    assert r.headers["content-type"] == DIRECTORY_MEDIA_TYPE
    return IssuerDirectory.from_json(r.content)


def _register(client: TestClient, account: str) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    r = client.post("/register", json={"account": account, "public_key": b64url_encode(raw)})
    assert r.status_code == 204, r.text
    return key


def _ask(
    client: TestClient, account: str | None, key: Ed25519PrivateKey | None, clock: Clock
) -> tuple[int, bytes, dict[str, str], issuance.PendingToken]:
    [token_key] = _directory(client).usable_keys(clock.now)
    request, pending = issuance.begin(token_key, CHALLENGE)
    body = request.encode()
    headers = {"content-type": REQUEST_MEDIA_TYPE}
    if account is not None and key is not None:
        headers["authorization"] = device_auth.sign(account, key, body, now=clock.now)
    r = client.post(REQUEST_PATH, content=body, headers=headers)
    return r.status_code, r.content, dict(r.headers), pending


def test_directory_lists_the_active_key(client: TestClient, clock: Clock) -> None:
    d = _directory(client)
    assert d.issuer_request_uri == REQUEST_PATH
    [entry] = d.token_keys
    assert entry.token_type == 2
    assert entry.not_before is not None
    assert entry.not_before <= clock.now


def test_issues_to_a_registered_device_until_the_quota(client: TestClient, clock: Clock) -> None:
    key = _register(client, "alice")
    for _ in range(3):
        status, body, headers, pending = _ask(client, "alice", key, clock)
        assert status == 200
        assert headers["content-type"] == RESPONSE_MEDIA_TYPE
        token = issuance.finish(pending, TokenResponse.decode(body))
        issuance.verify_token(token, pending.token_key)
    status, body, headers, _ = _ask(client, "alice", key, clock)
    assert status == 429
    problem = json.loads(body)
    assert problem["type"] == "urn:privproc:problem:quota-exceeded"
    assert "quota of 3" in problem["detail"]
    # Another account has its own quota; the next day the quota is back.
    bob = _register(client, "bob")
    assert _ask(client, "bob", bob, clock)[0] == 200
    clock.now += DAY
    assert _ask(client, "alice", key, clock)[0] == 200


def test_refuses_unauthenticated_and_forged(client: TestClient, clock: Clock) -> None:
    assert _ask(client, None, None, clock)[0] == 401
    _register(client, "carol")
    mallory = Ed25519PrivateKey.generate()
    registered = _ask(client, "carol", mallory, clock)
    unknown = _ask(client, "nobody", mallory, clock)
    assert registered[0] == unknown[0] == 401
    # The same problem either way: the answer does not say which accounts exist.
    assert json.loads(registered[1]) == json.loads(unknown[1])


def test_refuses_stale_signature(client: TestClient, clock: Clock) -> None:
    key = _register(client, "dave")
    [token_key] = _directory(client).usable_keys(clock.now)
    request, _ = issuance.begin(token_key, CHALLENGE)
    header = device_auth.sign("dave", key, request.encode(), now=clock.now - 3600)
    r = client.post(
        REQUEST_PATH,
        content=request.encode(),
        headers={"content-type": REQUEST_MEDIA_TYPE, "authorization": header},
    )
    assert r.status_code == 401


def test_token_request_replay_is_refused_not_counted_and_shared(
    tmp_path: Path, clock: Clock
) -> None:
    """The same body and PrivprocDevice header, sent again inside the skew window, is
    refused with a problem naming ``issuer.replay`` (not served, not counted), by this
    issuer and by another issuer replica on the same quota store."""
    home = tmp_path / "issuer"
    a = IssuerService(IssuerConfig(home=home, quota_per_day=3), clock=clock)
    b = IssuerService(IssuerConfig(home=home, quota_per_day=3), clock=clock)
    with TestClient(create_app(a)) as ca, TestClient(create_app(b)) as cb:
        key = _register(ca, "gail")
        [token_key] = _directory(ca).usable_keys(clock.now)
        request, _ = issuance.begin(token_key, CHALLENGE)
        body = request.encode()
        headers = {
            "content-type": REQUEST_MEDIA_TYPE,
            "authorization": device_auth.sign("gail", key, body, now=clock.now),
        }
        assert ca.post(REQUEST_PATH, content=body, headers=headers).status_code == 200
        clock.now += 10
        for replica in (ca, cb, ca):
            r = replica.post(REQUEST_PATH, content=body, headers=headers)
            assert r.status_code == 403
            assert r.headers["content-type"] == "application/problem+json"
            problem = json.loads(r.content)
            assert problem["type"] == "urn:privproc:problem:replayed-request"
            assert problem["detail"].startswith("issuer.replay:")
        # The replays were not counted: two more fresh requests fit the quota of 3.
        assert _ask(ca, "gail", key, clock)[0] == 200
        assert _ask(cb, "gail", key, clock)[0] == 200
        assert _ask(ca, "gail", key, clock)[0] == 429
        # Past the window the old credential is stale (401), not served.
        clock.now += 600
        assert ca.post(REQUEST_PATH, content=body, headers=headers).status_code == 401


def test_second_device_needs_enrollment(client: TestClient) -> None:
    _register(client, "erin")
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    r = client.post("/register", json={"account": "erin", "public_key": b64url_encode(raw)})
    assert r.status_code == 401
    assert client.post("/register", content=b"{").status_code == 400


def test_enrollment_token(tmp_path: Path, clock: Clock) -> None:
    for c in _client(tmp_path, clock, enroll_token="s3cret"):
        raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        body = {"account": "f", "public_key": b64url_encode(raw)}
        assert c.post("/register", json=body).status_code == 401
        for wrong in ("Bearer s3cre", "Basic s3cret", "s3cret", "Bearer"):
            r = c.post("/register", json=body, headers={"authorization": wrong})
            assert r.status_code == 401, wrong
        ok = c.post("/register", json=body, headers={"authorization": "bearer s3cret"})
        assert ok.status_code == 204


@pytest.fixture
def open_client(tmp_path: Path, clock: Clock) -> Iterator[TestClient]:
    yield from _client(tmp_path, clock, open=True, quota_per_day=1000)


def test_malformed_requests_get_422(open_client: TestClient, clock: Clock) -> None:
    [token_key] = _directory(open_client).usable_keys(clock.now)
    good, _ = issuance.begin(token_key, CHALLENGE)
    h = {"content-type": REQUEST_MEDIA_TYPE}
    cases = [
        good.encode()[:-1],
        good.encode() + b"\x00",
        b"\x00\x01" + good.encode()[2:],  # token type 0x0001
        TokenRequest((good.truncated_token_key_id + 1) % 256, good.blinded_msg).encode(),
        b"",
    ]
    for body in cases:
        r = open_client.post(REQUEST_PATH, content=body, headers=h)
        assert r.status_code == 422, body[:4]
        assert r.headers["content-type"] == "application/problem+json"
    assert open_client.post(REQUEST_PATH, content=good.encode()).status_code == 415
    big = open_client.post(REQUEST_PATH, content=b"x" * 5000, headers=h)
    assert big.status_code == 413


def test_open_mode_issues_without_credentials(open_client: TestClient, clock: Clock) -> None:
    status, body, headers, pending = _ask(open_client, None, None, clock)
    assert status == 200
    assert headers["content-type"] == RESPONSE_MEDIA_TYPE
    issuance.finish(pending, TokenResponse.decode(body))


def test_key_rotation_overlap(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys", lifetime=10 * DAY, overlap=2 * DAY)
    ring.maintain(NOW)
    [first] = ring.active(NOW)
    ring.maintain(NOW + 7 * DAY)
    assert ring.active(NOW + 7 * DAY) == (first,)
    ring.maintain(NOW + 8.5 * DAY)  # overlap window: a new key, the old one still active
    newer, older = ring.active(NOW + 8.5 * DAY)
    assert older == first
    assert newer != first
    ring.maintain(NOW + 10 * DAY)
    assert ring.active(NOW + 10 * DAY) == (newer,)
    # Keys persist: a new ring on the same folder sees the same keys.
    again = KeyRing(tmp_path / "keys", lifetime=10 * DAY, overlap=2 * DAY)
    assert [k.key_id for k in again.active(NOW + 10 * DAY)] == [newer.key_id]
    pem = next((tmp_path / "keys").glob("*.pem"))
    assert pem.stat().st_mode & 0o777 == 0o600


def test_key_ring_shared_by_two_processes(tmp_path: Path) -> None:
    a = KeyRing(tmp_path / "keys", lifetime=10 * DAY, overlap=2 * DAY)
    a.maintain(NOW)
    b = KeyRing(tmp_path / "keys", lifetime=10 * DAY, overlap=2 * DAY)
    b.maintain(NOW)
    assert [k.key_id for k in a.active(NOW)] == [k.key_id for k in b.active(NOW)]
    later = NOW + 9 * DAY
    a.maintain(later)
    b.maintain(later)  # sees a's new key and makes none of its own
    assert len(list((tmp_path / "keys").glob("*.pem"))) == 2
    assert [k.key_id for k in a.active(later)] == [k.key_id for k in b.active(later)]
    # The next rotation deletes the retired first key from disk.
    b.maintain(NOW + 18 * DAY)
    a.maintain(NOW + 18 * DAY)
    assert len(list((tmp_path / "keys").glob("*.pem"))) == 2
    assert [k.key_id for k in a.active(NOW + 18 * DAY)] == [
        k.key_id for k in b.active(NOW + 18 * DAY)
    ]


def test_directory_during_overlap_lists_both(tmp_path: Path, clock: Clock) -> None:
    for c in _client(tmp_path, clock, open=True, key_lifetime=4 * DAY, key_overlap=DAY):
        clock.now += 3.5 * DAY
        status, *_ = _ask_any(c, clock)
        assert status == 200
        d = _directory(c)
        assert len(d.token_keys) == 2
        assert d.token_keys[0].not_before is not None
        assert d.token_keys[1].not_before is not None
        assert d.token_keys[0].not_before > d.token_keys[1].not_before  # newest first


def _ask_any(client: TestClient, clock: Clock) -> tuple[int, bytes]:
    keys = _directory(client).usable_keys(clock.now)
    request, _ = issuance.begin(keys[-1], CHALLENGE)
    r = client.post(
        REQUEST_PATH, content=request.encode(), headers={"content-type": REQUEST_MEDIA_TYPE}
    )
    return r.status_code, r.content


@pytest.mark.parametrize("meta", ["{}", "[]", '{"not-before": "x", "not-after": 1}', "{"])
def test_a_corrupt_key_file_is_a_config_error(tmp_path: Path, meta: str) -> None:
    from privproc.errors import ConfigError

    KeyRing(tmp_path / "keys", lifetime=10 * DAY, overlap=2 * DAY).maintain(NOW)
    [meta_path] = (tmp_path / "keys").glob("*.json")
    meta_path.write_text(meta)
    with pytest.raises(ConfigError, match="cannot read"):
        KeyRing(tmp_path / "keys", lifetime=10 * DAY, overlap=2 * DAY)
