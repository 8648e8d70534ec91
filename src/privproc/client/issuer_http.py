"""HTTP transports from the device to the issuer (httpx, sync and async).

The only module under :mod:`privproc.tokens` that touches the network; the protocol
modules never import it. :class:`HttpIssuer` fetches the
directory at ``/.well-known/private-token-issuer-directory`` and POST token requests
to its ``issuer-request-uri`` (RFC 9578 §4, §6), signing each with the device key
when one is given (:mod:`privproc.tokens.device_auth`). Non-2xx answers become
:class:`~privproc.errors.RemoteError` with the status and problem type; network
failures become RemoteError with status 0.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from privproc.errors import DecodeError, MisuseError, RemoteError
from privproc.tokens import device_auth
from privproc.tokens.protocol import (
    DIRECTORY_MEDIA_TYPE,
    DIRECTORY_PATH,
    REQUEST_MEDIA_TYPE,
    RESPONSE_MEDIA_TYPE,
    IssuerDirectory,
    TokenRequest,
    TokenResponse,
    b64url_encode,
)

__all__ = ["DeviceIdentity", "HttpIssuer"]

_TIMEOUT = httpx.Timeout(10.0)
_JSON = {"content-type": "application/json"}


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """An account and the device's Ed25519 key that signs its token requests."""

    account: str
    key: Ed25519PrivateKey = field(repr=False)

    def public_key(self) -> bytes:
        """The raw 32-byte public key to register."""
        return self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def registration(self) -> bytes:
        """The JSON body of ``POST /register``."""
        return json.dumps(
            {"account": self.account, "public_key": b64url_encode(self.public_key())}
        ).encode()


def _problem(r: httpx.Response, what: str) -> RemoteError:
    problem = ""
    try:
        body = r.json()
        if isinstance(body, dict) and isinstance(body.get("type"), str):
            problem = body["type"].rsplit(":", 1)[-1]
    except ValueError:
        pass
    return RemoteError(f"issuer refused {what}", status=r.status_code, problem=problem)


def _unreachable(exc: httpx.HTTPError) -> RemoteError:
    return RemoteError(f"issuer unreachable ({type(exc).__name__})", status=0)


def _content_type(r: httpx.Response) -> str:
    value: str = r.headers.get("content-type", "")
    return value.split(";", maxsplit=1)[0].strip().lower()


class _Common:
    def __init__(
        self,
        base_url: str,
        identity: DeviceIdentity | None,
        clock: Callable[[], float],
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.identity = identity
        self.clock = clock
        self.directory_url = urljoin(self.base_url, DIRECTORY_PATH.lstrip("/"))
        self.request_url = urljoin(self.base_url, "token-request")

    def _registration(self) -> tuple[str, bytes]:
        """Where ``POST /register`` goes and its body."""
        if self.identity is None:
            raise MisuseError("no device identity to register")
        return urljoin(self.base_url, "register"), self.identity.registration()

    @staticmethod
    def _registered(r: httpx.Response) -> None:
        if r.status_code not in (200, 204):
            raise _problem(r, "the device registration")

    def _directory(self, r: httpx.Response) -> IssuerDirectory:
        if r.status_code != 200:
            raise _problem(r, "the directory")
        if _content_type(r) not in (DIRECTORY_MEDIA_TYPE, "application/json"):
            raise RemoteError("issuer directory has the wrong media type", status=r.status_code)
        directory = IssuerDirectory.from_json(r.content)
        self.request_url = urljoin(self.base_url, directory.issuer_request_uri)
        return directory

    def _headers(self, body: bytes) -> dict[str, str]:
        headers = {"content-type": REQUEST_MEDIA_TYPE, "accept": RESPONSE_MEDIA_TYPE}
        if self.identity is not None:
            headers["authorization"] = device_auth.sign(
                self.identity.account, self.identity.key, body, now=self.clock()
            )
        return headers

    @staticmethod
    def _response(r: httpx.Response) -> TokenResponse:
        if r.status_code != 200:
            raise _problem(r, "the token request")
        if _content_type(r) != RESPONSE_MEDIA_TYPE:
            raise RemoteError("token response has the wrong media type", status=r.status_code)
        try:
            return TokenResponse.decode(r.content)
        except DecodeError as exc:
            raise RemoteError(f"token response does not parse: {exc}", status=200) from None


class HttpIssuer(_Common):
    """Sync transport (an :class:`~privproc.client.wallet.IssuerTransport`)."""

    def __init__(
        self,
        base_url: str,
        *,
        identity: DeviceIdentity | None = None,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(base_url, identity, clock)
        self.client = client or httpx.Client(timeout=_TIMEOUT)

    def _send(self, method: str, url: str, **kw: object) -> httpx.Response:
        try:
            return self.client.request(method, url, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from None

    def register(self) -> None:
        """Register this device's key for its account (``POST /register``)."""
        url, body = self._registration()
        self._registered(self._send("POST", url, content=body, headers=_JSON))

    def directory(self) -> IssuerDirectory:
        """GET the issuer directory."""
        return self._directory(self._send("GET", self.directory_url))

    def token_request(self, request: TokenRequest) -> TokenResponse:
        """POST one token request."""
        body = request.encode()
        return self._response(
            self._send("POST", self.request_url, content=body, headers=self._headers(body))
        )

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()
