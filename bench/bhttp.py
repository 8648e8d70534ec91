"""Binary HTTP (RFC 9292) encode/decode rates, next to json.dumps/loads of the same message.

The baseline is the stdlib json codec on an equivalent dict (control data, header
pairs and content as ASCII text), measured in the same run.
"""

from __future__ import annotations

import json
from functools import partial

from _common import Row, rate, row
from privproc import bhttp

BENCH = "bhttp"


def _cases() -> list[tuple[str, bhttp.Request | bhttp.Response]]:
    headers = (
        (b"content-type", b"application/octet-stream"),
        (b"privacy-token", b"A" * 120),
        (b"user-agent", b"privproc/0.1"),
    )
    request = bhttp.Request("POST", "https", "gateway.example", "/v1/process", headers, b"x" * 4096)
    response = bhttp.Response(
        200,
        headers=((b"content-type", b"application/octet-stream"),),
        content=b"y" * 1024,
        informational=(bhttp.Informational(103, ((b"link", b"</a>; rel=preload"),)),),
    )
    return [("request 4 KiB", request), ("response 1 KiB + 1xx", response)]


def _as_dict(msg: bhttp.Request | bhttp.Response) -> dict[str, object]:
    def fields(f: bhttp.Fields) -> list[list[str]]:
        return [[n.decode(), v.decode()] for n, v in f]

    if isinstance(msg, bhttp.Request):
        head: dict[str, object] = {
            "method": msg.method,
            "scheme": msg.scheme,
            "authority": msg.authority,
            "path": msg.path,
        }
    else:
        head = {
            "status": msg.status,
            "informational": [[i.status, fields(i.headers)] for i in msg.informational],
        }
    return head | {
        "headers": fields(msg.headers),
        "content": msg.content.decode(),
        "trailers": fields(msg.trailers),
    }


def run() -> list[Row]:
    rows: list[Row] = []
    for label, msg in _cases():
        as_dict = _as_dict(msg)
        text = json.dumps(as_dict)
        dumps = rate(partial(json.dumps, as_dict))
        loads = rate(partial(json.loads, text))
        for framing in ("known", "indeterminate"):
            data = bhttp.encode(msg, framing=framing)
            enc = rate(partial(bhttp.encode, msg, framing=framing))
            dec = rate(partial(bhttp.decode, data))
            note = f"{len(data)} B bhttp vs {len(text)} B json"
            rows.append(
                row(BENCH, f"encode {label}, {framing}", enc, "ops/s", "json.dumps", dumps, note)
            )
            rows.append(
                row(BENCH, f"decode {label}, {framing}", dec, "ops/s", "json.loads", loads, note)
            )
    return rows
