"""The relay over real sockets, in separate processes, in front of a recording gateway."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from privproc.limits import BUCKETS
from tests._largest import largest_encapsulated, node_keys
from tests.system._procs import free_port, running, spawn, wait_http

pytestmark = pytest.mark.system


def _relay_before_recorder(
    tmp_path: Path,
) -> tuple[int, int, Path, subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    """A real relay process in front of a recording gateway that answers the reversed body."""
    gport, rport = free_port(), free_port()
    seen = tmp_path / "seen"
    gateway = spawn(
        ["-m", "tests.system._recorder", "record", str(gport), str(seen)], log=tmp_path / "g.log"
    )
    relay = spawn(
        ["relay", "--port", str(rport), "--gateway", f"http://127.0.0.1:{gport}/gateway"],
        log=tmp_path / "r.log",
    )
    return gport, rport, seen, gateway, relay


def test_relay_forwards_and_strips(tmp_path: Path) -> None:
    gport, rport, seen, gateway, relay = _relay_before_recorder(tmp_path)
    with running([gateway, relay]):
        wait_http(f"http://127.0.0.1:{rport}/healthz", relay)
        wait_http(f"http://127.0.0.1:{gport}/up", gateway)
        for f in seen.glob("*"):
            f.unlink()
        answer = httpx.post(
            f"http://127.0.0.1:{rport}/",
            content=b"\x01\x02opaque",
            headers={
                "content-type": "message/ohttp-req",
                "x-forwarded-for": "203.0.113.9",
                "forwarded": "for=203.0.113.9",
                "user-agent": "Phone/2",
                "cookie": "a=b",
                "authorization": "Bearer x",
                "via": "1.1 x",
            },
            timeout=10,
        )
    assert answer.status_code == 200
    assert answer.content == b"euqapo\x02\x01"
    (meta,) = [json.loads(p.read_text()) for p in seen.glob("*.json")]
    assert meta["path"] == "/gateway"
    assert {k for k, _ in meta["headers"]} <= {"content-type", "content-length", "host"}
    assert "203.0.113.9" not in json.dumps(meta)
    (body,) = [p.read_bytes() for p in seen.glob("*.bin")]
    assert body == b"\x01\x02opaque"
    assert b"opaque" not in (tmp_path / "r.log").read_bytes()


def test_relay_passes_the_largest_request_of_each_bucket(tmp_path: Path) -> None:
    """Regression: a payload over 65 KB padded to the 256 KiB bucket exceeded the relay's
    own 256 KiB body limit (the limits now come from privproc.limits)."""
    gport, rport, _seen, gateway, relay = _relay_before_recorder(tmp_path)
    keys = node_keys()
    with running([gateway, relay]):
        wait_http(f"http://127.0.0.1:{rport}/healthz", relay)
        wait_http(f"http://127.0.0.1:{gport}/up", gateway)
        for bucket in BUCKETS:
            body = largest_encapsulated(bucket, keys)
            answer = httpx.post(
                f"http://127.0.0.1:{rport}/",
                content=body,
                headers={"content-type": "message/ohttp-req"},
                timeout=10,
            )
            assert answer.status_code == 200, (bucket, answer.text)
            assert answer.content == body[::-1]
