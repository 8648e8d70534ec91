"""A throwaway PostgreSQL server for the ledger tests (initdb in a temp dir, loopback port).

PostgreSQL refuses to run as root, so as root it runs as ``postgres`` (or ``nobody``)
through ``setpriv``/``runuser``. Missing binaries fail the test loudly.
(Same approach as the consent area's helper; the two can merge into one.)
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg


def _binary(name: str) -> str:
    found = (
        shutil.which(name) or (sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [None])[-1]
    )
    if not found:
        raise RuntimeError(f"PostgreSQL binary {name!r} not found")
    return found


def _drop_root() -> tuple[list[str], pwd.struct_passwd | None]:
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        if shutil.which("setpriv"):
            return [
                "setpriv",
                f"--reuid={user.pw_uid}",
                f"--regid={user.pw_gid}",
                "--clear-groups",
            ], user
        if shutil.which("runuser"):
            return ["runuser", "-u", name, "--"], user
    raise RuntimeError("running as root with no way to drop privileges for postgres")


@contextlib.contextmanager
def postgres_url(timeout: float = 30.0) -> Iterator[str]:
    """Start a server; yield a URL for a fresh database; stop and delete it after."""
    prefix, user = _drop_root()
    base = Path(tempfile.mkdtemp(prefix="privproc-ledger-pg-", dir="/tmp"))
    if user is not None:
        os.chown(base, user.pw_uid, user.pw_gid)
    data, log_path = base / "data", base / "server.log"
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [*prefix, _binary("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, timeout=120, env=env, cwd=base,
        )  # fmt: skip
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with open(log_path, "wb") as log:
            server = subprocess.Popen(
                [*prefix, _binary("postgres"), "-D", str(data), "-k", str(base), "-h", "127.0.0.1",
                 "-p", str(port)],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=base,
            )  # fmt: skip
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError("postgres exited:\n" + log_path.read_text()[-2000:])
            try:
                with psycopg.connect(url, connect_timeout=2):
                    break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError("postgres did not start in time") from None
                time.sleep(0.1)
        yield url
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)  # fast shutdown
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)
