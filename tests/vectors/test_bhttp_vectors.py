"""RFC 9292 §5 and RFC 9458 Appendix A binary HTTP messages, byte for byte both ways."""

from __future__ import annotations

from typing import Any

import pytest

from privproc import bhttp
from privproc.errors import DecodeError
from tests._vectors import load_json, vector_path


def _fields(pairs: list[list[str]]) -> bhttp.Fields:
    return tuple((n.encode(), v.encode()) for n, v in pairs)


def _message(m: dict[str, Any]) -> bhttp.Request | bhttp.Response:
    content = bytes.fromhex(m["content_hex"])
    if m["kind"] == "request":
        return bhttp.Request(
            m["method"],
            m["scheme"],
            m["authority"],
            m["path"],
            _fields(m["headers"]),
            content,
            _fields(m["trailers"]),
        )
    return bhttp.Response(
        m["status"],
        _fields(m["headers"]),
        content,
        _fields(m["trailers"]),
        tuple(bhttp.Informational(i["status"], _fields(i["headers"])) for i in m["informational"]),
    )


def _vectors() -> list[Any]:
    out = []
    for name in ("rfc9292.json", "rfc9458.json"):
        for v in load_json("bhttp", name)["vectors"]:
            out.append(pytest.param(v, id=v["name"]))
    return out


def _hex(v: dict[str, Any]) -> bytes:
    return bytes.fromhex("".join(v["hex"]).replace(" ", ""))


def test_sources_recorded() -> None:
    text = vector_path("bhttp", "SOURCES.md").read_text()
    assert "RFC 9292 §5.1" in text
    assert "RFC 9292 §5.2" in text
    assert "RFC 9458 Appendix A" in text


@pytest.mark.parametrize("v", _vectors())
def test_encode_matches_rfc(v: dict[str, Any]) -> None:
    encoded = bhttp.encode(
        _message(v["message"]),
        framing=v["framing"],
        padding=v["padding"],
        truncate=v.get("truncate", False),
    )
    assert encoded.hex() == _hex(v).hex()


@pytest.mark.parametrize("v", _vectors())
def test_decode_matches_rfc(v: dict[str, Any]) -> None:
    assert bhttp.decode(_hex(v)) == _message(v["message"])


@pytest.mark.parametrize("v", [p for p in _vectors() if "truncatable" in p.values[0]])
def test_rfc_truncation(v: dict[str, Any]) -> None:
    """RFC 9292 §5.1/§3.8: the trailing bytes the RFC names can go; one more breaks it."""
    data = _hex(v)
    want = _message(v["message"])
    n = v["truncatable"]
    for k in range(1, n + 1):
        assert bhttp.decode(data[:-k]) == want
    with pytest.raises(DecodeError):
        bhttp.decode(data[: -(n + 1)])


def test_rfc9458_request_fields() -> None:
    req = bhttp.decode_request(bytes.fromhex("00034745540568747470730b6578616d706c652e636f6d012f"))
    assert (req.method, req.scheme, req.authority, req.path) == ("GET", "https", "example.com", "/")
    assert (req.headers, req.content, req.trailers) == ((), b"", ())
    resp = bhttp.decode_response(bytes.fromhex("0140c8"))
    assert (resp.status, resp.headers, resp.content, resp.informational) == (200, (), b"", ())
