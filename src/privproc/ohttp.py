"""Oblivious HTTP, RFC 9458: key configurations and request/response encapsulation.

- §3.1 :class:`KeyConfig` (key id, KEM, public key, symmetric algorithms) and §3.2 the
  ``application/ohttp-keys`` list (:func:`encode_list` / :func:`decode_list`, each
  configuration prefixed by a 2-byte length).
- §4.1/§4.3 Encapsulated Requests (:func:`encapsulate_request`,
  :func:`decapsulate_request`), §4.2/§4.4 Encapsulated Responses
  (:meth:`ServerResponseContext.seal`, :meth:`ClientResponseContext.open`).
- The gateway's private side is :class:`ServerKey`: a KeyConfig and its private key.
  A gateway may hold several at once (key rotation: several key ids active).

Errors (the gateway maps them to HTTP status in one place): a key id the gateway does
not hold, or one whose KEM differs, raises :class:`~privproc.errors.UnknownKeyError`
(answer with the §5.3 ``ohttp-key`` problem so the client refetches keys); a KDF/AEAD
pair the key does not offer raises :class:`~privproc.errors.UnsupportedError`; bytes
that do not parse raise :class:`~privproc.errors.DecodeError`; a failed decryption
raises :class:`~privproc.errors.OpenError` with no detail. Nothing here does I/O;
randomness is injectable for the RFC's worked example (``ikm_e``/``sk_e``, ``nonce``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from privproc._wire import Reader, Writer
from privproc.errors import (
    DecodeError,
    MisuseError,
    OpenError,
    UnknownKeyError,
    UnsupportedError,
)
from privproc.hpke import AEAD, KDF, KEM, Suite
from privproc.problem import PROBLEM_TYPE_KEY

__all__ = [
    "MEDIA_TYPE_KEYS",
    "MEDIA_TYPE_REQUEST",
    "MEDIA_TYPE_RESPONSE",
    "PROBLEM_TYPE_KEY",
    "ClientResponseContext",
    "KeyConfig",
    "ServerKey",
    "ServerResponseContext",
    "SymmetricSuite",
    "decapsulate_request",
    "decode_list",
    "encapsulate_request",
    "encode_list",
]

#: RFC 9458 §3.2 and §9.1: a list of length-prefixed key configurations.
MEDIA_TYPE_KEYS = "application/ohttp-keys"
#: RFC 9458 §4.1 and §9.2: an Encapsulated Request.
MEDIA_TYPE_REQUEST = "message/ohttp-req"
#: RFC 9458 §4.2 and §9.3: an Encapsulated Response.
MEDIA_TYPE_RESPONSE = "message/ohttp-res"

#: RFC 9458 §4.3: the HPKE info starts with this string and a zero byte.
_REQUEST_LABEL = b"message/bhttp request"
#: RFC 9458 §4.4: the exporter context for the response secret.
_RESPONSE_LABEL = b"message/bhttp response"
#: RFC 9458 §4.1: key_id (8) + kem_id (16) + kdf_id (16) + aead_id (16).
_HEADER_LEN = 7
_KDF_IDS = frozenset(int(k) for k in KDF)
_AEAD_IDS = frozenset(int(a) for a in AEAD if a is not AEAD.EXPORT_ONLY)


@dataclass(frozen=True, slots=True)
class SymmetricSuite:
    """One "HPKE Symmetric Algorithms" entry (RFC 9458 §3.1): a KDF id and an AEAD id.

    Ids are kept as numbers so a configuration may list algorithms we do not implement.
    """

    kdf_id: int
    aead_id: int

    def __post_init__(self) -> None:
        for name, value in (("kdf_id", self.kdf_id), ("aead_id", self.aead_id)):
            if not isinstance(value, int) or not 0 <= value <= 0xFFFF:
                raise MisuseError(f"SymmetricSuite.{name} must be a 16-bit integer")

    @property
    def supported(self) -> bool:
        """Whether we implement both algorithms (export-only AEAD cannot carry OHTTP)."""
        return self.kdf_id in _KDF_IDS and self.aead_id in _AEAD_IDS


#: The symmetric algorithms a generated key offers, in preference order.
_DEFAULT_SUITES = (
    SymmetricSuite(KDF.HKDF_SHA256, AEAD.AES_128_GCM),
    SymmetricSuite(KDF.HKDF_SHA256, AEAD.CHACHA20_POLY1305),
    SymmetricSuite(KDF.HKDF_SHA256, AEAD.AES_256_GCM),
)


@dataclass(frozen=True, slots=True)
class KeyConfig:
    """A single key configuration (RFC 9458 §3.1, Figure 2)."""

    key_id: int
    kem: KEM
    public_key: bytes
    suites: tuple[SymmetricSuite, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.key_id, int) or not 0 <= self.key_id <= 0xFF:
            raise MisuseError("KeyConfig.key_id must be an 8-bit integer")
        if not isinstance(self.kem, KEM):
            raise MisuseError("KeyConfig.kem must be a privproc.hpke.KEM")
        if not isinstance(self.public_key, bytes) or len(self.public_key) != self.kem.n_pk:
            raise MisuseError(f"KeyConfig.public_key must be {self.kem.n_pk} bytes")
        suites = tuple(self.suites)
        object.__setattr__(self, "suites", suites)
        if not 1 <= len(suites) <= 16383:  # §3.1: algorithms length 4..65532
            raise MisuseError("KeyConfig.suites must list 1 to 16383 algorithm pairs")
        if not all(isinstance(s, SymmetricSuite) for s in suites):
            raise MisuseError("KeyConfig.suites must hold SymmetricSuite values")

    @property
    def kem_id(self) -> int:
        """The HPKE KEM id (RFC 9180 §7.1)."""
        return int(self.kem)

    def hpke_suite(self, kdf: KDF | None = None, aead: AEAD | None = None) -> Suite:
        """The HPKE suite for a KDF/AEAD this configuration offers.

        With no arguments: the first offered pair that we implement. A pair the
        configuration does not list raises :class:`UnsupportedError`.
        """
        for s in self.suites:
            if not s.supported:
                continue
            if (kdf is None or s.kdf_id == kdf) and (aead is None or s.aead_id == aead):
                return Suite(self.kem, KDF(s.kdf_id), AEAD(s.aead_id))
        raise UnsupportedError(f"key config {self.key_id} offers no matching KDF/AEAD pair")

    def encode(self) -> bytes:
        """The §3.1 encoding."""
        w = Writer().write_uint8(self.key_id).write_uint16(self.kem).write_bytes(self.public_key)
        w.write_uint16(4 * len(self.suites))
        for s in self.suites:
            w.write_uint16(s.kdf_id).write_uint16(s.aead_id)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> KeyConfig:
        """Parse one §3.1 encoding (no trailing bytes). Unknown KEM: UnsupportedError."""
        r = Reader(data)
        config = cls._read(r)
        r.expect_end("key config")
        return config

    @classmethod
    def _read(cls, r: Reader) -> KeyConfig:
        key_id = r.read_uint8("key config key_id")
        kem = KEM.from_id(r.read_uint16("key config kem_id"))
        public_key = r.read_bytes(kem.n_pk, "key config public key")
        kem.deserialize(public_key)  # §3.1: must be a valid key of that KEM (DecodeError)
        n = r.read_uint16("key config algorithms length")
        if n < 4 or n % 4:
            raise DecodeError(f"key config algorithms length {n}: not a positive multiple of 4")
        suites = tuple(
            SymmetricSuite(r.read_uint16("kdf_id"), r.read_uint16("aead_id")) for _ in range(n // 4)
        )
        return cls(key_id, kem, public_key, suites)


def encode_list(configs: Iterable[KeyConfig]) -> bytes:
    """The ``application/ohttp-keys`` encoding (§3.2): 2-byte length, then each config."""
    w = Writer()
    for c in configs:
        w.write_vec(2, c.encode())
    return w.getvalue()


def decode_list(data: bytes, *, skip_unsupported: bool = True) -> list[KeyConfig]:
    """Parse ``application/ohttp-keys`` (§3.2).

    Any encoding error rejects the whole list (§3.2: clients MUST discard incorrectly
    encoded collections). A configuration whose KEM we do not implement is well-formed
    but unusable: skipped when ``skip_unsupported`` (the default), else UnsupportedError.
    """
    r = Reader(data)
    if r.at_end():
        raise DecodeError("application/ohttp-keys: empty")
    out: list[KeyConfig] = []
    while not r.at_end():
        body = r.read_vec(2, "key config")
        try:
            out.append(KeyConfig.decode(body))
        except UnsupportedError:
            if not skip_unsupported:
                raise
    return out


@dataclass(frozen=True, slots=True)
class ServerKey:
    """A gateway's key: its public :class:`KeyConfig` and the matching private key."""

    config: KeyConfig
    private_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.config, KeyConfig):
            raise MisuseError("ServerKey.config must be a KeyConfig")
        if not isinstance(self.private_key, bytes):
            raise MisuseError("ServerKey.private_key must be bytes")
        if self.config.kem.public_key(self.private_key) != self.config.public_key:
            raise MisuseError("ServerKey.private_key does not match config.public_key")

    @classmethod
    def generate(
        cls,
        key_id: int,
        *,
        kem: KEM = KEM.X25519,
        suites: Sequence[SymmetricSuite] = _DEFAULT_SUITES,
    ) -> ServerKey:
        """A fresh key pair for ``key_id``."""
        sk, pk = kem.generate_key_pair()
        return cls(KeyConfig(key_id, kem, pk, tuple(suites)), sk)

    @classmethod
    def derive(
        cls,
        key_id: int,
        ikm: bytes,
        *,
        kem: KEM = KEM.X25519,
        suites: Sequence[SymmetricSuite] = _DEFAULT_SUITES,
    ) -> ServerKey:
        """A key pair from DeriveKeyPair(ikm) (RFC 9180 §7.1.3): reproducible setups."""
        sk, pk = kem.derive_key_pair(ikm)
        return cls(KeyConfig(key_id, kem, pk, tuple(suites)), sk)


def _header(key_id: int, suite: Suite) -> bytes:
    """§4.3: hdr = key_id (1) || kem_id (2) || kdf_id (2) || aead_id (2)."""
    return (
        Writer()
        .write_uint8(key_id)
        .write_uint16(suite.kem)
        .write_uint16(suite.kdf)
        .write_uint16(suite.aead)
        .getvalue()
    )


def _nonce_len(suite: Suite) -> int:
    """§4.2: the response nonce is max(Nn, Nk) bytes."""
    return max(suite.aead.n_n, suite.aead.n_k)


@dataclass(frozen=True, slots=True)
class _ResponseSecret:
    """What a request leaves both ends for its response (§4.4): the suite, ``enc`` and
    ``secret = context.Export("message/bhttp response", max(Nn, Nk))``; checked when made,
    and neither ``enc`` nor ``secret`` is in ``repr()``."""

    suite: Suite
    enc: bytes = field(repr=False)
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        suite = self.suite
        if not isinstance(suite, Suite) or suite.aead is AEAD.EXPORT_ONLY:
            raise MisuseError("response context: suite must be a Suite with a real AEAD")
        if not isinstance(self.enc, bytes) or len(self.enc) != suite.kem.n_enc:
            raise MisuseError(f"response context: enc must be {suite.kem.n_enc} bytes")
        if not isinstance(self.secret, bytes) or len(self.secret) != _nonce_len(suite):
            raise MisuseError(f"response context: secret must be {_nonce_len(suite)} bytes")

    def _aead(self, response_nonce: bytes) -> tuple[AESGCM | ChaCha20Poly1305, bytes]:
        """§4.4: salt = enc || response_nonce; prk = Extract(salt, secret); the AEAD keyed
        with Expand(prk, "key", Nk), and the AEAD nonce Expand(prk, "nonce", Nn)."""
        kdf, aead = self.suite.kdf, self.suite.aead
        prk = kdf.extract(self.enc + response_nonce, self.secret)
        key = kdf.expand(prk, b"key", aead.n_k)
        cipher = ChaCha20Poly1305(key) if aead is AEAD.CHACHA20_POLY1305 else AESGCM(key)
        return cipher, kdf.expand(prk, b"nonce", aead.n_n)


@dataclass(frozen=True, slots=True)
class ClientResponseContext(_ResponseSecret):
    """What a client keeps after sending a request, to open its response (§4.4)."""

    def open(self, response: bytes) -> bytes:
        """Open an Encapsulated Response; DecodeError if too short, OpenError if forged."""
        n = _nonce_len(self.suite)
        if len(response) < n + self.suite.aead.n_t:
            raise DecodeError(f"encapsulated response: shorter than nonce and tag ({n} + 16)")
        cipher, aead_nonce = self._aead(bytes(response[:n]))
        try:
            return cipher.decrypt(aead_nonce, bytes(response[n:]), b"")
        except (InvalidTag, ValueError, OverflowError):
            raise OpenError() from None


@dataclass(frozen=True, slots=True)
class ServerResponseContext(_ResponseSecret):
    """What a gateway keeps after decapsulating a request, to seal its response (§4.4)."""

    def seal(self, response: bytes, *, nonce: bytes | None = None) -> bytes:
        """Make an Encapsulated Response; ``nonce`` fixes response_nonce (vectors only)."""
        n = _nonce_len(self.suite)
        if nonce is None:
            nonce = os.urandom(n)
        elif len(nonce) != n:
            raise MisuseError(f"response nonce must be {n} bytes")
        cipher, aead_nonce = self._aead(bytes(nonce))
        return bytes(nonce) + cipher.encrypt(aead_nonce, bytes(response), b"")


def encapsulate_request(
    config: KeyConfig,
    request: bytes,
    *,
    kdf: KDF | None = None,
    aead: AEAD | None = None,
    ikm_e: bytes | None = None,
    sk_e: bytes | None = None,
) -> tuple[bytes, ClientResponseContext]:
    """Encapsulate a binary HTTP request for ``config`` (RFC 9458 §4.3).

    ``kdf``/``aead`` default to the first pair the configuration offers that we
    implement. ``ikm_e``/``sk_e`` fix the ephemeral key: for test vectors only.
    """
    suite = config.hpke_suite(kdf, aead)
    hdr = _header(config.key_id, suite)
    info = _REQUEST_LABEL + b"\x00" + hdr
    enc, sctx = suite.setup_sender(config.public_key, info, ikm_e=ikm_e, sk_e=sk_e)
    ct = sctx.seal(bytes(request), b"")
    secret = sctx.export(_RESPONSE_LABEL, _nonce_len(suite))
    return hdr + enc + ct, ClientResponseContext(suite, enc, secret)


def _key_for_header(r: Reader, keys: Sequence[ServerKey], what: str) -> tuple[ServerKey, Suite]:
    """Read a request header (key_id, kem_id, kdf_id, aead_id: §4.3 step 1) and pick the
    gateway key and suite it names; shared by chunked requests (chunked-ohttp §4)."""
    key_id = r.read_uint8(f"{what} key_id")
    kem_id = r.read_uint16(f"{what} kem_id")
    kdf_id = r.read_uint16(f"{what} kdf_id")
    aead_id = r.read_uint16(f"{what} aead_id")
    key = next((k for k in keys if k.config.key_id == key_id), None)
    if key is None or key.config.kem_id != kem_id:
        # §4.3 step 1a; §5.3: the client should refetch the key configuration.
        raise UnknownKeyError(f"no key with key_id {key_id} and kem_id 0x{kem_id:04x}")
    if SymmetricSuite(kdf_id, aead_id) not in key.config.suites:
        raise UnsupportedError(
            f"key {key_id} does not offer kdf 0x{kdf_id:04x}/aead 0x{aead_id:04x}"
        )
    suite = Suite(key.config.kem, KDF.from_id(kdf_id), AEAD.from_id(aead_id))
    if suite.aead is AEAD.EXPORT_ONLY:
        raise UnsupportedError(f"export-only AEAD cannot carry the {what}")
    return key, suite


def decapsulate_request(
    server_keys: ServerKey | Iterable[ServerKey], data: bytes
) -> tuple[bytes, ServerResponseContext]:
    """Decapsulate an Encapsulated Request with one of the gateway's keys (§4.3).

    ``server_keys`` is one key or every key currently active (rotation). Raises
    UnknownKeyError, UnsupportedError, DecodeError, CryptoError or OpenError.
    """
    keys = [server_keys] if isinstance(server_keys, ServerKey) else list(server_keys)
    r = Reader(data)
    key, suite = _key_for_header(r, keys, "encapsulated request")
    enc = r.read_bytes(suite.kem.n_enc, "encapsulated request enc")
    ct = r.read_rest()
    info = _REQUEST_LABEL + b"\x00" + bytes(data[:_HEADER_LEN])
    rctx = suite.setup_recipient(enc, key.private_key, info)
    request = rctx.open(ct, b"")
    secret = rctx.export(_RESPONSE_LABEL, _nonce_len(suite))
    return request, ServerResponseContext(suite, enc, secret)
