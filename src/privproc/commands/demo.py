"""``privproc demo`` (temporary): one in-process OHTTP round trip, printed with rich.

The end-to-end demo (every party on loopback) replaces this command when it lands.
"""

from __future__ import annotations

import json

import typer


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command."""

    @app.command()
    def demo(
        as_json: bool = typer.Option(False, "--json", help="Print machine-readable output."),
    ) -> None:
        """Run a small OHTTP round trip in-process (RFC 9458 over RFC 9180 HPKE)."""
        from rich.console import Console
        from rich.table import Table

        from privproc import ohttp

        gateway_key = ohttp.ServerKey.generate(1)
        request = b"GET /health"  # a stand-in for a Binary HTTP request
        enc_request, client_ctx = ohttp.encapsulate_request(gateway_key.config, request)
        got, server_ctx = ohttp.decapsulate_request(gateway_key, enc_request)
        enc_response = server_ctx.seal(b"200 OK")
        response = client_ctx.open(enc_response)
        ok = got == request and response == b"200 OK"
        suite = client_ctx.suite
        facts = {
            "key_id": gateway_key.config.key_id,
            "suite": f"{suite.kem.name} / {suite.kdf.name} / {suite.aead.name}",
            "key_config_bytes": len(gateway_key.config.encode()),
            "encapsulated_request_bytes": len(enc_request),
            "encapsulated_response_bytes": len(enc_response),
            "round_trip": "ok" if ok else "FAILED",
        }
        if as_json:
            typer.echo(json.dumps(facts))
        else:
            table = Table(title="privproc demo: one OHTTP round trip, in process")
            table.add_column("step")
            table.add_column("result")
            for k, v in facts.items():
                table.add_row(k.replace("_", " "), str(v))
            Console().print(table)
        if not ok:
            raise typer.Exit(1)
