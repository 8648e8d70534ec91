"""``privproc workloads ...`` in process."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from privproc.cli import build_app
from privproc.workloads.minilm import MiniLM

from ._chats import FAMILY_EN, chat


def test_summarize_json(minilm: MiniLM, tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(chat(FAMILY_EN).to_json()))
    result = CliRunner().invoke(
        build_app(), ["workloads", "summarize", "--chat", str(path), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert "Thursday" in json.loads(result.output)["summary"]


def test_summarize_bad_file_is_a_one_line_error(minilm: MiniLM, tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    path.write_text('{"chat": "x"}')
    result = CliRunner().invoke(build_app(), ["workloads", "summarize", "--chat", str(path)])
    assert result.exit_code != 0


def test_rewrite_and_model_files(minilm: MiniLM) -> None:
    app = build_app()
    result = CliRunner().invoke(
        app, ["workloads", "rewrite", "--draft", "pls call Ana at 5", "--tone", "professional"]
    )
    assert result.exit_code == 0, result.output
    assert "professional: Please call Ana at 5." in result.output
    files = CliRunner().invoke(app, ["workloads", "model-files", "--json"])
    assert any(p.endswith("model.safetensors") for p in json.loads(files.output))
