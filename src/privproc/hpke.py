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
- Post-quantum KEMs of draft-ietf-hpke-pq: the hybrid MLKEM768-X25519 ("X-Wing",
  KEM id 0x647a, §4, over draft-connolly-cfrg-xwing-kem; the same KEM as
  ``cryptography``'s ``hpke.KEM.MLKEM768_X25519``, see :mod:`privproc._xwing`) and pure
  ML-KEM-768 / ML-KEM-1024 (0x0041 / 0x0042, §3, FIPS 203). Base and psk modes only
  (no AuthEncap) and no deterministic ephemeral (``ikm_e``/``sk_e``): ``cryptography``'s
  ML-KEM encapsulation draws its own randomness.

Keys cross this API as the RFC's serialized bytes (``SerializePrivateKey`` /
``SerializePublicKey``). A recipient key may instead stay a ``cryptography`` key
object for its whole life: :meth:`KEM.generate_private_key` makes one (DHKEM, ML-KEM)
and :meth:`Suite.setup_recipient` / :meth:`Suite.open` take it, so a long-lived private
key never exists as ``bytes`` (issue 12 item 4). Errors: bad peer bytes (``enc``, a
public key) raise :class:`~privproc.errors.DecodeError`; a DH result that is refused
(all-zero) raises :class:`~privproc.errors.CryptoError`; a failed ``open`` raises
:class:`~privproc.errors.OpenError` with no detail; caller mistakes raise
:class:`~privproc.errors.MisuseError`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from privproc import _hpke_kems as _kems
from privproc._hpke_kems import PrivateKey, PublicKey
from privproc._hpke_kems import i2osp as _i2osp
from privproc.errors import MisuseError, OpenError, UnsupportedError

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
    def _hkdf(self) -> _kems.Hkdf:
        return _HKDF[self]

    @property
    def n_h(self) -> int:
        """Nh: the output size of Extract (RFC 9180 §7.2)."""
        return self._hkdf.n_h

    def hash(self) -> hashes.HashAlgorithm:
        """The hash function underneath HKDF."""
        return self._hkdf.hash

    def extract(self, salt: bytes, ikm: bytes) -> bytes:
        """HKDF-Extract (RFC 5869 §2.2): an empty salt means Nh zero bytes."""
        return self._hkdf.extract(salt, ikm)

    def expand(self, prk: bytes, info: bytes, length: int) -> bytes:
        """HKDF-Expand (RFC 5869 §2.3); at most 255 * Nh bytes."""
        return self._hkdf.expand(prk, info, length)

    def labeled_extract(self, suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
        """LabeledExtract (RFC 9180 §4)."""
        return self._hkdf.labeled_extract(suite_id, salt, label, ikm)

    def labeled_expand(
        self, suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int
    ) -> bytes:
        """LabeledExpand (RFC 9180 §4): L is encoded in 2 bytes."""
        return self._hkdf.labeled_expand(suite_id, prk, label, info, length)


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


_HKDF = {
    KDF.HKDF_SHA256: _kems.HKDF_SHA256,
    KDF.HKDF_SHA384: _kems.HKDF_SHA384,
    KDF.HKDF_SHA512: _kems.HKDF_SHA512,
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
    #: ML-KEM-768 (FIPS 203) as an HPKE KEM (draft-ietf-hpke-pq §3)
    MLKEM768 = 0x0041
    #: ML-KEM-1024 (FIPS 203) as an HPKE KEM (draft-ietf-hpke-pq §3)
    MLKEM1024 = 0x0042
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
    def _impl(self) -> _kems.DHKEM | _kems.MLKEM | _kems.XWingKEM:
        return _kems.KEMS[self.value]

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
        return isinstance(self._impl, _kems.DHKEM)

    def derive_key_pair(self, ikm: bytes) -> tuple[bytes, bytes]:
        """DeriveKeyPair(ikm) -> (sk, pk), serialized (RFC 9180 §7.1.3)."""
        return self._impl.derive_key_pair(bytes(ikm))

    def generate_key_pair(self) -> tuple[bytes, bytes]:
        """GenerateKeyPair() -> (sk, pk), serialized."""
        return self._impl.generate_key_pair()

    def generate_private_key(self) -> PrivateKey:
        """GenerateKeyPair()'s private key as a ``cryptography`` object, never serialized.

        The key is made inside ``cryptography`` (OpenSSL), so no ``bytes`` copy of it
        exists in Python; pass it to :meth:`Suite.setup_recipient`. DHKEM and ML-KEM
        only: X-Wing raises :class:`MisuseError` (its keys are 32-byte seeds here).
        """
        return self._impl.generate_private_key()

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
        sk_r: bytes | PrivateKey,
        info: bytes = b"",
        *,
        mode: Mode = Mode.BASE,
        psk: bytes = b"",
        psk_id: bytes = b"",
        pk_s: bytes | None = None,
    ) -> RecipientContext:
        """SetupBaseR / SetupPSKR / SetupAuthR / SetupAuthPSKR (§5.1.1-5.1.4).

        ``sk_r`` is the serialized private key or, for DHKEM and ML-KEM, a key object
        of this KEM (used as is: no serialized copy is made).
        """
        psk, psk_id, info = bytes(psk), bytes(psk_id), bytes(info)
        self._check_mode(mode, pk_s, psk, psk_id)
        if isinstance(sk_r, bytes | bytearray | memoryview):
            sk_r = bytes(sk_r)
        shared_secret = self.kem._impl.decap(bytes(enc), sk_r, pk_s)
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
        sk_r: bytes | PrivateKey,
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
