"""HAProxy in front of gateway or issuer replicas (issue 16 item 2), on loopback.

:func:`haproxy_config` writes the configuration ``privproc up --gateways N --issuers M``
starts one HAProxy with per replicated party (``haproxy -f FILE -db``: foreground, so
``up`` supervises it like any other party). Round robin over the replicas; each is checked
with ``GET /healthz`` every half second and taken out after two failures. A request whose
connection to a replica fails is sent to another (``retry-on conn-failure`` with
``option redispatch``): nothing reached the dead replica, so nothing is sent twice. A
request that reached a replica which then died is *not* retried by the balancer (its token
may be spent); the relay answers 502 and the device retries once with a fresh token
(:meth:`privproc.client.sdk.PrivateClient`).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from privproc.errors import ConfigError, MisuseError

__all__ = ["haproxy_binary", "haproxy_config"]


def haproxy_binary() -> str:
    """The ``haproxy`` executable (Debian's package, ``make services``)."""
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if found is None:
        raise ConfigError("haproxy is not installed (make services, or apt-get install haproxy)")
    return found


def haproxy_config(
    name: str, host: str, port: int, replicas: Sequence[tuple[str, str]], *, timeout: float
) -> str:
    """The configuration of one balancer listening on ``host:port`` for ``replicas``
    (``(name, base URL)`` pairs); ``timeout``: seconds a replica may take to answer."""
    if not replicas:
        raise MisuseError("a balancer needs at least one replica")
    servers = []
    for replica, url in replicas:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise MisuseError(f"replica URL must be http://host:port, got {url!r}")
        if not replica.replace("-", "").isalnum():
            raise MisuseError(f"replica name must be alphanumeric with dashes: {replica!r}")
        servers.append(f"    server {replica} {parts.hostname}:{parts.port} check")
    server_timeout = max(1, int(timeout) + 5)
    lines = [
        "# Written by privproc up; one balancer per replicated party.",
        "global",
        "    maxconn 2048",
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 30s",
        f"    timeout server {server_timeout}s",
        "    timeout http-request 10s",
        "    retries 3",
        "    retry-on conn-failure",
        "    option redispatch 1",
        f"frontend {name}",
        f"    bind {host}:{port}",
        f"    default_backend {name}-replicas",
        f"backend {name}-replicas",
        "    balance roundrobin",
        "    option httpchk GET /healthz",
        "    http-check expect status 200",
        "    default-server inter 500ms fall 2 rise 2",
        *servers,
        "",
    ]
    return "\n".join(lines)
