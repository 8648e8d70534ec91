"""TCB versions: the security patch levels of a platform's firmware components.

Modeled on the SEV-SNP ``TCB_VERSION`` structure (AMD ABI spec 56860, "TCB_VERSION
Structure"): a 64-bit little-endian value with one security patch level (SPL) per
byte. Milan and Genoa (family 19h) lay it out as ``bl | tee | rsvd*4 | snp |
ucode``; Turin (family 1Ah) as ``fmc | bl | tee | snp | rsvd*3 | ucode``.
The simulated platform uses the family 19h layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from privproc.errors import DecodeError, MisuseError

__all__ = ["Tcb"]


@dataclass(frozen=True, slots=True)
class Tcb:
    """One TCB version. ``fmc`` is ``None`` on platforms without an FMC (pre-Turin)."""

    bootloader: int
    tee: int
    snp: int
    microcode: int
    fmc: int | None = None

    def __post_init__(self) -> None:
        for name in ("bootloader", "tee", "snp", "microcode"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= 255:
                raise MisuseError(f"TCB {name} must be 0..255")
        if self.fmc is not None and (not isinstance(self.fmc, int) or not 0 <= self.fmc <= 255):
            raise MisuseError("TCB fmc must be 0..255 or None")

    @classmethod
    def from_u64(cls, value: int, *, turin: bool = False) -> Tcb:
        """Decode a raw ``TCB_VERSION``; reserved bytes must be zero (else DecodeError)."""
        raw = value.to_bytes(8, "little")
        if turin:
            if any(raw[4:7]):
                raise DecodeError("TCB_VERSION: reserved bytes 4..6 not zero")
            return cls(bootloader=raw[1], tee=raw[2], snp=raw[3], microcode=raw[7], fmc=raw[0])
        if any(raw[2:6]):
            raise DecodeError("TCB_VERSION: reserved bytes 2..5 not zero")
        return cls(bootloader=raw[0], tee=raw[1], snp=raw[6], microcode=raw[7])

    def to_u64(self) -> int:
        """Encode as a raw ``TCB_VERSION`` (Turin layout when ``fmc`` is set)."""
        raw = bytearray(8)
        if self.fmc is not None:
            raw[0], raw[1], raw[2], raw[3] = self.fmc, self.bootloader, self.tee, self.snp
        else:
            raw[0], raw[1], raw[6] = self.bootloader, self.tee, self.snp
        raw[7] = self.microcode
        return int.from_bytes(raw, "little")

    def meets(self, minimum: Tcb) -> str | None:
        """The name of the first component below ``minimum``, or ``None`` if all meet it."""
        for name in ("bootloader", "tee", "snp", "microcode"):
            if getattr(self, name) < getattr(minimum, name):
                return name
        if minimum.fmc is not None and (self.fmc is None or self.fmc < minimum.fmc):
            return "fmc"
        return None

    def __str__(self) -> str:
        fmc = "" if self.fmc is None else f"fmc={self.fmc} "
        return f"{fmc}bl={self.bootloader} tee={self.tee} snp={self.snp} ucode={self.microcode}"
