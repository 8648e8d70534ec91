"""Issue 12 item 1: the device uses only the key config the rule makes current for everyone.

The operator holds the publisher key and the append token, so it can record any key
config it likes; these tests record extra ones and check the device refuses every
way of using one to tag a device (each named check), and accepts honest rotations.
"""

from __future__ import annotations

import hashlib

import pytest

from privproc import ohttp
from privproc.client.verify import VerifiedDirectory, verify_directory
from privproc.errors import LedgerError
from tests._world import NOW, World

TAG = ohttp.ServerKey.derive(9, b"t" * 32).config  # a config for one device only


def _verify(world: World) -> VerifiedDirectory:
    keys, bundle = world.documents()
    return verify_directory(keys, bundle, world.trust(), now=NOW, seen=None)


def _check(world: World) -> str:
    with pytest.raises(LedgerError) as info:
        _verify(world)
    return info.value.check


def test_per_device_key_config_refused() -> None:
    """The review's attack: an extra recorded config, valid now, served to one device.

    Before the rule the device accepted any recorded, unrevoked config in its window.
    """
    # Recorded just now and served to one device: unannounced, so nobody may use it.
    world = World(more_key_configs=[(TAG, -30, 3600)], served=[TAG], announce_lead=10)
    assert _check(world) == "keyconfig.announce"
    # Recorded to start later (so it needs no announcement yet): not current, refused.
    world = World(more_key_configs=[(TAG, 600, 7200)], served=[TAG])
    assert _check(world) == "keyconfig.consistency"
    # Recorded with a window starting before the gateway's own: breaks the sequence.
    world = World(more_key_configs=[(TAG, -120, 3600)], served=[TAG])
    assert _check(world) == "keyconfig.sequence"


def test_announced_config_is_current_for_everyone() -> None:
    # Announced long enough ahead, the new config becomes current for every device:
    # the device served the previous one is refused, so nobody is singled out.
    world = World(more_key_configs=[(TAG, -10, 7200)], served=[TAG, World().gateway.config])
    result = _verify(world)
    assert result.key_config.config == TAG
    assert result.key_config.ledger_index == 2
    honest = World(more_key_configs=[(TAG, -10, 7200)])
    assert _check(honest) == "keyconfig.consistency"


def test_upcoming_config_is_not_used_before_it_starts() -> None:
    world = World(more_key_configs=[(TAG, 600, 7200)], served=[TAG, World().gateway.config])
    assert _verify(world).key_config.config == World().gateway.config


def test_announcement_too_late_or_missing() -> None:
    d = 3600 + 300  # the test trust's cosignature max age plus skew
    late = World(more_key_configs=[(TAG, -10, 7200)], served=[TAG], announce_lead=d - 1)
    assert _check(late) == "keyconfig.announce"
    missing = World(more_key_configs=[(TAG, -10, 7200)], served=[TAG], announce_lead=None)
    assert _check(missing) == "keyconfig.announce"
    just = World(more_key_configs=[(TAG, -10, 7200)], served=[TAG], announce_lead=d)
    assert _verify(just).key_config.config == TAG


def test_three_valid_at_once_is_an_overlap() -> None:
    third = ohttp.ServerKey.derive(10, b"u" * 32).config
    world = World(more_key_configs=[(TAG, -20, 7200), (third, -10, 7200)], served=[third])
    assert _check(world) == "keyconfig.overlap"


def test_same_config_with_another_window_breaks_the_sequence() -> None:
    world = World()
    world.more_key_configs.append((world.gateway.config, 100, 9000))
    assert _check(world) == "keyconfig.sequence"


def test_revoking_a_rogue_record_repairs_the_sequence() -> None:
    world = World(more_key_configs=[(TAG, -120, 3600)])
    assert _check(world) == "keyconfig.sequence"
    world.revocations.append(("key_config", hashlib.sha256(TAG.encode()).digest(), 2))
    assert _verify(world).key_config.config == world.gateway.config


def test_revoked_current_config_does_not_fall_back() -> None:
    world = World(more_key_configs=[(TAG, -10, 7200)], served=[TAG, World().gateway.config])
    world.revocations.append(("key_config", hashlib.sha256(TAG.encode()).digest(), 2))
    assert _check(world) == "keyconfig.revoked"


def test_expired_or_not_started() -> None:
    expired = World(more_key_configs=[(TAG, -50, -1)], served=[TAG])
    assert _check(expired) == "keyconfig.window"
    assert _check(World(record_key_config=False, more_key_configs=[(TAG, 60, 900)])) == (
        "keyconfig.window"
    )


def test_directory_expires_with_the_key_config() -> None:
    world = World(more_key_configs=[(TAG, -10, 100)], served=[TAG])
    assert _verify(world).expires.timestamp() == NOW.timestamp() + 100
