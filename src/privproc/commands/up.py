"""``privproc up``: every party on loopback, as separate processes, until Ctrl-C."""

from __future__ import annotations

import json
from pathlib import Path
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
        platform: Annotated[
            str,
            typer.Option(
                help="simulated, sev-snp-emulated, sev-snp+nvidia-cc-emulated or tdx-emulated."
            ),
        ] = "simulated",
        as_json: Annotated[
            bool,
            typer.Option(
                "--json", help="Once up, print one JSON line: the home and every party's URL."
            ),
        ] = False,
        model: Annotated[
            Path | None,
            typer.Option(
                help="A GGUF file every node serves with its own llama.cpp server "
                "(measured; its SHA-256 is the release's model digest)."
            ),
        ] = None,
        llama_python: Annotated[
            str | None, typer.Option(help="The Python with llama-cpp-python.")
        ] = None,
        gateways: Annotated[
            int, typer.Option(help="Gateway replicas behind HAProxy (more than 1 needs --redis).")
        ] = 1,
        issuers: Annotated[
            int, typer.Option(help="Issuer replicas behind HAProxy (more than 1 needs --redis).")
        ] = 1,
        redis: Annotated[
            str | None,
            typer.Option(
                help="Redis URL: replicas share the gateway key sequence, spent tokens,"
                " quotas and the replay cache there, behind HAProxy."
            ),
        ] = None,
        ledger_database: Annotated[
            str | None, typer.Option(help="postgresql:// URL for the ledger (default SQLite).")
        ] = None,
        gateway_key_lifetime: Annotated[
            int, typer.Option(help="Seconds each gateway OHTTP key is current.")
        ] = 3600,
        gateway_key_announce: Annotated[
            int,
            typer.Option(
                help="Seconds a new key config is in the ledger before it starts (more than"
                " the cosignature max age plus skew)."
            ),
        ] = 1200,
        cosignature_max_age: Annotated[
            int, typer.Option(help="The devices' oldest accepted witness cosignature (s).")
        ] = 600,
        cosignature_max_skew: Annotated[
            int, typer.Option(help="The devices' accepted clock skew on cosignatures (s).")
        ] = 300,
    ) -> None:
        """Start the ledger, 2 witnesses, issuer, nodes, gateway, directory and relay.

        With --redis, gateway-1..N and issuer-1..M run behind HAProxy (the parties
        ``gateway`` and ``issuer`` are the balancers) and share their state in Redis.

        A party that exits is reported and restarted on its port while the others keep
        serving; one that exits 3 times within a minute stops everything."""
        import signal
        import threading

        from rich.console import Console

        from privproc.client.config import privproc_home
        from privproc.cluster.launch import Cluster, ClusterSpec
        from privproc.errors import ConfigError

        console = Console(stderr=True)
        home = privproc_home()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        # Ctrl-C (SIGINT) stops everything even where it was inherited as ignored (a job a
        # shell without job control started with `&`): Python keeps an ignored SIGINT.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        spec = ClusterSpec(
            nodes=nodes,
            k=k,
            rogue_nodes=rogue_nodes,
            platform=platform,
            model=model,
            llama_python=llama_python,
            request_timeout=60.0 if model is None else 600.0,
            gateways=gateways,
            issuers=issuers,
            redis_url=redis,
            ledger_database=ledger_database,
            gateway_key_lifetime=gateway_key_lifetime,
            gateway_key_announce=gateway_key_announce,
            cosignature_max_age=cosignature_max_age,
            cosignature_max_skew=cosignature_max_skew,
        )
        cluster = Cluster(home, spec, progress=console.print)
        try:
            cluster.start()
            if as_json:
                parties = {name: party.url for name, party in sorted(cluster.parties.items())}
                release = cluster.release
                up_doc = {
                    "home": str(home),
                    "client_config": str(home / "client" / "config.json"),
                    "parties": parties,
                    "platform": platform,
                    "release": None
                    if release is None
                    else {
                        "measurement": release.measurement.hex(),
                        "index": release.index,
                        "model_digest": release.model_digest.hex(),
                    },
                }
                typer.echo(json.dumps(up_doc, sort_keys=True))
            console.print(f"[bold green]privproc is up[/] under {home}; Ctrl-C stops every party")
            while not stop.wait(0.5):
                try:
                    cluster.supervise(lambda line: console.print(f"[yellow]{line}[/]"))
                except ConfigError as exc:
                    console.print(f"[red]{exc}; stopping[/]")
                    stop.set()
        except KeyboardInterrupt:
            pass
        finally:
            console.print("stopping every party")
            cluster.stop()
