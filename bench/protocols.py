"""OHTTP and HPKE throughput, each next to a floor measured in the same run.

- ``ohttp round trip``: encapsulate a request, decapsulate it, seal the response, open
  it (RFC 9458, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM) with privproc.
- floor: the same primitive work straight from ``cryptography`` with no HPKE framing:
  one X25519 key generation, two X25519 exchanges, one HKDF per side per direction,
  and four AES-128-GCM operations.
- ``cryptography`` single-shot HPKE (``hpke.Suite.encrypt`` + ``decrypt``, Rust) next to
  privproc's single-shot ``Suite.seal`` + ``open`` (Python over the same primitives).
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hpke as crypto_hpke
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from _common import Row, rate, row
from privproc import hpke, ohttp

REQUEST = b"\x00\x03POST\x05https\x0bexample.com\x0a/summarize" + b"m" * 200
RESPONSE = b"\x01\x40\xc8" + b"s" * 200


def _floor(server_sk: x25519.X25519PrivateKey) -> object:
    server_pk = server_sk.public_key()

    def once() -> None:
        eph = x25519.X25519PrivateKey.generate()
        eph_pk = eph.public_key()
        k1 = HKDF(hashes.SHA256(), 16, None, b"req").derive(eph.exchange(server_pk))
        k2 = HKDF(hashes.SHA256(), 16, None, b"req").derive(server_sk.exchange(eph_pk))
        nonce = os.urandom(12)
        ct = AESGCM(k1).encrypt(nonce, REQUEST, None)
        AESGCM(k2).decrypt(nonce, ct, None)
        r1 = HKDF(hashes.SHA256(), 16, None, b"res").derive(k2)
        r2 = HKDF(hashes.SHA256(), 16, None, b"res").derive(k1)
        ct = AESGCM(r1).encrypt(nonce, RESPONSE, None)
        AESGCM(r2).decrypt(nonce, ct, None)

    return once


def run() -> list[Row]:
    key = ohttp.ServerKey.generate(1)
    xwing_key = ohttp.ServerKey.generate(2, kem=hpke.KEM.MLKEM768_X25519)

    def ohttp_round_trip(k: ohttp.ServerKey = key) -> None:
        enc_req, client = ohttp.encapsulate_request(k.config, REQUEST)
        _, server = ohttp.decapsulate_request(k, enc_req)
        client.open(server.seal(RESPONSE))

    def ohttp_round_trip_xwing() -> None:
        ohttp_round_trip(xwing_key)

    server_sk = x25519.X25519PrivateKey.from_private_bytes(key.private_key)
    floor = rate(_floor(server_sk))
    ours_ohttp = rate(ohttp_round_trip)
    ours_xwing = rate(ohttp_round_trip_xwing)

    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    theirs = crypto_hpke.Suite(
        crypto_hpke.KEM.X25519, crypto_hpke.KDF.HKDF_SHA256, crypto_hpke.AEAD.AES_128_GCM
    )
    sk, pk = key.private_key, key.config.public_key

    def ours_single_shot() -> None:
        enc, ct = suite.seal(pk, REQUEST, info=b"bench")
        suite.open(enc, sk, ct, info=b"bench")

    def theirs_single_shot() -> None:
        blob = theirs.encrypt(REQUEST, server_sk.public_key(), info=b"bench")
        theirs.decrypt(blob, server_sk, info=b"bench")

    crypto_rate = rate(theirs_single_shot)
    ours_rate = rate(ours_single_shot)
    unit = "round trips/s"
    return [
        row(
            "protocols",
            "ohttp round trip (X25519, HKDF-SHA256, AES-128-GCM)",
            ours_ohttp,
            unit,
            "floor: X25519 keygen + 2 DH + HKDF + 4 AES-GCM (cryptography)",
            floor,
            "request and response, 230/203-byte bodies",
        ),
        row(
            "protocols",
            "ohttp round trip (X25519...)",
            ours_ohttp,
            unit,
            "cryptography single-shot HPKE encrypt+decrypt",
            crypto_rate,
            "ours does a response too",
        ),
        row(
            "protocols",
            "privproc hpke single-shot seal+open",
            ours_rate,
            "seal+open/s",
            "cryptography single-shot HPKE encrypt+decrypt",
            crypto_rate,
            "same suite, same key, same plaintext",
        ),
        row(
            "protocols",
            "ohttp round trip (MLKEM768-X25519 / X-Wing)",
            ours_xwing,
            unit,
            "ohttp round trip (X25519)",
            ours_ohttp,
            "post-quantum hybrid KEM cost",
        ),
    ]
