"""A gateway-like process for the double-spend test: redeem one token against shared Redis.

Usage: python -m tests.system._redeem_worker REDIS_URL SPKI_HEX CHALLENGE_HEX TOKEN_HEX GO_FILE
Creates GO_FILE.ready-<pid> when set up, waits for GO_FILE (so every worker starts
together), then prints one word:
``redeemed``, ``replay`` or ``error:<code>``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from privproc.errors import PrivprocError, ReplayError
from privproc.stores.spent import RedisSpentStore
from privproc.tokens.protocol import Token, TokenChallenge, TokenKey
from privproc.tokens.redeem import Redeemer


def main(argv: list[str]) -> int:
    url, spki, challenge, token, go = argv
    redeemer = Redeemer(
        (TokenKey.decode(bytes.fromhex(spki)),),
        (TokenChallenge.decode(bytes.fromhex(challenge)),),
        RedisSpentStore(url),
    )
    parsed = Token.decode(bytes.fromhex(token))
    Path(f"{go}.ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 20
    while not Path(go).exists():
        if time.monotonic() > deadline:
            print("error:timeout")
            return 1
        time.sleep(0.01)
    try:
        redeemer.redeem(parsed, now=time.time())
    except ReplayError:
        print("replay")
    except PrivprocError as exc:
        print(f"error:{exc.code}")
    else:
        print("redeemed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
