"""The KEMs behind :mod:`privproc.hpke` and HKDF with RFC 9180 §4 labels (private).

- :class:`Hkdf`: HKDF-Extract/Expand (RFC 5869) from ``cryptography``'s HMAC and
  HKDFExpand, with LabeledExtract/LabeledExpand (RFC 9180 §4).
- :class:`DHKEM`: RFC 9180 §4.1 over P-256, P-384, P-521, X25519, X448 (§7.1).
- :class:`MLKEM`: ML-KEM-768/1024 as HPKE KEMs (draft-ietf-hpke-pq §3).
- :class:`XWingKEM`: MLKEM768-X25519 / X-Wing (draft-ietf-hpke-pq §4, :mod:`privproc._xwing`).

Each KEM works on serialized keys and returns ``(shared_secret, enc)`` from ``encap``.
DHKEM and ML-KEM also make a private key as a ``cryptography`` object
(``generate_private_key``) and decapsulate with one, so a long-lived key never
exists as ``bytes`` (issue 12 item 4); X-Wing keys exist only as their 32-byte seed.
"""

from __future__ import annotations

from typing import TypeAlias

from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives import hpke as _crypto_hpke
from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x448, x25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from privproc import _xwing
from privproc.errors import CryptoError, DecodeError, MisuseError

__all__: list[str] = []

#: The cryptography key objects ``KEM.deserialize`` returns.
PublicKey: TypeAlias = (
    x25519.X25519PublicKey
    | x448.X448PublicKey
    | ec.EllipticCurvePublicKey
    | mlkem.MLKEM768PublicKey
    | mlkem.MLKEM1024PublicKey
    | _crypto_hpke.MLKEM768X25519PublicKey
)
#: The cryptography key objects ``KEM.deserialize_private`` returns.
PrivateKey: TypeAlias = (
    x25519.X25519PrivateKey
    | x448.X448PrivateKey
    | ec.EllipticCurvePrivateKey
    | mlkem.MLKEM768PrivateKey
    | mlkem.MLKEM1024PrivateKey
    | _crypto_hpke.MLKEM768X25519PrivateKey
)

VERSION_LABEL = b"HPKE-v1"  # RFC 9180 §4


def i2osp(value: int, length: int) -> bytes:
    """I2OSP (RFC 8017 §4.1): big-endian, fixed length."""
    return value.to_bytes(length, "big")


class Hkdf:
    """HKDF (RFC 5869) over one hash, with the labels of RFC 9180 §4."""

    __slots__ = ("hash", "n_h")

    def __init__(self, hash_alg: hashes.HashAlgorithm) -> None:
        self.hash = hash_alg
        self.n_h = hash_alg.digest_size

    def extract(self, salt: bytes, ikm: bytes) -> bytes:
        """HKDF-Extract (RFC 5869 §2.2): an empty salt means Nh zero bytes."""
        h = hmac.HMAC(salt or bytes(self.n_h), self.hash)
        h.update(ikm)
        return h.finalize()

    def expand(self, prk: bytes, info: bytes, length: int) -> bytes:
        """HKDF-Expand (RFC 5869 §2.3); at most 255 * Nh bytes."""
        if not 0 < length <= 255 * self.n_h:
            raise MisuseError(f"HKDF-Expand length {length} outside 1..{255 * self.n_h}")
        return HKDFExpand(self.hash, length, info).derive(prk)

    def labeled_extract(self, suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
        """LabeledExtract (RFC 9180 §4)."""
        return self.extract(salt, VERSION_LABEL + suite_id + label + ikm)

    def labeled_expand(
        self, suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int
    ) -> bytes:
        """LabeledExpand (RFC 9180 §4): L is encoded in 2 bytes."""
        if length > 0xFFFF:
            raise MisuseError(f"LabeledExpand length {length} over 65535")
        labeled_info = i2osp(length, 2) + VERSION_LABEL + suite_id + label + info
        return self.expand(prk, labeled_info, length)


HKDF_SHA256 = Hkdf(hashes.SHA256())
HKDF_SHA384 = Hkdf(hashes.SHA384())
HKDF_SHA512 = Hkdf(hashes.SHA512())


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


class DHKEM:
    """DHKEM(Group, KDF) of RFC 9180 §4.1 for one group."""

    __slots__ = ("bitmask", "curve", "group", "kdf", "kem_id", "n_enc", "n_pk", "n_secret", "n_sk")

    def __init__(
        self,
        kem_id: int,
        group: str,
        kdf: Hkdf,
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
        return b"KEM" + i2osp(self.kem_id, 2)

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
            return i2osp(sk.private_numbers().private_value, self.n_sk)
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
                    self.suite_id, dkp_prk, b"candidate", i2osp(counter, 1), self.n_sk
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

    def generate_private_key(self) -> PrivateKey:
        """GenerateKeyPair's private key as a key object, generated inside OpenSSL."""
        return self._new_private()

    def _recipient(self, sk: bytes | PrivateKey) -> _DHPrivate:
        if isinstance(sk, bytes):
            return self._private(sk)
        self._check_kind(sk)
        assert isinstance(
            sk, x25519.X25519PrivateKey | x448.X448PrivateKey | ec.EllipticCurvePrivateKey
        )
        return sk

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

    def decap(self, enc: bytes, sk_r: bytes | PrivateKey, pk_s: bytes | None) -> bytes:
        """Decap / AuthDecap (§4.1); ``sk_r`` serialized or a key object of this group."""
        if len(enc) != self.n_enc:
            raise DecodeError(f"HPKE enc: expected {self.n_enc} bytes, got {len(enc)}")
        pk_e = self._public(enc)
        sk_r_obj = self._recipient(sk_r)
        dh = self._dh(sk_r_obj, pk_e)
        kem_context = enc + self._pk_bytes(sk_r_obj.public_key())
        if pk_s is not None:
            dh += self._dh(sk_r_obj, self._public(pk_s))
            kem_context += pk_s
        return self._extract_and_expand(dh, kem_context)


def _shake256_derive_key_seed(kem_id: int, ikm: bytes, length: int) -> bytes:
    """SHAKE256.LabeledDerive(ikm, "DeriveKeyPair", "", length) with suite_id "KEM" || id.

    draft-ietf-hpke-pq §3-4 (DeriveKeyPair); LabeledDerive is draft-ietf-hpke-hpke §4:
    Derive(ikm || "HPKE-v1" || suite_id || lengthPrefixed(label) || I2OSP(L, 2) || context, L).
    """
    if len(ikm) < 32:
        raise MisuseError("DeriveKeyPair ikm must be at least 32 bytes")
    label = b"DeriveKeyPair"
    labeled = (
        ikm
        + VERSION_LABEL
        + b"KEM"
        + i2osp(kem_id, 2)
        + i2osp(len(label), 2)
        + label
        + i2osp(length, 2)
    )
    return _xwing.shake256(labeled, length)


class MLKEM:
    """ML-KEM-768 / ML-KEM-1024 as HPKE KEMs (draft-ietf-hpke-pq §3, FIPS 203).

    The private key is the 64-byte seed d || z; keys are the identity-serialized
    FIPS 203 byte strings. Nsecret 32, Nsk 64. No AuthEncap; encapsulation is
    randomized inside ``cryptography`` (no ``ikm_e``/``sk_e``).
    """

    __slots__ = ("kem_id", "level", "n_enc", "n_pk")
    n_secret = 32
    n_sk = 64

    def __init__(self, kem_id: int, level: int) -> None:
        self.kem_id = kem_id
        self.level = level
        self.n_pk = 1184 if level == 768 else 1568
        self.n_enc = 1088 if level == 768 else 1568

    def _private(self, sk: bytes) -> mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey:
        if len(sk) != self.n_sk:
            raise MisuseError(f"ML-KEM private key (seed) must be 64 bytes, got {len(sk)}")
        if self.level == 768:
            return mlkem.MLKEM768PrivateKey.from_seed_bytes(sk)
        return mlkem.MLKEM1024PrivateKey.from_seed_bytes(sk)

    def deserialize(self, pk: bytes) -> PublicKey:
        if len(pk) != self.n_pk:
            raise DecodeError(f"ML-KEM public key: expected {self.n_pk} bytes, got {len(pk)}")
        try:
            if self.level == 768:
                return mlkem.MLKEM768PublicKey.from_public_bytes(pk)
            return mlkem.MLKEM1024PublicKey.from_public_bytes(pk)
        except ValueError:
            raise DecodeError("ML-KEM public key: invalid encapsulation key") from None

    def deserialize_private(self, sk: bytes) -> PrivateKey:
        return self._private(sk)

    def serialize(self, key: PublicKey | PrivateKey) -> bytes:
        if self.level == 768:
            if isinstance(key, mlkem.MLKEM768PublicKey):
                return key.public_bytes_raw()
            if isinstance(key, mlkem.MLKEM768PrivateKey):
                return key.private_bytes_raw()
        else:
            if isinstance(key, mlkem.MLKEM1024PublicKey):
                return key.public_bytes_raw()
            if isinstance(key, mlkem.MLKEM1024PrivateKey):
                return key.private_bytes_raw()
        raise MisuseError(f"not an ML-KEM-{self.level} key")

    def public_key(self, sk: bytes) -> bytes:
        return self._private(sk).public_key().public_bytes_raw()

    def derive_key_pair(self, ikm: bytes) -> tuple[bytes, bytes]:
        """dk = SHAKE256.LabeledDerive(ikm, "DeriveKeyPair", "", 64) (draft-ietf-hpke-pq §3)."""
        sk = _shake256_derive_key_seed(self.kem_id, ikm, 64)
        return sk, self.public_key(sk)

    def generate_key_pair(self) -> tuple[bytes, bytes]:
        sk = (
            mlkem.MLKEM768PrivateKey.generate()
            if self.level == 768
            else mlkem.MLKEM1024PrivateKey.generate()
        )
        return sk.private_bytes_raw(), sk.public_key().public_bytes_raw()

    def generate_private_key(self) -> PrivateKey:
        """A fresh decapsulation key as a key object, generated inside ``cryptography``."""
        if self.level == 768:
            return mlkem.MLKEM768PrivateKey.generate()
        return mlkem.MLKEM1024PrivateKey.generate()

    def _recipient(
        self, sk: bytes | PrivateKey
    ) -> mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey:
        if isinstance(sk, bytes):
            return self._private(sk)
        kind = mlkem.MLKEM768PrivateKey if self.level == 768 else mlkem.MLKEM1024PrivateKey
        if not isinstance(sk, kind):
            raise MisuseError(f"not an ML-KEM-{self.level} key")
        return sk

    def encap(
        self, pk_r: bytes, sk_s: bytes | None, ikm_e: bytes | None, sk_e: bytes | None
    ) -> tuple[bytes, bytes]:
        if sk_s is not None:
            raise MisuseError("ML-KEM has no AuthEncap (draft-ietf-hpke-pq §6.2)")
        if ikm_e is not None or sk_e is not None:
            raise MisuseError("ML-KEM: deterministic encapsulation is not available")
        pk = self.deserialize(pk_r)
        assert isinstance(pk, mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey)
        return pk.encapsulate()

    def decap(self, enc: bytes, sk_r: bytes | PrivateKey, pk_s: bytes | None) -> bytes:
        if pk_s is not None:
            raise MisuseError("ML-KEM has no AuthDecap (draft-ietf-hpke-pq §6.2)")
        if len(enc) != self.n_enc:
            raise DecodeError(f"ML-KEM enc: expected {self.n_enc} bytes, got {len(enc)}")
        sk = self._recipient(sk_r)
        try:
            return sk.decapsulate(enc)
        except ValueError:
            raise CryptoError() from None


class XWingKEM:
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
        sk = _shake256_derive_key_seed(self.kem_id, ikm, 32)
        return sk, _xwing.public_key(sk)

    def generate_key_pair(self) -> tuple[bytes, bytes]:
        sk = x25519.X25519PrivateKey.generate().private_bytes_raw()  # 32 random bytes
        return sk, _xwing.public_key(sk)

    def public_key(self, sk: bytes) -> bytes:
        return _xwing.public_key(sk)

    def generate_private_key(self) -> PrivateKey:
        """Not available: ``cryptography``'s X-Wing private key object cannot decapsulate
        outside its own HPKE, and this KEM is composed here from the seed (module docstring).
        """
        raise MisuseError("MLKEM768-X25519 keys exist only as their 32-byte seed here")

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

    def decap(self, enc: bytes, sk_r: bytes | PrivateKey, pk_s: bytes | None) -> bytes:
        if pk_s is not None:
            raise MisuseError("MLKEM768-X25519 has no AuthDecap (draft-ietf-hpke-pq §6.2)")
        if not isinstance(sk_r, bytes):
            raise MisuseError("MLKEM768-X25519 decapsulates with the 32-byte seed only")
        return _xwing.decap(enc, sk_r)


KEMS: dict[int, DHKEM | MLKEM | XWingKEM] = {
    # RFC 9180 §7.1, Table 2: (Nsecret, Npk = Nenc, Nsk); §7.1.3 bitmask.
    0x0010: DHKEM(0x0010, "P-256", HKDF_SHA256, n_secret=32, n_pk=65, n_sk=32, bitmask=0xFF),
    0x0011: DHKEM(0x0011, "P-384", HKDF_SHA384, n_secret=48, n_pk=97, n_sk=48, bitmask=0xFF),
    0x0012: DHKEM(0x0012, "P-521", HKDF_SHA512, n_secret=64, n_pk=133, n_sk=66, bitmask=0x01),
    0x0020: DHKEM(0x0020, "X25519", HKDF_SHA256, n_secret=32, n_pk=32, n_sk=32, bitmask=0xFF),
    0x0021: DHKEM(0x0021, "X448", HKDF_SHA512, n_secret=64, n_pk=56, n_sk=56, bitmask=0xFF),
    0x0041: MLKEM(0x0041, 768),
    0x0042: MLKEM(0x0042, 1024),
    0x647A: XWingKEM(),
}
