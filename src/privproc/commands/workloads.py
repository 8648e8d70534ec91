"""``privproc workloads ...``: the AI features run locally, for developers and releases.

``summarize`` and ``rewrite`` run the embedded model in this process (no enclave, no
network): the device-side ``privproc summarize`` / ``privproc rewrite`` send the same
request to an attested node instead. ``model-files`` lists what a release measures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from privproc.errors import ConfigError, DecodeError


def register(app: typer.Typer) -> None:
    """Add the ``workloads`` command group."""
    group = typer.Typer(help="Run the AI features locally (embedded model, no network).")
    app.add_typer(group, name="workloads")

    @group.command("summarize")
    def summarize(
        chat: Annotated[Path, typer.Option("--chat", help="chat JSON file (DESIGN.md format)")],
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    ) -> None:
        """Summarize the chat's unread messages."""
        from privproc.workloads import Chat, load_default_backend, summarize_unread

        try:
            data = json.loads(chat.read_bytes())
        except OSError as exc:
            raise ConfigError(f"cannot read chat file: {type(exc).__name__}") from None
        except ValueError:
            raise DecodeError("chat file is not JSON") from None
        summary = summarize_unread(Chat.from_json(data), backend=load_default_backend())
        if as_json:
            typer.echo(json.dumps(summary.to_json(), ensure_ascii=False))
        else:
            typer.echo(summary.text)

    @group.command("rewrite")
    def rewrite(
        draft: Annotated[str, typer.Option("--draft", help="the text to rewrite")],
        tone: Annotated[
            list[str] | None,
            typer.Option("--tone", help="professional, friendly, concise or playful (repeatable)"),
        ] = None,
        language: Annotated[str | None, typer.Option("--language", help="en, fr, ...")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    ) -> None:
        """Proofread a draft and rewrite it in the given tones (all four by default)."""
        from privproc.workloads import TONES, suggest_rewrites

        result = suggest_rewrites(draft, tone or list(TONES), language=language)
        if as_json:
            typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
            return
        typer.echo(f"proofread: {result.proofread}")
        for item in result.rewrites:
            typer.echo(f"{item.tone}: {item.text}")

    @group.command("model-files")
    def model_files_command(
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    ) -> None:
        """List the model files an enclave release measures."""
        from privproc.workloads import model_files

        paths = [str(p) for p in model_files()]
        typer.echo(json.dumps(paths) if as_json else "\n".join(paths))
