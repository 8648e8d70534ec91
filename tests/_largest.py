"""The largest request a device can send for each padding bucket, built as the device builds it.

Real encoders, real sizes: a sealed request for the most nodes, inside Binary HTTP with a
PrivateToken header of a real token's length, encapsulated with OHTTP to a key config with
the largest enc privproc speaks.
"""

from __future__ import annotations

import base64

from privproc import bhttp, ohttp
from privproc.hpke import KEM
from privproc.limits import MAX_NODES, bucket_capacity
from privproc.sealed import SUITE, seal_request

#: RFC 9578 §5.3 type 0x0002 token: type 2, nonce 32, context 32, key id 32, authenticator 256.
TOKEN_BYTES = 2 + 32 + 32 + 32 + 256


def node_keys(count: int = MAX_NODES) -> list[bytes]:
    """``count`` fresh node public keys."""
    return [SUITE.kem.generate_key_pair()[1] for _ in range(count)]


def largest_sealed(bucket: int, keys: list[bytes]) -> bytes:
    """A sealed request whose payload fills ``bucket`` exactly."""
    sealed, _secret = seal_request(b"x" * bucket_capacity(bucket), keys)
    return sealed


def largest_encapsulated(bucket: int, keys: list[bytes], kem: KEM = KEM.MLKEM1024) -> bytes:
    """The OHTTP request around :func:`largest_sealed`, as the device sends it."""
    token = "PrivateToken token=" + base64.urlsafe_b64encode(b"\x00" * TOKEN_BYTES).decode()
    inner = bhttp.Request(
        "POST",
        "https",
        "gateway",
        "/process",
        headers=(
            (b"authorization", token.encode()),
            (b"content-type", b"application/privproc-sealed"),
        ),
        content=largest_sealed(bucket, keys),
    )
    config = ohttp.ServerKey.generate(1, kem=kem).config
    encapsulated, _context = ohttp.encapsulate_request(config, bhttp.encode(inner))
    return encapsulated
