"""Privacy Pass token figures: issuance (blind signing) and redemption rates.

* BlindSign (RFC 9474 §4.3, CRT, with the s^e = m self-check) on our raw RSA, with
  gmpy2 and with Python's ``pow``, next to OpenSSL's RSA-2048 RSASSA-PSS signing
  through ``cryptography`` (the same private-key operation, measured in the same run).
* Issuer evaluate (parse the request, pick the key, BlindSign) per second.
* Redemptions per second (verify + spend once) with the SQLite and the Redis spent
  store, next to OpenSSL RSA-PSS verification alone (the floor of a redemption).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from _common import Row, rate, row

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from privproc.stores.spent import RedisSpentStore, SqliteSpentStore
from privproc.tokens import blind_rsa, issuance
from privproc.tokens.blind_rsa import PrivateKey, Variant
from privproc.tokens.protocol import Token, TokenChallenge, TokenRequest
from privproc.tokens.redeem import Redeemer
from privproc.tokens.spent import SpentStore

BENCH = "tokens"
CHALLENGE = TokenChallenge(2, "issuer.example", b"", "gateway.example")
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)


@contextmanager
def _redis() -> Iterator[str | None]:
    exe = shutil.which("redis-server")
    if exe is None:
        yield None
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [
                exe,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                tmp,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _tokens(pair: issuance.IssuerKeyPair, n: int) -> list[Token]:
    out = []
    for _ in range(n):
        request, pending = issuance.begin(pair.token_key, CHALLENGE)
        out.append(issuance.finish(pending, issuance.evaluate([pair], request)))
    return out


def _redeem_rate(pair: issuance.IssuerKeyPair, store: SpentStore, tokens: list[Token]) -> float:
    redeemer = Redeemer((pair.token_key,), (CHALLENGE,), store)
    it = iter(tokens)

    def one() -> None:
        redeemer.redeem(next(it), now=time.time())

    return rate(one, min_time=1.0)


def _concurrent_redeem_rate(
    pair: issuance.IssuerKeyPair, store: SpentStore, tokens: list[Token], threads: int
) -> float:
    """Redemptions per second from ``threads`` threads at once (a gateway's worker
    threads), each token once: the spends group-commit (issue 18)."""
    redeemer = Redeemer((pair.token_key,), (CHALLENGE,), store)
    shares = [tokens[i::threads] for i in range(threads)]

    def work(share: list[Token]) -> None:
        for token in share:
            redeemer.redeem(token, now=time.time())

    with ThreadPoolExecutor(threads) as pool:
        start = time.perf_counter()
        list(pool.map(work, shares))
        return len(tokens) / (time.perf_counter() - start)


def _python_blind_sign(sk: PrivateKey, blinded: bytes) -> bytes:
    """The baseline: the same CRT signature and self-check with Python's own ``pow``
    (not constant-time: a bench copy only, never a library option)."""
    pk = sk.public_key
    m = int.from_bytes(blinded, "big")
    s1, s2 = pow(m, sk.dp, sk.p), pow(m, sk.dq, sk.q)
    s = s2 + ((sk.qinv * (s1 - s2)) % sk.p) * sk.q
    if pow(s, pk.e, pk.n) != m:
        raise RuntimeError("signing failure")
    return s.to_bytes(pk.modulus_len, "big")


def run() -> list[Row]:
    crypto_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sk = PrivateKey.from_cryptography(crypto_key)
    pair = issuance.IssuerKeyPair.from_private_key(sk)
    blinded, _ = blind_rsa.blind(sk.public_key, b"bench", Variant.PSS_DETERMINISTIC)
    request = TokenRequest(pair.token_key.truncated_key_id, blinded)
    msg = b"x" * 98

    openssl_sign = rate(lambda: crypto_key.sign(msg, _PSS, hashes.SHA384()))
    gmp = rate(lambda: blind_rsa.blind_sign(sk, blinded))
    python = rate(lambda: _python_blind_sign(sk, blinded))
    evaluate = rate(lambda: issuance.evaluate([pair], request))
    rows = [
        row(
            BENCH,
            "BlindSign RSA-2048, gmpy2 powmod_sec CRT",
            gmp,
            "op/s",
            "OpenSSL RSA-2048 PSS sign",
            openssl_sign,
            "includes the s^e = m self-check",
        ),
        row(
            BENCH,
            "BlindSign RSA-2048, Python pow CRT",
            python,
            "op/s",
            "OpenSSL RSA-2048 PSS sign",
            openssl_sign,
            "includes the s^e = m self-check",
        ),
        row(
            BENCH,
            "issuer evaluate (tokens issued)",
            evaluate,
            "tokens/s",
            "OpenSSL RSA-2048 PSS sign",
            openssl_sign,
            "gmpy2 backend, one core",
        ),
    ]

    public = crypto_key.public_key()
    signature = crypto_key.sign(msg, _PSS, hashes.SHA384())
    openssl_verify = rate(lambda: public.verify(signature, msg, _PSS, hashes.SHA384()))
    n = int(openssl_verify * 2) + 200  # enough fresh tokens for the measuring window
    tokens = _tokens(pair, n)
    concurrent_tokens = _tokens(pair, 4000)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_store = SqliteSpentStore(Path(tmp) / "spent.db")
        sqlite_rate = _redeem_rate(pair, sqlite_store, tokens[: n // 2])
        commits = sqlite_store.commits
        concurrent_rate = _concurrent_redeem_rate(pair, sqlite_store, concurrent_tokens, 16)
        groups = len(concurrent_tokens) / max(1, sqlite_store.commits - commits)
        sqlite_store.close()
    rows.append(
        row(
            BENCH,
            "redemptions, SQLite spent store",
            sqlite_rate,
            "tokens/s",
            "OpenSSL RSA-2048 PSS verify",
            openssl_verify,
            "verify + spend once, WAL file, one caller: one durable commit per spend",
        )
    )
    rows.append(
        row(
            BENCH,
            "redemptions, SQLite spent store, 16 concurrent callers",
            concurrent_rate,
            "tokens/s",
            "OpenSSL RSA-2048 PSS verify",
            openssl_verify,
            f"group commit: {groups:.1f} spends per durable commit (synchronous=FULL); "
            f"{len(concurrent_tokens)} tokens",
        )
    )
    with _redis() as url:
        if url is not None:
            redis_store = RedisSpentStore(url)
            redis_rate = _redeem_rate(pair, redis_store, tokens[n // 2 :])
            redis_store.close()
            rows.append(
                row(
                    BENCH,
                    "redemptions, Redis spent store",
                    redis_rate,
                    "tokens/s",
                    "OpenSSL RSA-2048 PSS verify",
                    openssl_verify,
                    "verify + SET NX PXAT, loopback",
                )
            )
    return rows


if __name__ == "__main__":
    for r in run():
        print(
            f"{r.name:45s} {r.value:10.1f} {r.unit:9s} {r.baseline_name}: {r.baseline:.1f}"
            f"  ratio {r.ratio:.3f}"
        )
