"""The consent client refuses answers it cannot trust with typed errors, and keeps
secrets out of reprs."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from privproc.consent_service.client import ConsentClient
from privproc.errors import DecodeError

_STATUS = {
    "account": "alice",
    "region": "US",
    "state": "refused",
    "effective": "refused",
    "asks_first": False,
    "seq": 1,
    "updated": "2026-01-01T00:00:00.000000Z",
}
_EVENT = {
    "account": "alice",
    "prev": "0" * 64,
    "region": "US",
    "seq": 0,
    "source": "register",
    "state": "unset",
    "time": "2026-01-01T00:00:00.000000Z",
    "hash": "1" * 64,
}


def _client(answer: object) -> ConsentClient:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer)

    return ConsentClient(
        "http://consent", "t", http=httpx.Client(transport=httpx.MockTransport(handler))
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.public_key(),
        lambda c: c.register("alice", "US"),
        lambda c: c.history("alice"),
        lambda c: c.lookup(["alice"]),
        lambda c: c.object(),
    ],
)
def test_an_answer_that_is_not_an_object_is_a_decode_error(
    call: Callable[[ConsentClient], object],
) -> None:
    with _client(["not", "an", "object"]) as client, pytest.raises(DecodeError):
        call(client)


def test_lookup_refuses_a_status_filed_under_another_account() -> None:
    """A status for bob filed under alice must not decide alice's export."""
    for statuses in (
        {"alice": {**_STATUS, "account": "bob"}},
        {"mallory": {**_STATUS, "account": "mallory"}},
    ):
        client = _client({"statuses": statuses})
        with pytest.raises(DecodeError, match="not asked for"):
            client.lookup(["alice"])
        client.close()
    with _client({"statuses": {"alice": _STATUS}}) as client:
        assert client.lookup(["alice"])["alice"].seq == 1


def test_registration_needs_a_secret_and_hides_it() -> None:
    with _client({"event": _EVENT}) as client, pytest.raises(DecodeError, match="no secret"):
        client.register("alice", "US")
    with _client({"event": _EVENT, "secret": "s3cr3t-9a1"}) as client:
        registration = client.register("alice", "US")
    assert registration.secret == "s3cr3t-9a1"
    assert "s3cr3t-9a1" not in repr(registration)
