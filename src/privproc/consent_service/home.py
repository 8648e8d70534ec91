"""The consent service's files under ``$PRIVPROC_HOME/consent/``.

``consent.db`` (the SQLite store, unless a PostgreSQL URL is given),
``signing-key.pem`` (the Ed25519 receipt key, PKCS#8, mode 0600) and
``admin-token`` (the operator's bearer secret for registration and bulk lookups,
mode 0600). Each is created on first use and read afterwards.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from privproc._home import default_home
from privproc.errors import ConfigError

__all__ = ["ConsentHome", "new_secret"]


def new_secret() -> str:
    """A fresh bearer secret: 32 random bytes, base64url without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")


def _write_private(path: Path, data: bytes) -> None:
    """Publish ``data`` at ``path`` (mode 0600) whole or not at all.

    The bytes go to a private temporary file in the same folder, reach the disk,
    then ``os.link`` puts that file at ``path``: atomic, and refused with
    :class:`FileExistsError` when ``path`` exists. A replica starting at the same
    moment therefore sees no file or the complete one, never an empty one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temp, path)
    finally:
        os.unlink(temp)


@dataclass(frozen=True, slots=True)
class ConsentHome:
    """The consent folder of one ``PRIVPROC_HOME``."""

    root: Path

    @classmethod
    def at(cls, home: Path | None = None) -> ConsentHome:
        """The consent folder under ``home`` (default: :func:`default_home`)."""
        return cls((home or default_home()) / "consent")

    @property
    def database(self) -> Path:
        """The embedded SQLite store."""
        return self.root / "consent.db"

    def signing_key(self) -> Ed25519PrivateKey:
        """The receipt key, made on first use."""
        path = self.root / "signing-key.pem"
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
            try:
                _write_private(path, pem)
            except FileExistsError:
                pass  # another process made it first: read theirs
            else:
                return key
        try:
            loaded = load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError):
            raise ConfigError(f"{path}: not a readable Ed25519 key") from None
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ConfigError(f"{path}: not an Ed25519 key")
        return loaded

    def admin_token(self, *, create: bool = True) -> str:
        """The operator's bearer secret, made on first use when ``create``."""
        path = self.root / "admin-token"
        if not path.exists() and create:
            with contextlib.suppress(FileExistsError):
                _write_private(path, new_secret().encode("ascii") + b"\n")
        try:
            token = path.read_text("ascii").strip()
        except (OSError, UnicodeDecodeError):
            raise ConfigError(f"{path}: no admin token (start the consent service once)") from None
        if not token:
            raise ConfigError(f"{path}: empty admin token")
        return token
