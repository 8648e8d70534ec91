"""RFC 9180 Appendix A and draft-ietf-hpke-pq test vectors (sources: data/hpke/SOURCES.md)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from privproc import hpke
from privproc.errors import MisuseError, UnsupportedError

VectorT = dict[str, Any]


def _load(name: str) -> list[VectorT]:
    path = resources.files("cryptography_vectors").joinpath("HPKE", name)
    data: list[VectorT] = json.loads(path.read_text())
    return data


RFC9180 = _load("test-vectors.json")
PQ = _load("hpke-pq-test-vectors.json")


def _suite_name(v: VectorT) -> str:
    ids = f"kem=0x{v['kem_id']:04x} kdf=0x{v['kdf_id']:04x} aead=0x{v['aead_id']:04x}"
    return f"mode={v['mode']} {ids}"


def _suite(v: VectorT) -> hpke.Suite | None:
    try:
        return hpke.Suite.from_ids(v["kem_id"], v["kdf_id"], v["aead_id"])
    except UnsupportedError:
        return None


def _h(v: VectorT, key: str) -> bytes:
    return bytes.fromhex(v[key])


def _auth_args(v: VectorT) -> tuple[bytes, bytes]:
    return (_h(v, "psk"), _h(v, "psk_id")) if "psk" in v else (b"", b"")


def test_counts() -> None:
    """Which vectors run and which are skipped (by name) is pinned here."""
    rfc_skipped = [_suite_name(v) for v in RFC9180 if _suite(v) is None]
    assert len(RFC9180) == 128
    assert rfc_skipped == []
    pq_run = [_suite_name(v) for v in PQ if _suite(v) is not None]
    assert len(PQ) == 13
    assert pq_run == ["mode=0 kem=0x647a kdf=0x0001 aead=0x0003"]


@pytest.mark.parametrize("v", RFC9180, ids=[_suite_name(v) for v in RFC9180])
def test_rfc9180_vector(v: VectorT) -> None:
    suite = _suite(v)
    if suite is None:
        pytest.skip(f"unsupported suite {_suite_name(v)}")
    mode = hpke.Mode(v["mode"])
    info = _h(v, "info")
    psk, psk_id = _auth_args(v)
    # §7.1.3 DeriveKeyPair for every party
    assert suite.kem.derive_key_pair(_h(v, "ikmR")) == (_h(v, "skRm"), _h(v, "pkRm"))
    assert suite.kem.derive_key_pair(_h(v, "ikmE")) == (_h(v, "skEm"), _h(v, "pkEm"))
    sk_s = pk_s = None
    if "ikmS" in v:
        assert suite.kem.derive_key_pair(_h(v, "ikmS")) == (_h(v, "skSm"), _h(v, "pkSm"))
        sk_s, pk_s = _h(v, "skSm"), _h(v, "pkSm")
    # the serialized keys round-trip through key objects
    assert suite.kem.serialize(suite.kem.deserialize(_h(v, "pkRm"))) == _h(v, "pkRm")
    assert suite.kem.serialize(suite.kem.deserialize_private(_h(v, "skRm"))) == _h(v, "skRm")

    enc, sender = suite.setup_sender(
        _h(v, "pkRm"), info, mode=mode, psk=psk, psk_id=psk_id, sk_s=sk_s, ikm_e=_h(v, "ikmE")
    )
    assert enc == _h(v, "enc")
    # the same ephemeral key given directly as its serialized private key
    enc2, _ = suite.setup_sender(
        _h(v, "pkRm"), info, mode=mode, psk=psk, psk_id=psk_id, sk_s=sk_s, sk_e=_h(v, "skEm")
    )
    assert enc2 == enc
    recipient = suite.setup_recipient(
        enc, _h(v, "skRm"), info, mode=mode, psk=psk, psk_id=psk_id, pk_s=pk_s
    )
    for e in v["encryptions"]:
        assert sender.seal(_h(e, "pt"), _h(e, "aad")) == _h(e, "ct")
        assert recipient.open(_h(e, "ct"), _h(e, "aad")) == _h(e, "pt")
    if suite.aead is hpke.AEAD.EXPORT_ONLY:
        assert v["encryptions"] == []
        with pytest.raises(MisuseError):
            sender.seal(b"x")
        with pytest.raises(MisuseError):
            recipient.open(b"x" * 16)
    for x in v["exports"]:
        expected = _h(x, "exported_value")
        assert sender.export(_h(x, "exporter_context"), x["L"]) == expected
        assert recipient.export(_h(x, "exporter_context"), x["L"]) == expected


@pytest.mark.parametrize("v", PQ, ids=[_suite_name(v) for v in PQ])
def test_pq_vector(v: VectorT) -> None:
    suite = _suite(v)
    if suite is None:
        pytest.skip(f"unsupported suite {_suite_name(v)}")
    assert suite.kem is hpke.KEM.MLKEM768_X25519
    info = _h(v, "info")
    sk, pk = suite.kem.derive_key_pair(_h(v, "ikmR"))
    assert (sk, pk) == (_h(v, "skRm"), _h(v, "pkRm"))
    recipient = suite.setup_recipient(_h(v, "enc"), sk, info)
    for e in v["encryptions"]:
        assert recipient.open(_h(e, "ct"), _h(e, "aad")) == _h(e, "pt")
    for x in v["exports"]:
        assert recipient.export(_h(x, "exporter_context"), x["L"]) == _h(x, "exported_value")
    # the sender side cannot reproduce enc (randomized ML-KEM), but it must interoperate
    enc, sender = suite.setup_sender(pk, info)
    again = suite.setup_recipient(enc, sk, info)
    assert again.open(sender.seal(b"pq", b"a"), b"a") == b"pq"
    assert again.export(b"c", 32) == sender.export(b"c", 32)
