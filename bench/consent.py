"""Training export over 1,000,000 content records: throughput and peak memory.

Baseline, same run, same file: merely reading and JSON-parsing every line. Each
measurement runs in a fresh subprocess, so its peak memory (VmHWM) is its own. The
export reads consent from a SQLite store of 20,000 accounts (mixed regions and
states), one lookup per 1,000 records. A second export of 100,000 records shows
that peak memory does not grow with the input.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from _common import Row, row  # noqa: E402

N = 1_000_000
SMALL = 100_000
ACCOUNTS = 20_000
KINDS = ["public_post"] * 5 + ["comment"] * 3 + ["profile", "private_message", "ai_request"]
REGIONS = ["US", "US", "IN", "JP", "DE", "FR", "GB", "BR"]


def _generate(path: Path, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with path.open("w") as f:
        for i in range(n):
            rec = {
                "id": i,
                "account": f"u{rng.randrange(ACCOUNTS)}",
                "kind": rng.choice(KINDS),
                "created": f"2026-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T10:00:00Z",
                "author_age": rng.choice([None, 12, 16, 17, 19, 25, 40, 63]),
                "text": "lorem ipsum dolor sit amet " * rng.randrange(1, 4),
            }
            if i % 97 == 0:
                f.write("not a record\n")
                continue
            f.write(json.dumps(rec) + "\n")


def _consent_db(path: Path) -> None:
    from privproc.consent.events import ConsentState
    from privproc.consent_service.sqlite import SqliteStore

    rng = random.Random(2)
    store = SqliteStore(path)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for a in range(ACCOUNTS):
        account = f"u{a}"
        store.register(account, rng.choice(REGIONS), a.to_bytes(32, "big"), now)
        choice = rng.random()
        if choice < 0.4:
            store.change(account, ConsentState.GRANTED, "user", now)
        elif choice < 0.6:
            store.change(account, ConsentState.REFUSED, "objection", now)
    store.close()


def _child(mode: str, src: str, db: str, out: str) -> None:
    if mode == "parse":
        base_kib = _peak_kib()
        start = time.perf_counter()
        n = 0
        with open(src, "rb") as f:
            for line in f:
                with contextlib.suppress(ValueError):
                    json.loads(line)
                n += 1
        written = 0
    else:
        from privproc.consent.export import Exporter
        from privproc.consent.files import iter_lines
        from privproc.consent_service.sqlite import SqliteStore

        store = SqliteStore(db)
        exporter = Exporter(store.statuses)
        base_kib = _peak_kib()
        start = time.perf_counter()
        with open(src, "rb") as f, open(out, "wb") as dst:
            for line in exporter.filter(iter_lines(f)):
                dst.write(line)
        store.close()
        report = exporter.report()
        n, written = report.read, report.written
    seconds = time.perf_counter() - start
    result = {"n": n, "written": written, "seconds": seconds, "peak_kib": _peak_kib()}
    print(json.dumps({**result, "base_kib": base_kib}))


def _peak_kib() -> int:
    """This process's peak resident set, in KiB.

    Linux's VmHWM is this process image's own high-water mark; ``ru_maxrss`` would
    also count the parent's pages at fork, which it keeps across exec.
    """
    try:
        for text in Path("/proc/self/status").read_text().splitlines():
            if text.startswith("VmHWM:"):
                return int(text.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _measure(mode: str, src: Path, db: Path, out: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(src), str(db), str(out)],
        capture_output=True,
        text=True,
        check=True,
        timeout=1200,
    )
    measured: dict[str, float] = json.loads(result.stdout)
    return measured


def run() -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="privproc-bench-consent-") as tmp:
        base = Path(tmp)
        big, small = base / "records.jsonl", base / "small.jsonl"
        # The consent DB is set up (32,000 durable commits) on tmpfs when there is one: its
        # set-up time is not measured, and the export only reads it.
        shm = Path("/dev/shm")
        db_dir = Path(
            tempfile.mkdtemp(dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else base)
        )
        db = db_dir / "consent.db"
        _generate(big, N)
        _generate(small, SMALL)
        _consent_db(db)
        size_mib = big.stat().st_size / 2**20
        parse = _measure("parse", big, db, base / "unused")
        export = _measure("export", big, db, base / "eligible.jsonl")
        export_small = _measure("export", small, db, base / "eligible-small.jsonl")
        shutil.rmtree(db_dir, ignore_errors=True)
    note = f"{N:,} records, {size_mib:.0f} MiB, {export['written']:,.0f} eligible"
    return [
        row("consent", "export throughput", export["n"] / export["seconds"], "records/s",
            "read + json.loads only", parse["n"] / parse["seconds"], note),
        row("consent", "export wall time (1M)", export["seconds"], "s",
            "read + json.loads only", parse["seconds"], note),
        row("consent", "export peak RSS (1M)", export["peak_kib"] / 1024, "MiB",
            "read + json.loads only", parse["peak_kib"] / 1024, "bounded: batches of 1,000"),
        row("consent", "export peak RSS (1M)", export["peak_kib"] / 1024, "MiB",
            "export peak RSS (100k)", export_small["peak_kib"] / 1024,
            "ratio ~1: memory does not grow with input"),
        row("consent", "export peak RSS (1M)", export["peak_kib"] / 1024, "MiB",
            "same process after imports + store open", export["base_kib"] / 1024,
            "what reading 1M records adds"),
    ]  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        _child(*sys.argv[2:6])
    else:
        for r in run():
            print(r)
