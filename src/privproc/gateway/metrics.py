"""Content-free gateway metrics (Prometheus text format at ``/metrics``).

Counts and latencies only: outcomes by error code, forwards by result, key
rotations, background-loop failures by loop. No label carries a key id, node
choice per request, size or address.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["GatewayMetrics"]


def _registry() -> CollectorRegistry:
    return CollectorRegistry(auto_describe=True)


@dataclass(slots=True)
class GatewayMetrics:
    """The gateway's counters, in their own registry."""

    registry: CollectorRegistry = field(default_factory=_registry)
    requests: Counter = field(init=False)
    forwards: Counter = field(init=False)
    rotations: Counter = field(init=False)
    loop_failures: Counter = field(init=False)
    loop_failing: Gauge = field(init=False)
    latency: Histogram = field(init=False)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "privproc_gateway_requests", "Requests by outcome", ["outcome"], registry=self.registry
        )
        self.forwards = Counter(
            "privproc_gateway_node_forwards",
            "Forwards to nodes by result",
            ["result"],
            registry=self.registry,
        )
        self.rotations = Counter(
            "privproc_gateway_key_rotations", "OHTTP key configs created", registry=self.registry
        )
        self.loop_failures = Counter(
            "privproc_gateway_loop_failures",
            "Failed steps of a background loop (key rotation, node polling)",
            ["loop"],
            registry=self.registry,
        )
        self.loop_failing = Gauge(
            "privproc_gateway_loop_failing",
            "Failures in a row of a background loop (0: healthy)",
            ["loop"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "privproc_gateway_request_seconds", "Time to answer a request", registry=self.registry
        )

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return bytes(generate_latest(self.registry))
