"""Issue 12 item 4: a destroyed node key leaves no copy of its private bytes in memory.

The node process's own readable memory (``/proc/self/maps`` + ``/proc/self/mem``) is
scanned for the key's raw private bytes after the key was used on the real
per-request path, rotated out and destroyed. As a control the same scan must find
the key while it is live (its one copy inside the ``cryptography`` key object), so
the scan can fail.

The test learns the key's bytes without making an immutable copy in this process:
a forked child exports them and writes them down a pipe, and this process reads them
with ``os.readv`` straight into a ``bytearray``. Hits inside that needle buffer and
inside the scan buffer are ignored (they are the test's own two copies).
"""

from __future__ import annotations

import asyncio
import base64
import ctypes
import gc
import json
import os
from typing import Any

import pytest

from privproc.attestation.simulated import SimulatedVendor
from privproc.enclave.keys import KeyState
from privproc.enclave.node import Node
from privproc.enclave.platform import VENDOR_EPOCH, Hardware
from privproc.sealed import open_request, seal_request

MEASUREMENT = bytes(range(48))
REWRITE = json.dumps(
    {"feature": "rewrite", "draft": "can u come", "tones": ["friendly"], "language": "en"}
).encode()
_CHUNK = 1 << 20


def _node(now: list[float]) -> Node:
    vendor = SimulatedVendor.from_seed(b"n" * 32, not_before=VENDOR_EPOCH)
    hw = Hardware.for_node(vendor, "node-x", MEASUREMENT)
    backend: Any = None  # the rewrite feature runs on rules without a model
    return Node("node-x", hw, backend, key_lifetime=10, key_grace=5, clock=lambda: now[0])


def _address(buf: bytearray) -> int:
    return ctypes.addressof(ctypes.c_char.from_buffer(buf))


def _readable_mem() -> bool:
    probe = bytearray(b"probe")
    try:
        fd = os.open("/proc/self/mem", os.O_RDONLY)
    except OSError:
        return False
    try:
        got = bytearray(len(probe))
        return os.preadv(fd, [got], _address(probe)) == len(probe) and got == probe
    except OSError:
        return False
    finally:
        os.close(fd)


def _private_bytes(node: Node, key_id: bytes) -> bytearray:
    """The key's raw private bytes, exported in a forked child, never a ``bytes`` here."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            key: Any = node.ring.private_key(key_id)
            # A key object; bytes is the form the ring handed out before the fix.
            raw = key if isinstance(key, bytes | bytearray) else key.private_bytes_raw()
            os.write(w, raw)
        finally:
            os._exit(0)
    os.close(w)
    needle = bytearray(32)
    try:
        assert os.readv(r, [needle]) == len(needle)
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    return needle


def _find_in_memory(needle: bytearray) -> list[int]:
    """Addresses of ``needle`` in this process's readable mappings, less the test's own."""
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    own = [(_address(needle), len(needle)), (_address(buf), len(buf))]
    with open("/proc/self/maps", encoding="ascii") as maps:
        regions = maps.read().splitlines()
    hits: list[int] = []
    fd = os.open("/proc/self/mem", os.O_RDONLY)
    try:
        for line in regions:
            fields = line.split()
            if fields[1][0] != "r" or fields[-1] in ("[vvar]", "[vsyscall]"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            pos = start
            while pos < end:
                n = min(_CHUNK, end - pos)
                try:
                    got = os.preadv(fd, [view[:n]], pos)
                except OSError:
                    break
                if got <= 0:
                    break
                i = buf.find(needle, 0, got)
                while i != -1:
                    at = pos + i
                    if not any(base <= at < base + size for base, size in own):
                        hits.append(at)
                    i = buf.find(needle, i + 1, got)
                # Overlap chunks so a copy across a chunk boundary is not missed.
                pos += got if pos + got >= end else got - (len(needle) - 1)
    finally:
        os.close(fd)
        view.release()
    return sorted(set(hits))


needs_mem = pytest.mark.skipif(not _readable_mem(), reason="/proc/self/mem is not readable")


@needs_mem
def test_destroyed_node_key_not_in_memory() -> None:
    now = [1_800_000_000.0]
    node = _node(now)
    key = node.ring.current()
    sealed, secret = seal_request(REWRITE, [key.public_key])
    # The per-request path of Node.process, run here so its copies would be in this process.
    private, public = node._key_for(sealed)
    opened = open_request(sealed, private, public)
    secret.open_response(opened.seal_response(b"answer"))
    del private, opened
    needle = _private_bytes(node, key.key_id)
    assert any(needle)

    gc.collect()
    assert _find_in_memory(needle), "control: the live key must be found by the scan"

    now[0] += 10
    node.tick()  # retires the key
    now[0] += 5
    node.tick()  # destroys it
    assert {v.key_id: v.state for v in node.ring.views()}[key.key_id] is KeyState.DESTROYED
    gc.collect()
    assert _find_in_memory(needle) == []


@needs_mem
def test_destroyed_node_key_not_in_memory_after_forked_request() -> None:
    now = [1_800_000_000.0]
    node = _node(now)
    old = base64.b64decode(json.loads(node.evidence_document())["public_key"])
    old_id = node.ring.current().key_id
    sealed, secret = seal_request(REWRITE, [old])
    secret.open_response(asyncio.run(node.process(sealed)))
    needle = _private_bytes(node, old_id)
    gc.collect()
    assert _find_in_memory(needle)

    now[0] += 10
    node.tick()
    now[0] += 5
    node.tick()
    node.ring.destroy_all(now[0])
    gc.collect()
    assert _find_in_memory(needle) == []
