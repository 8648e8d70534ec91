"""The key-encryption key: wrap, unwrap, and the named refusals (issue 16 item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from privproc import ohttp
from privproc.errors import (
    ConfigError,
    CryptoError,
    DecodeError,
    KekMismatchError,
    KeyBindingError,
    KeyUnwrapError,
    MisuseError,
)
from privproc.gateway.kek import KEK_ENV, Kek, load_kek

KEK = Kek(bytes(range(32)))
KEY = ohttp.ServerKey.derive(7, b"\x07" * 32)
CONFIG = KEY.config.encode()


def _blob() -> bytes:
    return KEK.wrap(KEY.private_key, key_id=7, config=CONFIG)


def test_round_trip_and_fresh_nonce() -> None:
    a, b = _blob(), _blob()
    assert a != b  # a fresh nonce each time
    assert KEK.unwrap(a, key_id=7, config=CONFIG) == KEY.private_key
    assert KEY.private_key not in a  # never in clear


def test_fixed_nonce_is_deterministic() -> None:
    nonce = b"\x01" * 12
    one = KEK.wrap(KEY.private_key, key_id=7, config=CONFIG, nonce=nonce)
    assert one == KEK.wrap(KEY.private_key, key_id=7, config=CONFIG, nonce=nonce)
    assert one[0] == 1
    assert one[1:9] == KEK.kek_id
    assert one[17:29] == nonce


def test_wrong_kek_is_named() -> None:
    other = Kek(b"\xff" * 32)
    with pytest.raises(KekMismatchError) as caught:
        other.unwrap(_blob(), key_id=7, config=CONFIG)
    assert caught.value.check == "gateway.kek.id"
    assert caught.value.expected == other.kek_id.hex()
    assert caught.value.found == KEK.kek_id.hex()


@pytest.mark.parametrize("where", [17, 30, -1])
def test_tampered_blob_fails_the_tag(where: int) -> None:
    blob = bytearray(_blob())
    blob[where] ^= 0x01
    with pytest.raises(KeyUnwrapError) as caught:
        KEK.unwrap(bytes(blob), key_id=7, config=CONFIG)
    assert isinstance(caught.value, CryptoError)
    assert str(caught.value) == "wrapped key does not open"


def test_forged_header_binding_still_fails_the_tag() -> None:
    """A blob moved to another config with its binding rewritten: the AAD covers it."""
    other = ohttp.ServerKey.derive(7, b"\x08" * 32).config.encode()
    forged = KEK.wrap(KEY.private_key, key_id=7, config=other)[:17] + _blob()[17:]
    with pytest.raises(KeyUnwrapError):
        KEK.unwrap(forged, key_id=7, config=other)


@pytest.mark.parametrize(
    ("key_id", "config"), [(8, CONFIG), (7, CONFIG + b"\x00")], ids=["key-id", "config"]
)
def test_wrong_aad_is_named(key_id: int, config: bytes) -> None:
    with pytest.raises(KeyBindingError) as caught:
        KEK.unwrap(_blob(), key_id=key_id, config=config)
    assert caught.value.check == "gateway.kek.binding"


@pytest.mark.parametrize("which", ["empty", "short", "version"])
def test_bad_blobs_are_decode_errors(which: str) -> None:
    blob = {"empty": b"", "short": b"\x01" * 20, "version": b"\x02" + _blob()[1:]}[which]
    with pytest.raises(DecodeError):
        KEK.unwrap(blob, key_id=7, config=CONFIG)


def test_misuse() -> None:
    with pytest.raises(MisuseError):
        Kek(b"short")
    with pytest.raises(MisuseError):
        KEK.wrap(b"", key_id=7, config=CONFIG)
    with pytest.raises(MisuseError):
        KEK.wrap(KEY.private_key, key_id=256, config=CONFIG)
    with pytest.raises(MisuseError):
        KEK.wrap(KEY.private_key, key_id=7, config=CONFIG, nonce=b"x")
    assert "key=" not in repr(KEK)
    assert bytes(range(32)).hex() not in repr(KEK)


def test_load_from_file_and_env(tmp_path: Path) -> None:
    file = tmp_path / "kek"
    file.write_text(bytes(range(32)).hex() + "\n")
    assert load_kek(file, {}) == KEK
    assert load_kek(None, {KEK_ENV: bytes(range(32)).hex()}) == KEK
    assert load_kek(file, {KEK_ENV: "00" * 32}) == KEK  # the file wins


@pytest.mark.parametrize("text", ["", "zz" * 32, "00" * 16, "00" * 33])
def test_load_refuses_bad_keys(tmp_path: Path, text: str) -> None:
    file = tmp_path / "kek"
    file.write_text(text)
    with pytest.raises(ConfigError):
        load_kek(file, {})


def test_load_refuses_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="key-encryption key"):
        load_kek(None, {})
    with pytest.raises(ConfigError, match="unreadable"):
        load_kek(tmp_path / "absent", {})
