"""The gateway's key schedule keeps the key-consistency rule (issue 12 item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from privproc import ohttp
from privproc.errors import ConfigError, MisuseError
from privproc.gateway.keyfile import load_keys, save_keys
from privproc.gateway.keys import ActiveKey, GatewayKeys
from privproc.ledger.keyconsistency import RecordedConfig, current_config, rule_violations
from privproc.ledger.records import KeyConfigRecord


def _make(i: int) -> ohttp.ServerKey:
    return ohttp.ServerKey.derive(i, bytes([i]) * 32)


def _as_log(made: list[ActiveKey]) -> list[RecordedConfig]:
    return [
        RecordedConfig(i, KeyConfigRecord(k.key.config.encode(), k.not_before, k.not_after), False)
        for i, k in enumerate(made)
    ]


def test_schedule_announces_ahead_and_keeps_two_valid() -> None:
    made: list[ActiveKey] = []
    keys = GatewayKeys(lifetime=100, announce=30, make=_make, on_new=made.append)
    assert keys.tick(0)
    assert [(k.not_before, k.not_after) for k in made] == [(0, 200)]
    assert not keys.tick(69)
    assert keys.tick(70)  # the next key is recorded 30 s before it starts
    assert (made[1].not_before, made[1].not_after) == (100, 300)
    # Before it starts the current key is served first, the announced one next.
    assert [c.key_id for c in keys.configs] == [1, 2]
    assert not keys.tick(99)
    keys.tick(100)
    assert [c.key_id for c in keys.configs] == [2, 1]  # current first, then the previous
    for now in range(100, 1000, 7):
        keys.tick(now)
    assert not rule_violations(_as_log(made))
    log = _as_log(made)
    for t in range(0, 900, 13):
        current = current_config(log, t)
        assert current.not_before <= t < current.not_before + 100
        assert current.record.key_config in {k.key.config.encode() for k in keys.entries} or (
            current.not_after <= 1000
        )
    assert len(keys.entries) <= 3  # previous, current, announced


def test_late_recording_delays_the_key_never_shortens_its_announcement() -> None:
    made: list[ActiveKey] = []
    fail = [True]

    def on_new(k: ActiveKey) -> None:
        if fail[0] and made:
            raise OSError("ledger down")
        made.append(k)

    keys = GatewayKeys(lifetime=100, announce=30, make=_make, on_new=on_new)
    keys.tick(0)
    with pytest.raises(OSError, match="ledger down"):
        keys.tick(70)
    assert len(keys.entries) == 1  # nothing changed; retried next tick
    fail[0] = False
    keys.tick(95)
    assert made[1].not_before == 125  # 95 + 30: still announced 30 s ahead
    assert not rule_violations(_as_log(made))


def test_first_start_waits_for_the_ledger() -> None:
    made: list[ActiveKey] = []
    keys = GatewayKeys(lifetime=100, announce=30, make=_make, on_new=made.append)
    keys.tick(10, first_start=50)
    assert made[0].not_before == 50


def test_announce_must_be_shorter_than_lifetime() -> None:
    with pytest.raises(MisuseError):
        GatewayKeys(lifetime=10, announce=10)


def test_key_file_round_trip_keeps_the_sequence(tmp_path: Path) -> None:
    path = tmp_path / "ohttp-keys.json"
    assert load_keys(path) == []
    keys = GatewayKeys(lifetime=100, announce=30, make=_make, save=lambda k: save_keys(path, k))
    keys.tick(0)
    keys.tick(80)
    assert path.stat().st_mode & 0o777 == 0o600
    again = GatewayKeys(lifetime=100, announce=30, make=_make, keys=load_keys(path))
    assert again.entries == keys.entries
    assert not again.tick(81)  # nothing new: the loaded sequence already has the next key
    assert again.entries[-1].not_before == 110  # 80 + 30: late, so announced in full
    again.tick(180)
    assert again.entries[-1].key.config.key_id == 3


@pytest.mark.parametrize("body", ["{", "{}", '[{"config": "00"}]', "[1]"])
def test_corrupt_key_file_is_a_config_error(tmp_path: Path, body: str) -> None:
    path = tmp_path / "ohttp-keys.json"
    path.write_text(body)
    with pytest.raises(ConfigError, match="corrupt"):
        load_keys(path)
