"""The one key lifecycle table (privproc.keylife) and the three kinds of key that follow it."""

from __future__ import annotations

from pathlib import Path

import pytest

from privproc import ohttp
from privproc.enclave.keys import KeyRing as NodeKeyRing
from privproc.errors import MisuseError
from privproc.gateway.keys import ActiveKey, GatewayKeys
from privproc.issuer.keys import KeyRing as IssuerKeyRing
from privproc.keylife import TRANSITIONS, USABLE, KeyState, step, window_state
from privproc.sealed import generate_node_key

S = KeyState


def test_no_state_leads_back_from_destroyed_and_every_state_is_reachable() -> None:
    assert all(state is not S.DESTROYED for state, _ in TRANSITIONS)
    reached = {S.GENERATED} | set(TRANSITIONS.values())
    assert reached == set(S)
    assert {S.PUBLISHED, S.RETIRING} == USABLE


@pytest.mark.parametrize(
    ("state", "event"), [(S.DESTROYED, "publish"), (S.RETIRING, "publish"), (S.GENERATED, "retire")]
)
def test_a_step_the_table_does_not_list_is_misuse(state: KeyState, event: str) -> None:
    with pytest.raises(MisuseError, match=event):
        step(state, event)


def test_window_state() -> None:
    assert window_state(5, 10, 30, superseded_at=None) is S.PUBLISHED  # announced
    assert window_state(10, 10, 30, superseded_at=20) is S.PUBLISHED
    assert window_state(20, 10, 30, superseded_at=20) is S.RETIRING
    assert window_state(30, 10, 30, superseded_at=None) is S.DESTROYED
    with pytest.raises(MisuseError):
        window_state(0, 10, 10, superseded_at=None)


def test_node_keys_follow_the_table() -> None:
    ring = NodeKeyRing(generate_node_key, lifetime=10, grace=5)
    ring.tick(0)
    ring.tick(10)
    assert [v.state for v in ring.views()] == [S.RETIRING, S.PUBLISHED]
    ring.tick(16)
    assert [v.state for v in ring.views()] == [S.PUBLISHED, S.DESTROYED]


def test_gateway_keys_follow_the_table() -> None:
    first = ActiveKey(ohttp.ServerKey.derive(1, b"a" * 32), 100, 300)
    second = ActiveKey(ohttp.ServerKey.derive(2, b"b" * 32), 200, 400)
    keys = GatewayKeys(lifetime=100, keys=[first, second])
    assert [s for _, s in keys.states(150)] == [S.PUBLISHED, S.PUBLISHED]  # second announced
    assert [s for _, s in keys.states(250)] == [S.RETIRING, S.PUBLISHED]
    assert [s for _, s in keys.states(300)] == [S.DESTROYED, S.PUBLISHED]
    keys.tick(300)
    assert next(k.key.config.key_id for k in keys.entries) == 2  # the destroyed one is dropped


def test_issuer_keys_follow_the_table(tmp_path: Path) -> None:
    ring = IssuerKeyRing(tmp_path, lifetime=100, overlap=20)
    ring.maintain(0)
    ring.maintain(85)  # the overlap window opens: a second key signs
    assert [s for _, s in ring.states(90)] == [S.RETIRING, S.PUBLISHED]
    assert len(ring.active(90)) == 2
    ring.maintain(170)  # the first is past not_after: destroyed, its files deleted
    assert [s for _, s in ring.states(170)] == [S.RETIRING, S.PUBLISHED]
    assert len(list(tmp_path.glob("*.pem"))) == 2
