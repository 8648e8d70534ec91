"""A gateway that routes each request to a node the device did NOT name (a test party).

Run as ``python -m tests.system._evil_gateway MODE PORT HOME ISSUER LEDGER TOKEN PUBLISHER
KEYS NODE...``.
MODE ``misroute``: the real gateway with one change, its routing table answers
with the nodes outside the request's K; it starts from a copy of the honest
gateway's key file ``KEYS`` (a replica of it: the key-consistency rule lets one
operator have one key sequence), so a device gets as far as sending to it.
MODE ``unrecorded``: the real gateway, but its key configs are never recorded in
the ledger (a gateway handing out keys nobody can audit); ``KEYS`` is ``-``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from privproc.gateway import service
from privproc.gateway.routing import NodeMap
from privproc.gateway.service import GatewaySetup, run_gateway


class Misroute(NodeMap):
    def candidates(self, key_ids: Sequence[bytes]) -> list[str]:
        named = set(super().candidates(key_ids))
        others = sorted(set(self._map.values()) - named)
        return others or sorted(named)


def main(argv: list[str]) -> None:
    mode, port, home, issuer, ledger, token, publisher, keys, *nodes = argv
    Path(home).mkdir(parents=True, exist_ok=True)
    if keys != "-":
        shutil.copyfile(keys, Path(home) / "ohttp-keys.json")
    setup = GatewaySetup(
        nodes=tuple(nodes),
        issuer_url=issuer,
        issuer_name="issuer.privproc.local",
        origin="gateway.privproc.local",
        ledger_url=ledger,
        ledger_token=Path(token).read_text().strip(),
        publisher=Path(publisher),
        spent=Path(home) / "spent.sqlite",
        keys_file=Path(home) / "ohttp-keys.json",
    )
    if mode == "unrecorded":
        service._record_in_ledger = lambda _setup: lambda _entry: None  # type: ignore[assignment]
        run_gateway(setup, "127.0.0.1", int(port))
    else:
        run_gateway(setup, "127.0.0.1", int(port), nodes=Misroute())


if __name__ == "__main__":
    main(sys.argv[1:])
