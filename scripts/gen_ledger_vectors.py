"""Generate tests/vectors/data/ledger/merkle.json (RFC 9162 has no official vectors).

Run: ``PYTHONPATH=src python scripts/gen_ledger_vectors.py``. The test suite checks the
file against an independent naive implementation of RFC 9162 §2.1.
"""

from __future__ import annotations

import json
from pathlib import Path

from privproc.ledger.merkle import MemoryTree, consistency_proof, inclusion_proof

OUT = Path(__file__).resolve().parents[1] / "tests" / "vectors" / "data" / "ledger" / "merkle.json"


def main() -> None:
    entries = [bytes([i]) * (i % 7) for i in range(64)]
    tree = MemoryTree()
    for e in entries:
        tree.append(e)
    pairs = [(0, 1), (0, 8), (5, 8), (6, 7), (13, 21), (63, 64), (31, 33), (17, 64)]
    cons = [(1, 2), (1, 8), (3, 7), (4, 8), (6, 8), (2, 5), (21, 64), (33, 63), (63, 64)]
    data = {
        "entries_hex": [e.hex() for e in entries],
        "roots": {str(n): tree.root(n).hex() for n in range(0, 65)},
        "inclusion": [
            {"index": i, "size": n, "proof": [p.hex() for p in inclusion_proof(tree, i, n)]}
            for i, n in pairs
        ],
        "consistency": [
            {"old": o, "new": n, "proof": [p.hex() for p in consistency_proof(tree, o, n)]}
            for o, n in cons
        ],
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
