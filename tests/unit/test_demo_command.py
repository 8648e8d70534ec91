"""The temporary ``privproc demo`` runs one OHTTP round trip and reports it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from privproc.cli import build_app


def test_demo_json() -> None:
    result = CliRunner().invoke(build_app(), ["demo", "--json"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)
    assert facts["round_trip"] == "ok"
    assert facts["encapsulated_response_bytes"] == 16 + len(b"200 OK") + 16
