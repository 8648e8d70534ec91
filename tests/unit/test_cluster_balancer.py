"""The HAProxy configuration `privproc up` writes for replicas, and the replica rules."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from privproc.cluster.balancer import haproxy_config
from privproc.cluster.launch import ClusterSpec
from privproc.errors import ConfigError, MisuseError

REPLICAS = [("gateway-1", "http://127.0.0.1:4001"), ("gateway-2", "http://127.0.0.1:4002")]


def test_config_checks_health_and_retries_only_connection_failures() -> None:
    text = haproxy_config("gateway", "127.0.0.1", 4000, REPLICAS, timeout=60)
    assert "bind 127.0.0.1:4000" in text
    assert "server gateway-1 127.0.0.1:4001 check" in text
    assert "server gateway-2 127.0.0.1:4002 check" in text
    assert "option httpchk GET /healthz" in text
    # A request that reached a replica is never re-sent by the balancer (its token may be
    # spent): only connection failures are retried.
    assert "retry-on conn-failure\n" in text
    assert "timeout server 65s" in text


def test_haproxy_accepts_the_config(tmp_path: Path) -> None:
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(binary).exists():
        pytest.skip("haproxy is not installed (make services)")
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(haproxy_config("issuer", "127.0.0.1", 4000, REPLICAS, timeout=10))
    checked = subprocess.run(
        [binary, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    "replicas",
    [
        [],
        [("gateway 1", "http://127.0.0.1:1")],
        [("g", "https://127.0.0.1:1")],
        [("g", "http://h")],
    ],
)
def test_config_refuses_bad_replicas(replicas: list[tuple[str, str]]) -> None:
    with pytest.raises(MisuseError):
        haproxy_config("gateway", "127.0.0.1", 4000, replicas, timeout=10)


def test_replicas_need_redis() -> None:
    with pytest.raises(ConfigError, match="Redis"):
        ClusterSpec(gateways=3)
    with pytest.raises(ConfigError, match="Redis"):
        ClusterSpec(issuers=2)
    with pytest.raises(ConfigError, match="at least one"):
        ClusterSpec(gateways=0, redis_url="redis://127.0.0.1:1/0")
    spec = ClusterSpec(gateways=3, issuers=2, redis_url="redis://:secret@127.0.0.1:1/0")
    assert "secret" not in repr(spec)
