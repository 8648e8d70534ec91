"""The device's policy comes from the release record; SEV-SNP goes to the real SNP verifier.

An emulated SEV-SNP world (tests/_world.py, ``platform="sev-snp"``): real-format
reports signed by a generated ARK -> ASK -> VCEK chain, verified by
``privproc.attestation.sevsnp.verify`` (the code that verifies the real Milan sample,
tests/unit/attestation/test_sevsnp_real.py) with the emulated chain in the device's
test trust store.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
from pathlib import Path

import pytest

from privproc.attestation import Tcb
from privproc.client.config import ClientConfig
from privproc.client.verify import VerifiedDirectory, verify_directory
from privproc.enclave.platform import NODE_TCB
from privproc.errors import AttestationError, ConfigError
from tests._world import NOW, ROGUE, NodeSpec, World, emulated_amd, emulated_intel


def _verify(world: World) -> VerifiedDirectory:
    keys, bundle = world.documents()
    return verify_directory(keys, bundle, world.trust(), now=NOW, seen=None)


def _snp(nodes: list[NodeSpec] | None = None, *, trust_test_root: bool = True) -> World:
    if nodes is None:
        return World(platform="sev-snp", min_tcb=NODE_TCB, trust_test_root=trust_test_root)
    return World(platform="sev-snp", min_tcb=NODE_TCB, trust_test_root=trust_test_root, nodes=nodes)


def _refused(world: World) -> str:
    with pytest.raises(AttestationError) as info:
        _verify(world)
    return info.value.check


def test_emulated_snp_nodes_verify_through_the_snp_verifier_with_the_release_tcb() -> None:
    result = _verify(_snp())
    assert len(result.nodes) == 3
    assert all(n.verified.tcb == NODE_TCB for n in result.nodes)
    steps = {s.check: s for s in result.trail}
    assert steps["trust.test_store"].subject == "device"
    assert "TEST trust store" in steps["trust.test_store"].detail
    checks = result.nodes[0].verified.checks
    for name in ("sevsnp.ark.pin", "sevsnp.vcek.chain", "sevsnp.report.signature", "policy.tcb"):
        assert name in checks
    attestation = next(s for s in result.trail if s.check == "attestation")
    assert "platform sev-snp" in attestation.detail
    assert "sevsnp.vcek.chain" in attestation.detail
    assert "policy.tcb" in attestation.detail


def test_the_test_store_is_logged_once_as_the_trust_is_set_and_named_in_every_trail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = _snp()
    keys, bundle = world.documents()
    with caplog.at_level(logging.WARNING, logger="privproc.client"):
        trust = world.trust()
        trails = [verify_directory(keys, bundle, trust, now=NOW, seen=None).trail for _ in range(2)]
    warned = [r for r in caplog.records if "TEST trust store on" in r.getMessage()]
    assert len(warned) == 1
    assert all(trail[0].check == "trust.test_store" for trail in trails)


def test_simulated_release_keeps_its_trail_and_shows_the_test_store() -> None:
    result = _verify(World())
    # The simulated root is a test key (no hardware): trusting it is the test store.
    store = [s for s in result.trail if s.check == "trust.test_store"]
    assert len(store) == 1
    assert "1 simulated root(s)" in store[0].detail
    assert result.nodes[0].verified.checks[0] == "simulated.root"
    assert "policy.tcb" not in result.nodes[0].verified.checks  # the release sets no minimum


def test_test_root_not_trusted_is_refused_as_vcek_chain() -> None:
    assert _refused(_snp(trust_test_root=False)) == "sevsnp.vcek.chain"


def test_tcb_below_the_release_minimum() -> None:
    low = Tcb(bootloader=4, tee=0, snp=21, microcode=213)
    assert _refused(_snp(nodes=[NodeSpec("low", tcb=low)])) == "policy.tcb"


def test_minimum_tcb_is_the_releases_not_the_nodes() -> None:
    world = World(platform="sev-snp", min_tcb=Tcb(bootloader=4, tee=0, snp=23, microcode=213))
    assert _refused(world) == "policy.tcb"


def test_debug_guest() -> None:
    assert _refused(_snp(nodes=[NodeSpec("dbg", debug=True)])) == "policy.debug"


def test_launch_digest_not_the_releases() -> None:
    assert _refused(_snp(nodes=[NodeSpec("liar", launch_digest=ROGUE)])) == "policy.measurement"


def test_simulated_evidence_for_a_sev_snp_release() -> None:
    world = World()
    keys, bundle = world.documents()
    snp = World(platform="sev-snp", min_tcb=NODE_TCB)
    # the same nodes' simulated evidence, against a ledger whose release names sev-snp
    _, snp_bundle = snp.documents()
    doc, snp_doc = json.loads(bundle), json.loads(snp_bundle)
    for node, other in zip(snp_doc["nodes"], doc["nodes"], strict=True):
        node["evidence"] = other["evidence"]
    with pytest.raises(AttestationError) as info:
        verify_directory(keys, json.dumps(snp_doc).encode(), snp.trust(), now=NOW, seen=None)
    assert info.value.check == "release.platform"


def _config(**changes: object) -> ClientConfig:
    base: dict[str, object] = {
        "relay_url": "http://r/",
        "directory_url": "http://d",
        "issuer_url": "http://i",
        "account": "a",
        "issuer_name": "i",
        "origin": "o",
        "vendor_roots": (),
        "log_vkey": "x",
        "witness_vkeys": ("w",),
        "quorum": 1,
        "publisher_vkey": "p",
    }
    return ClientConfig(**{**base, **changes})  # type: ignore[arg-type]


def test_a_production_config_cannot_carry_test_roots(tmp_path: Path) -> None:
    pem = emulated_amd().chain_pem().decode()
    with pytest.raises(ConfigError, match="production"):
        _config(test_sevsnp_chains=(pem,))
    # The simulated platform's root is a test key too (no hardware behind it).
    with pytest.raises(ConfigError, match="production"):
        _config(vendor_roots=("AAAA",))
    assert _config(trust_store="test", vendor_roots=("AAAA",)).roots_der() == (bytes(3),)
    with pytest.raises(ConfigError):
        _config(trust_store="lab", test_sevsnp_chains=(pem,))
    config = _config(trust_store="test", test_sevsnp_chains=(pem,))
    (tmp_path / "config.json").write_text(config.dumps())
    assert ClientConfig.load(tmp_path / "config.json") == config
    assert _config().trust_store == "production"


# --- sev-snp+nvidia-cc: the emulated H100 next to the emulated SEV-SNP chip -------------


def _gpu(nodes: list[NodeSpec] | None = None, *, trust_test_root: bool = True) -> World:
    if nodes is None:
        return World(platform="sev-snp+nvidia-cc", min_tcb=NODE_TCB)
    return World(
        platform="sev-snp+nvidia-cc", min_tcb=NODE_TCB, nodes=nodes, trust_test_root=trust_test_root
    )


def test_gpu_release_verifies_cpu_and_gpu_evidence() -> None:
    result = _verify(_gpu())
    assert len(result.nodes) == 3
    detail = next(s.detail for s in result.trail if s.check == "attestation")
    assert "platform sev-snp+nvidia-cc" in detail
    for name in ("nvgpu.root.pin", "nvgpu.report.nonce", "nvgpu.measurement", "policy.tcb"):
        assert name in detail
    assert "8 RIM digests" in detail


def test_gpu_in_devtools_mode() -> None:
    assert _refused(_gpu([NodeSpec("dev", gpu_devtools=True)])) == "nvgpu.measurement"


def test_gpu_report_not_bound_to_the_cpu_report() -> None:
    assert _refused(_gpu([NodeSpec("unbound", gpu_unbound=True)])) == "nvgpu.report.nonce"


def test_gpu_root_not_trusted() -> None:
    world = _gpu([NodeSpec("n")])
    keys, bundle = world.documents()
    trust = dataclasses.replace(world.trust(), nvidia_test_roots=())
    with pytest.raises(AttestationError) as info:
        verify_directory(keys, bundle, trust, now=NOW, seen=None)
    assert info.value.check == "nvgpu.root.pin"


def test_gpu_release_without_gpu_evidence() -> None:
    world = _gpu()
    keys, bundle = world.documents()
    doc = json.loads(bundle)
    for node in doc["nodes"]:
        node["gpu"] = None
    with pytest.raises(AttestationError) as info:
        verify_directory(keys, json.dumps(doc).encode(), world.trust(), now=NOW, seen=None)
    assert info.value.check == "nvgpu.report.format"


def _tdx(nodes: list[NodeSpec] | None = None, *, trust_test_root: bool = True) -> World:
    if nodes is None:
        return World(platform="tdx", trust_test_root=trust_test_root)
    return World(platform="tdx", nodes=nodes, trust_test_root=trust_test_root)


def test_emulated_tdx_nodes_verify_through_dcap_qvl_pinned_to_the_test_root() -> None:
    result = _verify(_tdx())
    assert len(result.nodes) == 3
    assert all(n.verified.tcb is None for n in result.nodes)
    assert "1 emulated Intel root(s)" in result.trail[0].detail
    detail = next(s.detail for s in result.trail if s.check == "attestation")
    assert "platform tdx, Intel TCB status UpToDate" in detail
    for name in ("tdx.quote.chain", "tdx.quote.signature", "tdx.collateral.validity"):
        assert name in detail


def test_tdx_test_root_not_trusted_is_refused_as_quote_chain() -> None:
    assert _refused(_tdx(trust_test_root=False)) == "tdx.quote.chain"


def test_tdx_out_of_date_platform_is_refused_by_intels_status() -> None:
    assert _refused(_tdx([NodeSpec("old", tdx_tcb="out-of-date")])) == "policy.tcb"


def test_tdx_debug_td() -> None:
    assert _refused(_tdx([NodeSpec("debug", debug=True)])) == "policy.debug"


def test_tdx_mrtd_not_the_releases() -> None:
    assert _refused(_tdx([NodeSpec("liar", launch_digest=b"\xab" * 48)])) == "policy.measurement"


def test_snp_evidence_for_a_tdx_release() -> None:
    world = _tdx([NodeSpec("snp")])
    keys, bundle = world.documents()
    snp = json.loads(
        World(platform="sev-snp", min_tcb=NODE_TCB, nodes=[NodeSpec("snp")]).documents()[1]
    )
    doc = json.loads(bundle)
    doc["nodes"][0]["evidence"] = snp["nodes"][0]["evidence"]
    with pytest.raises(AttestationError) as info:
        verify_directory(keys, json.dumps(doc).encode(), world.trust(), now=NOW, seen=None)
    assert info.value.check == "release.platform"


def test_tdx_test_roots_only_in_a_test_store(tmp_path: Path) -> None:
    root = base64.b64encode(emulated_intel().root_der()).decode()
    with pytest.raises(ConfigError, match="production"):
        _config(test_tdx_roots=(root,))
    with pytest.raises(ConfigError, match="base64"):
        _config(trust_store="test", test_tdx_roots=("not base64!",))
    config = _config(trust_store="test", test_tdx_roots=(root,))
    (tmp_path / "config.json").write_text(config.dumps())
    assert ClientConfig.load(tmp_path / "config.json") == config
