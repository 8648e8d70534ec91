"""``python -m privproc.enclave``: the node's own entry point (no general CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer.core
import typer.main

import privproc
from privproc.cli import build_app
from privproc.enclave.__main__ import parser


def _argparse_options() -> set[str]:
    return {o for a in parser()._actions for o in a.option_strings} - {"-h", "--help"}


def test_same_options_as_privproc_enclave() -> None:
    group = typer.main.get_command(build_app())
    assert isinstance(group, typer.core.TyperGroup)
    command = group.commands["enclave"]
    options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    assert _argparse_options() == options - {"--help"}


def test_defaults_and_debug_flag() -> None:
    base = ["--node-id", "n", "--home", "h", "--platform-seed", "s"]
    args = parser().parse_args(base)
    assert (args.host, args.port, args.config, args.debug) == ("127.0.0.1", 8090, None, False)
    assert (args.key_lifetime, args.key_grace, args.evidence_refresh) == (3600.0, 600.0, 300.0)
    assert parser().parse_args([*base, "--debug"]).debug is True
    assert parser().parse_args([*base, "--debug", "--no-debug"]).debug is False


def test_error_is_one_line_and_non_zero(tmp_path: Path) -> None:
    src = Path(privproc.__file__).resolve().parent.parent
    options = ["--node-id", "n", "--home", str(tmp_path / "absent")]
    options += ["--platform-seed", str(tmp_path / "seed")]
    out = subprocess.run(
        [sys.executable, "-m", "privproc.enclave", *options],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(src)},
        check=False,
    )
    assert out.returncode == 1
    assert out.stderr.startswith("privproc.enclave: error: node home is not a folder")
    assert "Traceback" not in out.stderr
