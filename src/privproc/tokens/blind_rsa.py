"""RSA blind signatures, RFC 9474 (RSABSSA), the SHA-384 variants.

The four variants of RFC 9474 §5 are supported: ``RSABSSA-SHA384-PSS-Randomized``,
``-PSSZERO-Randomized``, ``-PSS-Deterministic`` and ``-PSSZERO-Deterministic``.
Privacy Pass token type 0x0002 uses ``RSABSSA-SHA384-PSS-Deterministic`` (RFC 9578 §6).

This is the one place where privproc computes with big integers itself: the
blinding (§4.2), the blind signature (§4.3, with CRT) and the unblinding (§4.4)
are modular arithmetic. Everything else comes from ``cryptography``: SHA-384 and
MGF1 for EMSA-PSS encoding (RFC 8017 §9.1.1), and RSASSA-PSS verification of the
finished signature (§4.5). Modular exponentiation uses ``gmpy2`` (GMP; the signer's
secret exponentiations with ``powmod_sec``, which does not branch on the exponent),
six to eight times faster than Python's ``pow`` for 2048-bit CRT signing
(``bench/tokens.py``; figures in ``docs/tokens.md``).

Checks that RFC 9474 asks for, all fail closed:

* Blind: the encoded message must be coprime with n; r is uniform in [1, n)
  and invertible mod n.
* BlindSign: the blinded message must be below n, and the signer verifies its
  own output (s^e = m mod n) before returning it, so a faulty CRT computation
  never leaks a factor of n (§4.3, §7.5).
* Finalize: the unblinded signature is verified as an RSASSA-PSS signature
  before it is returned (§4.4).

Protocol values only: no I/O; randomness can be passed in (``rng``, ``r``,
``salt``) so the RFC's vectors are reproducible.
"""

from __future__ import annotations

import enum
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import gmpy2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from privproc.errors import CryptoError, DecodeError, MisuseError, TokenError

__all__ = [
    "PrivateKey",
    "PublicKey",
    "Variant",
    "blind",
    "blind_sign",
    "emsa_pss_encode",
    "finalize",
    "prepare",
    "verify",
]

#: Which big-integer engine does the modular exponentiations.

_HASH_LEN = 48  # SHA-384
_PREFIX_LEN = 32  # RFC 9474 §4.1: randomized preparation prepends 32 random bytes
_MIN_BITS = 2048


class Variant(enum.Enum):
    """The RSABSSA variants of RFC 9474 §5 (value: the variant's name)."""

    PSS_RANDOMIZED = "RSABSSA-SHA384-PSS-Randomized"
    PSSZERO_RANDOMIZED = "RSABSSA-SHA384-PSSZERO-Randomized"
    PSS_DETERMINISTIC = "RSABSSA-SHA384-PSS-Deterministic"
    PSSZERO_DETERMINISTIC = "RSABSSA-SHA384-PSSZERO-Deterministic"

    @property
    def salt_len(self) -> int:
        """EMSA-PSS sLen: 48 for the PSS variants, 0 for PSSZERO (§5)."""
        return 0 if "PSSZERO" in self.value else _HASH_LEN

    @property
    def randomized(self) -> bool:
        """True when Prepare prepends 32 random bytes (§4.1, PrepareRandomize)."""
        return self.value.endswith("Randomized")

    @classmethod
    def from_name(cls, name: str) -> Variant:
        """The variant named exactly as RFC 9474 §5 names it."""
        for v in cls:
            if v.value == name:
                return v
        raise MisuseError(f"unknown RSABSSA variant: {name!r}")


def _powmod(b: int, e: int, m: int) -> int:
    """b^e mod m for public exponents (GMP)."""
    return int(gmpy2.powmod(b, e, m))


@dataclass(frozen=True, slots=True)
class PublicKey:
    """An RSA public key (n, e) for RSABSSA; at least 2048 bits (RFC 9474 §5)."""

    n: int
    e: int
    _crypto: rsa.RSAPublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.n.bit_length() < _MIN_BITS or self.n % 2 == 0:
            raise MisuseError(f"RSA modulus must be odd and >= {_MIN_BITS} bits")
        if self.e < 3 or self.e % 2 == 0 or self.e >= self.n:
            raise MisuseError("RSA public exponent out of range")
        try:
            crypto = rsa.RSAPublicNumbers(self.e, self.n).public_key()
        except ValueError as exc:
            raise MisuseError(f"invalid RSA public key: {exc}") from None
        object.__setattr__(self, "_crypto", crypto)

    @property
    def modulus_len(self) -> int:
        """k: the length of n in bytes (RFC 8017 §2)."""
        return (self.n.bit_length() + 7) // 8

    @classmethod
    def from_cryptography(cls, key: rsa.RSAPublicKey) -> PublicKey:
        """Take the numbers of a ``cryptography`` RSA public key."""
        numbers = key.public_numbers()
        return cls(numbers.n, numbers.e)

    def to_cryptography(self) -> rsa.RSAPublicKey:
        """The same key as a ``cryptography`` object (for PSS verification, SPKI)."""
        return self._crypto


@dataclass(frozen=True, slots=True)
class PrivateKey:
    """An RSA private key with its CRT parameters (RFC 8017 §3.2, second form).

    Secret fields are kept out of ``repr``. Build one with :meth:`from_cryptography`
    or :meth:`generate`.
    """

    public_key: PublicKey
    d: int = field(repr=False)
    p: int = field(repr=False)
    q: int = field(repr=False)
    dp: int = field(repr=False)
    dq: int = field(repr=False)
    qinv: int = field(repr=False)
    _mpz: tuple[object, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = self.public_key.n
        if self.p * self.q != n:
            raise MisuseError("RSA private key: p*q != n")
        if (self.qinv * self.q) % self.p != 1:
            raise MisuseError("RSA private key: qInv*q != 1 mod p")
        if self.dp != self.d % (self.p - 1) or self.dq != self.d % (self.q - 1):
            raise MisuseError("RSA private key: CRT exponents do not match d")
        mpz = gmpy2.mpz
        object.__setattr__(
            self, "_mpz", (mpz(self.p), mpz(self.q), mpz(self.dp), mpz(self.dq), mpz(self.qinv))
        )

    @classmethod
    def from_cryptography(cls, key: rsa.RSAPrivateKey) -> PrivateKey:
        """Take the private numbers of a ``cryptography`` RSA key."""
        numbers = key.private_numbers()
        public = PublicKey(numbers.public_numbers.n, numbers.public_numbers.e)
        return cls(
            public,
            numbers.d,
            numbers.p,
            numbers.q,
            numbers.dmp1,
            numbers.dmq1,
            numbers.iqmp,
        )

    @classmethod
    def from_numbers(cls, p: int, q: int, e: int) -> PrivateKey:
        """Build a key from its primes and public exponent (test vectors give p, q, e)."""
        lam = math.lcm(p - 1, q - 1)
        d = pow(e, -1, lam)
        return cls(PublicKey(p * q, e), d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p))

    @classmethod
    def generate(cls, bits: int = 2048) -> PrivateKey:
        """A fresh key, e = 65537, generated by ``cryptography`` (OpenSSL)."""
        return cls.from_cryptography(rsa.generate_private_key(public_exponent=65537, key_size=bits))

    def rsasp1_crt(self, m: int) -> int:
        """RSASP1 with the CRT (RFC 8017 §5.2.1, step 2.b): s = m^d mod n.

        GMP's side-channel-silent ``mpz_powm_sec`` does the two secret exponentiations.
        """
        p, q, dp, dq, qinv = self._mpz
        mm = gmpy2.mpz(m)
        # mpz_powm_sec: time and memory access independent of the secret exponent
        s1 = gmpy2.powmod_sec(mm, dp, p)
        s2 = gmpy2.powmod_sec(mm, dq, q)
        h = (qinv * (s1 - s2)) % p
        return int(s2 + h * q)


def _i2osp(x: int, length: int) -> bytes:
    """I2OSP (RFC 8017 §4.1)."""
    return x.to_bytes(length, "big")


def _os2ip(data: bytes) -> int:
    """OS2IP (RFC 8017 §4.2)."""
    return int.from_bytes(data, "big")


def _mgf1_sha384(seed: bytes, length: int) -> bytes:
    """MGF1 with SHA-384 (RFC 8017 Appendix B.2.1); hashing by ``cryptography``."""
    out = bytearray()
    counter = 0
    while len(out) < length:
        h = hashes.Hash(hashes.SHA384())
        h.update(seed + counter.to_bytes(4, "big"))
        out += h.finalize()
        counter += 1
    return bytes(out[:length])


def _sha384(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SHA384())
    h.update(data)
    return h.finalize()


def emsa_pss_encode(msg: bytes, em_bits: int, salt: bytes) -> bytes:
    """EMSA-PSS-ENCODE with SHA-384 and MGF1-SHA-384 (RFC 8017 §9.1.1)."""
    em_len = (em_bits + 7) // 8
    m_hash = _sha384(msg)
    if em_len < _HASH_LEN + len(salt) + 2:
        raise MisuseError("encoding error: modulus too small for hash and salt")
    m_prime = b"\x00" * 8 + m_hash + salt
    h = _sha384(m_prime)
    ps = b"\x00" * (em_len - len(salt) - _HASH_LEN - 2)
    db = ps + b"\x01" + salt
    db_mask = _mgf1_sha384(h, em_len - _HASH_LEN - 1)
    masked = bytearray(a ^ b for a, b in zip(db, db_mask, strict=True))
    masked[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked) + h + b"\xbc"


def prepare(msg: bytes, variant: Variant, *, prefix: bytes | None = None) -> bytes:
    """Prepare (RFC 9474 §4.1): identity, or 32 random bytes prepended.

    ``prefix`` fixes the random prefix (test vectors only).
    """
    if not variant.randomized:
        if prefix:
            raise MisuseError("a deterministic variant takes no prefix")
        return bytes(msg)
    if prefix is None:
        prefix = secrets.token_bytes(_PREFIX_LEN)
    if len(prefix) != _PREFIX_LEN:
        raise MisuseError(f"prefix must be {_PREFIX_LEN} bytes")
    return bytes(prefix) + bytes(msg)


def blind(
    pk: PublicKey,
    msg: bytes,
    variant: Variant,
    *,
    salt: bytes | None = None,
    r: int | None = None,
    rng: Callable[[int], int] = secrets.randbelow,
) -> tuple[bytes, int]:
    """Blind (RFC 9474 §4.2): returns ``(blinded_msg, inv)``.

    ``msg`` is the prepared message. ``inv`` = r^-1 mod n stays with the client
    and is needed by :func:`finalize`. ``salt`` and ``r`` fix the randomness
    (test vectors only); ``rng(n)`` returns a uniform integer in [0, n).
    """
    k = pk.modulus_len
    if salt is None:
        salt = secrets.token_bytes(variant.salt_len)
    if len(salt) != variant.salt_len:
        raise MisuseError(f"salt must be {variant.salt_len} bytes for {variant.value}")
    encoded = emsa_pss_encode(msg, pk.n.bit_length() - 1, salt)
    m = _os2ip(encoded)
    if math.gcd(m, pk.n) != 1:
        raise CryptoError("blinding error")
    if r is None:
        while True:
            r = 1 + rng(pk.n - 1)
            if math.gcd(r, pk.n) == 1:
                break
    if not 1 <= r < pk.n or math.gcd(r, pk.n) != 1:
        raise CryptoError("blinding error")
    inv = pow(r, -1, pk.n)
    x = _powmod(r, pk.e, pk.n)
    z = (m * x) % pk.n
    return _i2osp(z, k), inv


def blind_sign(sk: PrivateKey, blinded_msg: bytes) -> bytes:
    """BlindSign (RFC 9474 §4.3): s = m^d mod n, checked by s^e = m before it is returned.

    Raises :class:`~privproc.errors.DecodeError` for a blinded message of the
    wrong length or not below n (peer input), and :class:`CryptoError` if the
    signer's own result does not verify (a fault; nothing is returned).
    """
    pk = sk.public_key
    k = pk.modulus_len
    if len(blinded_msg) != k:
        raise DecodeError(f"blinded message: expected {k} bytes, got {len(blinded_msg)}")
    m = _os2ip(blinded_msg)
    if m >= pk.n:
        raise DecodeError("blinded message: representative out of range")
    s = sk.rsasp1_crt(m)
    if _powmod(s, pk.e, pk.n) != m:
        raise CryptoError("signing failure")
    return _i2osp(s, k)


def _pss_padding(variant: Variant) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=variant.salt_len)


def verify(pk: PublicKey, msg: bytes, sig: bytes, variant: Variant) -> bytes:
    """RSASSA-PSS-VERIFY of a finished signature (RFC 9474 §4.5, RFC 8017 §8.1.2).

    ``msg`` is the prepared message. Returns the verified signature; raises
    :class:`~privproc.errors.TokenError` (check ``blind_rsa.signature``) when the
    signature does not verify.
    """
    if len(sig) != pk.modulus_len:
        raise TokenError(
            "blind_rsa.signature",
            "signature has the wrong length",
            expected=pk.modulus_len,
            found=len(sig),
        )
    try:
        pk.to_cryptography().verify(sig, msg, _pss_padding(variant), hashes.SHA384())
    except InvalidSignature:
        raise TokenError("blind_rsa.signature", "signature does not verify") from None
    return sig


def finalize(
    pk: PublicKey,
    msg: bytes,
    blind_sig: bytes,
    inv: int,
    variant: Variant,
) -> bytes:
    """Finalize (RFC 9474 §4.4): unblind, then verify before returning the signature.

    ``msg`` is the prepared message given to :func:`blind`. Raises
    :class:`~privproc.errors.TokenError` if the issuer's blind signature does not
    unblind to a valid signature.
    """
    k = pk.modulus_len
    if len(blind_sig) != k:
        raise TokenError(
            "blind_rsa.blind_sig",
            "blind signature has the wrong length",
            expected=k,
            found=len(blind_sig),
        )
    z = _os2ip(blind_sig)
    if z >= pk.n:
        raise TokenError("blind_rsa.blind_sig", "blind signature out of range")
    s = (z * inv) % pk.n
    sig = _i2osp(s, k)
    verify(pk, msg, sig, variant)
    return sig
