"""The issuer's token keys: persisted, rotated with an overlap window (RFC 9578 §4, §6.5).

Each key lives in ``<home>/keys/<key-id-hex>.pem`` (PKCS#8, mode 0600) next to
``<key-id-hex>.json`` (``not-before``, ``not-after``). A key is *active* from its
``not-before`` until its ``not-after``; the issuer signs with the newest active
key and accepts requests for every active one (published or retiring in the one
lifecycle table, :mod:`privproc.keylife`). A new key is made when the newest
one has less than ``overlap`` seconds left, so for ``overlap`` seconds two keys are
active and listed: clients holding the old key's directory keep working and
gateways fetch the new key before the old one retires. Keys whose truncated key
id would collide with another active key are never created (RFC 9578 §6.5).

Several issuer processes may share the folder: each notices keys the others made
(the folder listing is checked on every :meth:`KeyRing.maintain`), and making a key
happens under an exclusive lock on ``<home>/keys/.lock``, so one rotation makes one key.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from privproc.errors import ConfigError, MisuseError
from privproc.keylife import USABLE, KeyState, window_state
from privproc.tokens.blind_rsa import PrivateKey
from privproc.tokens.issuance import IssuerKeyPair
from privproc.tokens.protocol import TOKEN_TYPE_BLIND_RSA, DirectoryKey

__all__ = ["IssuerKey", "KeyRing"]

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class IssuerKey:
    """One token key with its validity window (Unix seconds)."""

    pair: IssuerKeyPair = field(repr=False)
    not_before: int
    not_after: int

    @property
    def key_id(self) -> bytes:
        """SHA-256 of the token key's SPKI."""
        return self.pair.token_key.key_id

    def state(self, now: float, *, superseded_at: float | None = None) -> KeyState:
        """Its lifecycle state (the issuer column of :mod:`privproc.keylife`)."""
        if now < self.not_before:
            return KeyState.GENERATED
        return window_state(now, self.not_before, self.not_after, superseded_at=superseded_at)

    def active(self, now: float) -> bool:
        """True while requests for this key are accepted (published or retiring)."""
        return self.state(now) in USABLE

    def directory_entry(self) -> DirectoryKey:
        """Its ``token-keys`` entry (RFC 9578 §4)."""
        return DirectoryKey(TOKEN_TYPE_BLIND_RSA, self.pair.token_key.spki, self.not_before)


class KeyRing:
    """The issuer's keys on disk; thread-safe; :meth:`maintain` rotates them."""

    def __init__(
        self,
        directory: Path,
        *,
        lifetime: float = 7 * DAY,
        overlap: float = DAY,
        bits: int = 2048,
    ) -> None:
        if not 0 < overlap < lifetime:
            raise MisuseError("key overlap must be positive and shorter than the lifetime")
        self._dir = Path(directory)
        self._lifetime = lifetime
        self._overlap = overlap
        self._bits = bits
        self._lock = threading.Lock()
        try:
            self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigError(f"issuer keys: cannot create {self._dir}: {exc.strerror}") from None
        self._names: frozenset[str] = frozenset()
        self._keys: list[IssuerKey] = []
        self._refresh()

    def _listing(self) -> frozenset[str]:
        return frozenset(p.name for p in self._dir.glob("*.json"))

    def _refresh(self) -> None:
        """Reload the keys if another process added or removed one."""
        names = self._listing()
        if names != self._names:
            self._keys = self._load(names)
            self._names = names

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        fd = os.open(self._dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _load(self, names: frozenset[str]) -> list[IssuerKey]:
        keys = []
        for meta_path in sorted(self._dir / name for name in names):
            pem_path = meta_path.with_suffix(".pem")
            try:
                meta = json.loads(meta_path.read_text())
                not_before, not_after = int(meta["not-before"]), int(meta["not-after"])
                key = serialization.load_pem_private_key(pem_path.read_bytes(), None)
            except (OSError, ValueError, TypeError, KeyError) as exc:
                raise ConfigError(
                    f"issuer keys: cannot read {meta_path.name} ({type(exc).__name__})"
                ) from None
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ConfigError(f"issuer keys: {pem_path.name} is not an RSA key")
            pair = IssuerKeyPair.from_private_key(PrivateKey.from_cryptography(key))
            keys.append(IssuerKey(pair, not_before, not_after))
        return sorted(keys, key=lambda k: k.not_before)

    def _create(self, not_before: int) -> IssuerKey:
        active_truncated = {
            k.pair.token_key.truncated_key_id for k in self._keys if k.not_after > not_before
        }
        while True:
            crypto_key = rsa.generate_private_key(public_exponent=65537, key_size=self._bits)
            pair = IssuerKeyPair.from_private_key(PrivateKey.from_cryptography(crypto_key))
            if pair.token_key.truncated_key_id not in active_truncated:
                break
        new = IssuerKey(pair, not_before, int(not_before + self._lifetime))
        name = new.key_id.hex()
        pem = crypto_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        pem_path = self._dir / f"{name}.pem"
        fd = os.open(pem_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        meta = {"not-before": new.not_before, "not-after": new.not_after}
        tmp = self._dir / f"{name}.json.tmp"
        tmp.write_text(json.dumps(meta) + "\n")
        tmp.replace(self._dir / f"{name}.json")
        return new

    def _due(self, now: float) -> bool:
        live = [k for k in self._keys if k.not_after > now]
        return not live or live[-1].not_after - now <= self._overlap

    def maintain(self, now: float) -> None:
        """Pick up other processes' keys; make the next key when the overlap window starts."""
        with self._lock:
            self._refresh()
            if self._due(now):
                with self._exclusive():
                    self._refresh()  # another process may have just made it
                    if self._due(now):
                        self._prune(now)
                        self._keys.append(self._create(int(now)))
                        self._names = self._listing()

    def _prune(self, now: float) -> None:
        """Delete retired keys: their tokens are refused anyway, and a deleted key leaks nothing."""
        for key in [k for k in self._keys if k.state(now) is KeyState.DESTROYED]:
            name = key.key_id.hex()
            for suffix in (".json", ".pem"):
                with contextlib.suppress(FileNotFoundError):
                    (self._dir / f"{name}{suffix}").unlink()
            self._keys.remove(key)

    def rotate(self, now: float) -> IssuerKey:
        """Make a new key now (it becomes the signing key; the old ones stay until expiry)."""
        with self._lock, self._exclusive():
            self._refresh()
            key = self._create(int(now))
            self._keys.append(key)
            self._names = self._listing()
            return key

    def active(self, now: float) -> tuple[IssuerKey, ...]:
        """Active keys, newest first (the directory's order of preference)."""
        with self._lock:
            return tuple(k for k in reversed(self._keys) if k.active(now))

    def states(self, now: float) -> list[tuple[IssuerKey, KeyState]]:
        """Each key on disk with its lifecycle state at ``now``, oldest first."""
        with self._lock:
            keys = list(self._keys)
        nexts = [*(k.not_before for k in keys[1:]), None][: len(keys)]
        return [(k, k.state(now, superseded_at=n)) for k, n in zip(keys, nexts, strict=True)]

    def pairs(self, now: float) -> tuple[IssuerKeyPair, ...]:
        """The key pairs requests may be signed with at ``now``."""
        return tuple(k.pair for k in self.active(now))
