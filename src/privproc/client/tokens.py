"""Getting Privacy Pass tokens from the issuer (RFC 9578 §5-6, type 0x0002).

The signed-in device registers an Ed25519 device key for its account once
(privproc.tokens.device_auth), then asks for tokens in batches: each token
request is blinded (privproc.tokens.issuance), signed with the device key, and
the issuer's answer unblinded into a token the issuer cannot link to the
request. Tokens are kept in memory only and each is given out once.
"""

from __future__ import annotations

import json
import time
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from privproc.errors import ConfigError, RemoteError, TokenError
from privproc.tokens import device_auth, http_auth, issuance
from privproc.tokens.protocol import (
    DIRECTORY_PATH,
    REQUEST_MEDIA_TYPE,
    TOKEN_TYPE_BLIND_RSA,
    IssuerDirectory,
    TokenChallenge,
    TokenResponse,
    b64url_encode,
)

__all__ = ["IssuerTokens"]


class IssuerTokens:
    """A token source backed by the issuer: ``take()`` gives one ``Authorization`` value."""

    def __init__(
        self,
        issuer_url: str,
        account: str,
        challenge: TokenChallenge,
        home: Path,
        *,
        batch: int = 4,
        http: httpx.Client | None = None,
    ) -> None:
        if challenge.token_type != TOKEN_TYPE_BLIND_RSA:
            raise ConfigError("only token type 0x0002 is supported")
        self._url = issuer_url.rstrip("/")
        self._account = account
        self._challenge = challenge
        self._home = home
        self._batch = batch
        self._http = http or httpx.Client(timeout=30)
        self._tokens: deque[str] = deque()
        self._key: Ed25519PrivateKey | None = None

    def _device_key(self) -> Ed25519PrivateKey:
        path = self._home / "device.key"
        if path.exists():
            return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(path.read_text().strip()))
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        body = json.dumps({"account": self._account, "public_key": b64url_encode(public)})
        answer = self._post("/register", body.encode(), {"content-type": "application/json"})
        del answer
        self._home.mkdir(parents=True, exist_ok=True)
        raw = key.private_bytes_raw().hex()
        path.write_text(raw + "\n")
        path.chmod(0o600)
        return key

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        try:
            answer = self._http.post(self._url + path, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise RemoteError(f"issuer unreachable ({type(exc).__name__})", status=0) from None
        if answer.status_code >= 300:
            raise RemoteError("the issuer refused", status=answer.status_code)
        return answer

    def _fetch(self, now: float) -> None:
        try:
            directory = IssuerDirectory.from_json(
                self._http.get(self._url + DIRECTORY_PATH).content
            )
        except httpx.HTTPError as exc:
            raise RemoteError(f"issuer unreachable ({type(exc).__name__})", status=0) from None
        if self._key is None:
            self._key = self._device_key()
        keys = directory.usable_keys(now)
        if not keys:
            raise TokenError("issuer.keys", "the issuer directory has no usable key")
        for _ in range(self._batch):
            request, pending = issuance.begin(keys[0], self._challenge)
            body = request.encode()
            auth = device_auth.sign(self._account, self._key, body, now=now)
            answer = self._post(
                _path(directory.issuer_request_uri),
                body,
                {"content-type": REQUEST_MEDIA_TYPE, "authorization": auth},
            )
            token = issuance.finish(pending, TokenResponse.decode(answer.content))
            self._tokens.append(http_auth.format_authorization(token))

    def take(self) -> str:
        """One unused token, as an ``Authorization`` header value."""
        if not self._tokens:
            self._fetch(time.time())
        return self._tokens.popleft()


def _path(request_uri: str) -> str:
    """The path of the issuer's request URI (absolute or relative, RFC 9578 §4)."""
    return urlsplit(request_uri).path or "/token-request"
