"""bhttp against bhttp-js, an independent RFC 9292 implementation (TypeScript, Node).

Needs ``node`` and ``npm install --prefix tests/interop/bhttp_js`` (bhttp-js 0.2.1,
pinned exactly in package.json; it has no dependencies); skipped otherwise.
bhttp-js speaks the Fetch API, so the comparison is on what Fetch keeps: method,
URL, headers combined per name (Fetch lower-cases, sorts and joins repeats with
", "), status and body.

Two bhttp-js 0.2.1 deviations from RFC 9292 found here, kept out of the cases:
its encoder drops the query from the path (``/p?q=1`` goes out as ``/p``), and its
decoder keeps only the last of repeated field lines with one name (RFC 9292 §3.6
allows repeats). Messages with repeated names are therefore only sent one way
(they encode, we decode), where Fetch has already joined the values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from privproc import bhttp
from tests._vectors import load_json
from tests.interop._node import needs, run_driver

HERE = Path(__file__).resolve().parent / "bhttp_js"
pytestmark = needs(HERE, "bhttp-js")

Msg = bhttp.Request | bhttp.Response

REQUESTS = [
    bhttp.Request("GET", "https", "example.com", "/"),
    bhttp.Request(
        "POST",
        "https",
        "gateway.example",
        "/v1/process",
        ((b"content-type", b"message/ohttp-req"), (b"x-b", b"2"), (b"x-a", b"1")),
        bytes(range(256)) * 20,
    ),
    bhttp.Request("PUT", "http", "127.0.0.1:8080", "/a/b.txt", ((b"x-r", b"1"), (b"x-r", b"2"))),
    bhttp.Request("DELETE", "https", "[::1]:8443", "/item/7", ((b"accept", b"*/*"),)),
]
RESPONSES = [
    bhttp.Response(200),
    bhttp.Response(201, ((b"content-type", b"text/plain"),), b"hello"),
    bhttp.Response(404, ((b"x-a", b"1"), (b"x-a", b"2"), (b"vary", b"accept")), b"\x00\xff" * 3000),
    bhttp.Response(503, ((b"retry-after", b"5"),)),
]
ENCODINGS: list[dict[str, Any]] = [
    {"framing": "known"},
    {"framing": "indeterminate"},
    {"framing": "known", "truncate": True},
    {"framing": "indeterminate", "truncate": True, "padding": 17},
]


def _node(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return run_driver(HERE, jobs)


def _combined(fields: bhttp.Fields) -> list[list[str]]:
    merged: dict[str, list[str]] = {}
    for name, value in fields:
        merged.setdefault(name.decode(), []).append(value.decode("latin-1"))
    return [[n, ", ".join(v)] for n, v in sorted(merged.items())]


def _view(msg: Msg) -> dict[str, Any]:
    """What a Fetch Request/Response keeps of ``msg``."""
    out: dict[str, Any] = {"headers": _combined(msg.headers), "body_hex": msg.content.hex()}
    if isinstance(msg, bhttp.Request):
        host = msg.authority or dict(msg.headers).get(b"host", b"").decode()
        out |= {"method": msg.method, "url": f"{msg.scheme}://{host}{msg.path}"}
    else:
        out["status"] = msg.status
    return out


def _their_view(result: dict[str, Any]) -> dict[str, Any]:
    assert result["ok"], result.get("error")
    return {k: v for k, v in result.items() if k != "ok"}


def _encode_job(msg: Msg) -> dict[str, Any]:
    view = _view(msg)
    if isinstance(msg, bhttp.Request):
        return {"op": "encode-request"} | view
    return {"op": "encode-response"} | view


def test_they_decode_what_we_encode() -> None:
    jobs, wants = [], []
    unique = [m for m in REQUESTS + RESPONSES if len({n for n, _ in m.headers}) == len(m.headers)]
    assert len(unique) >= 6
    for msg in unique:
        kind = "request" if isinstance(msg, bhttp.Request) else "response"
        for enc in ENCODINGS:
            jobs.append({"op": f"decode-{kind}", "hex": bhttp.encode(msg, **enc).hex()})
            wants.append(_view(msg))
    for result, want in zip(_node(jobs), wants, strict=True):
        assert _their_view(result) == want


def test_we_decode_what_they_encode() -> None:
    msgs = REQUESTS + RESPONSES
    for msg, result in zip(msgs, _node([_encode_job(m) for m in msgs]), strict=True):
        assert result["ok"], result.get("error")
        ours = bhttp.decode(bytes.fromhex(result["hex"]))
        assert _view(ours) == _view(msg)


def test_same_bytes_for_canonical_messages() -> None:
    """With headers sorted and unique (what Fetch keeps), both encoders agree byte for byte."""
    canonical = [
        m
        for m in REQUESTS + RESPONSES
        if [[n.decode(), v.decode("latin-1")] for n, v in m.headers] == _combined(m.headers)
    ]
    assert len(canonical) >= 4
    for msg, result in zip(canonical, _node([_encode_job(m) for m in canonical]), strict=True):
        assert result["ok"], result.get("error")
        assert result["hex"] == bhttp.encode(msg).hex()


def test_they_read_the_rfc_vectors_as_we_do() -> None:
    vectors = (
        load_json("bhttp", "rfc9292.json")["vectors"]
        + load_json("bhttp", "rfc9458.json")["vectors"]
    )
    datas = [bytes.fromhex("".join(v["hex"]).replace(" ", "")) for v in vectors]
    jobs = [
        {"op": f"decode-{v['message']['kind']}", "hex": d.hex()}
        for v, d in zip(vectors, datas, strict=True)
    ]
    for data, result in zip(datas, _node(jobs), strict=True):
        assert _their_view(result) == _view(bhttp.decode(data))
