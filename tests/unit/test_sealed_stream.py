"""privproc.sealed streamed answers: padded frames, ordered, final-flagged (docs/streaming.md)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privproc import limits
from privproc.errors import DecodeError, MisuseError, OpenError, TruncatedError
from privproc.sealed import SUITE, OpenedRequest, RequestSecret, open_request, seal_request

HEADER = limits.SEALED_STREAM_HEADER
FRAME = limits.STREAM_FRAME


def _pair(n: int = 2) -> tuple[list[OpenedRequest], RequestSecret]:
    nodes = [SUITE.kem.derive_key_pair(bytes([i + 1]) * 32) for i in range(n)]
    sealed, secret = seal_request(b'{"feature":"chat"}', [pk for _, pk in nodes])
    return [open_request(sealed, sk, pk) for sk, pk in nodes], secret


def _stream(opened: OpenedRequest, pieces: list[bytes]) -> bytes:
    sealer = opened.stream_sealer()
    return sealer.seal(b"") + b"".join(sealer.seal(p) for p in pieces) + sealer.finish()


def _open_all(secret: RequestSecret, wire: bytes, cut: int = 7) -> list[bytes]:
    opener = secret.stream_opener()
    out: list[bytes] = []
    for i in range(0, len(wire), cut):
        out += opener.feed(wire[i : i + cut])
    opener.end()
    return out


def test_round_trip_and_every_frame_has_one_size() -> None:
    (opened, _), secret = _pair()
    pieces = [b"Hel", b"lo", b" " * 300, b"world"]
    wire = _stream(opened, pieces)
    assert (len(wire) - HEADER) % FRAME == 0
    got = _open_all(secret, wire)
    assert b"".join(got) == b"".join(pieces)
    assert got[-1] == b""  # the final frame, flagged last


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=600), max_size=6), st.integers(1, 400))
def test_any_pieces_any_cuts(pieces: list[bytes], cut: int) -> None:
    (opened,), secret = _pair(1)
    assert b"".join(_open_all(secret, _stream(opened, pieces), cut)) == b"".join(pieces)


def test_token_lengths_do_not_show_in_sizes() -> None:
    """One byte and a whole frame's worth of answer seal to the same size."""
    (opened,), _secret = _pair(1)
    short, full = opened.stream_sealer(), opened.stream_sealer()
    assert len(short.seal(b"a")) == len(full.seal(b"x" * limits.STREAM_PIECE)) == HEADER + FRAME


def test_truncated_stream_is_refused() -> None:
    (opened, _), secret = _pair()
    wire = _stream(opened, [b"one", b"two", b"three"])
    for end in (HEADER + FRAME, len(wire) - FRAME, len(wire) - 1):
        opener = secret.stream_opener()
        opener.feed(wire[:end])
        with pytest.raises(TruncatedError):
            opener.end()


def test_reordered_frames_are_refused() -> None:
    (opened, _), secret = _pair()
    wire = _stream(opened, [b"one", b"two"])
    head, f0, f1, last = (
        wire[:HEADER],
        wire[HEADER : HEADER + FRAME],
        wire[HEADER + FRAME : HEADER + 2 * FRAME],
        wire[HEADER + 2 * FRAME :],
    )
    with pytest.raises(OpenError):
        _open_all(secret, head + f1 + f0 + last)
    with pytest.raises(OpenError):  # a dropped frame shifts every later one
        _open_all(secret, head + f1 + last)
    with pytest.raises(OpenError):  # a replayed frame
        _open_all(secret, head + f0 + f0 + f1 + last)


def test_spliced_frames_are_refused() -> None:
    """A frame of another answer to the same request, or of another request, does not open."""
    (opened, _), secret = _pair()
    one, two = _stream(opened, [b"yes"]), _stream(opened, [b"no!"])
    with pytest.raises(OpenError):
        _open_all(secret, one[:HEADER] + two[HEADER:])
    (other, _), _other_secret = _pair()
    three = _stream(other, [b"yes"])
    with pytest.raises(OpenError):
        _open_all(secret, three)


def test_a_node_not_named_or_altered_bytes_are_refused() -> None:
    (opened, second), secret = _pair()
    wire = bytearray(_stream(opened, [b"text"]))
    wire[HEADER + 5] ^= 1
    with pytest.raises(OpenError):
        _open_all(secret, bytes(wire))
    _others, stranger = _pair()
    with pytest.raises(OpenError):  # key id of a node this request did not name
        _open_all(stranger, _stream(second, [b"x"]))


def test_bytes_after_the_final_frame_are_refused() -> None:
    (opened, _), secret = _pair()
    wire = _stream(opened, [b"x"])
    with pytest.raises(DecodeError, match="after the final frame"):
        _open_all(secret, wire + wire[HEADER : HEADER + FRAME])


def test_a_refused_stream_stays_refused_and_a_sealer_ends_once() -> None:
    (opened, _), secret = _pair()
    opener = secret.stream_opener()
    with pytest.raises(OpenError):
        opener.feed(b"XXXX" + bytes(HEADER))
    with pytest.raises(MisuseError):
        opener.feed(b"")
    sealer = opened.stream_sealer()
    sealer.finish(b"end")
    with pytest.raises(MisuseError):
        sealer.seal(b"more")


def test_a_stream_key_is_not_a_whole_answer_key() -> None:
    """A whole sealed response cannot pass as a stream, nor frames as a response."""
    (opened, _), secret = _pair()
    with pytest.raises(OpenError):
        _open_all(secret, opened.seal_response(b"whole"))
    with pytest.raises(OpenError):
        secret.open_response(_stream(opened, [b"x"]))
