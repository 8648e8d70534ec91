"""``privproc up``: every party on loopback, as separate processes, until Ctrl-C."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``up`` command."""

    @app.command()
    def up(
        *,
        nodes: Annotated[int, typer.Option(help="Enclave nodes running the released code.")] = 3,
        k: Annotated[int, typer.Option(help="Candidate nodes per request.")] = 2,
        rogue_nodes: Annotated[
            int,
            typer.Option(help="Extra nodes running a build not in the ledger (demos, tests)."),
        ] = 0,
        as_json: Annotated[
            bool,
            typer.Option(
                "--json", help="Once up, print one JSON line: the home and every party's URL."
            ),
        ] = False,
    ) -> None:
        """Start the ledger, 2 witnesses, issuer, nodes, gateway, directory and relay."""
        import signal
        import threading

        from rich.console import Console

        from privproc.client.config import privproc_home
        from privproc.cluster.launch import Cluster, ClusterSpec

        console = Console(stderr=True)
        home = privproc_home()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        cluster = Cluster(
            home, ClusterSpec(nodes=nodes, rogue_nodes=rogue_nodes, k=k), progress=console.print
        )
        try:
            cluster.start()
            if as_json:
                parties = {name: party.url for name, party in sorted(cluster.parties.items())}
                release = cluster.release
                up_doc = {
                    "home": str(home),
                    "client_config": str(home / "client" / "config.json"),
                    "parties": parties,
                    "release": None
                    if release is None
                    else {"measurement": release.measurement.hex(), "index": release.index},
                }
                typer.echo(json.dumps(up_doc, sort_keys=True))
            console.print(f"[bold green]privproc is up[/] under {home}; Ctrl-C stops every party")
            while not stop.wait(0.5):
                for party in cluster.parties.values():
                    if party.process.poll() is not None:
                        console.print(f"[red]{party.name} exited; stopping[/]")
                        stop.set()
        except KeyboardInterrupt:
            pass
        finally:
            console.print("stopping every party")
            cluster.stop()
