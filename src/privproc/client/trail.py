"""Printing a verification trail with rich (shared by ``verify`` and ``demo``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from privproc.client.verify import Step

__all__ = ["print_trail"]

if TYPE_CHECKING:
    from rich.console import Console


def print_trail(
    trail: Iterable[Step], title: str = "verification trail", console: Console | None = None
) -> None:
    """A table: subject, check, pass/fail, detail (on ``console``, default stdout)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("party")
    table.add_column("check")
    table.add_column("")
    table.add_column("detail")
    for step in trail:
        mark = "[green]pass[/]" if step.ok else "[bold red]REFUSED[/]"
        table.add_row(step.subject, step.check, mark, step.detail)
    (console or Console()).print(table)
