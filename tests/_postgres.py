"""A real PostgreSQL server for the ledger and consent tests: initdb in a temp dir,
loopback port, stopped after.

PostgreSQL refuses to run as root, so as root the server runs as an unprivileged
user (``postgres`` if the system has one, else ``nobody``) through ``setpriv``
(or ``runuser``); the temp dir is handed to that user. Missing binaries fail the
test that needs them, loudly: nothing is skipped.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests._servers import free_port

__all__ = ["PostgresServer", "running_postgres"]


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if candidates:
        return candidates[-1]
    raise RuntimeError(f"PostgreSQL binary {name!r} not found (run `make services`)")


def _as_user() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that drops root, and the user it drops to."""
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        setpriv = shutil.which("setpriv")
        if setpriv:
            prefix = [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
            return prefix, user
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", name, "--"], user
    raise RuntimeError("running as root with no unprivileged user or setpriv/runuser to drop to")


@dataclass(frozen=True)
class PostgresServer:
    """A running server: connect as ``postgres`` to ``host:port``."""

    host: str
    port: int

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{dbname}"

    def new_database(self, *, icu_locale: str | None = None) -> str:
        """Create an empty database (collating by ``icu_locale`` if given, else "C");
        return its URL."""
        name = "t_" + uuid.uuid4().hex[:16]
        sql = f'CREATE DATABASE "{name}"'
        if icu_locale is not None:
            sql += (
                f" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}'"
            )
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)
        return self.url(name)


@contextlib.contextmanager
def running_postgres(timeout: float = 30.0) -> Iterator[PostgresServer]:
    """Start a throwaway PostgreSQL server; stop it and remove its files after."""
    initdb, postgres, pg_ctl = _binary("initdb"), _binary("postgres"), _binary("pg_ctl")
    prefix, user = _as_user()
    base = Path(tempfile.mkdtemp(prefix="privproc-pg-", dir="/tmp"))
    if user is not None:
        os.chown(base, user.pw_uid, user.pw_gid)
    data = base / "data"
    log_path = base / "server.log"
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [*prefix, initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--no-sync"],
            check=True, capture_output=True, timeout=120, env=env, cwd=base,
        )  # fmt: skip
        port = free_port()
        with open(log_path, "wb") as log:
            server = subprocess.Popen(
                [*prefix, postgres, "-D", str(data), "-k", str(base), "-h", "127.0.0.1",
                 "-p", str(port), "-F", "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off"],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=base,
            )  # fmt: skip
        pg = PostgresServer("127.0.0.1", port)
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError("postgres exited at start:\n" + log_path.read_text()[-2000:])
            try:
                with psycopg.connect(pg.url(), connect_timeout=2):
                    break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError("postgres did not accept connections in time") from None
                time.sleep(0.1)
        yield pg
    finally:
        if server is not None:
            subprocess.run(
                [*prefix, pg_ctl, "-D", str(data), "-m", "fast", "-w", "-t", "20", "stop"],
                capture_output=True, timeout=30, env=env, cwd=base, check=False,
            )  # fmt: skip
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)
