"""AMD SEV-SNP: report parser, AMD certificate chain, verifier, configfs-tsm evidence.

:mod:`.report` parses ATTESTATION_REPORT (ABI spec 56860); :mod:`.certs` checks
VCEK <- ASK <- ARK against AMD's pinned roots (KDS spec 57230) and reads the
VCEK's TCB; :mod:`.verify` puts them together (parse / verify signatures /
validate policy); :mod:`.configfs` asks the Linux kernel for a report on a real
SEV-SNP guest.
"""

from __future__ import annotations

from privproc.attestation.sevsnp.certs import Chain, Product
from privproc.attestation.sevsnp.verify import VerifiedReport, verify_report

__all__ = ["Chain", "Product", "VerifiedReport", "verify_report"]
