"""Printing a verification trail with rich (shared by ``verify`` and ``demo``)."""

from __future__ import annotations

from collections.abc import Iterable

from privproc.client.verify import Step


def print_trail(trail: Iterable[Step], title: str = "verification trail") -> None:
    """A table: subject, check, pass/fail, detail."""
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
    Console().print(table)
