"""Hybrid Public Key Encryption, RFC 9180, on ``cryptography`` primitives.

What is here, by RFC 9180 section:

- §4 LabeledExtract / LabeledExpand over HKDF (RFC 5869) built from ``cryptography``'s
  HMAC and HKDFExpand; KDFs HKDF-SHA256/384/512 (§7.2).
- §4.1 DHKEM over P-256, P-384, P-521, X25519 and X448, with Encap/Decap and
  AuthEncap/AuthDecap; §7.1.1 serialization (raw 32/56 bytes for X25519/X448,
  uncompressed points and big-endian scalars for the NIST curves); §7.1.3
  DeriveKeyPair (including the NIST rejection-sampling loop with its bitmask);
  §7.1.4 validation (point on curve, non-zero DH output).
- §5 the four modes (base, psk, auth, auth_psk), §5.1 the key schedule with
  VerifyPSKInputs, §5.2 encryption contexts with their sequence number (overflow
  raises :class:`~privproc.errors.MisuseError`), §5.3 the secret exporter, §6
  single-shot APIs.
- §7.3 AEADs AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305 and export-only (0xFFFF),
  whose ``seal``/``open`` raise :class:`~privproc.errors.MisuseError`.
- The post-quantum hybrid KEM MLKEM768-X25519 ("X-Wing", KEM id 0x647a) as
  draft-ietf-hpke-pq §4 defines it for HPKE over draft-connolly-cfrg-xwing-kem; the
  same KEM as ``cryptography``'s ``hpke.KEM.MLKEM768_X25519``. Base and psk modes only
  (it has no AuthEncap), and no deterministic ``ikm_e`` (see :mod:`privproc._xwing`).

Keys cross this API as the RFC's serialized bytes (``SerializePrivateKey`` /
``SerializePublicKey``). Errors: bad peer bytes (``enc``, a public key) raise
:class:`~privproc.errors.DecodeError`; a DH result that is refused (all-zero) raises
:class:`~privproc.errors.CryptoError`; a failed ``open`` raises
:class:`~privproc.errors.OpenError` with no detail; caller mistakes raise
:class:`~privproc.errors.MisuseError`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeAlias

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives import hpke as _crypto_hpke
from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from privproc import _xwing
from privproc.errors import CryptoError, DecodeError, MisuseError, OpenError, UnsupportedError

__all__ = [
    "AEAD",
    "KDF",
    "KEM",
    "Mode",
    "PrivateKey",
    "PublicKey",
    "RecipientContext",
    "SenderContext",
    "Suite",
]

#: The cryptography key objects :meth:`KEM.deserialize` returns.
PublicKey: TypeAlias = (
    x25519.X25519PublicKey
    | x448.X448PublicKey
    | ec.EllipticCurvePublicKey
    | _crypto_hpke.MLKEM768X25519PublicKey
)
#: The cryptography key objects :meth:`KEM.deserialize_private` returns.
PrivateKey: TypeAlias = (
    x25519.X25519PrivateKey
    | x448.X448PrivateKey
    | ec.EllipticCurvePrivateKey
    | _crypto_hpke.MLKEM768X25519PrivateKey
)

_VERSION_LABEL = b"HPKE-v1"  # RFC 9180 §4


def _i2osp(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


class Mode(enum.IntEnum):
    """HPKE modes (RFC 9180 §5, Table 1)."""

    BASE = 0x00
    PSK = 0x01
    AUTH = 0x02
    AUTH_PSK = 0x03


class KDF(enum.IntEnum):
    """HPKE KDF identifiers (RFC 9180 §7.2, Table 3): HKDF (RFC 5869)."""

    HKDF_SHA256 = 0x0001
    HKDF_SHA384 = 0x0002
    HKDF_SHA512 = 0x0003

    @classmethod
    def from_id(cls, value: int) -> KDF:
        """The KDF with this id, or :class:`UnsupportedError`."""
        try:
            return cls(value)
        except ValueError:
            raise UnsupportedError(f"unsupported HPKE KDF id 0x{value:04x}") from None

    @property
    def n_h(self) -> int:
        """Nh: the output size of Extract (RFC 9180 §7.2)."""
        return _N_H[self]

    def hash(self) -> hashes.HashAlgorithm:
        """The hash function underneath HKDF."""
        return _HASHES[self]

    def extract(self, salt: bytes, ikm: bytes) -> bytes:
        """HKDF-Extract (RFC 5869 §2.2): an empty salt means Nh zero bytes."""
        h = hmac.HMAC(salt or bytes(self.n_h), self.hash())
        h.update(ikm)
        return h.finalize()

    def expand(self, prk: bytes, info: bytes, length: int) -> bytes:
        """HKDF-Expand (RFC 5869 §2.3); at most 255 * Nh bytes."""
        if not 0 < length <= 255 * self.n_h:
            raise MisuseError(f"HKDF-Expand length {length} outside 1..{255 * self.n_h}")
        return HKDFExpand(self.hash(), length, info).derive(prk)

    def labeled_extract(self, suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
        """LabeledExtract (RFC 9180 §4)."""
        return self.extract(salt, _VERSION_LABEL + suite_id + label + ikm)

    def labeled_expand(
        self, suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int
    ) -> bytes:
        """LabeledExpand (RFC 9180 §4): L is encoded in 2 bytes."""
        if length > 0xFFFF:
            raise MisuseError(f"LabeledExpand length {length} over 65535")
        labeled_info = _i2osp(length, 2) + _VERSION_LABEL + suite_id + label + info
        return self.expand(prk, labeled_info, length)


class AEAD(enum.IntEnum):
    """HPKE AEAD identifiers (RFC 9180 §7.3, Table 5)."""

    AES_128_GCM = 0x0001
    AES_256_GCM = 0x0002
    CHACHA20_POLY1305 = 0x0003
    #: Export-only (RFC 9180 §7.3): no seal/open, only the secret exporter.
    EXPORT_ONLY = 0xFFFF

    @classmethod
    def from_id(cls, value: int) -> AEAD:
        """The AEAD with this id, or :class:`UnsupportedError`."""
        try:
            return cls(value)
        except ValueError:
            raise UnsupportedError(f"unsupported HPKE AEAD id 0x{value:04x}") from None

    @property
    def n_k(self) -> int:
        """Nk: key length in bytes (0 for export-only)."""
        return _N_K[self]

    @property
    def n_n(self) -> int:
        """Nn: nonce length in bytes (0 for export-only)."""
        return 0 if self is AEAD.EXPORT_ONLY else 12

    @property
    def n_t(self) -> int:
        """Nt: tag length in bytes (0 for export-only)."""
        return 0 if self is AEAD.EXPORT_ONLY else 16


_N_H = {KDF.HKDF_SHA256: 32, KDF.HKDF_SHA384: 48, KDF.HKDF_SHA512: 64}
_HASHES: dict[KDF, hashes.HashAlgorithm] = {
    KDF.HKDF_SHA256: hashes.SHA256(),
    KDF.HKDF_SHA384: hashes.SHA384(),
    KDF.HKDF_SHA512: hashes.SHA512(),
}
_N_K = {AEAD.AES_128_GCM: 16, AEAD.AES_256_GCM: 32, AEAD.CHACHA20_POLY1305: 32, AEAD.EXPORT_ONLY: 0}


class KEM(enum.IntEnum):
    """HPKE KEM identifiers (RFC 9180 §7.1, Table 2; draft-ietf-hpke-pq §4 for 0x647a).

    Each member also carries the KEM's operations on serialized keys:
    :meth:`derive_key_pair`, :meth:`generate_key_pair`, :meth:`public_key`,
    :meth:`serialize`, :meth:`deserialize`, :meth:`deserialize_private`.
    """

    #: DHKEM(P-256, HKDF-SHA256)
    P256 = 0x0010
    #: DHKEM(P-384, HKDF-SHA384)
    P384 = 0x0011
    #: DHKEM(P-521, HKDF-SHA512)
    P521 = 0x0012
    #: DHKEM(X25519, HKDF-SHA256)
    X25519 = 0x0020
    #: DHKEM(X448, HKDF-SHA512)
    X448 = 0x0021
    #: MLKEM768-X25519, i.e. X-Wing (draft-ietf-hpke-pq §4, draft-connolly-cfrg-xwing-kem)
    MLKEM768_X25519 = 0x647A

    @classmethod
    def from_id(cls, value: int) -> KEM:
        """The KEM with this id, or :class:`UnsupportedError`."""
        try:
            return cls(value)
        except ValueError:
            raise UnsupportedError(f"unsupported HPKE KEM id 0x{value:04x}") from None

    @property
    def _impl(self) -> _DHKEM | _XWingKEM:
        return _KEMS[self]

    @property
    def n_secret(self) -> int:
        """Nsecret: length of the KEM shared secret."""
        return self._impl.n_secret

    @property
    def n_enc(self) -> int:
        """Nenc: length of the encapsulated key."""
        return self._impl.n_enc

    @property
    def n_pk(self) -> int:
        """Npk: length of a serialized public key."""
        return self._impl.n_pk

    @property
    def n_sk(self) -> int:
        """Nsk: length of a serialized private key."""
        return self._impl.n_sk

    @property
    def supports_auth(self) -> bool:
        """Whether AuthEncap/AuthDecap exist (the auth modes)."""
        return isinstance(self._impl, _DHKEM)

    def derive_key_pair(self, ikm: bytes) -> tuple[bytes, bytes]:
        """DeriveKeyPair(ikm) -> (sk, pk), serialized (RFC 9180 §7.1.3)."""
        return self._impl.derive_key_pair(bytes(ikm))

    def generate_key_pair(self) -> tuple[bytes, bytes]:
        """GenerateKeyPair() -> (sk, pk), serialized."""
        return self._impl.generate_key_pair()

    def public_key(self, sk: bytes) -> bytes:
        """The serialized public key of a serialized private key."""
        return self._impl.public_key(bytes(sk))

    def serialize(self, key: PublicKey | PrivateKey) -> bytes:
        """SerializePublicKey / SerializePrivateKey (RFC 9180 §7.1.1) of a key object."""
        return self._impl.serialize(key)

    def deserialize(self, pk: bytes) -> PublicKey:
        """DeserializePublicKey (RFC 9180 §7.1.1), validated (§7.1.4); DecodeError if bad."""
        return self._impl.deserialize(bytes(pk))

    def deserialize_private(self, sk: bytes) -> PrivateKey:
        """DeserializePrivateKey (RFC 9180 §7.1.2); MisuseError if bad (local input)."""
        return self._impl.deserialize_private(bytes(sk))


# -- DHKEM (RFC 9180 §4.1) ---------------------------------------------------------------

_DHPrivate: TypeAlias = x25519.X25519PrivateKey | x448.X448PrivateKey | ec.EllipticCurvePrivateKey
_DHPublic: TypeAlias = x25519.X25519PublicKey | x448.X448PublicKey | ec.EllipticCurvePublicKey

# Group orders of the NIST curves (SEC 2 / FIPS 186-5), for DeriveKeyPair §7.1.3.
_ORDERS = {
    "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P-384": int(
        "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
        16,
    ),
    "P-521": int(
        "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        "fffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409",
        16,
    ),
}


class _DHKEM:
    """DHKEM(Group, KDF) of RFC 9180 §4.1 for one group."""

    __slots__ = ("bitmask", "curve", "group", "kdf", "kem_id", "n_enc", "n_pk", "n_secret", "n_sk")

    def __init__(
        self,
        kem_id: int,
        group: str,
        kdf: KDF,
        *,
        n_secret: int,
        n_pk: int,
        n_sk: int,
        bitmask: int,
    ) -> None:
        self.kem_id = kem_id
        self.group = group
        self.kdf = kdf
        self.n_secret = n_secret
        self.n_enc = n_pk
        self.n_pk = n_pk
        self.n_sk = n_sk
        self.bitmask = bitmask
        self.curve: ec.EllipticCurve | None = {
            "P-256": ec.SECP256R1(),
            "P-384": ec.SECP384R1(),
            "P-521": ec.SECP521R1(),
        }.get(group)

    @property
    def suite_id(self) -> bytes:
        """suite_id = "KEM" || I2OSP(kem_id, 2) (RFC 9180 §4.1)."""
        return b"KEM" + _i2osp(self.kem_id, 2)

    # §7.1.1-7.1.2 serialization
    def _private(self, sk: bytes) -> _DHPrivate:
        if len(sk) != self.n_sk:
            raise MisuseError(f"{self.group} private key must be {self.n_sk} bytes, got {len(sk)}")
        try:
            if self.group == "X25519":
                return x25519.X25519PrivateKey.from_private_bytes(sk)
            if self.group == "X448":
                return x448.X448PrivateKey.from_private_bytes(sk)
            assert self.curve is not None
            return ec.derive_private_key(int.from_bytes(sk, "big"), self.curve)
        except ValueError:
            raise MisuseError(f"{self.group} private key out of range") from None

    def _public(self, pk: bytes) -> _DHPublic:
        if len(pk) != self.n_pk:
            raise DecodeError(f"{self.group} public key: expected {self.n_pk} bytes, got {len(pk)}")
        try:
            if self.group == "X25519":
                return x25519.X25519PublicKey.from_public_bytes(pk)
            if self.group == "X448":
                return x448.X448PublicKey.from_public_bytes(pk)
            assert self.curve is not None
            if pk[0] != 0x04:
                raise DecodeError(f"{self.group} public key: not an uncompressed point")
            return ec.EllipticCurvePublicKey.from_encoded_point(self.curve, pk)
        except ValueError:
            raise DecodeError(f"{self.group} public key: not a valid point") from None

    def _pk_bytes(self, pk: _DHPublic) -> bytes:
        if isinstance(pk, ec.EllipticCurvePublicKey):
            return pk.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        return pk.public_bytes_raw()

    def _sk_bytes(self, sk: _DHPrivate) -> bytes:
        if isinstance(sk, ec.EllipticCurvePrivateKey):
            return _i2osp(sk.private_numbers().private_value, self.n_sk)
        return sk.private_bytes_raw()

    def _check_kind(self, key: object) -> None:
        kinds: dict[str, tuple[type, ...]] = {
            "X25519": (x25519.X25519PublicKey, x25519.X25519PrivateKey),
            "X448": (x448.X448PublicKey, x448.X448PrivateKey),
        }
        if self.curve is not None:
            if not isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
                raise MisuseError(f"not a {self.group} key")
            if key.curve.name != self.curve.name:
                raise MisuseError(f"not a {self.group} key")
        elif not isinstance(key, kinds[self.group]):
            raise MisuseError(f"not a {self.group} key")

    def serialize(self, key: PublicKey | PrivateKey) -> bytes:
        self._check_kind(key)
        if isinstance(key, x25519.X25519PublicKey | x448.X448PublicKey | ec.EllipticCurvePublicKey):
            return self._pk_bytes(key)
        assert isinstance(
            key, x25519.X25519PrivateKey | x448.X448PrivateKey | ec.EllipticCurvePrivateKey
        )
        return self._sk_bytes(key)

    def deserialize(self, pk: bytes) -> PublicKey:
        return self._public(pk)

    def deserialize_private(self, sk: bytes) -> PrivateKey:
        return self._private(sk)

    def public_key(self, sk: bytes) -> bytes:
        return self._pk_bytes(self._private(sk).public_key())

    # §7.1.3 DeriveKeyPair
    def derive_key_pair(self, ikm: bytes) -> tuple[bytes, bytes]:
        if len(ikm) < self.n_sk:
            raise MisuseError(f"DeriveKeyPair ikm must be at least {self.n_sk} bytes")
        dkp_prk = self.kdf.labeled_extract(self.suite_id, b"", b"dkp_prk", ikm)
        if self.curve is None:
            sk = self.kdf.labeled_expand(self.suite_id, dkp_prk, b"sk", b"", self.n_sk)
            return sk, self.public_key(sk)
        order = _ORDERS[self.group]
        for counter in range(256):
            candidate = bytearray(
                self.kdf.labeled_expand(
                    self.suite_id, dkp_prk, b"candidate", _i2osp(counter, 1), self.n_sk
                )
            )
            candidate[0] &= self.bitmask
            value = int.from_bytes(candidate, "big")
            if 0 < value < order:
                sk = bytes(candidate)
                return sk, self.public_key(sk)
        raise CryptoError("DeriveKeyPairError")  # pragma: no cover - probability ~2^-256

    def _new_private(self) -> _DHPrivate:
        if self.group == "X25519":
            return x25519.X25519PrivateKey.generate()
        if self.group == "X448":
            return x448.X448PrivateKey.generate()
        assert self.curve is not None
        return ec.generate_private_key(self.curve)

    def generate_key_pair(self) -> tuple[bytes, bytes]:
        sk = self._new_private()
        return self._sk_bytes(sk), self._pk_bytes(sk.public_key())

    def _dh(self, sk: _DHPrivate, pk: _DHPublic) -> bytes:
        """DH(skX, pkY) (§4.1); an all-zero or otherwise refused result is a CryptoError."""
        try:
            if isinstance(sk, ec.EllipticCurvePrivateKey):
                assert isinstance(pk, ec.EllipticCurvePublicKey)
                return sk.exchange(ec.ECDH(), pk)
            if isinstance(sk, x25519.X25519PrivateKey):
                assert isinstance(pk, x25519.X25519PublicKey)
                return sk.exchange(pk)
            assert isinstance(pk, x448.X448PublicKey)
            return sk.exchange(pk)
        except ValueError:
            raise CryptoError() from None

    def _extract_and_expand(self, dh: bytes, kem_context: bytes) -> bytes:
        eae_prk = self.kdf.labeled_extract(self.suite_id, b"", b"eae_prk", dh)
        return self.kdf.labeled_expand(
            self.suite_id, eae_prk, b"shared_secret", kem_context, self.n_secret
        )

    def _ephemeral(self, ikm_e: bytes | None, sk_e: bytes | None) -> _DHPrivate:
        if sk_e is not None:
            return self._private(sk_e)
        if ikm_e is not None:
            return self._private(self.derive_key_pair(ikm_e)[0])
        return self._new_private()

    def encap(
        self, pk_r: bytes, sk_s: bytes | None, ikm_e: bytes | None, sk_e: bytes | None
    ) -> tuple[bytes, bytes]:
        """Encap / AuthEncap (§4.1): returns (shared_secret, enc)."""
        pk_r_obj = self._public(pk_r)
        sk_e_obj = self._ephemeral(ikm_e, sk_e)
        enc = self._pk_bytes(sk_e_obj.public_key())
        dh = self._dh(sk_e_obj, pk_r_obj)
        kem_context = enc + pk_r
        if sk_s is not None:
            sk_s_obj = self._private(sk_s)
            dh += self._dh(sk_s_obj, pk_r_obj)
            kem_context += self._pk_bytes(sk_s_obj.public_key())
        return self._extract_and_expand(dh, kem_context), enc

    def decap(self, enc: bytes, sk_r: bytes, pk_s: bytes | None) -> bytes:
        """Decap / AuthDecap (§4.1)."""
        if len(enc) != self.n_enc:
            raise DecodeError(f"HPKE enc: expected {self.n_enc} bytes, got {len(enc)}")
        pk_e = self._public(enc)
        sk_r_obj = self._private(sk_r)
        dh = self._dh(sk_r_obj, pk_e)
        kem_context = enc + self._pk_bytes(sk_r_obj.public_key())
        if pk_s is not None:
            dh += self._dh(sk_r_obj, self._public(pk_s))
            kem_context += pk_s
        return self._extract_and_expand(dh, kem_context)


class _XWingKEM:
    """MLKEM768-X25519 (X-Wing) as an HPKE KEM (draft-ietf-hpke-pq §4)."""

    __slots__ = ()
    kem_id = 0x647A
    n_secret = _xwing.N_SECRET
    n_enc = _xwing.N_ENC
    n_pk = _xwing.N_PK
    n_sk = _xwing.N_SK

    def derive_key_pair(self, ikm: bytes) -> tuple[bytes, bytes]:
        """DeriveKeyPair: seed = SHAKE256.LabeledDerive(ikm, "DeriveKeyPair", "", 32).

        LabeledDerive is draft-ietf-hpke-hpke §4: Derive(ikm || "HPKE-v1" || suite_id ||
        lengthPrefixed(label) || I2OSP(L, 2) || context, L), suite_id = "KEM" || 0x647a.
        """
        if len(ikm) < 32:
            raise MisuseError("DeriveKeyPair ikm must be at least 32 bytes")
        label = b"DeriveKeyPair"
        labeled = (
            ikm
            + _VERSION_LABEL
            + b"KEM"
            + _i2osp(self.kem_id, 2)
            + _i2osp(len(label), 2)
            + label
            + _i2osp(32, 2)
        )
        sk = _xwing.shake256(labeled, 32)
        return sk, _xwing.public_key(sk)

    def generate_key_pair(self) -> tuple[bytes, bytes]:
        sk = x25519.X25519PrivateKey.generate().private_bytes_raw()  # 32 random bytes
        return sk, _xwing.public_key(sk)

    def public_key(self, sk: bytes) -> bytes:
        return _xwing.public_key(sk)

    def serialize(self, key: PublicKey | PrivateKey) -> bytes:  # noqa: ARG002
        raise MisuseError("X-Wing keys are opaque in cryptography; they cross this API as bytes")

    def deserialize(self, pk: bytes) -> PublicKey:
        pk_m, pk_x = _xwing.parse_public(pk)
        return _crypto_hpke.MLKEM768X25519PublicKey(pk_m, pk_x)

    def deserialize_private(self, sk: bytes) -> PrivateKey:
        sk_m, sk_x, _ = _xwing.expand(sk)
        return _crypto_hpke.MLKEM768X25519PrivateKey(sk_m, sk_x)

    def encap(
        self, pk_r: bytes, sk_s: bytes | None, ikm_e: bytes | None, sk_e: bytes | None
    ) -> tuple[bytes, bytes]:
        if sk_s is not None:
            raise MisuseError("MLKEM768-X25519 has no AuthEncap (draft-ietf-hpke-pq §6.2)")
        if ikm_e is not None or sk_e is not None:
            raise MisuseError("MLKEM768-X25519: deterministic encapsulation is not available")
        return _xwing.encap(pk_r)

    def decap(self, enc: bytes, sk_r: bytes, pk_s: bytes | None) -> bytes:
        if pk_s is not None:
            raise MisuseError("MLKEM768-X25519 has no AuthDecap (draft-ietf-hpke-pq §6.2)")
        return _xwing.decap(enc, sk_r)


_KEMS: dict[KEM, _DHKEM | _XWingKEM] = {
    # RFC 9180 §7.1, Table 2: (Nsecret, Npk = Nenc, Nsk); §7.1.3 bitmask.
    KEM.P256: _DHKEM(0x0010, "P-256", KDF.HKDF_SHA256, n_secret=32, n_pk=65, n_sk=32, bitmask=0xFF),
    KEM.P384: _DHKEM(0x0011, "P-384", KDF.HKDF_SHA384, n_secret=48, n_pk=97, n_sk=48, bitmask=0xFF),
    KEM.P521: _DHKEM(
        0x0012, "P-521", KDF.HKDF_SHA512, n_secret=64, n_pk=133, n_sk=66, bitmask=0x01
    ),
    KEM.X25519: _DHKEM(
        0x0020, "X25519", KDF.HKDF_SHA256, n_secret=32, n_pk=32, n_sk=32, bitmask=0xFF
    ),
    KEM.X448: _DHKEM(0x0021, "X448", KDF.HKDF_SHA512, n_secret=64, n_pk=56, n_sk=56, bitmask=0xFF),
    KEM.MLKEM768_X25519: _XWingKEM(),
}


# -- Contexts (RFC 9180 §5.2, §5.3) ------------------------------------------------------


class _Context:
    """The state §5.1 KeySchedule returns: AEAD key, base nonce, seq, exporter secret."""

    __slots__ = ("_aead", "_base_nonce", "_exporter_secret", "_seq", "_suite")

    def __init__(self, suite: Suite, key: bytes, base_nonce: bytes, exporter_secret: bytes) -> None:
        self._suite = suite
        self._aead: AESGCM | ChaCha20Poly1305 | None
        if suite.aead is AEAD.EXPORT_ONLY:
            self._aead = None
        elif suite.aead is AEAD.CHACHA20_POLY1305:
            self._aead = ChaCha20Poly1305(key)
        else:
            self._aead = AESGCM(key)
        self._base_nonce = int.from_bytes(base_nonce, "big")
        self._exporter_secret = exporter_secret
        self._seq = 0

    @property
    def suite(self) -> Suite:
        """The cipher suite of this context."""
        return self._suite

    def _next_nonce(self) -> tuple[AESGCM | ChaCha20Poly1305, bytes]:
        if self._aead is None:
            raise MisuseError("export-only AEAD (0xFFFF): seal and open are not available")
        n_n = self._suite.aead.n_n
        # IncrementSeq (§5.2): the last nonce is never used; refuse before it.
        if self._seq >= (1 << (8 * n_n)) - 1:
            raise MisuseError("HPKE context: message limit reached (sequence number overflow)")
        return self._aead, _i2osp(self._base_nonce ^ self._seq, n_n)

    def export(self, exporter_context: bytes, length: int) -> bytes:
        """Context.Export (§5.3): LabeledExpand(exporter_secret, "sec", context, L)."""
        kdf = self._suite.kdf
        if not 0 < length <= 255 * kdf.n_h:
            raise MisuseError(f"export length {length} outside 1..{255 * kdf.n_h}")
        return kdf.labeled_expand(
            self._suite.suite_id, self._exporter_secret, b"sec", bytes(exporter_context), length
        )


class SenderContext(_Context):
    """Sender side of an HPKE context (§5.2 ContextS)."""

    __slots__ = ()

    def seal(self, pt: bytes, aad: bytes = b"") -> bytes:
        """ContextS.Seal: encrypt ``pt`` with the next nonce."""
        aead, nonce = self._next_nonce()
        ct = aead.encrypt(nonce, bytes(pt), bytes(aad))
        self._seq += 1
        return ct


class RecipientContext(_Context):
    """Recipient side of an HPKE context (§5.2 ContextR)."""

    __slots__ = ()

    def open(self, ct: bytes, aad: bytes = b"") -> bytes:
        """ContextR.Open: decrypt ``ct``; :class:`OpenError` on any failure."""
        aead, nonce = self._next_nonce()
        try:
            pt = aead.decrypt(nonce, bytes(ct), bytes(aad))
        except (InvalidTag, ValueError, OverflowError):
            raise OpenError() from None
        self._seq += 1
        return pt


# -- Suite (RFC 9180 §5, §6) --------------------------------------------------------------


def _verify_psk_inputs(mode: Mode, psk: bytes, psk_id: bytes) -> None:
    """VerifyPSKInputs (RFC 9180 §5.1)."""
    got_psk = psk != b""
    got_psk_id = psk_id != b""
    if got_psk != got_psk_id:
        raise MisuseError("inconsistent PSK inputs: psk and psk_id go together")
    if got_psk and mode in (Mode.BASE, Mode.AUTH):
        raise MisuseError("PSK input provided when not needed")
    if not got_psk and mode in (Mode.PSK, Mode.AUTH_PSK):
        raise MisuseError("missing required PSK input")
    if got_psk and len(psk) < 32:
        raise MisuseError("psk must be at least 32 bytes (RFC 9180 §5.1.2)")


@dataclass(frozen=True, slots=True)
class Suite:
    """An HPKE cipher suite (KEM, KDF, AEAD) and its operations (RFC 9180 §5, §6)."""

    kem: KEM
    kdf: KDF
    aead: AEAD

    def __post_init__(self) -> None:
        if not isinstance(self.kem, KEM):
            raise MisuseError("Suite.kem must be a privproc.hpke.KEM")
        if not isinstance(self.kdf, KDF):
            raise MisuseError("Suite.kdf must be a privproc.hpke.KDF")
        if not isinstance(self.aead, AEAD):
            raise MisuseError("Suite.aead must be a privproc.hpke.AEAD")

    @classmethod
    def from_ids(cls, kem_id: int, kdf_id: int, aead_id: int) -> Suite:
        """The suite with these registry ids; :class:`UnsupportedError` if we lack one."""
        return cls(KEM.from_id(kem_id), KDF.from_id(kdf_id), AEAD.from_id(aead_id))

    @property
    def suite_id(self) -> bytes:
        """suite_id = "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2)."""
        return b"HPKE" + _i2osp(self.kem, 2) + _i2osp(self.kdf, 2) + _i2osp(self.aead, 2)

    def generate_key_pair(self) -> tuple[bytes, bytes]:
        """A fresh (sk, pk) for this suite's KEM, serialized."""
        return self.kem.generate_key_pair()

    def _key_schedule(
        self, mode: Mode, shared_secret: bytes, info: bytes, psk: bytes, psk_id: bytes
    ) -> tuple[bytes, bytes, bytes]:
        """KeySchedule (§5.1): (key, base_nonce, exporter_secret)."""
        sid = self.suite_id
        kdf = self.kdf
        psk_id_hash = kdf.labeled_extract(sid, b"", b"psk_id_hash", psk_id)
        info_hash = kdf.labeled_extract(sid, b"", b"info_hash", info)
        context = _i2osp(mode, 1) + psk_id_hash + info_hash
        secret = kdf.labeled_extract(sid, shared_secret, b"secret", psk)
        key = base_nonce = b""
        if self.aead is not AEAD.EXPORT_ONLY:
            key = kdf.labeled_expand(sid, secret, b"key", context, self.aead.n_k)
            base_nonce = kdf.labeled_expand(sid, secret, b"base_nonce", context, self.aead.n_n)
        exporter_secret = kdf.labeled_expand(sid, secret, b"exp", context, kdf.n_h)
        return key, base_nonce, exporter_secret

    def _check_mode(self, mode: Mode, auth_key: bytes | None, psk: bytes, psk_id: bytes) -> None:
        if not isinstance(mode, Mode):
            raise MisuseError("mode must be a privproc.hpke.Mode")
        _verify_psk_inputs(mode, psk, psk_id)
        needs_auth = mode in (Mode.AUTH, Mode.AUTH_PSK)
        if needs_auth and not self.kem.supports_auth:
            raise MisuseError(f"{self.kem.name} has no AuthEncap/AuthDecap")
        if needs_auth != (auth_key is not None):
            raise MisuseError("auth modes need the sender key, other modes must not get one")

    def setup_sender(
        self,
        pk_r: bytes,
        info: bytes = b"",
        *,
        mode: Mode = Mode.BASE,
        psk: bytes = b"",
        psk_id: bytes = b"",
        sk_s: bytes | None = None,
        ikm_e: bytes | None = None,
        sk_e: bytes | None = None,
    ) -> tuple[bytes, SenderContext]:
        """SetupBaseS / SetupPSKS / SetupAuthS / SetupAuthPSKS (§5.1.1-5.1.4).

        ``ikm_e`` (DeriveKeyPair input) or ``sk_e`` (a serialized private key) fix the
        ephemeral key: for test vectors only, never in production.
        """
        if ikm_e is not None and sk_e is not None:
            raise MisuseError("give ikm_e or sk_e, not both")
        psk, psk_id, info = bytes(psk), bytes(psk_id), bytes(info)
        self._check_mode(mode, sk_s, psk, psk_id)
        shared_secret, enc = self.kem._impl.encap(bytes(pk_r), sk_s, ikm_e, sk_e)
        return enc, SenderContext(self, *self._key_schedule(mode, shared_secret, info, psk, psk_id))

    def setup_recipient(
        self,
        enc: bytes,
        sk_r: bytes,
        info: bytes = b"",
        *,
        mode: Mode = Mode.BASE,
        psk: bytes = b"",
        psk_id: bytes = b"",
        pk_s: bytes | None = None,
    ) -> RecipientContext:
        """SetupBaseR / SetupPSKR / SetupAuthR / SetupAuthPSKR (§5.1.1-5.1.4)."""
        psk, psk_id, info = bytes(psk), bytes(psk_id), bytes(info)
        self._check_mode(mode, pk_s, psk, psk_id)
        shared_secret = self.kem._impl.decap(bytes(enc), bytes(sk_r), pk_s)
        return RecipientContext(self, *self._key_schedule(mode, shared_secret, info, psk, psk_id))

    def seal(
        self,
        pk_r: bytes,
        pt: bytes,
        *,
        info: bytes = b"",
        aad: bytes = b"",
        mode: Mode = Mode.BASE,
        psk: bytes = b"",
        psk_id: bytes = b"",
        sk_s: bytes | None = None,
        ikm_e: bytes | None = None,
    ) -> tuple[bytes, bytes]:
        """Single-shot Seal (§6.1): returns (enc, ct)."""
        enc, ctx = self.setup_sender(
            pk_r, info, mode=mode, psk=psk, psk_id=psk_id, sk_s=sk_s, ikm_e=ikm_e
        )
        return enc, ctx.seal(pt, aad)

    def open(
        self,
        enc: bytes,
        sk_r: bytes,
        ct: bytes,
        *,
        info: bytes = b"",
        aad: bytes = b"",
        mode: Mode = Mode.BASE,
        psk: bytes = b"",
        psk_id: bytes = b"",
        pk_s: bytes | None = None,
    ) -> bytes:
        """Single-shot Open (§6.1)."""
        ctx = self.setup_recipient(enc, sk_r, info, mode=mode, psk=psk, psk_id=psk_id, pk_s=pk_s)
        return ctx.open(ct, aad)
