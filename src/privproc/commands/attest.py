"""``privproc attest verify``: verify real attestation evidence offline.

Prints the verified fields, or exits non-zero with a one-line reason that names
the failed check (``privproc: error: sevsnp.report.signature: ...``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from privproc.errors import AttestationError, ConfigError, MisuseError

if TYPE_CHECKING:
    from privproc.attestation.tcb import Tcb


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None


def _hex(value: str, what: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ConfigError(f"{what} is not hex: {value!r}") from None


def _parse_tcb(spec: str) -> Tcb:
    from privproc.attestation.tcb import Tcb

    names = {"bl": "bootloader", "tee": "tee", "snp": "snp", "ucode": "microcode", "fmc": "fmc"}
    values: dict[str, int] = {}
    try:
        for part in spec.split(","):
            key, _, raw = part.partition("=")
            values[names[key.strip()]] = int(raw)
        return Tcb(**values)
    except (KeyError, ValueError, TypeError, MisuseError):
        raise ConfigError(
            f"--min-tcb must look like bl=2,tee=0,snp=5,ucode=68[,fmc=1]: {spec!r}"
        ) from None


def _at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--at is not an ISO 8601 time: {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def register(app: typer.Typer) -> None:
    """Add the ``attest`` command group."""
    attest = typer.Typer(help="Attestation evidence.", no_args_is_help=True)
    app.add_typer(attest, name="attest")

    @attest.command("verify")
    def verify_cmd(
        *,
        report: Annotated[Path, typer.Option(help="ATTESTATION_REPORT, raw bytes")],
        vcek: Annotated[Path, typer.Option(help="VCEK certificate, DER")],
        chain: Annotated[
            Path | None,
            typer.Option(help="ASK then ARK, PEM (KDS cert_chain); default: packaged roots"),
        ] = None,
        platform: Annotated[str, typer.Option(help="evidence platform")] = "sev-snp",
        at: Annotated[
            str | None, typer.Option(help="verify as of this ISO 8601 time (default: now)")
        ] = None,
        allow_debug: Annotated[bool, typer.Option(help="accept a debuggable guest")] = False,
        measurement: Annotated[
            list[str] | None, typer.Option(help="allowed measurement, hex (repeatable)")
        ] = None,
        report_data: Annotated[
            str | None,
            typer.Option(help="expected REPORT_DATA, hex (zero-padded to 64 bytes)"),
        ] = None,
        min_tcb: Annotated[
            str | None, typer.Option(help="minimum TCB, e.g. bl=2,tee=0,snp=5,ucode=68")
        ] = None,
        json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    ) -> None:
        """Verify an SEV-SNP report with its VCEK and AMD chain, offline.

        Checks skipped for lack of input are listed: the measurement when no
        --measurement is given, REPORT_DATA when no --report-data is given (a
        report from elsewhere binds no privproc key), and the evidence age (a bare
        report carries no time).
        """
        from privproc.attestation.policy import Policy
        from privproc.attestation.sevsnp.certs import Chain
        from privproc.attestation.sevsnp.verify import (
            load_vcek,
            parse,
            validate,
            verify_signatures,
        )

        if platform != "sev-snp":
            raise ConfigError(f"--platform {platform!r}: only sev-snp evidence is supported here")
        now = _at(at)
        allowed = frozenset(_hex(m, "--measurement") for m in measurement or [])
        expected_rd = None
        if report_data is not None:
            raw = _hex(report_data, "--report-data")
            if len(raw) > 64:
                raise ConfigError("--report-data is longer than 64 bytes")
            expected_rd = raw + bytes(64 - len(raw))
        tcb_min = _parse_tcb(min_tcb) if min_tcb else None
        skipped = ["policy.freshness"]
        try:
            parsed = parse(_read(report, "report"))
            cert = load_vcek(_read(vcek, "VCEK"))
            pair = Chain.from_pem(_read(chain, "chain")) if chain else None
            endorsed = verify_signatures(parsed, cert, pair, now=now)
            if not allowed:
                skipped.append("policy.measurement")
                allowed = frozenset({parsed.measurement})
            if expected_rd is None:
                skipped.append("binding.report_data")
            policy = Policy(measurements=allowed, min_tcb=tcb_min, allow_debug=allow_debug)
            verified = validate(parsed, endorsed, policy=policy, now=now, report_data=expected_rd)
        except AttestationError as exc:
            if json_out:
                typer.echo(json.dumps({"verified": False, "check": exc.check, "error": str(exc)}))
                raise typer.Exit(1) from None
            raise
        r = verified.report
        out = {
            "verified": True,
            "platform": "sev-snp",
            "product": verified.product.value,
            "at": now.isoformat(),
            "version": r.version,
            "measurement": r.measurement.hex(),
            "tcb": {
                "bootloader": verified.tcb.bootloader,
                "tee": verified.tcb.tee,
                "snp": verified.tcb.snp,
                "microcode": verified.tcb.microcode,
                "fmc": verified.tcb.fmc,
            },
            "chip_id": verified.chip_id.hex(),
            "debug": r.debug,
            "policy": f"{r.policy:#x}",
            "vmpl": r.vmpl,
            "guest_svn": r.guest_svn,
            "report_data": r.report_data.hex(),
            "host_data": r.host_data.hex(),
            "firmware": f"{r.current_major}.{r.current_minor}.{r.current_build}",
            "checks_skipped": skipped,
        }
        if json_out:
            typer.echo(json.dumps(out, indent=2))
            return
        typer.echo(f"verified: SEV-SNP report from AMD {out['product']} (as of {out['at']})")
        for key in (
            "version",
            "measurement",
            "chip_id",
            "debug",
            "policy",
            "vmpl",
            "guest_svn",
            "firmware",
            "report_data",
            "host_data",
        ):
            typer.echo(f"  {key}: {out[key]}")
        typer.echo(f"  tcb (from VCEK): {verified.tcb}")
        typer.echo(f"  not checked: {', '.join(skipped)}")
