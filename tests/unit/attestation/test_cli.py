"""``privproc attest verify`` on the real SEV-SNP sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privproc.cli import main
from tests._vectors import vector_path

D = vector_path("attestation", "sev-snp")
MEAS = (
    "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82"
    "705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01"
)
BASE = [
    "attest",
    "verify",
    "--platform",
    "sev-snp",
    "--report",
    str(D / "attestation.bin"),
    "--vcek",
    str(D / "vcek.der"),
    "--at",
    "2023-01-01T00:00:00Z",
]


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), out.out, out.err


def test_verifies_and_prints_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        [
            *BASE,
            "--chain",
            str(D / "ask_ark_milan.pem"),
            "--allow-debug",
            "--measurement",
            MEAS,
            "--report-data",
            "0102030405",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["verified"] is True
    assert doc["product"] == "Milan"
    assert doc["measurement"] == MEAS
    assert doc["tcb"] == {"bootloader": 2, "tee": 0, "snp": 5, "microcode": 68, "fmc": None}
    assert doc["checks_skipped"] == ["policy.freshness", "sevsnp.crl"]


def test_says_which_checks_it_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run([*BASE, "--allow-debug"], capsys)
    assert code == 0
    assert (
        "not checked: policy.freshness, sevsnp.crl, policy.measurement, binding.report_data" in out
    )


@pytest.mark.parametrize(
    ("extra", "check"),
    [
        ([], "policy.debug"),
        (["--allow-debug", "--measurement", "00" * 48], "policy.measurement"),
        (["--allow-debug", "--min-tcb", "bl=2,tee=0,snp=6,ucode=68"], "policy.tcb"),
        (["--allow-debug", "--report-data", "ff"], "binding.report_data"),
        (["--allow-debug", "--chain", str(D / "ask_ark_genoa.pem")], "sevsnp.vcek.chain"),
    ],
)
def test_names_the_failed_check(
    extra: list[str], check: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run([*BASE, *extra], capsys)
    assert code == 1
    assert err.startswith(f"privproc: error: {check}: ")
    assert err.count("\n") == 1
    code, out, _ = _run([*BASE, *extra, "--json"], capsys)
    assert code == 1
    assert json.loads(out)["check"] == check


def test_refuses_at_time_outside_vcek_validity(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run([*BASE[:-1], "2031-01-01T00:00:00Z", "--allow-debug"], capsys)
    assert code == 1
    assert "sevsnp.vcek.validity" in err


def test_bad_input_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    code, _, err = _run([*BASE, "--measurement", "zz"], capsys)
    assert code == 1
    assert "not hex" in err
    code, _, err = _run([*BASE, "--platform", "tdx"], capsys)
    assert code == 1
    assert "needs --collateral" in err
    code, _, err = _run([*BASE, "--platform", "nitro"], capsys)
    assert code == 1
    assert "use sev-snp or tdx" in err


def test_real_process_exit_codes() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    src = str(Path(__file__).resolve().parents[3] / "src")
    env = {**os.environ, "PYTHONPATH": src}
    ok = subprocess.run(
        [sys.executable, "-m", "privproc", *BASE, "--allow-debug"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "verified: SEV-SNP report from AMD Milan" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "privproc", *BASE],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.strip() == (
        "privproc: error: policy.debug: guest policy allows debugging "
        "(expected debug off, found on)"
    )


TDX = vector_path("attestation", "tdx")
TDX_BASE = [
    "attest",
    "verify",
    "--platform",
    "tdx",
    "--report",
    str(TDX / "tdx_quote"),
    "--collateral",
    str(TDX / "tdx_quote_collateral.json"),
]


def test_tdx_quote(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("dcap_qvl")
    code, out, _ = _run([*TDX_BASE, "--at", "2025-06-20T00:00:00Z", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["tcb_status"] == "UpToDate"
    assert doc["mr_td"].startswith("91eb2b44d141d4ec")
    code, out, _ = _run([*TDX_BASE, "--at", "2025-06-20T00:00:00Z"], capsys)
    assert code == 0
    assert out.startswith("verified: TDX quote, Intel TCB status UpToDate")
    code, _, err = _run([*TDX_BASE, "--at", "2025-08-01T00:00:00Z"], capsys)
    assert code == 1
    assert err.startswith("privproc: error: tdx.collateral.validity: ")
    code, _, err = _run([*TDX_BASE, "--at", "2025-06-20", "--measurement", "00" * 48], capsys)
    assert code == 1
    assert err.startswith("privproc: error: policy.measurement: ")


def test_measure_matches_measure_release(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from privproc.attestation import measure_release

    root = tmp_path
    (root / "models").mkdir()
    (root / "models" / "w.bin").write_bytes(b"weights")
    (root / "cfg.json").write_bytes(b'{"a": 1}')
    code, out, _ = _run(
        [
            "attest",
            "measure",
            "--model-dir",
            str(root / "models"),
            "--config",
            str(root / "cfg.json"),
            "--json",
        ],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)
    assert (
        doc["measurement"] == measure_release(model_dir=root / "models", config=b'{"a": 1}').hex()
    )
    assert doc["model_files"] == 1
    code, _, err = _run(["attest", "measure", "--model-dir", str(root / "nope")], capsys)
    assert code == 1
    assert "not a directory" in err
