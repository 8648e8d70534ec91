"""A gateway-like process for the group-commit crash test: spend keys from many threads.

Usage: python -m tests.system._spend_worker DB_FILE THREADS
Each thread spends fresh keys (``thread:n``) on one ``SqliteSpentStore`` as fast as the
group commit allows and prints ``key-hex`` on its own line only after ``spend`` returned
True (the acknowledgement the gateway would forward on). Runs until killed.
"""

from __future__ import annotations

import sys
import threading
import time

from privproc.stores.spent import SqliteSpentStore


def main(argv: list[str]) -> int:
    path, threads = argv[0], int(argv[1])
    store = SqliteSpentStore(path)
    out = threading.Lock()

    def spender(t: int) -> None:
        n = 0
        while True:
            key = f"{t}:{n}".encode()
            n += 1
            now = time.time()
            if not store.spend(key, expires_at=now + 3600, now=now):
                print("error: a fresh key was already spent", flush=True)
                return
            with out:
                sys.stdout.write(key.hex() + "\n")
                sys.stdout.flush()

    workers = [threading.Thread(target=spender, args=(t,), daemon=True) for t in range(threads)]
    print("ready", flush=True)
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
