"""The scripted ``privproc demo`` scenario (every party a real process on loopback).

1. bring everything up in a temporary ``PRIVPROC_HOME`` (two released nodes and one
   node running a build that is not in the ledger);
2. verify the directory and print the trail (the unreleased node is refused);
3. summarize the unread messages of a group chat, and suggest rewrites of a draft,
   printing what was sent where (the device's report);
4. refuse a chat with Advanced Chat Privacy on, before anything is sent;
5. point a device at a directory that offers only the unreleased node: it fails
   closed, naming the check, and sends nothing.

:func:`run_demo` prints each step on ``console`` and returns the same facts as
a JSON-ready dict (``privproc demo --json``): the verification trail, the
summary, the rewrites, the device's reports and the refusals with their checks.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from privproc.client.report import ReportEntry
from privproc.client.session import open_device
from privproc.client.trail import print_trail
from privproc.client.verify import Step
from privproc.cluster.launch import Cluster, ClusterSpec
from privproc.errors import PolicyError, PrivprocError, VerificationError
from privproc.workloads.chat import Chat

__all__ = ["DRAFT", "GROUP_CHAT", "run_demo"]

GROUP_CHAT = {
    "chat": "Hiking crew",
    "language": "en",
    "ai_blocked": False,
    "messages": [
        {
            "sender": "Maya",
            "time": "2026-11-20T17:02:00Z",
            "unread": False,
            "text": "Who is in for the ridge trail this Saturday?",
        },
        {
            "sender": "Tom",
            "time": "2026-11-20T17:05:00Z",
            "unread": False,
            "text": "Me! Weather looks good until 3pm.",
        },
        {
            "sender": "Ines",
            "time": "2026-11-20T18:10:00Z",
            "unread": True,
            "text": "Count me in. Can we meet at the north parking lot at 7:30?",
        },
        {
            "sender": "Maya",
            "time": "2026-11-20T18:12:00Z",
            "unread": True,
            "text": "7:30 works. I'll bring the first aid kit and the map.",
        },
        {
            "sender": "Tom",
            "time": "2026-11-20T18:20:00Z",
            "unread": True,
            "text": "Correction: rain now expected after 1pm, so let's start at 7 instead.",
        },
        {
            "sender": "Ines",
            "time": "2026-11-20T18:25:00Z",
            "unread": True,
            "text": "Fine by me. Who can drive? I have room for two.",
        },
        {
            "sender": "Maya",
            "time": "2026-11-20T18:31:00Z",
            "unread": True,
            "text": "Decided then: 7:00 at the north lot, Ines drives, back by 1pm.",
        },
    ],
}
DRAFT = "hey guys im running late tmrw, can u wait 10 min pls"


def run_demo(
    console: Console, home: Path | None = None, *, platform: str = "simulated"
) -> dict[str, Any]:
    """Run the scenario; return what each step showed; raise on any unexpected failure.

    ``platform``: one of :data:`~privproc.cluster.launch.CLUSTER_PLATFORMS`:
    ``sev-snp-emulated`` nodes issue real-format SEV-SNP reports and the device runs the
    real SNP verifier, ``tdx-emulated`` nodes DCAP v4 quotes and the device runs dcap-qvl,
    each pinned to the emulated vendor root in its test trust store.
    """
    with tempfile.TemporaryDirectory(prefix="privproc-demo-") as tmp:
        root = home or Path(tmp)
        spec = ClusterSpec(nodes=2, rogue_nodes=1, k=2, platform=platform)
        console.rule("[bold]privproc demo: private AI processing for an end-to-end-encrypted chat")
        with Cluster(root, spec, progress=lambda m: console.print(f"  [dim]{m}[/]")) as cluster:
            cluster.start()
            out = _scenario(console, root, cluster)
            parties = sorted(cluster.parties)
    return {**out, "parties": parties, "platform": platform, "stopped": True}


def _trail_json(trail: tuple[Step, ...]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(step) for step in trail]


def _refusal(step: str, exc: PrivprocError) -> dict[str, Any]:
    return {
        "step": step,
        "error": type(exc).__name__,
        "check": getattr(exc, "check", None),
        "message": str(exc),
    }


def _scenario(console: Console, root: Path, cluster: Cluster) -> dict[str, Any]:
    out: dict[str, Any] = {"refusals": []}
    with open_device(root / "client") as device:
        console.rule("1. the device verifies before it sends anything")
        verified = device.verify(force=True)
        print_trail(verified.trail, console=console)
        console.print(f"  usable nodes: {', '.join(n.node for n in verified.nodes)}")
        out["verification"] = {
            "trail": _trail_json(verified.trail),
            "usable_nodes": [n.node for n in verified.nodes],
            "checkpoint_size": verified.checkpoint.size,
        }

        console.rule("2. summary of the unread messages")
        chat = Chat.from_json(GROUP_CHAT)
        answer = device.summarize(chat)
        summary = answer.result["summary"]
        console.print(
            Panel(summary["text"], title=f"summary of {summary['unread']} unread messages")
        )
        _report(console, answer.report)
        out["summary"] = {"result": summary, "report": dataclasses.asdict(answer.report)}

        console.rule("3. writing suggestions for a draft")
        answer = device.rewrite(DRAFT, ["professional", "friendly", "concise"])
        table = Table(title=f"draft: {DRAFT!r}")
        table.add_column("tone")
        table.add_column("suggestion")
        for tone, text in answer.result["rewrites"]["rewrites"].items():
            table.add_row(tone, text)
        console.print(table)
        _report(console, answer.report)
        out["rewrites"] = {
            "draft": DRAFT,
            "result": answer.result["rewrites"],
            "report": dataclasses.asdict(answer.report),
        }

        console.rule("4. a chat with Advanced Chat Privacy on")
        blocked = Chat.from_json({**GROUP_CHAT, "ai_blocked": True})
        try:
            device.summarize(blocked)
        except PolicyError as exc:
            console.print(f"  [bold green]refused on the device[/]: {exc}")
            out["refusals"].append(_refusal("ai_blocked", exc))
        else:  # pragma: no cover - the demo must show the refusal
            raise AssertionError("an ai_blocked chat was processed")

    console.rule("5. a node running code that is not in the ledger")
    rogue = [n for n in cluster.parties if n.startswith("enclave-")][-1]
    other = cluster.extra_directory("directory-rogue", [rogue])
    rogue_home = root / "client-rogue"
    rogue_home.mkdir(exist_ok=True)
    config = dataclasses.replace(
        device.config, directory_url=other.url, account="demo-user-second-phone"
    )
    (rogue_home / "config.json").write_text(config.dumps())
    with open_device(rogue_home) as rogue_device:
        try:
            rogue_device.summarize(chat)
        except VerificationError as exc:
            console.print(
                f"  [bold green]failed closed[/] ({type(exc).__name__}, "
                f"check [bold]{exc.check}[/]): {escape(str(exc))}"
            )
            console.print("  nothing was sealed or sent: the device found no node it may trust")
            out["refusals"].append(_refusal("unreleased_node", exc))
        else:  # pragma: no cover
            raise AssertionError("a node outside the ledger was used")
    console.rule("[bold green]demo finished: every party stopped")
    return out


def _report(console: Console, report: ReportEntry) -> None:
    r = dataclasses.asdict(report)
    named = escape(", ".join(n["node"] for n in r["named"]))
    console.print(
        f"  sealed {r['sealed_bytes']} bytes for K nodes ({named}) "
        f"-> answered by {r['answered_by']} "
        f"(measurement {r['measurement'][:16]}..., release at ledger index {r['release_index']}, "
        f"checkpoint size {r['checkpoint_size']}, OHTTP key {r['key_config_id']})"
    )
