"""``python -m privproc`` runs the CLI."""

from privproc.cli import main

main()
