"""``privproc release``: record this enclave release's measurement in the ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``release`` and ``revoke`` commands."""

    @app.command()
    def release(
        *,
        ledger: Annotated[str, typer.Option(help="The ledger's URL.")],
        ledger_token: Annotated[Path, typer.Option(help="File with the ledger's append token.")],
        publisher: Annotated[Path, typer.Option(help="The publisher key file (NAME HEX).")],
        config: Annotated[Path | None, typer.Option(help="Release config (measured).")] = None,
        model: Annotated[
            Path | None,
            typer.Option(help="The GGUF file the release's nodes serve (--model of enclave)."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Measure the enclave code, model and config; sign and append the release record."""
        from privproc.cluster.release import record_release
        from privproc.enclave.service import release_config
        from privproc.gateway.service import load_publisher

        result = record_release(
            ledger,
            ledger_token.read_text(encoding="utf-8").strip(),
            load_publisher(publisher),
            config=release_config(config),
            generative_model=model,
        )
        out = {
            "measurement": result.measurement.hex(),
            "index": result.index,
            "version": result.version,
            "model_digest": result.model_digest.hex(),
        }
        typer.echo(json.dumps(out) if as_json else f"{out['measurement']} at index {out['index']}")

    @app.command()
    def revoke(
        *,
        ledger: Annotated[str, typer.Option(help="The ledger's URL.")],
        ledger_token: Annotated[Path, typer.Option(help="File with the ledger's append token.")],
        publisher: Annotated[Path, typer.Option(help="The publisher key file (NAME HEX).")],
        reason: Annotated[str, typer.Option(help="Why (public, recorded in the ledger).")],
        kind: Annotated[
            str, typer.Option(help="What is revoked: 'measurement' or 'key_config'.")
        ] = "measurement",
        target: Annotated[
            str | None,
            typer.Option(
                help="Hex: the measurement, or the SHA-256 of the key config. "
                "Default: this release's measurement (with --config)."
            ),
        ] = None,
        config: Annotated[Path | None, typer.Option(help="Release config (measured).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Append a revocation record: devices then refuse that measurement or key config."""
        from privproc.cluster.release import measure, record_revocation
        from privproc.enclave.service import release_config
        from privproc.errors import MisuseError
        from privproc.gateway.service import load_publisher

        if target is None:
            if kind != "measurement":
                raise MisuseError("--target is needed to revoke a key config")
            raw = measure(release_config(config))
        else:
            try:
                raw = bytes.fromhex(target)
            except ValueError:
                raise MisuseError("--target must be hex") from None
        index = record_revocation(
            ledger,
            ledger_token.read_text(encoding="utf-8").strip(),
            load_publisher(publisher),
            kind=kind,
            target=raw,
            reason=reason,
        )
        out = {"kind": kind, "target": raw.hex(), "index": index}
        typer.echo(json.dumps(out) if as_json else f"{kind} {raw.hex()} revoked at index {index}")
