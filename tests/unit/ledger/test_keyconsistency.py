"""The key-consistency rule as a pure function of the log (issue 12 item 1)."""

from __future__ import annotations

import pytest

from privproc import ohttp
from privproc.errors import LedgerError
from privproc.ledger.keyconsistency import (
    RecordedConfig,
    announcement_violations,
    current_config,
    needs_announcement,
    recorded_configs,
    rule_violations,
    witnessed_at,
)
from privproc.ledger.records import KeyConfigRecord, encode_record, sign_record
from tests._world import NOW, World, _key


def _config(i: int) -> bytes:
    return ohttp.ServerKey.derive(i, bytes([i]) * 32).config.encode()


def _log(*windows: tuple[int, int]) -> list[RecordedConfig]:
    return [
        RecordedConfig(i, KeyConfigRecord(_config(i + 1), nb, na), False)
        for i, (nb, na) in enumerate(windows)
    ]


def test_honest_rotation_keeps_the_rule() -> None:
    log = _log((0, 200), (100, 300), (200, 400))
    assert rule_violations(log) == []
    assert [current_config(log, t).index for t in (0, 99, 100, 199, 200, 399)] == [
        0,
        0,
        1,
        1,
        2,
        2,
    ]
    assert not needs_announcement(log, log[0])
    assert needs_announcement(log, log[1])
    with pytest.raises(LedgerError) as info:
        current_config(log, 400)
    assert info.value.check == "keyconfig.window"
    with pytest.raises(LedgerError) as info:
        current_config(log, -1)
    assert info.value.check == "keyconfig.window"


def test_restart_after_a_gap_needs_no_announcement() -> None:
    log = _log((0, 100), (500, 700))
    assert not needs_announcement(log, log[1])
    assert announcement_violations(log, {}, 900) == []


@pytest.mark.parametrize(
    ("windows", "check"),
    [
        (((100, 300), (50, 300)), "keyconfig.sequence"),  # starts before an earlier one
        (((100, 300), (100, 300)), "keyconfig.sequence"),  # two at the same instant
        (((0, 300), (100, 300), (200, 400)), "keyconfig.overlap"),  # three valid at 200
    ],
)
def test_broken_logs_are_named(windows: tuple[tuple[int, int], ...], check: str) -> None:
    log = _log(*windows)
    assert [v[0] for v in rule_violations(log)] == [check]
    with pytest.raises(LedgerError) as info:
        current_config(log, 250)
    assert info.value.check == check


def test_no_config_at_all() -> None:
    with pytest.raises(LedgerError) as info:
        current_config([], 0)
    assert info.value.check == "keyconfig.ledger"


def test_announcement_violations_for_an_auditor() -> None:
    log = _log((0, 200), (100, 300), (200, 400))
    assert announcement_violations(log, {1: 0, 2: 100}, 100) == []
    broken = announcement_violations(log, {1: 1}, 100)
    assert [(c, i) for c, i, _ in broken] == [("keyconfig.announce", 1), ("keyconfig.announce", 2)]
    assert "no witnessed checkpoint" in broken[1][2]


def test_recorded_configs_skip_strangers_and_repeats() -> None:
    record = KeyConfigRecord(_config(1), 0, 100)
    mine = encode_record(sign_record(record, "publisher.test", _key(2)))
    stranger = encode_record(sign_record(KeyConfigRecord(_config(2), 5, 50), "x", _key(3)))
    world = World()
    configs = recorded_configs([b"raw", mine, stranger, mine], world.publisher.verifier())
    assert [(c.index, c.record) for c in configs] == [(1, record)]


def test_witnessed_at_refuses_what_does_not_prove_it() -> None:
    world = World()
    entries = world.entries()
    policy = world.trust().ledger
    ts = int(NOW.timestamp()) - 4000
    good = world.checkpoint_note(entries, ts)
    cp, stamp = witnessed_at(good, policy, entries, len(entries) - 1)
    assert (cp.size, stamp) == (len(entries), ts)

    def check(note: bytes, index: int, entries: list[bytes] = entries) -> str:
        with pytest.raises(LedgerError) as info:
            witnessed_at(note, policy, entries, index)
        assert info.value.check == "keyconfig.announce"
        return str(info.value)

    assert "between" in check(world.checkpoint_note(entries[:1], ts), 1)
    assert "root" in check(good, 0, [b"other", *entries[1:]])
    assert "open" in check(b"garbage", 0)
    world.witnesses_signing = 1
    assert "quorum" in check(world.checkpoint_note(entries, ts), 0)
