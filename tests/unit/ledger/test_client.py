"""The ledger client turns any malformed answer into DecodeError (it only moves bytes)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from privproc.errors import DecodeError
from privproc.ledger_service.client import LedgerClient


def _client(body: object) -> LedgerClient:
    client = LedgerClient("http://ledger", token="t")
    client._http.close()
    client._http = httpx.Client(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, json=body))
    )
    return client


_CALLS: list[Callable[[LedgerClient], object]] = [
    lambda c: c.inclusion_proof(0, 1),
    lambda c: c.consistency_proof(1, 2),
]


@pytest.mark.parametrize("call", _CALLS)
@pytest.mark.parametrize("body", [[], {"no": "proof"}, {"proof": 5}, {"proof": [1]}, "x"])
def test_malformed_proof_answers_are_decode_errors(
    call: Callable[[LedgerClient], object], body: object
) -> None:
    with _client(body) as client, pytest.raises(DecodeError):
        call(client)


def test_proof_answer_decodes() -> None:
    with _client({"proof": ["AAAA"]}) as client:
        assert client.inclusion_proof(0, 1) == [b"\0\0\0"]


@pytest.mark.parametrize("body", [[], {"index": True}, {"index": -1}, {"index": "3"}])
def test_malformed_add_answers_are_decode_errors(body: object) -> None:
    with _client(body) as client, pytest.raises(DecodeError):
        client.add(b"entry")
