"""The device's verification of a K=3 node bundle per platform, next to the signature
verifications that verification must do, measured in the same run (issue 13).

``verify_directory`` on an in-memory bundle (tests/_world.py: real cores, real
signatures) of 3 nodes, for the simulated platform and for emulated SEV-SNP (real
56860 reports, RSA-4096 ARK/ASK, verified by the real SNP verifier with the test trust
store). The baseline is the raw signature checks the device cannot avoid, straight
from ``cryptography``: 6 Ed25519 (the checkpoint's log signature and 2 witness
cosignatures, the publisher's signature on the one release record the K nodes share and
on the key-config record, and the announcement cosignature of the key-consistency rule;
counted with a profiler on this bundle), and per node its
platform's chain: simulated 2 ECDSA P-384 (endorsement, report); SEV-SNP 3 RSA-PSS
SHA-384 4096-bit (ARK self-signature, ASK, VCEK) + 1 ECDSA P-384 (report); with the
emulated GPU 3 more ECDSA P-384 (root self-signature, leaf certificate, SPDM report);
emulated TDX (DCAP v4 quote and collateral under the generated Intel root, verified by
dcap-qvl pinned to it) 10 ECDSA P-256 / SHA-256: the root CA CRL and the PCK CRL, the
TCB-signing certificate twice (TCB info chain, QE identity chain), the TCB info and QE
identity signatures, the PCK CA and PCK leaf certificates, the QE report (PCK key) and
the quote (attestation key).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding  # noqa: E402
from tests._world import NOW, World, emulated_amd  # noqa: E402

from _common import Row, rate, row  # noqa: E402
from privproc.client.verify import Trust, verify_directory  # noqa: E402
from privproc.enclave.platform import NODE_TCB  # noqa: E402

K = 3
PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)


def _ed25519_baseline() -> tuple[ed25519.Ed25519PublicKey, bytes, bytes]:
    key = ed25519.Ed25519PrivateKey.generate()
    msg = b"x" * 200
    return key.public_key(), key.sign(msg), msg


def run() -> list[Row]:
    ed_pub, ed_sig, ed_msg = _ed25519_baseline()
    p384 = ec.generate_private_key(ec.SECP384R1())
    p384_pub, p384_msg = p384.public_key(), b"r" * 0x2A0
    p384_sig = p384.sign(p384_msg, ec.ECDSA(hashes.SHA384()))
    amd = emulated_amd()
    ark_pub = amd.ark_key.public_key()
    ark = amd.chain.ark

    def ledger_sigs() -> None:
        for _ in range(6):
            ed_pub.verify(ed_sig, ed_msg)

    def ecdsa() -> None:
        p384_pub.verify(p384_sig, p384_msg, ec.ECDSA(hashes.SHA384()))

    def rsa_pss() -> None:
        ark_pub.verify(ark.signature, ark.tbs_certificate_bytes, PSS, hashes.SHA384())

    def sim_baseline() -> None:
        ledger_sigs()
        for _ in range(K):
            ecdsa()
            ecdsa()

    def snp_baseline() -> None:
        ledger_sigs()
        for _ in range(K):
            rsa_pss()
            rsa_pss()
            rsa_pss()
            ecdsa()

    p256 = ec.generate_private_key(ec.SECP256R1())
    p256_pub, p256_msg = p256.public_key(), b"q" * 632
    p256_sig = p256.sign(p256_msg, ec.ECDSA(hashes.SHA256()))

    def tdx_baseline() -> None:
        ledger_sigs()
        for _ in range(K * 10):
            p256_pub.verify(p256_sig, p256_msg, ec.ECDSA(hashes.SHA256()))

    def gpu_baseline() -> None:
        snp_baseline()
        for _ in range(K):  # GPU: root self-signature, leaf certificate, SPDM report
            ecdsa()
            ecdsa()
            ecdsa()

    rows: list[Row] = []
    for name, world, baseline, base_name in (
        ("simulated", World(), sim_baseline, "6 Ed25519 + 6 ECDSA-P384 verifies"),
        (
            "sev-snp emulated",
            World(platform="sev-snp", min_tcb=NODE_TCB),
            snp_baseline,
            "6 Ed25519 + 9 RSA-PSS-4096 + 3 ECDSA-P384 verifies",
        ),
        (
            "sev-snp + GPU emulated",
            World(platform="sev-snp+nvidia-cc", min_tcb=NODE_TCB),
            gpu_baseline,
            "6 Ed25519 + 9 RSA-PSS-4096 + 12 ECDSA-P384 verifies",
        ),
        (
            "tdx emulated",
            World(platform="tdx"),
            tdx_baseline,
            "6 Ed25519 + 30 ECDSA-P256 verifies",
        ),
    ):
        keys, bundle = world.documents()
        trust = world.trust()

        # the Trust is built once, as the device does
        def device(keys: bytes = keys, bundle: bytes = bundle, trust: Trust = trust) -> None:
            verify_directory(keys, bundle, trust, now=NOW, seen=None)

        assert len(verify_directory(keys, bundle, trust, now=NOW, seen=None).nodes) == K
        value = rate(device)
        base = rate(baseline)
        rows.append(
            row(
                "device_platforms",
                f"device verify_directory, K={K}, {name}",
                value,
                "bundles/s",
                base_name,
                base,
                note="1/ratio = cost relative to the raw signature checks (issue target <= 1.5)",
            )
        )
    return rows
