"""The bench's baseline party: the same node workload over plain HTTP, no crypto, no fork.

Run as ``python bench/_plain_node.py PORT``; ``POST /plain`` takes the feature JSON
(the payload a sealed request carries) and answers the feature's JSON.
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from privproc.enclave.features import run_feature
from privproc.workloads import load_default_backend


def main(port: int) -> None:
    backend = load_default_backend()

    async def plain(request: Request) -> Response:
        return Response(run_feature(await request.body(), backend), media_type="application/json")

    async def health(_request: Request) -> Response:
        return Response("ok")

    app = Starlette(routes=[Route("/plain", plain, methods=["POST"]), Route("/healthz", health)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main(int(sys.argv[1]))
