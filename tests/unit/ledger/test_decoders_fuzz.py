"""Every ledger decoder raises only DecodeError on arbitrary input (STYLE.md §3)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privproc.errors import DecodeError
from privproc.ledger.checkpoint import Checkpoint
from privproc.ledger.note import Note, parse_signer_key, parse_vkey
from privproc.ledger.tiles import decode_entry_bundle, parse_tile_path
from privproc.ledger.tlog_witness import AddCheckpointRequest, parse_conflict_body
from privproc.ledger.verifier import InclusionBundle

BYTES: list[Callable[[bytes], object]] = [
    Note.decode,
    decode_entry_bundle,
    InclusionBundle.decode,
    AddCheckpointRequest.decode,
    parse_conflict_body,
]
TEXT: list[Callable[[str], object]] = [
    Checkpoint.parse,
    parse_tile_path,
    parse_vkey,
    parse_signer_key,
]

_text = st.one_of(
    st.text(),
    st.text(alphabet="0123456789x/.pentilé+\n\u2014 =AB", max_size=80),
    st.builds(lambda n: "o\n" + "9" * n + "\nAAAA\n", st.sampled_from([0, 1, 19, 20, 4301])),
    st.builds(lambda n: "tile/" + "1" * n + "/000", st.sampled_from([0, 1, 19, 20, 4301])),
    st.builds(lambda n: "tile/0/000.p/" + "1" * n, st.sampled_from([0, 1, 19, 20, 4301])),
)


@pytest.mark.parametrize("decode", BYTES, ids=lambda f: f.__qualname__)
@given(data=st.one_of(st.binary(max_size=300), _text.map(str.encode)))
def test_bytes_decoders(decode: Callable[[bytes], object], data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode(data)


@pytest.mark.parametrize("decode", TEXT, ids=lambda f: f.__qualname__)
@given(text=_text)
def test_text_decoders(decode: Callable[[str], object], text: str) -> None:
    with contextlib.suppress(DecodeError):
        decode(text)


def test_huge_numbers_are_decode_errors() -> None:
    for bad in ("o\n" + "9" * 5000 + "\nAAAA\n",):
        with pytest.raises(DecodeError):
            Checkpoint.parse(bad)
    with pytest.raises(DecodeError):
        parse_tile_path("tile/" + "1" * 5000 + "/000")
    with pytest.raises(DecodeError):
        parse_tile_path("tile/0/000.p/" + "1" * 5000)
    with pytest.raises(DecodeError):
        AddCheckpointRequest.decode(b"old " + b"1" * 5000 + b"\n\nx")
