"""The node's (simulated) hardware: it signs evidence binding a node key.

On real SEV-SNP the report comes from the AMD secure processor; here a
:class:`~privproc.attestation.simulated.SimulatedVendor` derived from a seed
file plays the vendor, and the machine's endorsement key is derived for this
node's chip id. The vendor's root certificate (public) is what devices trust.
Anyone holding the seed can forge evidence: the seed stands in for silicon and
lives outside the node's code (``privproc up`` writes it under ``platform/``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from privproc.attestation import Evidence, Tcb
from privproc.attestation.simulated import SimulatedMachine, SimulatedVendor
from privproc.errors import ConfigError

__all__ = ["NODE_TCB", "VENDOR_EPOCH", "Hardware", "load_vendor"]

#: The simulated vendor root's notBefore (fixed, so the same seed gives the same root).
VENDOR_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
#: The TCB every simulated node is certified at.
NODE_TCB = Tcb(bootloader=4, tee=0, snp=22, microcode=213)


def load_vendor(seed_file: Path) -> SimulatedVendor:
    """The simulated vendor whose keys derive from the seed in ``seed_file``."""
    try:
        seed = seed_file.read_bytes()
    except OSError:
        raise ConfigError(f"platform seed not readable: {seed_file}") from None
    if len(seed) < 32:
        raise ConfigError("platform seed: need at least 32 bytes")
    return SimulatedVendor.from_seed(seed, not_before=VENDOR_EPOCH)


@dataclass(frozen=True, slots=True)
class Hardware:
    """One node's machine: makes evidence for a key and a measurement."""

    machine: SimulatedMachine
    measurement: bytes
    debug: bool = False

    @classmethod
    def for_node(
        cls, vendor: SimulatedVendor, node_id: str, measurement: bytes, *, debug: bool = False
    ) -> Hardware:
        chip_id = hashlib.sha512(b"privproc simulated chip\x00" + node_id.encode()).digest()
        return cls(vendor.machine(chip_id=chip_id, tcb=NODE_TCB), measurement, debug)

    def evidence(self, node_key: bytes, now: datetime) -> Evidence:
        """Fresh evidence binding ``node_key`` at ``now``."""
        return self.machine.evidence(
            node_key=node_key, measurement=self.measurement, timestamp=now, debug=self.debug
        )
