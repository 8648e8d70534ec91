"""``privproc attest verify``: verify real attestation evidence offline.

Prints the verified fields, or exits non-zero with a one-line reason that names
the failed check (``privproc: error: sevsnp.report.signature: ...``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Request:
    report: Path
    now: datetime
    allowed: frozenset[bytes]
    report_data: bytes | None
    allow_debug: bool


def _verify_snp(
    req: _Request, vcek: Path, chain: Path | None, crl: Path | None, min_tcb: Tcb | None
) -> dict[str, object]:
    from privproc.attestation.policy import Policy
    from privproc.attestation.sevsnp.certs import Chain
    from privproc.attestation.sevsnp.verify import load_vcek, parse, validate, verify_signatures

    skipped = ["policy.freshness"]
    parsed = parse(_read(req.report, "report"))
    cert = load_vcek(_read(vcek, "VCEK"))
    pair = Chain.from_pem(_read(chain, "chain")) if chain else None
    crl_der = _read(crl, "CRL") if crl else None
    if crl_der is None:
        skipped.append("sevsnp.crl")
    endorsed = verify_signatures(parsed, cert, pair, now=req.now, crl=crl_der)
    allowed = req.allowed
    if not allowed:
        skipped.append("policy.measurement")
        allowed = frozenset({parsed.measurement})
    if req.report_data is None:
        skipped.append("binding.report_data")
    policy = Policy(measurements=allowed, min_tcb=min_tcb, allow_debug=req.allow_debug)
    verified = validate(parsed, endorsed, policy=policy, now=req.now, report_data=req.report_data)
    r = verified.report
    return {
        "verified": True,
        "platform": "sev-snp",
        "product": verified.product.value,
        "at": req.now.isoformat(),
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


def _verify_tdx(req: _Request, collateral: Path, tcb_status: list[str]) -> dict[str, object]:
    from privproc.attestation.policy import Policy, check_debug, check_measurement
    from privproc.attestation.tdx.verify import check_tcb_status, verify_quote

    skipped = ["policy.freshness"]
    v = verify_quote(_read(req.report, "quote"), _read(collateral, "collateral"), now=req.now)
    allowed = req.allowed
    if not allowed:
        skipped.append("policy.measurement")
        allowed = frozenset({v.measurement})
    policy = Policy(
        measurements=allowed,
        allow_debug=req.allow_debug,
        tdx_tcb_status=frozenset(tcb_status or ["UpToDate"]),
    )
    check_tcb_status(v, policy)
    check_debug(v.debug, policy)
    check_measurement(v.measurement, policy)
    if req.report_data is None:
        skipped.append("binding.report_data")
    elif v.report_data != req.report_data:
        raise AttestationError(
            "binding.report_data",
            "REPORTDATA is not the expected value",
            expected=req.report_data.hex(),
            found=v.report_data.hex(),
        )
    return {
        "verified": True,
        "platform": "tdx",
        "at": req.now.isoformat(),
        "tcb_status": v.status,
        "advisory_ids": list(v.advisory_ids),
        "measurement": v.measurement.hex(),
        "mr_td": v.mr_td.hex(),
        "rtmr0": v.rtmr0.hex(),
        "rtmr1": v.rtmr1.hex(),
        "rtmr2": v.rtmr2.hex(),
        "rtmr3": v.rtmr3.hex(),
        "mr_seam": v.mr_seam.hex(),
        "td_attributes": v.td_attributes.hex(),
        "debug": v.debug,
        "report_data": v.report_data.hex(),
        "checks_skipped": skipped,
    }


def _print(out: dict[str, object]) -> None:
    keys: tuple[str, ...]
    if out["platform"] == "sev-snp":
        typer.echo(f"verified: SEV-SNP report from AMD {out['product']} (as of {out['at']})")
        keys = (
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
        )
    else:
        typer.echo(f"verified: TDX quote, Intel TCB status {out['tcb_status']} (as of {out['at']})")
        keys = (
            "measurement",
            "mr_td",
            "rtmr0",
            "rtmr1",
            "rtmr2",
            "rtmr3",
            "mr_seam",
            "td_attributes",
            "debug",
            "report_data",
            "advisory_ids",
        )
    for key in keys:
        typer.echo(f"  {key}: {out[key]}")
    tcb = out.get("tcb")
    if isinstance(tcb, dict):
        fmc = "" if tcb["fmc"] is None else f"fmc={tcb['fmc']} "
        typer.echo(
            f"  tcb (from VCEK): {fmc}bl={tcb['bootloader']} tee={tcb['tee']} "
            f"snp={tcb['snp']} ucode={tcb['microcode']}"
        )
    skipped = out["checks_skipped"]
    assert isinstance(skipped, list)
    typer.echo(f"  not checked: {', '.join(skipped)}")


def register(app: typer.Typer) -> None:
    """Add the ``attest`` command group."""
    attest = typer.Typer(help="Attestation evidence.", no_args_is_help=True)
    app.add_typer(attest, name="attest")

    @attest.command("measure")
    def measure_cmd(
        *,
        model_dir: Annotated[
            Path | None, typer.Option(help="folder of model files the enclave loads")
        ] = None,
        config: Annotated[Path | None, typer.Option(help="the enclave's config file")] = None,
        json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    ) -> None:
        """Print the measurement of an enclave release: the installed privproc enclave
        code, the model files and the config (what `privproc release` records)."""
        from privproc.attestation.measure import enclave_code_files, measure_release

        if model_dir is not None and not model_dir.is_dir():
            raise ConfigError(f"--model-dir is not a directory: {model_dir}")
        config_bytes = _read(config, "config") if config else b""
        value = measure_release(model_dir=model_dir, config=config_bytes)
        models = 0 if model_dir is None else sum(1 for f in model_dir.rglob("*") if f.is_file())
        out = {
            "measurement": value.hex(),
            "code_files": len(enclave_code_files()),
            "model_files": models,
            "config_bytes": len(config_bytes),
        }
        if json_out:
            typer.echo(json.dumps(out, indent=2))
        else:
            typer.echo(value.hex())

    @attest.command("verify")
    def verify_cmd(
        *,
        report: Annotated[Path, typer.Option(help="SEV-SNP ATTESTATION_REPORT or TDX quote")],
        platform: Annotated[str, typer.Option(help="sev-snp or tdx")] = "sev-snp",
        vcek: Annotated[Path | None, typer.Option(help="sev-snp: VCEK certificate, DER")] = None,
        chain: Annotated[
            Path | None,
            typer.Option(help="sev-snp: ASK then ARK, PEM (KDS cert_chain); default: packaged"),
        ] = None,
        crl: Annotated[Path | None, typer.Option(help="sev-snp: the ARK's CRL, DER")] = None,
        collateral: Annotated[
            Path | None, typer.Option(help="tdx: DCAP collateral, dcap-qvl JSON")
        ] = None,
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
            str | None, typer.Option(help="sev-snp: minimum TCB, e.g. bl=2,tee=0,snp=5,ucode=68")
        ] = None,
        tcb_status: Annotated[
            list[str] | None,
            typer.Option(help="tdx: accepted Intel TCB status (repeatable; default UpToDate)"),
        ] = None,
        json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    ) -> None:
        """Verify SEV-SNP (report + VCEK + AMD chain) or TDX (quote + collateral) offline.

        Checks skipped for lack of input are listed: the measurement when no
        --measurement is given, REPORT_DATA when no --report-data is given (a
        sample from elsewhere binds no privproc key), the AMD CRL when no --crl is
        given, and the evidence age (a bare report carries no time).
        """
        expected_rd = None
        if report_data is not None:
            raw = _hex(report_data, "--report-data")
            if len(raw) > 64:
                raise ConfigError("--report-data is longer than 64 bytes")
            expected_rd = raw + bytes(64 - len(raw))
        req = _Request(
            report=report,
            now=_at(at),
            allowed=frozenset(_hex(m, "--measurement") for m in measurement or []),
            report_data=expected_rd,
            allow_debug=allow_debug,
        )
        try:
            if platform == "sev-snp":
                if vcek is None:
                    raise ConfigError("--platform sev-snp needs --vcek")
                tcb_min = _parse_tcb(min_tcb) if min_tcb else None
                out = _verify_snp(req, vcek, chain, crl, tcb_min)
            elif platform == "tdx":
                if collateral is None:
                    raise ConfigError("--platform tdx needs --collateral")
                out = _verify_tdx(req, collateral, tcb_status or [])
            else:
                raise ConfigError(f"--platform {platform!r}: use sev-snp or tdx")
        except AttestationError as exc:
            if json_out:
                typer.echo(json.dumps({"verified": False, "check": exc.check, "error": str(exc)}))
                raise typer.Exit(1) from None
            raise
        if json_out:
            typer.echo(json.dumps(out, indent=2))
        else:
            _print(out)
