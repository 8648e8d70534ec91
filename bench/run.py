"""Run every benchmark in bench/: print one table and write JSON to bench/results/.

Usage: ``python bench/run.py [NAME ...]`` (default: every ``bench/*.py`` with a ``run()``).
Each module's ``run() -> list[Row]`` measures its figures and their baselines in the same run.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent))  # tests._harness: the in-memory path some benches use

from _common import Row, machine  # noqa: E402


def main(argv: list[str]) -> int:
    names = argv or sorted(
        p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_") and p.stem != "run"
    )
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    table = Table(title="privproc benchmarks (ratio = figure / same-run baseline)")
    for col in ("bench", "figure", "value", "unit", "baseline", "baseline value", "ratio", "note"):
        table.add_column(col)
    everything: dict[str, object] = {
        "machine": machine(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    for name in names:
        module = importlib.import_module(name)
        rows: list[Row] = module.run()
        everything[name] = [r.as_dict() for r in rows]
        (out_dir / f"{name}.json").write_text(
            json.dumps([r.as_dict() for r in rows], indent=2) + "\n"
        )
        for r in rows:
            table.add_row(
                r.bench,
                r.name,
                f"{r.value:,.4g}",
                r.unit,
                r.baseline_name,
                f"{r.baseline:,.4g}",
                f"{r.ratio:.3f}",
                r.note,
            )
    (out_dir / "all.json").write_text(json.dumps(everything, indent=2) + "\n")
    Console(width=240).print(table)
    print(f"JSON written to {out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
