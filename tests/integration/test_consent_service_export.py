"""Property: after any sequence of grants, refusals and objections made over the
service's HTTP API, an export through the service's bulk lookup writes exactly the
records of the accounts whose consent is in force at that moment."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import cast

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from privproc.consent.events import ConsentState
from privproc.consent.export import Exporter
from privproc.consent.regions import ASK_REQUIRED
from privproc.consent_service.app import create_app
from privproc.consent_service.client import ConsentClient
from privproc.consent_service.sqlite import SqliteStore

ADMIN = "operator-secret"
ACCOUNTS = [("p0", "US"), ("p1", "DE"), ("p2", "BR"), ("p3", "JP")]
KINDS = ["public_post", "comment", "profile", "private_message", "ai_request"]

ops = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=len(ACCOUNTS) - 1),
        st.sampled_from(["grant", "refuse", "objection", "operator-grant", "operator-refuse"]),
    ),
    max_size=12,
)


def _records() -> list[bytes]:
    out = []
    for account, _ in ACCOUNTS:
        for kind in KINDS:
            for age in (16, 30):
                rec = {"account": account, "kind": kind, "author_age": age,
                       "created": "2026-01-01T00:00:00Z", "text": "x"}  # fmt: skip
                canonical = json.dumps(rec, sort_keys=True, separators=(",", ":"))
                out.append(canonical.encode() + b"\n")
    return out


@given(sequence=ops)
@settings(max_examples=40)
def test_export_follows_the_state_set_over_http(sequence: list[tuple[int, str]]) -> None:
    store = SqliteStore(":memory:")
    app = create_app(store, Ed25519PrivateKey.generate(), admin_token=ADMIN,
                     now=lambda: datetime(2026, 6, 1, tzinfo=UTC))  # fmt: skip
    with TestClient(app, base_url="http://consent") as test_client:
        # TestClient is an httpx2.Client, API-compatible with the httpx.Client asked for.
        http = cast(httpx.Client, test_client)
        operator = ConsentClient("http://consent", ADMIN, http=http)
        secrets = {a: operator.register(a, region).secret for a, region in ACCOUNTS}
        state: dict[str, str] = {}
        for index, op in sequence:
            account = ACCOUNTS[index][0]
            user = ConsentClient("http://consent", secrets[account], http=http)
            if op == "objection":
                event, receipt = user.object()
            else:
                actor = operator if op.startswith("operator") else user
                wanted = "granted" if op.endswith("grant") else "refused"
                event, receipt = actor.change(account, ConsentState(wanted))
            state[account] = event.state.value
            assert receipt.event_hash == event.hash

        exporter = Exporter(operator.lookup)
        out = list(exporter.filter(_records()))

    def allowed(account: str, region: str) -> bool:
        now = state.get(account, "unset")
        return now == "granted" or (now == "unset" and region not in ASK_REQUIRED)

    expected = [
        line
        for line in _records()
        for rec in [json.loads(line)]
        if rec["kind"] in ("public_post", "comment", "profile")
        and rec["author_age"] >= 18
        and allowed(rec["account"], dict(ACCOUNTS)[rec["account"]])
    ]
    assert out == expected
    store.close()
