"""Attestation: verifying one real SEV-SNP report with its chain, next to the raw
signature checks it must do (1 ECDSA P-384 + 3 RSA-PSS verifies straight from
``cryptography``), measured in the same run.

The verifier checks ARK self-signature, ASK and VCEK (3 RSA-PSS SHA-384, 4096-bit)
and the report (ECDSA P-384 SHA-384). The issue asked for "ECDSA + 2 RSA-PSS"; the
ARK self-signature is a third RSA check, so the baseline is given both ways.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402

from _common import Row, rate, row  # noqa: E402
from privproc.attestation import Policy, Tcb, verify  # noqa: E402
from privproc.attestation.sevsnp.certs import Chain  # noqa: E402
from privproc.attestation.sevsnp.report import parse_report  # noqa: E402
from privproc.attestation.sevsnp.verify import load_vcek, verify_report  # noqa: E402
from privproc.attestation.simulated import SimulatedVendor  # noqa: E402
from privproc.attestation.simulated.report import parse_report as parse_sim  # noqa: E402

DATA = HERE.parent / "tests" / "vectors" / "data" / "attestation" / "sev-snp"
NOW = datetime(2023, 1, 1, tzinfo=UTC)
PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)


def run() -> list[Row]:
    report = (DATA / "attestation.bin").read_bytes()
    vcek_der = (DATA / "vcek.der").read_bytes()
    chain = Chain.from_pem((DATA / "ask_ark_milan.pem").read_bytes())
    parsed = parse_report(report)
    policy = Policy(measurements=frozenset({parsed.measurement}), allow_debug=True)
    vcek = load_vcek(vcek_der)
    ask, ark = chain.ask, chain.ark
    vcek_key = vcek.public_key()
    assert isinstance(vcek_key, ec.EllipticCurvePublicKey)
    sig = encode_dss_signature(parsed.signature_r, parsed.signature_s)
    ark_key, ask_pub = ark.public_key(), ask.public_key()
    assert isinstance(ark_key, rsa.RSAPublicKey)
    assert isinstance(ask_pub, rsa.RSAPublicKey)

    def ecdsa() -> None:
        vcek_key.verify(sig, parsed.signed, ec.ECDSA(hashes.SHA384()))

    def rsa2() -> None:
        ark_key.verify(ask.signature, ask.tbs_certificate_bytes, PSS, hashes.SHA384())
        ask_pub.verify(vcek.signature, vcek.tbs_certificate_bytes, PSS, hashes.SHA384())

    def rsa_ark_self() -> None:
        ark_key.verify(ark.signature, ark.tbs_certificate_bytes, PSS, hashes.SHA384())

    def raw2() -> None:
        ecdsa()
        rsa2()

    def raw3() -> None:
        ecdsa()
        rsa2()
        rsa_ark_self()

    def raw3_loading() -> None:
        from privproc.attestation._x509 import load_der

        key = load_der(vcek_der, "x").public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(sig, parsed.signed, ec.ECDSA(hashes.SHA384()))
        rsa2()
        rsa_ark_self()

    def full_given_chain() -> None:
        verify_report(report, vcek_der, chain, policy=policy, now=NOW)

    def full_packaged() -> None:
        verify_report(report, vcek_der, None, policy=policy, now=NOW)

    def parse_only() -> None:
        parse_report(report)

    raw2_rate = rate(raw2)
    raw3_rate = rate(raw3)
    raw3_load_rate = rate(raw3_loading)
    full = rate(full_given_chain)
    packaged = rate(full_packaged)
    ecdsa_rate = rate(ecdsa)
    parse_rate = rate(parse_only)

    # Simulated platform, same run: whole Evidence verify vs its 2 ECDSA P-384 checks.
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    vendor = SimulatedVendor.from_seed(b"bench", not_before=t0)
    machine = vendor.machine(chip_id=bytes(64), tcb=Tcb(1, 0, 1, 1))
    meas = bytes(48)
    ts = t0 + timedelta(days=1)
    ev = machine.evidence(node_key=b"\x04" * 65, measurement=meas, timestamp=ts)
    sim_policy = Policy(measurements=frozenset({meas}), simulated_roots=(vendor.root_der,))
    root_key = vendor.certificate.public_key()
    leaf = machine.certificate
    leaf_key = leaf.public_key()
    assert isinstance(root_key, ec.EllipticCurvePublicKey)
    assert isinstance(leaf_key, ec.EllipticCurvePublicKey)
    sr = parse_sim(ev.report)
    sim_sig = encode_dss_signature(sr.signature_r, sr.signature_s)

    def sim_raw() -> None:
        root_key.verify(leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(hashes.SHA384()))
        leaf_key.verify(sim_sig, sr.signed, ec.ECDSA(hashes.SHA384()))

    def sim_full() -> None:
        verify(ev, policy=sim_policy, now=ts)

    sim_raw_rate = rate(sim_raw)
    sim_rate = rate(sim_full)

    # TDX, same run: dcap-qvl's whole quote+collateral verification vs one ECDSA P-256
    # verify from cryptography (DCAP checks about 8: quote, QE report, PCK chain, TCB
    # info, QE identity, 2 CRLs, TCB-signing chain).
    tdx_rows: list[Row] = []
    try:
        from privproc.attestation.tdx import verify_quote

        tdir = DATA.parent / "tdx"
        quote = (tdir / "tdx_quote").read_bytes()
        collateral = (tdir / "tdx_quote_collateral.json").read_bytes()
        tdx_now = datetime(2025, 6, 20, tzinfo=UTC)
        p256 = ec.generate_private_key(ec.SECP256R1())
        p256_sig = p256.sign(quote[:632], ec.ECDSA(hashes.SHA256()))
        p256_pub = p256.public_key()

        def tdx_full() -> None:
            verify_quote(quote, collateral, now=tdx_now)

        def p256_verify() -> None:
            p256_pub.verify(p256_sig, quote[:632], ec.ECDSA(hashes.SHA256()))

        tdx_rate = rate(tdx_full)
        p256_rate = rate(p256_verify)
        tdx_rows.append(
            row(
                "attestation",
                "tdx verify_quote (dcap-qvl)",
                tdx_rate,
                "ops/s",
                "1 ECDSA-P256 verify (cryptography)",
                p256_rate,
                "ratio ~ 1/(P-256 verifies' worth of work); DCAP does ~8",
            )
        )
    except ImportError:
        pass

    # NVIDIA H100, same run: verify_gpu_report (parse + 5 chain links + transcript) vs the
    # 6 ECDSA P-384 verifies it does, straight from cryptography.
    from cryptography import x509

    from privproc.attestation.nvgpu import verify_gpu_report

    gdir = DATA.parent / "nvidia-h100"
    gpu_report = bytes.fromhex((gdir / "hopperAttestationReport.txt").read_text().strip())
    gpu_chain = (gdir / "hopperCertChain.txt").read_bytes()
    gcerts = x509.load_pem_x509_certificates(gpu_chain)
    glinks: list[tuple[ec.EllipticCurvePublicKey, x509.Certificate]] = []
    for i in range(len(gcerts)):
        issuer_key = gcerts[i + 1 if i + 1 < len(gcerts) else i].public_key()
        assert isinstance(issuer_key, ec.EllipticCurvePublicKey)
        glinks.append((issuer_key, gcerts[i]))
    gsig = encode_dss_signature(
        int.from_bytes(gpu_report[-96:-48], "big"), int.from_bytes(gpu_report[-48:], "big")
    )
    gleaf = gcerts[0].public_key()
    assert isinstance(gleaf, ec.EllipticCurvePublicKey)
    gnow = datetime(2025, 1, 1, tzinfo=UTC)

    def gpu_full() -> None:
        verify_gpu_report(gpu_report, gpu_chain, nonce=gpu_report[4:36], now=gnow)

    def gpu_raw() -> None:
        for key, cert in glinks:
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA384()))
        gleaf.verify(gsig, gpu_report[:-96], ec.ECDSA(hashes.SHA384()))

    gpu_rate = rate(gpu_full)
    gpu_raw_rate = rate(gpu_raw)

    b = "attestation"
    return [
        row(
            b,
            "sev-snp verify_report (given ASK/ARK)",
            full,
            "ops/s",
            "ECDSA-P384 + 2 RSA-PSS verifies",
            raw2_rate,
            "parse + pin + 3 RSA-PSS + ECDSA + TCB/chip/policy",
        ),
        row(
            b,
            "sev-snp verify_report (given ASK/ARK)",
            full,
            "ops/s",
            "ECDSA-P384 + 3 RSA-PSS verifies",
            raw3_rate,
            "baseline incl. ARK self-signature",
        ),
        row(
            b,
            "sev-snp verify_report (given ASK/ARK)",
            full,
            "ops/s",
            "VCEK DER load + ECDSA-P384 + 3 RSA-PSS",
            raw3_load_rate,
            "baseline parses the VCEK per call, as verify must",
        ),
        row(
            b,
            "sev-snp verify_report (packaged roots)",
            packaged,
            "ops/s",
            "ECDSA-P384 + 3 RSA-PSS verifies",
            raw3_rate,
            "roots parsed once, cached",
        ),
        row(
            b,
            "sev-snp parse_report",
            parse_rate,
            "ops/s",
            "ECDSA-P384 verify",
            ecdsa_rate,
            "1184-byte report",
        ),
        row(
            b,
            "simulated verify(evidence)",
            sim_rate,
            "ops/s",
            "2 ECDSA-P384 verifies",
            sim_raw_rate,
            "root->endorsement, endorsement->report",
        ),
        row(
            b,
            "nvidia h100 verify_gpu_report",
            gpu_rate,
            "ops/s",
            "6 ECDSA-P384 verifies",
            gpu_raw_rate,
            "SPDM parse + PEM chain parse + 5 links + transcript",
        ),
        *tdx_rows,
    ]


if __name__ == "__main__":
    for r in run():
        print(r)
