"""Device commands: ``privproc summarize|rewrite|verify|report``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

_Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
_Stream = Annotated[
    bool,
    typer.Option(
        "--stream",
        help="Print the answer as it arrives (JSON lines with --json; docs/streaming.md).",
    ),
]


def _print_events(stream: Any, as_json: bool, last: Any) -> None:
    """Each event of a :class:`privproc.client.sdk.Stream` as it arrives: the text, or one
    JSON line per event whose last line is what ``--json`` prints without ``--stream``."""
    for event in stream:
        if "done" in event:
            if as_json:
                typer.echo(json.dumps(last(event["done"], stream.report), ensure_ascii=False))
            continue
        if as_json:
            typer.echo(json.dumps(event, ensure_ascii=False))
        elif "tone" in event:
            typer.echo(f"{event['tone']}: {event['delta']}")
        elif "withdrawn" in event:
            why = event["withdrawn"]["why"]
            typer.echo(f"\n[withdrawn: the model's summary above was refused ({why});")
            typer.echo("the embedded summary instead:]")
        else:
            typer.echo(event.get("delta", ""), nl=False)
    if not as_json:
        typer.echo("")


def _load_chat(path: Path) -> Any:
    from privproc.errors import ConfigError, DecodeError
    from privproc.workloads.chat import Chat

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise ConfigError(f"chat file unreadable: {path}") from None
    except ValueError:
        raise DecodeError("chat file is not JSON") from None
    return Chat.from_json(raw)


def _stream_summary(parsed: Any, as_json: bool) -> None:
    from privproc.client.session import open_device

    with open_device() as device:
        _print_events(
            device.stream_summarize(parsed),
            as_json,
            lambda done, report: {
                "summary": done["summary"]["text"],
                "details": done["summary"],
                "report": asdict(report),
            },
        )


def _stream_rewrite(draft: str, tones: list[str], parsed: Any, as_json: bool) -> None:
    from privproc.client.session import open_device

    with open_device() as device:
        _print_events(
            device.stream_rewrite(draft, tones, chat=parsed),
            as_json,
            lambda done, report: {"rewrites": done["rewrites"], "report": asdict(report)},
        )


def _print_report(entries: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="requests sent from this device")
    for col in (
        "time",
        "feature",
        "bytes",
        "named nodes",
        "answered by",
        "measurement",
        "release idx",
        "checkpoint",
    ):
        table.add_column(col)
    for e in entries:
        table.add_row(
            e["time"],
            e["feature"],
            str(e["sealed_bytes"]),
            ", ".join(n["node"] for n in e["named"]),
            e["answered_by"],
            e["measurement"][:16] + "...",
            str(e["release_index"]),
            str(e["checkpoint_size"]),
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the device commands."""

    @app.command()
    def summarize(
        *,
        chat: Annotated[Path, typer.Option(help="Chat JSON file.")],
        as_json: _Json = False,
        stream: _Stream = False,
    ) -> None:
        """Summarize a chat's unread messages, privately (verified nodes only)."""
        from privproc.client.session import open_device

        parsed = _load_chat(chat)
        if stream:
            _stream_summary(parsed, as_json)
            return
        with open_device() as device:
            answer = device.summarize(parsed)
        summary = answer.result["summary"]
        if as_json:
            typer.echo(
                json.dumps(
                    {"summary": summary["text"], "details": summary, "report": _report(answer)},
                    ensure_ascii=False,
                )
            )
        else:
            typer.echo(summary["text"])

    @app.command()
    def rewrite(
        *,
        draft: Annotated[str, typer.Option(help="The draft message.")],
        tone: Annotated[list[str], typer.Option(help="Tone (repeat): professional, friendly, ...")],
        chat: Annotated[
            Path | None,
            typer.Option(
                help="The chat JSON the draft is for (not sent): refused if ai_blocked is on."
            ),
        ] = None,
        as_json: _Json = False,
        stream: _Stream = False,
    ) -> None:
        """Writing suggestions for a draft, privately."""
        from privproc.client.session import open_device

        parsed = _load_chat(chat) if chat is not None else None
        if stream:
            _stream_rewrite(draft, tone, parsed, as_json)
            return
        with open_device() as device:
            answer = device.rewrite(draft, tone, chat=parsed)
        rewrites = answer.result["rewrites"]
        if as_json:
            typer.echo(
                json.dumps({"rewrites": rewrites, "report": _report(answer)}, ensure_ascii=False)
            )
        else:
            for name, text in rewrites["rewrites"].items():
                typer.echo(f"{name}: {text}")

    @app.command()
    def verify(*, as_json: _Json = False) -> None:
        """Fetch and verify the directory; print the verification trail."""
        from privproc.client.session import open_device

        with open_device() as device:
            result = device.verify(force=True)
        steps = [
            {"subject": s.subject, "check": s.check, "ok": s.ok, "detail": s.detail}
            for s in result.trail
        ]
        if as_json:
            typer.echo(json.dumps({"trail": steps, "nodes": [n.node for n in result.nodes]}))
        else:
            from privproc.client.trail import print_trail

            print_trail(result.trail)

    @app.command()
    def report(*, as_json: _Json = False) -> None:
        """What this device sent, to which node and measurement, when."""
        from privproc.client.config import client_home
        from privproc.client.report import read_reports

        entries = read_reports(client_home())
        if as_json:
            typer.echo(json.dumps(entries))
            return
        _print_report(entries)


def _report(answer: Any) -> dict[str, Any]:
    return asdict(answer.report)
