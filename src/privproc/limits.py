"""Every size limit on the private path, derived from the padding buckets.

A sealed request is padded to one of :data:`BUCKETS` (docs/e2e.md, "Sealed request
format"); every layer around it adds a bounded overhead, so each party's limit is the
largest bucket plus the overheads of the layers inside it. One table, one source: the
relay, the gateway, the node and the device read their limits here, so no layer can
refuse what the layer inside it is allowed to produce.

Layers, inside out::

    padded payload   uint32 length || payload || zeros || AES-GCM tag   = one bucket
    sealed request   PPSR header (24) + K wraps (112 each) + padded     (privproc.sealed)
    sealed response  PPSP header (69) + padded                          (privproc.sealed)
    inner message    Binary HTTP (RFC 9292 §3): control data, headers, length fields
    encapsulated     OHTTP request  (RFC 9458 §4.3): 7-byte header, enc, AEAD tag
                     OHTTP response (RFC 9458 §4.4): nonce max(Nn, Nk), AEAD tag
    chunked OHTTP    draft-ietf-ohai-chunked-ohttp §3, §7.3: chunk and message sizes
    sealed stream    PPSS header (69) + frames of exactly STREAM_FRAME bytes (privproc.sealed,
                     docs/streaming.md): a streamed answer, padded frame by frame

This module is a core: numbers only, no imports, so even the relay (which must hold no
decryption code) can read it.
"""

from __future__ import annotations

__all__ = [
    "BUCKETS",
    "GATEWAY_MAX_REQUEST",
    "INNER_OVERHEAD",
    "MAX_NODES",
    "MAX_OHTTP_REQUEST",
    "MAX_OHTTP_RESPONSE",
    "MAX_OHTTP_STREAM",
    "MAX_PAYLOAD",
    "MAX_SEALED_REQUEST",
    "MAX_SEALED_RESPONSE",
    "MAX_SEALED_STREAM",
    "MAX_STREAM_FRAMES",
    "OHTTP_CHUNKED_MAX_MESSAGE",
    "OHTTP_CHUNK_SIZE",
    "RELAY_MAX_BODY",
    "RELAY_MAX_STREAM",
    "STREAM_FRAME",
    "STREAM_FRAME_PLAINTEXT",
    "STREAM_PIECE",
    "bucket_capacity",
    "sealed_request_size",
    "sealed_response_size",
]

#: Size buckets of the padded plaintext (bytes); the smallest that fits is used.
BUCKETS = (1024, 4096, 16384, 65536, 262144)
#: Most candidate nodes one request names.
MAX_NODES = 8

#: Padding's own bytes inside a bucket: the uint32 length and the AES-256-GCM tag.
PAD_OVERHEAD = 4 + 16
#: Sealed request: magic 4, version 1, suite ids 6, nonce 12, count 1.
SEALED_REQUEST_HEADER = 4 + 1 + 6 + 12 + 1
#: One wrap: key id 32, HPKE enc 32 (X25519), wrapped data key 32 + tag 16.
SEALED_WRAP = 32 + 32 + 48
#: Sealed response: magic 4, version 1, key id 32, salt 32.
SEALED_RESPONSE_HEADER = 4 + 1 + 32 + 32

#: Binary HTTP around a sealed body: framing indicator, method, scheme, authority and
#: path, the header section (the PrivateToken Authorization header of RFC 9577 §2.2.2 is
#: under 600 bytes for a 2048-bit key), the varint content length, the empty trailers.
INNER_OVERHEAD = 4096
#: OHTTP request header: key id 1, kem id 2, kdf id 2, aead id 2 (RFC 9458 §4.3).
OHTTP_REQUEST_HEADER = 7
#: The largest HPKE enc among the KEMs privproc speaks (ML-KEM-1024, 1568 bytes).
MAX_ENC = 1568
#: The largest AEAD tag (16) and response nonce (max(Nn, Nk) = 32, RFC 9458 §4.4).
AEAD_TAG = 16
MAX_RESPONSE_NONCE = 32


def bucket_capacity(bucket: int) -> int:
    """The largest payload that pads into ``bucket``."""
    return bucket - PAD_OVERHEAD


def sealed_request_size(bucket: int, nodes: int) -> int:
    """The exact size of a sealed request padded to ``bucket`` for ``nodes`` nodes."""
    return SEALED_REQUEST_HEADER + SEALED_WRAP * nodes + bucket


def sealed_response_size(bucket: int) -> int:
    """The exact size of a sealed response padded to ``bucket``."""
    return SEALED_RESPONSE_HEADER + bucket


#: The largest payload a device can seal.
MAX_PAYLOAD = bucket_capacity(BUCKETS[-1])
#: The largest sealed request (last bucket, eight wraps): the node's body limit.
MAX_SEALED_REQUEST = sealed_request_size(BUCKETS[-1], MAX_NODES)
#: The largest sealed response: what the gateway takes from a node.
MAX_SEALED_RESPONSE = sealed_response_size(BUCKETS[-1])
#: The largest OHTTP request a device sends: the gateway's body limit.
MAX_OHTTP_REQUEST = MAX_SEALED_REQUEST + INNER_OVERHEAD + OHTTP_REQUEST_HEADER + MAX_ENC + AEAD_TAG
#: The largest OHTTP response a gateway returns: what the device accepts.
MAX_OHTTP_RESPONSE = MAX_SEALED_RESPONSE + INNER_OVERHEAD + MAX_RESPONSE_NONCE + AEAD_TAG
#: Chunked OHTTP (draft-ietf-ohai-chunked-ohttp §3): receivers MUST take chunks of 2^14
#: plaintext bytes and senders SHOULD not send larger ones. Our senders cut at this size
#: and our receivers refuse a chunk whose plaintext could exceed it.
OHTTP_CHUNK_SIZE = 16384
#: The most plaintext one chunked message may carry (each way): draft §7.3's example
#: bound for AEAD_AES_GCM_128 (advantage below 2^-50 with 2^20 messages per key).
OHTTP_CHUNKED_MAX_MESSAGE = 1 << 30
#: The gateway reads no body over this.
GATEWAY_MAX_REQUEST = MAX_OHTTP_REQUEST
#: The relay's default limit, both ways: it must pass the largest of either.
RELAY_MAX_BODY = max(MAX_OHTTP_REQUEST, MAX_OHTTP_RESPONSE)

#: A streamed sealed response (docs/streaming.md): every frame's padded plaintext has
#: exactly this many bytes (flags 1, piece length 2, piece, zeros), so a frame's size says
#: nothing of the token or sentence inside it. 256 holds a typical token's JSON event many
#: times over; a longer event takes more frames.
STREAM_FRAME_PLAINTEXT = 256
#: The frame's own bytes inside its plaintext: the flags byte and the uint16 length.
STREAM_FRAME_HEADER = 1 + 2
#: The most answer bytes one frame carries.
STREAM_PIECE = STREAM_FRAME_PLAINTEXT - STREAM_FRAME_HEADER
#: The wire size of every frame: the padded plaintext and its AES-256-GCM tag.
STREAM_FRAME = STREAM_FRAME_PLAINTEXT + AEAD_TAG
#: Sealed stream header: magic 4, version 1, key id 32, salt 32 (as a sealed response).
SEALED_STREAM_HEADER = SEALED_RESPONSE_HEADER
#: Most frames in one streamed answer (about 4 MB of answer): the device, the gateway and
#: the relay stop a stream past it.
MAX_STREAM_FRAMES = 16384
#: The largest sealed stream a node may send.
MAX_SEALED_STREAM = SEALED_STREAM_HEADER + MAX_STREAM_FRAMES * STREAM_FRAME
#: What framing adds per frame at worst on its way to the device: the gateway puts whole
#: frames in each chunked OHTTP chunk (its varint, up to 8 bytes, and AEAD tag) inside a
#: binary HTTP content chunk (its varint, up to 8 bytes).
STREAM_CHUNK_OVERHEAD = 8 + 8 + AEAD_TAG
#: The largest chunked OHTTP response carrying a stream: what the device and relay take.
MAX_OHTTP_STREAM = (
    MAX_RESPONSE_NONCE
    + INNER_OVERHEAD
    + MAX_SEALED_STREAM
    + (MAX_STREAM_FRAMES + 2) * STREAM_CHUNK_OVERHEAD
)
#: The relay's limit on a streamed answer (it counts as it passes, holding one read).
RELAY_MAX_STREAM = MAX_OHTTP_STREAM
