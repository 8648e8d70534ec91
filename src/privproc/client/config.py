"""The device's configuration and trust anchors (``$PRIVPROC_HOME/client/config.json``).

``privproc up`` writes this file once every party answers. It names where to
reach the relay, the directory and the issuer, and what the device trusts: the
(simulated) hardware vendor roots, the ledger's checkpoint key, the witnesses and
how many must cosign, and the release publisher's key.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from privproc._home import default_home
from privproc.errors import ConfigError

__all__ = ["ClientConfig", "client_home", "privproc_home"]


#: The one home rule (:func:`privproc._home.default_home`): ``$PRIVPROC_HOME`` when set
#: and not empty, else ``~/.privproc``.
privproc_home = default_home


def client_home() -> Path:
    """The device's folder: ``client`` under :func:`privproc._home.default_home`."""
    return default_home() / "client"


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Where the parties are and what the device trusts.

    ``vendor_roots``: base64 DER roots of simulated hardware vendors.
    ``log_vkey`` / ``witness_vkeys``: C2SP signed-note verifier keys; ``quorum``
    witnesses must cosign. ``publisher_vkey``: the key that signs release and
    key-config records. ``issuer_name`` / ``origin``: the token challenge the
    gateway accepts (RFC 9577 §2.1). ``k``: candidate nodes per request. ``min_nodes``:
    the fewest verified nodes a bundle must yield (``bundle.too_few_nodes``; default 2,
    so K never silently falls to 1). Ages in seconds.

    ``trust_store``: ``"production"`` (the default) trusts only the vendor roots pinned
    in the package (AMD's ARKs, NVIDIA's device identity root, Intel's root inside
    dcap-qvl) for hardware platforms; ``"test"`` also trusts ``test_sevsnp_chains``
    (PEM ASK+ARK pairs of emulated AMD hierarchies), ``test_nvidia_roots`` (emulated
    NVIDIA device identity roots) and ``test_tdx_roots`` (emulated Intel SGX root CAs,
    base64 DER, pinned for dcap-qvl), and ``vendor_roots``, the roots of the *simulated*
    platform (``privproc up``'s own test key: no hardware behind it). Test roots in a
    production config, simulated ones included, are a config error, not silently ignored
    or used; a device with the test store on logs it and shows ``trust.test_store`` in
    its trail.
    """

    relay_url: str
    directory_url: str
    issuer_url: str
    account: str
    issuer_name: str
    origin: str
    vendor_roots: tuple[str, ...]
    log_vkey: str
    witness_vkeys: tuple[str, ...]
    quorum: int
    publisher_vkey: str
    k: int = 2
    min_nodes: int = 2
    evidence_max_age: int = 3600
    #: Witness cosignatures older than this are refused; with the skew it is ``D`` of the
    #: key-consistency rule, so a gateway announces new key configs longer ahead (1200 s).
    cosignature_max_age: int = 600
    cosignature_max_skew: int = 300
    #: Seconds the device waits for an answer (a generative node writes for a while).
    request_timeout: float = 60.0
    trust_store: str = "production"
    test_sevsnp_chains: tuple[str, ...] = ()
    #: The test store's emulated NVIDIA device identity roots (base64 DER).
    test_nvidia_roots: tuple[str, ...] = ()
    #: The test store's emulated Intel SGX root CAs (base64 DER), for TDX quotes.
    test_tdx_roots: tuple[str, ...] = ()
    #: Fresh evidence: the most seconds since the witnesses cosigned the checkpoint a
    #: node's evidence binds (None: not required).
    evidence_checkpoint_max_age: int | None = None

    def __post_init__(self) -> None:
        for url in (self.relay_url, self.directory_url, self.issuer_url):
            if not url.startswith(("http://", "https://")):
                raise ConfigError("client config: URLs must be http(s)")
        if not 1 <= self.k <= 8:
            raise ConfigError("client config: k must be 1..8")
        if not 1 <= self.min_nodes <= 64:
            raise ConfigError("client config: min_nodes must be 1..64")
        if self.cosignature_max_age <= 0 or self.cosignature_max_skew < 0:
            raise ConfigError("client config: cosignature max age > 0 and max skew >= 0")
        if not 0 < self.request_timeout <= 3600:
            raise ConfigError("client config: request_timeout must be in (0, 3600] seconds")
        if not 1 <= self.quorum <= len(self.witness_vkeys):
            raise ConfigError("client config: quorum must be 1..number of witnesses")
        if self.evidence_checkpoint_max_age is not None and self.evidence_checkpoint_max_age <= 0:
            raise ConfigError("client config: evidence_checkpoint_max_age must be positive")
        if self.trust_store not in ("production", "test"):
            raise ConfigError("client config: trust_store must be 'production' or 'test'")
        if self.trust_store == "production" and (
            self.test_sevsnp_chains
            or self.test_nvidia_roots
            or self.test_tdx_roots
            or self.vendor_roots
        ):
            raise ConfigError(
                "client config: test roots in a production trust store"
                " (set trust_store to 'test' to use them, never in production)"
            )
        if not all("BEGIN CERTIFICATE" in c for c in self.test_sevsnp_chains):
            raise ConfigError("client config: test_sevsnp_chains must be PEM ASK+ARK pairs")
        try:
            for root in (*self.vendor_roots, *self.test_nvidia_roots, *self.test_tdx_roots):
                base64.b64decode(root, validate=True)
        except ValueError:
            raise ConfigError("client config: vendor roots must be base64 DER") from None

    def roots_der(self) -> tuple[bytes, ...]:
        """The vendor roots as DER bytes."""
        return tuple(base64.b64decode(r) for r in self.vendor_roots)

    def dumps(self) -> str:
        """The JSON file content."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, path: Path) -> ClientConfig:
        """Read and check a config file."""
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"no client config at {path} (run `privproc up` first)") from None
        except (OSError, ValueError):
            raise ConfigError(f"client config unreadable: {path}") from None
        if not isinstance(obj, dict):
            raise ConfigError("client config: not an object")
        try:
            obj["vendor_roots"] = tuple(obj["vendor_roots"])
            obj["witness_vkeys"] = tuple(obj["witness_vkeys"])
            for name in ("test_sevsnp_chains", "test_nvidia_roots", "test_tdx_roots"):
                if name in obj:
                    obj[name] = tuple(obj[name])
            return cls(**obj)
        except (KeyError, TypeError):
            raise ConfigError("client config: missing or unknown fields") from None
