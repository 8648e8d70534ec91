"""The key-encryption key (KEK): gateway private keys at rest in a shared store.

Gateway replicas share one OHTTP key sequence through Redis (:mod:`privproc.stores.keyseq`);
the store never holds a private key in clear. Each private key is wrapped with AES-256-GCM
(NIST SP 800-38D) under the KEK, which every replica is given from a file or an environment
variable (a Kubernetes Secret, docs/deploy.md) and which the store's operator alone cannot
read. A wrapped blob is::

    version (1 byte, 0x01) || kek_id (8) || binding (8) || nonce (12) || ciphertext || tag (16)

``kek_id`` is the first 8 bytes of SHA-256("privproc kek id v1" || KEK): public, it lets a
replica given the wrong KEK say so (:class:`~privproc.errors.KekMismatchError`) instead of
failing a tag check. The AAD is ``"privproc gateway key v1" || key_id || key config``
(RFC 9458 §3 encoding) plus the header, so a blob moved to another key id or config does not
open; ``binding`` (8 bytes of SHA-256 of that AAD, public data) names the mismatch first
(:class:`~privproc.errors.KeyBindingError`). An altered ciphertext fails the tag
(:class:`~privproc.errors.KeyUnwrapError`, no detail). Pure: the nonce can be passed in.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privproc.errors import (
    ConfigError,
    DecodeError,
    KekMismatchError,
    KeyBindingError,
    KeyUnwrapError,
    MisuseError,
)

__all__ = ["KEK_ENV", "Kek", "load_kek"]

#: The environment variable a replica reads its KEK from (64 hex characters).
KEK_ENV = "PRIVPROC_GATEWAY_KEK"
_VERSION = 1
_HEADER = 1 + 8 + 8
_NONCE = 12
_TAG = 16
_AAD_LABEL = b"privproc gateway key v1"


@dataclass(frozen=True, slots=True)
class Kek:
    """A 32-byte AES-256-GCM key-encryption key; ``repr()`` shows only its public id."""

    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise MisuseError("a key-encryption key is 32 bytes")

    @property
    def kek_id(self) -> bytes:
        """Public fingerprint (8 bytes), written in every blob."""
        return hashlib.sha256(b"privproc kek id v1" + self.key).digest()[:8]

    def wrap(
        self, private_key: bytes, *, key_id: int, config: bytes, nonce: bytes | None = None
    ) -> bytes:
        """Encrypt ``private_key`` bound to ``key_id`` and ``config`` (the encoded KeyConfig)."""
        if not private_key:
            raise MisuseError("nothing to wrap")
        nonce = os.urandom(_NONCE) if nonce is None else nonce
        if len(nonce) != _NONCE:
            raise MisuseError("an AES-GCM nonce is 12 bytes")
        aad = _aad(key_id, config)
        header = bytes([_VERSION]) + self.kek_id + hashlib.sha256(aad).digest()[:8]
        return header + nonce + AESGCM(self.key).encrypt(nonce, private_key, header + aad)

    def unwrap(self, blob: bytes, *, key_id: int, config: bytes) -> bytes:
        """The private key, or a named error: another KEK, another binding, altered bytes."""
        if len(blob) < _HEADER + _NONCE + _TAG + 1:
            raise DecodeError("wrapped key: too short")
        if blob[0] != _VERSION:
            raise DecodeError(f"wrapped key: unknown version {blob[0]}")
        if blob[1:9] != self.kek_id:
            raise KekMismatchError(
                "gateway.kek.id",
                "the key was wrapped under another key-encryption key",
                expected=self.kek_id.hex(),
                found=blob[1:9].hex(),
            )
        aad = _aad(key_id, config)
        binding = hashlib.sha256(aad).digest()[:8]
        if blob[9:_HEADER] != binding:
            raise KeyBindingError(
                "gateway.kek.binding",
                f"the wrapped key is bound to another key config than key id {key_id}",
                expected=binding.hex(),
                found=blob[9:_HEADER].hex(),
            )
        header, nonce, sealed = (
            blob[:_HEADER],
            blob[_HEADER : _HEADER + _NONCE],
            blob[_HEADER + _NONCE :],
        )
        try:
            return AESGCM(self.key).decrypt(nonce, sealed, header + aad)
        except InvalidTag:
            raise KeyUnwrapError() from None


def _aad(key_id: int, config: bytes) -> bytes:
    if not 0 <= key_id <= 255:
        raise MisuseError("an OHTTP key id is one byte")
    return _AAD_LABEL + bytes([key_id]) + config


def load_kek(file: Path | None = None, env: Mapping[str, str] | None = None) -> Kek:
    """The KEK from ``file`` (64 hex characters) or else ``$PRIVPROC_GATEWAY_KEK``."""
    env = os.environ if env is None else env
    if file is not None:
        try:
            text = file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            raise ConfigError(f"key-encryption key file unreadable: {file}") from None
        where = str(file)
    elif env.get(KEK_ENV):
        text, where = env[KEK_ENV].strip(), f"${KEK_ENV}"
    else:
        raise ConfigError(
            f"gateway replicas need a key-encryption key: --kek-file FILE or ${KEK_ENV}"
        )
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ConfigError(f"key-encryption key in {where} is not hex") from None
    if len(key) != 32:
        raise ConfigError(f"key-encryption key in {where} must be 32 bytes (64 hex characters)")
    return Kek(key)
