from __future__ import annotations

import pytest

from privproc.errors import DecodeError, MisuseError, OpenError
from privproc.sealed import (
    BUCKETS,
    SUITE,
    node_key_id,
    open_request,
    parse_header,
    seal_request,
)


def _nodes(n: int) -> list[tuple[bytes, bytes]]:
    return [SUITE.kem.derive_key_pair(bytes([i]) * 32) for i in range(n)]


def test_any_of_k_opens_and_answers() -> None:
    nodes = _nodes(3)
    sealed, secret = seal_request(b'{"feature":"x"}', [pk for _, pk in nodes])
    assert parse_header(sealed).key_ids == tuple(node_key_id(pk) for _, pk in nodes)
    for sk, pk in nodes:
        opened = open_request(sealed, sk, pk)
        assert opened.payload == b'{"feature":"x"}'
        answer = opened.seal_response(b"answer")
        assert secret.open_response(answer) == (node_key_id(pk), b"answer")


def test_a_node_not_named_cannot_open() -> None:
    named, other = _nodes(2), _nodes(3)[2]
    sealed, _ = seal_request(b"hello", [pk for _, pk in named])
    with pytest.raises(OpenError):
        open_request(sealed, *other)


def test_sizes_are_buckets() -> None:
    pk = _nodes(1)[0][1]
    small, _ = seal_request(b"a", [pk])
    larger, _ = seal_request(b"a" * 900, [pk])
    assert len(small) == len(larger)
    big, _ = seal_request(b"a" * 2000, [pk])
    header = len(small) - BUCKETS[0]
    assert len(big) - header == BUCKETS[1]
    with pytest.raises(MisuseError):
        seal_request(b"a" * BUCKETS[-1], [pk])


@pytest.mark.parametrize("position", [0, 5, 20, 30, 100, -1])
def test_any_flipped_byte_fails(position: int) -> None:
    sk, pk = _nodes(1)[0]
    sealed, _ = seal_request(b"hello", [pk])
    bad = bytearray(sealed)
    bad[position] ^= 1
    with pytest.raises((OpenError, DecodeError)):
        open_request(bytes(bad), sk, pk)


def test_response_tampering_and_wrong_request() -> None:
    sk, pk = _nodes(1)[0]
    sealed, secret = seal_request(b"hello", [pk])
    answer = open_request(sealed, sk, pk).seal_response(b"out")
    bad = bytearray(answer)
    bad[-1] ^= 1
    with pytest.raises(OpenError):
        secret.open_response(bytes(bad))
    _, other_secret = seal_request(b"hello", [pk])
    with pytest.raises(OpenError):
        other_secret.open_response(answer)


def test_deterministic_with_injected_randomness() -> None:
    pk = _nodes(1)[0][1]
    counter = iter(range(1000))

    def rnd(n: int) -> bytes:
        return bytes([next(counter) % 256]) * n

    a, _ = seal_request(b"x", [pk], random=rnd)
    counter = iter(range(1000))
    b, _ = seal_request(b"x", [pk], random=rnd)
    assert a == b


@pytest.mark.parametrize("data", [b"", b"PPSR", b"XXXX" + bytes(200), b"PPSR\x02" + bytes(200)])
def test_malformed_headers(data: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_header(data)
