"""Profile each party under the trivial private request (issue 18 item 2), with py-spy.

Not a ``make bench`` figure (the name starts with ``_``): run it by hand,
``python bench/_profile.py [N [OUT_DIR]]``. It starts the cluster of ``bench/e2e.py``
(2 nodes, K = 2), warms one device up, then samples the relay, the gateway and both
nodes (their per-request children included: ``--subprocesses``) with ``py-spy record
--gil`` while the device sends ``N`` trivial requests (the demo chat with nothing
unread: no model work) one after the other; then, separately, the ledger under 16
clients of durable appends (``bench/ledger.py``'s HTTP figure, keep-alive client
processes). For each party it writes the top of the profile (functions by self and by
inclusive samples) and the party's real CPU per request from ``/proc`` (user and
kernel time; py-spy sees only Python) to ``OUT_DIR/<party>.txt`` (default
``bench/profiles/``). Sampling slows the sampled processes a little; read the shares.
"""

from __future__ import annotations

import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from _load import keepalive_rate
from e2e import NODES, K, _device, _workload
from privproc.cluster.launch import Cluster, ClusterSpec, free_port

HERE = Path(__file__).resolve().parent
RATE = 250  # samples per second per process
_TICK = os.sysconf("SC_CLK_TCK")
TOP = 30


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed (pip install -r requirements.lock)")
    return found


def _record(pid: int, out: Path, seconds: float, *, children: bool) -> subprocess.Popen[bytes]:
    # --gil: only the thread holding the GIL is sampled, i.e. Python running on a CPU
    # (py-spy's idle detection alone counted threads waiting in epoll or on a lock).
    args = [_py_spy(), "record", "--pid", str(pid), "--rate", str(RATE), "--format", "raw"]
    args.append("--gil")
    args += ["--duration", str(int(seconds)), "--output", str(out)]
    if children:
        args.append("--subprocesses")
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _frame(frame: str) -> str:
    """``fn (path/to/file.py:LINE)`` -> ``fn (package/file.py)`` (lines merged)."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def _cpu(pid: int) -> tuple[float, float, float, float]:
    """utime, stime, cutime, cstime of ``pid`` in seconds (/proc/<pid>/stat 14-17)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return tuple(int(x) / _TICK for x in fields[11:15])  # type: ignore[return-value]


def _cpu_line(before: tuple[float, ...], after: tuple[float, ...], requests: int) -> str:
    d = [(a - b) * 1000 / requests for a, b in zip(after, before, strict=True)]
    return (
        f"# /proc CPU per request over the same window: user {d[0]:.2f} ms, system {d[1]:.2f} ms;"
        f" reaped children user {d[2]:.2f} ms, system {d[3]:.2f} ms"
    )


def summarize(raw: Path, title: str, requests: int, cpu: str = "") -> str:
    """The top of a py-spy ``raw`` (collapsed stacks) profile, as text."""
    self_n: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";") if f and not f.startswith("process ")]
        frames = [f for f in frames if not f.startswith("thread ")]
        if not frames:
            continue
        total += n
        self_n[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    ms = 1000 / RATE
    lines = [
        f"# {title}",
        f"# py-spy record --rate {RATE} --gil; {total} samples holding the GIL "
        f"({total * ms:.0f} ms of CPU) over {requests} requests = "
        f"{total * ms / max(requests, 1):.2f} ms/request (Python holding the GIL; no kernel time)",
        *([cpu] if cpu else []),
        "",
        f"## top {TOP} by self samples (share of all samples, ms per request)",
    ]
    for f, n in self_n.most_common(TOP):
        lines.append(f"{100 * n / total:5.1f}%  {n * ms / requests:6.3f} ms  {f}")
    # The stack's base (main, the CLI, uvicorn's loop) is in nearly every sample: left out.
    inner = [(f, n) for f, n in incl.most_common() if n < 0.9 * total]
    lines += ["", f"## top {TOP} by inclusive samples (frames in >= 90% of samples left out)"]
    for f, n in inner[:TOP]:
        lines.append(f"{100 * n / total:5.1f}%  {n * ms / requests:6.3f} ms  {f}")
    lines += ["", f"## privproc functions by inclusive samples (top {TOP})"]
    for f, n in [(f, n) for f, n in inner if "(privproc/" in f][:TOP]:
        lines.append(f"{100 * n / total:5.1f}%  {n * ms / requests:6.3f} ms  {f}")
    return "\n".join(lines) + "\n"


def _trivial(out_dir: Path, n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="privproc-profile-") as tmp:
        root = Path(tmp)
        with Cluster(root / "cluster", ClusterSpec(nodes=NODES, rogue_nodes=0, k=K)) as cluster:
            config = cluster.start()
            device = _device(config, root, 0, n + 10)
            chat = _workload("trivial")
            try:
                device.verify()
                for _ in range(10):
                    device.summarize(chat)
                seconds = n / 15 + 10
                parties = ("relay", "gateway", *(f"enclave-{i}" for i in range(1, NODES + 1)))
                spies = {
                    p: _record(
                        cluster.parties[p].process.pid,
                        root / f"{p}.raw",
                        seconds,
                        children=p.startswith("enclave"),
                    )
                    for p in parties
                }
                time.sleep(1.0)  # py-spy attaches
                pids = {p: cluster.parties[p].process.pid for p in parties}
                cpu0 = {p: _cpu(pid) for p, pid in pids.items()}
                t0 = time.perf_counter()
                for i in range(n):
                    # Paced under the relay's per-address rate limit (20/s, burst 40).
                    time.sleep(max(0.0, t0 + i / 15 - time.perf_counter()))
                    device.summarize(chat)
                wall = time.perf_counter() - t0
                cpu = {p: _cpu_line(cpu0[p], _cpu(pid), n) for p, pid in pids.items()}
                for spy in spies.values():
                    spy.wait()
            finally:
                device.close()
        for p in parties:
            title = f"{p}: {n} sequential trivial private requests ({wall / n * 1000:.1f} ms each)"
            text = summarize(root / f"{p}.raw", title, n, cpu[p])
            (out_dir / f"{p}.txt").write_text(text)
            print(text)


def _ledger(out_dir: Path) -> None:
    clients, per = 16, 60
    port = free_port()
    src = str(HERE.parent / "src")
    with tempfile.TemporaryDirectory(prefix="privproc-profile-ledger-") as d:
        env = {**os.environ, "PYTHONPATH": src, "PRIVPROC_LEDGER_TOKEN": "bench-token"}
        cmd = [sys.executable, "-m", "privproc", "ledger", "serve", "--port", str(port)]
        proc = subprocess.Popen(
            [*cmd, "--home", d], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(url + "/checkpoint", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("ledger server did not start")
                time.sleep(0.05)

            spy = _record(proc.pid, Path(d) / "ledger.raw", 30, children=False)
            time.sleep(1.0)
            cpu0 = _cpu(proc.pid)
            t0 = time.perf_counter()
            rate = keepalive_rate(
                url,
                "/add",
                clients=clients,
                per=per,
                body=b"x" * 200,
                headers={"Authorization": "Bearer bench-token"},
            )
            wall = time.perf_counter() - t0
            total = clients * per
            cpu = _cpu_line(cpu0, _cpu(proc.pid), total)
            spy.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
            spy.wait()
            raw = Path(d) / "ledger.raw"
            title = (
                f"ledger: {total} durable appends from {clients} keep-alive client processes "
                f"({rate:.0f}/s; {wall:.1f} s with the clients' start)"
            )
            if raw.exists():
                text = summarize(raw, title, total, cpu)
                (out_dir / "ledger.txt").write_text(text)
                print(text)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 200
    out_dir = Path(argv[1]) if len(argv) > 1 else HERE / "profiles"
    out_dir.mkdir(parents=True, exist_ok=True)
    _trivial(out_dir, n)
    _ledger(out_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
