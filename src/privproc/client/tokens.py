"""The device's token source: privproc.tokens' wallet and issuer client, per request.

Tokens (RFC 9578 type 0x0002) are fetched in batches by
:class:`privproc.client.wallet.TokenClient` through the issuer's HTTP API
(:mod:`privproc.client.issuer_http`), kept in the wallet under the client folder,
and each is handed out once as an ``Authorization: PrivateToken`` value
(RFC 9577 §2.2). The device key that signs token requests
(:mod:`privproc.tokens.device_auth`) is made and registered on first use.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc.client.issuer_http import DeviceIdentity, HttpIssuer
from privproc.client.wallet import TokenClient, TokenWallet
from privproc.errors import ConfigError
from privproc.tokens.http_auth import format_authorization
from privproc.tokens.protocol import TokenChallenge

__all__ = ["IssuerTokens"]

_KEY_FILE = "device.key"


class IssuerTokens:
    """A token source backed by the issuer: ``take()`` gives one ``Authorization`` value."""

    def __init__(
        self,
        issuer_url: str,
        account: str,
        challenge: TokenChallenge,
        home: Path,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``transport`` stands in for the network to the issuer (an in-memory harness)."""
        self._home = home
        self._transport = transport
        self._url = issuer_url
        self._account = account
        self._challenge = challenge
        self._client: TokenClient | None = None
        self._issuer: HttpIssuer | None = None
        self._wallet: TokenWallet | None = None

    def _open(self) -> TokenClient:
        if self._client is not None:
            return self._client
        path = self._home / _KEY_FILE
        fresh = not path.exists()
        try:
            if fresh:
                key = Ed25519PrivateKey.generate()
            else:
                key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(path.read_text().strip()))
        except (OSError, ValueError):
            raise ConfigError(f"device key unreadable: {path}") from None
        client = None if self._transport is None else httpx.Client(transport=self._transport)
        identity = DeviceIdentity(self._account, key)
        self._issuer = HttpIssuer(self._url, identity=identity, client=client)
        if fresh:
            self._issuer.register()
            self._home.mkdir(parents=True, exist_ok=True)
            path.write_text(key.private_bytes_raw().hex() + "\n")
            path.chmod(0o600)
        self._wallet = TokenWallet(self._home)
        self._client = TokenClient(self._wallet, self._issuer, self._challenge)
        return self._client

    def take(self) -> str:
        """One unused token, as an ``Authorization`` header value."""
        return format_authorization(self._open().token(time.time()))

    def close(self) -> None:
        """Release the network client and the wallet."""
        if self._issuer is not None:
            self._issuer.close()
        if self._wallet is not None:
            self._wallet.close()
