"""MLKEM768-X25519 ("X-Wing") as an HPKE KEM, composed from ``cryptography`` primitives.

Specs: draft-connolly-cfrg-xwing-kem (the KEM: key expansion §5.2, combiner §5.3,
encapsulation §5.4, decapsulation §5.5) as profiled for HPKE by draft-ietf-hpke-pq
§4 ("Hybrid KEMs with ECDH and ML-KEM", KEM id 0x647a, Nsecret 32, Nenc 1120,
Npk 1216, Nsk 32). It is the KEM that ``cryptography``'s ``hpke.KEM.MLKEM768_X25519``
implements (same wire format: enc = ct_M || ct_X, pk = pk_M || pk_X, sk = 32-byte seed).

ML-KEM-768 (FIPS 203), X25519 (RFC 7748), SHAKE256 and SHA3-256 (FIPS 202) all come
from ``cryptography``; only the byte plumbing is here. The private key crosses the API as
its 32-byte seed. Encapsulation is randomized inside ``cryptography``'s ML-KEM, so a
deterministic (``ikm_e``) encapsulation is not available for this KEM.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from privproc.errors import CryptoError, DecodeError, MisuseError

__all__: list[str] = []

#: draft-connolly-cfrg-xwing-kem §5.3: XWingLabel = "\\.//^\\" (6 bytes, hex 5c2e2f2f5e5c).
XWING_LABEL = b"\\.//^\\"
N_SECRET = 32
N_ENC = 1120
N_PK = 1216
N_SK = 32
_MLKEM_PK = 1184
_MLKEM_CT = 1088


def shake256(data: bytes, length: int) -> bytes:
    """SHAKE256 (FIPS 202) with ``length`` bytes of output."""
    h = hashes.Hash(hashes.SHAKE256(length))
    h.update(data)
    return h.finalize()


def _sha3_256(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SHA3_256())
    h.update(data)
    return h.finalize()


def expand(sk: bytes) -> tuple[mlkem.MLKEM768PrivateKey, x25519.X25519PrivateKey, bytes]:
    """expandDecapsulationKey (§5.2): SHAKE256(sk, 96) = d || z || sk_X."""
    if len(sk) != N_SK:
        raise MisuseError(f"X-Wing private key must be {N_SK} bytes, got {len(sk)}")
    expanded = shake256(sk, 96)
    sk_m = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
    sk_x = x25519.X25519PrivateKey.from_private_bytes(expanded[64:96])
    pk = sk_m.public_key().public_bytes_raw() + sk_x.public_key().public_bytes_raw()
    return sk_m, sk_x, pk


def public_key(sk: bytes) -> bytes:
    """The 1216-byte public key pk_M || pk_X of a 32-byte seed."""
    return expand(sk)[2]


def parse_public(pk: bytes) -> tuple[mlkem.MLKEM768PublicKey, x25519.X25519PublicKey]:
    """Split and check a public key (ML-KEM encapsulation key check, FIPS 203 §7.2)."""
    if len(pk) != N_PK:
        raise DecodeError(f"X-Wing public key: expected {N_PK} bytes, got {len(pk)}")
    try:
        pk_m = mlkem.MLKEM768PublicKey.from_public_bytes(pk[:_MLKEM_PK])
        pk_x = x25519.X25519PublicKey.from_public_bytes(pk[_MLKEM_PK:])
    except ValueError:
        raise DecodeError("X-Wing public key: invalid ML-KEM-768 encapsulation key") from None
    return pk_m, pk_x


def _combiner(ss_m: bytes, ss_x: bytes, ct_x: bytes, pk_x: bytes) -> bytes:
    """§5.3: SHA3-256(ss_M || ss_X || ct_X || pk_X || XWingLabel)."""
    return _sha3_256(ss_m + ss_x + ct_x + pk_x + XWING_LABEL)


def _x25519(sk: x25519.X25519PrivateKey, pk: x25519.X25519PublicKey) -> bytes:
    try:
        return sk.exchange(pk)
    except ValueError:
        # cryptography refuses an all-zero X25519 output (a low-order point).
        raise CryptoError() from None


def encap(pk: bytes) -> tuple[bytes, bytes]:
    """Encapsulate (§5.4): returns (shared_secret, enc = ct_M || ct_X)."""
    pk_m, pk_x = parse_public(pk)
    ss_m, ct_m = pk_m.encapsulate()
    ek_x = x25519.X25519PrivateKey.generate()
    ct_x = ek_x.public_key().public_bytes_raw()
    ss_x = _x25519(ek_x, pk_x)
    return _combiner(ss_m, ss_x, ct_x, pk[_MLKEM_PK:]), ct_m + ct_x


def decap(enc: bytes, sk: bytes) -> bytes:
    """Decapsulate (§5.5): returns the shared secret (ML-KEM rejects implicitly)."""
    if len(enc) != N_ENC:
        raise DecodeError(f"X-Wing enc: expected {N_ENC} bytes, got {len(enc)}")
    sk_m, sk_x, pk = expand(sk)
    ct_m, ct_x = enc[:_MLKEM_CT], enc[_MLKEM_CT:]
    try:
        ss_m = sk_m.decapsulate(ct_m)
    except ValueError:
        raise CryptoError() from None
    ss_x = _x25519(sk_x, x25519.X25519PublicKey.from_public_bytes(ct_x))
    return _combiner(ss_m, ss_x, ct_x, pk[_MLKEM_PK:])
