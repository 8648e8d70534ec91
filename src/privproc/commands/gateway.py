"""``privproc gateway``: the operator's OHTTP gateway, one party."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``gateway`` command."""

    @app.command()
    def gateway(
        *,
        node: Annotated[list[str], typer.Option(help="An enclave node's URL (repeat).")],
        issuer: Annotated[str, typer.Option(help="The token issuer's URL.")],
        ledger: Annotated[str, typer.Option(help="The ledger's URL.")],
        ledger_token: Annotated[Path, typer.Option(help="File with the ledger's append token.")],
        publisher: Annotated[Path, typer.Option(help="The operator's record-signing key file.")],
        home: Annotated[Path, typer.Option(help="The gateway folder (spent tokens, keys).")],
        issuer_name: Annotated[str, typer.Option(help="Issuer name in the token challenge.")] = (
            "issuer.privproc.local"
        ),
        origin: Annotated[str, typer.Option(help="Origin name in the token challenge.")] = (
            "gateway.privproc.local"
        ),
        key_lifetime: Annotated[
            int, typer.Option(help="Seconds each OHTTP key is current (valid twice as long).")
        ] = 3600,
        key_announce: Annotated[
            int,
            typer.Option(
                help="Seconds a new key config is in the ledger before it starts (more than"
                " the devices' cosignature max age plus skew; less than --key-lifetime)."
            ),
        ] = 1200,
        redis: Annotated[
            str | None, typer.Option(help="Redis URL of a spent-token store shared by replicas.")
        ] = None,
        node_timeout: Annotated[
            float, typer.Option(help="Seconds to wait for a node's answer (a model writes slowly).")
        ] = 60.0,
        replica: Annotated[
            str | None,
            typer.Option(
                help="This replica's name: share one key sequence with the other replicas"
                " in --redis (private keys wrapped under the KEK)."
            ),
        ] = None,
        kek_file: Annotated[
            Path | None,
            typer.Option(
                help="File with the key-encryption key (64 hex characters; default:"
                " $PRIVPROC_GATEWAY_KEK). Only with --replica."
            ),
        ] = None,
        keys_database: Annotated[
            str | None,
            typer.Option(
                help="postgresql:// URL holding the replicas' key sequence and its lease"
                " (default: --redis). Only with --replica."
            ),
        ] = None,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8082,
    ) -> None:
        """Run the gateway: decapsulate, redeem the token once, forward to a named node."""
        from privproc.errors import ConfigError
        from privproc.gateway.service import GatewaySetup, run_gateway

        try:
            token = ledger_token.read_text(encoding="utf-8").strip()
        except OSError:
            raise ConfigError(f"ledger token unreadable: {ledger_token}") from None
        home.mkdir(parents=True, exist_ok=True)
        setup = GatewaySetup(
            nodes=tuple(node),
            issuer_url=issuer,
            issuer_name=issuer_name,
            origin=origin,
            ledger_url=ledger,
            ledger_token=token,
            publisher=publisher,
            spent=home / "spent.sqlite",
            key_lifetime=key_lifetime,
            key_announce=key_announce,
            keys_file=home / "ohttp-keys.json",
            redis_url=redis,
            node_timeout=node_timeout,
            replica=replica,
            kek_file=kek_file,
            keys_database=keys_database,
        )
        run_gateway(setup, host, port)
