"""Gateway key rotation on the key-consistency rule, over real sockets (issue 12 item 1).

One small cluster whose gateway keys are current for 24 s and announced 12 s ahead,
and whose devices accept cosignatures up to 6 s old with 1 s of skew (so ``D`` of the
rule is 7 s). The gateway is then restarted without its key file: it must not make
a key that starts at once (that would be a second config for some devices), so
devices are refused naming ``keyconfig.consistency`` until its new, announced key
starts, then served again after one refetch (RFC 9458 §5.3).
"""

from __future__ import annotations

import base64
import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from privproc import ohttp
from privproc.client.config import ClientConfig
from privproc.client.sdk import Device
from privproc.client.session import open_device
from privproc.cluster.launch import Cluster, ClusterSpec
from privproc.errors import LedgerError
from privproc.ledger.checkpoint import Checkpoint
from privproc.ledger.cosignature import verifier_from_vkey
from privproc.ledger.keyconsistency import recorded_configs
from privproc.ledger.note import Ed25519Verifier, Note
from privproc.ledger_service.client import LedgerClient

pytestmark = pytest.mark.system

LIFETIME, ANNOUNCE = 24, 12


@dataclasses.dataclass
class Rotating:
    cluster: Cluster
    home: Path
    config: ClientConfig


@pytest.fixture(scope="module")
def rotating(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rotating]:
    home = tmp_path_factory.mktemp("rotation") / "home"
    spec = ClusterSpec(
        nodes=2,
        gateway_key_lifetime=LIFETIME,
        gateway_key_announce=ANNOUNCE,
        cosignature_max_age=6,
        cosignature_max_skew=1,
    )
    cluster = Cluster(home, spec)
    try:
        config = cluster.start()
        yield Rotating(cluster, home, config)
    finally:
        cluster.stop()


def _device(world: Rotating, name: str) -> Device:
    home = world.home / "devices" / name
    home.mkdir(parents=True, exist_ok=True)
    config = dataclasses.replace(world.config, account=f"acct-{name}")
    (home / "config.json").write_text(config.dumps())
    return open_device(home)


def _recorded(world: Rotating) -> list[tuple[int, int, int]]:
    """(key_id, not_before, not_after) of every key config the ledger records."""
    publisher = verifier_from_vkey(world.config.publisher_vkey)
    assert isinstance(publisher, Ed25519Verifier)
    with LedgerClient(world.cluster.parties["ledger"].url) as ledger:
        size = Checkpoint.parse(Note.decode(ledger.checkpoint()).text).size
        configs = recorded_configs(ledger.fetch_entries(size), publisher)
    return [
        (ohttp.KeyConfig.decode(c.record.key_config).key_id, c.not_before, c.not_after)
        for c in configs
    ]


def _served_ids(world: Rotating) -> set[int]:
    doc = httpx.get(world.cluster.parties["directory"].url + "/nodes", timeout=5).json()
    return {
        ohttp.KeyConfig.decode(base64.b64decode(item["config"])).key_id
        for item in doc["key_configs"]
        if item["ledger"] is not None
    }


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def test_rotation_then_restart_without_keys(rotating: Rotating) -> None:
    with _device(rotating, "early") as early:
        first = early.rewrite("see u tmrw", ["friendly"]).report.key_config_id
        assert _recorded(rotating)[0][0] == first

        # The next key is recorded ANNOUNCE s ahead and becomes current for everyone.
        deadline = time.monotonic() + LIFETIME + 15
        while time.monotonic() < deadline and len(_recorded(rotating)) < 2:
            time.sleep(0.3)
        (_, a_start, a_end), (second, b_start, _) = _recorded(rotating)[:2]
        assert b_start >= a_start + LIFETIME
        assert a_end == a_start + 2 * LIFETIME  # at most two valid at once
        _sleep_until(b_start + 1)
        with _device(rotating, "late") as late:
            assert late.rewrite("see u tmrw", ["friendly"]).report.key_config_id == second
        # The early device's verified directory still lists the first config (valid to
        # a_end): the gateway still opens it.
        assert early.rewrite("see u tmrw", ["friendly"]).report.key_config_id == first

        # The gateway loses its keys and restarts: its new key starts only once announced.
        # The bound is taken before the restart: the new gateway makes its key after this
        # moment (under load its start can take seconds), so the key must start at least
        # ANNOUNCE s later (less 1 s: the gateway counts whole seconds).
        keys_file = rotating.home / "gateway" / "ohttp-keys.json"
        restarting = time.time()
        rotating.cluster.restart("gateway", before=keys_file.unlink)
        recorded = _recorded(rotating)
        third, c_start, _ = recorded[-1]
        assert third not in {first, second}
        assert c_start >= restarting + ANNOUNCE - 1
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and third not in _served_ids(rotating):
            time.sleep(0.3)
        with _device(rotating, "between") as between, pytest.raises(LedgerError) as info:
            between.rewrite("see u tmrw", ["friendly"])
        assert info.value.check == "keyconfig.consistency"
        # The early device's key is gone: the gateway refuses it, the device refetches
        # and finds the gateway no longer serves the current config.
        with pytest.raises(LedgerError) as info:
            early.rewrite("see u tmrw", ["friendly"])
        assert info.value.check == "keyconfig.consistency"

        _sleep_until(c_start + 1)
        assert early.rewrite("see u tmrw", ["friendly"]).report.key_config_id == third


def _health(world: Rotating, party: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(world.cluster.parties[party].url + "/healthz").json()
    return body


def _wait(what: str, ok: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ok():
            return
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def test_gateway_survives_the_ledger_going_down(rotating: Rotating) -> None:
    """Issue 12 item 5: the ledger is down when the next key is due; the gateway keeps
    serving, says so in /healthz and a metric, retries, and records the key once the
    ledger is back (announced in full: it starts later, never sooner)."""
    last = _recorded(rotating)[-1]
    due = last[1] + LIFETIME - ANNOUNCE
    with _device(rotating, "cached") as device:
        device.rewrite("see u tmrw", ["friendly"])
        _sleep_until(due - 3)
        rotating.cluster.halt("ledger")
        try:
            _wait(
                "the gateway to report the keys loop failing",
                lambda: not _health(rotating, "gateway")["loops"]["keys"]["ok"],
            )
            health = _health(rotating, "gateway")
            assert health["status"] == "degraded"
            assert health["loops"]["keys"]["last_error"]
            assert health["loops"]["nodes"]["ok"]
            metrics = httpx.get(rotating.cluster.parties["gateway"].url + "/metrics").text
            assert 'privproc_gateway_loop_failures_total{loop="keys"}' in metrics
            assert 'privproc_gateway_loop_failing{loop="keys"} 0.0' not in metrics
            _wait(
                "the directory to report its refresh failing",
                lambda: _health(rotating, "directory")["status"] == "degraded",
            )
            # Still serving: the device's verified directory and the current key hold.
            assert device.rewrite("see u tmrw", ["friendly"]).report.key_config_id == last[0]
            down_until = time.time()
        finally:
            rotating.cluster.resume("ledger")
        _wait(
            "the gateway to record the next key",
            lambda: (
                len(_recorded(rotating)) > len([r for r in _recorded(rotating) if r[1] <= last[1]])
            ),
        )
        _wait(
            "the gateway's keys loop to recover",
            lambda: _health(rotating, "gateway")["status"] == "ok",
        )
    new = _recorded(rotating)[-1]
    assert new[1] >= down_until + ANNOUNCE - 1  # announced in full after the outage
    assert new[1] >= last[1] + LIFETIME
