"""The e2e bench's plain baseline: the node's workload behind plain HTTP, nothing else.

``python bench/_e2e_plain.py PORT`` serves ``POST /run`` (body: the same JSON payload
the device seals, answer: the same JSON the node seals back) and ``GET /healthz``.
It loads the same embedded backend as a node and calls the same function the node's
per-request child calls (``privproc.enclave.features.run_feature``), in-process: no
token, no OHTTP, no sealing, no relay, no gateway, no fork. Same uvicorn settings as
the node, and the weights on huge pages as in the node (``enclave.hugepages``).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from privproc.enclave.features import run_feature
from privproc.enclave.hugepages import place_on_huge_pages
from privproc.workloads import load_default_backend


def main(port: int) -> None:
    backend = load_default_backend()
    place_on_huge_pages(backend)

    async def run(request: Request) -> Response:
        return Response(run_feature(await request.body(), backend), media_type="application/json")

    async def health(_request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")

    app = Starlette(
        routes=[
            Route("/run", run, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ]
    )
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, server_header=False
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
