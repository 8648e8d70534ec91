"""A stand-in HTTP server for system tests, run as ``python -m tests.system._recorder``.

Modes (argv): ``record PORT DIR`` answers every POST with ``message/ohttp-res`` holding
the reversed body and writes each request's headers and body under DIR;
``proxy PORT DIR UPSTREAM [flip|swapkey]`` records the same and forwards to UPSTREAM
(``flip`` flips one bit of each forwarded body: a relay that alters bytes;
``swapkey`` rewrites a node's ``/evidence`` so it advertises, and its evidence
names, a key the hardware report does not bind: a node whose key is not bound).
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def main(argv: list[str]) -> None:
    mode, port, folder = argv[0], int(argv[1]), Path(argv[2])
    upstream = argv[3] if mode == "proxy" else ""
    flip = len(argv) > 4 and argv[4] == "flip"
    swapkey = len(argv) > 4 and argv[4] == "swapkey"
    folder.mkdir(parents=True, exist_ok=True)

    async def handle(request: Request) -> Response:
        body = await request.body()
        name = uuid.uuid4().hex
        (folder / f"{name}.json").write_text(
            json.dumps(
                {
                    "path": request.url.path,
                    "client": request.client.host if request.client else "",
                    "headers": [[k, v] for k, v in request.headers.items()],
                }
            )
        )
        (folder / f"{name}.bin").write_bytes(body)
        if mode == "record":
            return Response(body[::-1], media_type="message/ohttp-res")
        if flip and body:
            body = body[:-1] + bytes([body[-1] ^ 1])
        headers = {"content-type": request.headers.get("content-type", "")}
        async with httpx.AsyncClient(timeout=30) as client:
            if request.method == "GET":
                answer = await client.get(upstream + request.url.path)
            else:
                answer = await client.post(
                    upstream + request.url.path, content=body, headers=headers
                )
        content = answer.content
        if swapkey and request.url.path == "/evidence":
            content = _swap_key(content)
        return Response(
            content,
            status_code=answer.status_code,
            media_type=answer.headers.get("content-type"),
        )

    app = Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _swap_key(document: bytes) -> bytes:
    import base64
    import dataclasses

    from privproc.attestation import Evidence
    from privproc.sealed import SUITE, node_key_id

    doc = json.loads(document)
    other = SUITE.generate_key_pair()[1]
    evidence = Evidence.decode(base64.b64decode(doc["evidence"]))
    evidence = dataclasses.replace(evidence, node_key=other)
    doc["evidence"] = base64.b64encode(evidence.encode()).decode()
    doc["public_key"] = base64.b64encode(other).decode()
    doc["key_id"] = node_key_id(other).hex()
    return json.dumps(doc).encode()


if __name__ == "__main__":
    main(sys.argv[1:])
