"""Every ledger decoder raises only DecodeError on arbitrary input (STYLE.md §3)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from privproc.errors import DecodeError
from privproc.ledger.checkpoint import Checkpoint
from privproc.ledger.cosignature import verifier_from_vkey
from privproc.ledger.note import Ed25519Signer, Note, parse_signer_key, parse_vkey
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


# Lone surrogates (Unicode Cs) are valid Python str but not UTF-8: a parser that
# encodes its input must refuse them with DecodeError, not UnicodeEncodeError.
_LONE = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"])
_VALID_TEXT = [
    Ed25519Signer("log.example", Ed25519PrivateKey.from_private_bytes(bytes(32))).verifier().vkey(),
    "PRIVATE+KEY+log.example+0a1b2c3d+AQ" + "A" * 42 + "==",
    "log.example/x\n7\n" + "A" * 43 + "=\n",
    "tile/0/000",
]


def _insert(base: str, at: int, lone: str) -> str:
    at %= len(base) + 1
    return base[:at] + lone + base[at:]


_surrogates = st.one_of(
    st.text(alphabet=st.one_of(st.characters(), _LONE), min_size=1, max_size=60),
    st.builds(_insert, st.sampled_from(_VALID_TEXT), st.integers(0, 200), _LONE),
)
_SURROGATE_CASES = [
    "\ud800",
    "name\udc00+01234567+AQID",
    "a+01234567+\udfff",
    "PRIVATE+KEY+n\ud83d+01234567+AQ==",
    "origin\ud800\n1\n" + "A" * 43 + "=\n",
    "o\n1\n" + "A" * 43 + "=\nextension \udcff\n",
    "tile/0/\ud800",
]


@pytest.mark.parametrize("decode", [*TEXT, verifier_from_vkey], ids=lambda f: f.__qualname__)
@given(text=st.one_of(_surrogates, st.sampled_from(_SURROGATE_CASES)))
def test_parse_vkey_surrogates_and_every_text_decoder_raise_only_decode_error(
    decode: Callable[[str], object], text: str
) -> None:
    with contextlib.suppress(DecodeError):
        decode(text)


@pytest.mark.parametrize("decode", [*TEXT, verifier_from_vkey], ids=lambda f: f.__qualname__)
@pytest.mark.parametrize("text", _SURROGATE_CASES)
def test_parse_vkey_surrogates_explicit(decode: Callable[[str], object], text: str) -> None:
    with pytest.raises(DecodeError):
        decode(text)


def test_parse_vkey_surrogates_in_a_well_formed_vkey() -> None:
    signer = Ed25519Signer("log.example", Ed25519PrivateKey.from_private_bytes(bytes(32)))
    vkey = signer.verifier().vkey()
    assert parse_vkey(vkey)[0] == "log.example"
    with pytest.raises(DecodeError):
        parse_vkey("log.example\ud800" + vkey[len("log.example") :])
    with pytest.raises(DecodeError):
        Ed25519Signer("log\udc00", Ed25519PrivateKey.from_private_bytes(bytes(32)))
