"""Start every party on loopback as separate processes, each with its folder.

Order: platform seed and keys -> witnesses -> ledger -> issuer -> enclave nodes ->
release record -> gateway -> directory -> relay; then wait until the directory
serves a cosigned checkpoint with the release and key-config proofs, and only
then write ``$PRIVPROC_HOME/client/config.json`` (a script can wait for it).
Every party's output goes to ``$PRIVPROC_HOME/<party>/<party>.log``.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc.attestation.emulated import golden_measurements
from privproc.client.config import ClientConfig
from privproc.cluster.release import Release, record_release
from privproc.enclave.platform import (
    EMULATED_AMD_DIR,
    EMULATED_NVIDIA_DIR,
    NODE_TCB,
    load_vendor,
    write_emulated_amd,
    write_emulated_nvidia,
)
from privproc.errors import ConfigError
from privproc.ledger.note import Ed25519Signer

__all__ = ["CLUSTER_PLATFORMS", "Cluster", "ClusterSpec", "Party", "free_port"]

ORIGIN = "privproc.local/ledger"
PUBLISHER = "publisher.privproc.local"
ISSUER_NAME = "issuer.privproc.local"
GATEWAY_ORIGIN = "gateway.privproc.local"
#: The platforms ``privproc up|demo --platform`` can run on loopback.
CLUSTER_PLATFORMS = ("simulated", "sev-snp-emulated", "sev-snp+nvidia-cc-emulated")
#: The TCB of a ``low_tcb_nodes`` node: SNP firmware one below the release's minimum.
LOW_TCB = "bl=4,tee=0,snp=21,ucode=213"
#: What a ``lying_nodes`` node's emulated firmware measured (not the released image).
OTHER_LAUNCH_DIGEST = "ab" * 48
#: A party restarted this many times within this many seconds is crash-looping.
RESTART_LIMIT = 3
RESTART_WINDOW = 60.0
#: The config of a node built from code that is not in the ledger.
ROGUE_CONFIG = b'{"build": "unreleased", "extra_logging": true}\n'


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _terminate(parties: list[Party]) -> None:
    """SIGTERM each party's process group, then SIGKILL what is left after a few seconds."""
    for party in parties:
        if party.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(party.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    for party in parties:
        try:
            party.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(party.process.pid, signal.SIGKILL)
            party.process.wait(2)


@dataclass
class Party:
    """One running party."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    #: How it was started, so :meth:`Cluster.restart` can start it again.
    command: tuple[str, ...] = ()
    health: str = "/healthz"
    #: When :meth:`Cluster.supervise` restarted it (monotonic seconds), newest last.
    restarts: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """How many nodes, K, timings. After the ``nodes`` released ones come
    ``rogue_nodes`` running a build not in the ledger, then ``debug_nodes`` running
    the released build as debuggable guests (both only for demos and tests), then
    ``low_tcb_nodes`` certified below the release's minimum TCB and ``lying_nodes`` that
    advertise the released measurement while their (emulated) hardware measured another
    image (both ``sev-snp-emulated`` only), then ``stale_nodes`` that bind the first
    witnessed checkpoint they fetch and never a newer one.
    ``min_nodes`` goes into the device's config; ``nodes`` must reach it (a cluster
    whose device would refuse every bundle is a config error). ``platform``:
    ``simulated``, ``sev-snp-emulated`` (the release then names ``sev-snp`` with
    minimum TCB :data:`~privproc.enclave.platform.NODE_TCB`, and the device's test
    trust store holds the emulated AMD chain) or ``sev-snp+nvidia-cc-emulated`` (each node
    also has an emulated H100; the release names ``sev-snp+nvidia-cc`` with the GPU's
    reference digests, and the test store holds the emulated NVIDIA root)."""

    nodes: int = 3
    rogue_nodes: int = 0
    debug_nodes: int = 0
    low_tcb_nodes: int = 0
    lying_nodes: int = 0
    #: Nodes that fetch the witnessed checkpoint once and never again (stale binding).
    stale_nodes: int = 0
    #: Nodes whose emulated GPU runs in devtools mode (``sev-snp+nvidia-cc-emulated``).
    gpu_devtools_nodes: int = 0
    #: The device's ``evidence_checkpoint_max_age``; it must exceed the nodes'
    #: ``evidence_refresh + checkpoint_refresh``.
    evidence_checkpoint_max_age: int = 600
    #: Seconds between a node's fresh evidence, and between its checkpoint fetches.
    evidence_refresh: float = 300.0
    checkpoint_refresh: float = 30.0
    platform: str = "simulated"
    k: int = 2
    min_nodes: int = 2
    host: str = "127.0.0.1"
    gateway_key_lifetime: int = 3600
    #: How long ahead the gateway records a new key config; the device's
    #: ``cosignature_max_age + cosignature_max_skew`` (``D`` of the key-consistency rule)
    #: must fit in it.
    gateway_key_announce: int = 1200
    cosignature_max_age: int = 600
    cosignature_max_skew: int = 300
    node_key_lifetime: float = 3600.0
    account: str = "demo-user"
    ready_timeout: float = 120.0
    #: A GGUF file every node serves with its own llama.cpp server (``up --model``);
    #: recorded in the release (its SHA-256 is the model digest) and measured.
    model: Path | None = None
    #: The Python that has llama-cpp-python (default: privproc.enclave.generative's).
    llama_python: str | None = None
    #: An OpenAI-compatible server every node uses instead of its own llama.cpp server
    #: (``enclave --inference-url``); ``model`` then names the file that server loads.
    inference_url: str | None = None
    #: Seconds the relay waits for the gateway and the gateway for a node; the device
    #: waits 10 s longer. A node that writes with a model needs minutes on a CPU.
    request_timeout: float = 60.0
    #: Gateway and issuer replicas (issue 16): more than one needs ``redis_url``; with
    #: ``redis_url`` set, the replicas (``gateway-1``...) run behind HAProxy, whose URL is
    #: the party ``gateway`` (and ``issuer``), and share one key sequence, spent tokens,
    #: quotas and the replay cache in Redis.
    gateways: int = 1
    issuers: int = 1
    redis_url: str | None = field(default=None, repr=False)
    #: A postgresql:// URL for the ledger (default: SQLite in its home).
    ledger_database: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.platform not in CLUSTER_PLATFORMS:
            raise ConfigError(f"cluster: platform must be one of {', '.join(CLUSTER_PLATFORMS)}")
        if self.platform == "simulated" and (self.low_tcb_nodes or self.lying_nodes):
            raise ConfigError("cluster: low-TCB and lying nodes need sev-snp-emulated")
        if self.inference_url is not None and self.model is None:
            raise ConfigError("cluster: an inference URL needs the model file it serves")
        if self.gpu_devtools_nodes and self.platform != "sev-snp+nvidia-cc-emulated":
            raise ConfigError("cluster: GPU devtools nodes need sev-snp+nvidia-cc-emulated")
        if self.min_nodes < 1 or self.nodes < self.min_nodes:
            raise ConfigError(
                f"cluster: at least {self.min_nodes} released nodes (the device's min_nodes),"
                f" asked for {self.nodes}"
            )
        if self.evidence_refresh + self.checkpoint_refresh >= self.evidence_checkpoint_max_age:
            raise ConfigError(
                "cluster: nodes must bind a newer checkpoint (evidence_refresh +"
                " checkpoint_refresh) than the device's evidence_checkpoint_max_age"
            )
        if self.gateways < 1 or self.issuers < 1:
            raise ConfigError("cluster: at least one gateway and one issuer")
        if (self.gateways > 1 or self.issuers > 1) and self.redis_url is None:
            raise ConfigError(
                "cluster: gateway or issuer replicas share state in Redis: --redis URL"
            )
        if self.cosignature_max_age + self.cosignature_max_skew > self.gateway_key_announce:
            raise ConfigError(
                "cluster: the gateway must announce key configs longer ahead than the"
                " device's cosignature max age plus skew (the key-consistency rule)"
            )


@dataclass
class Cluster:
    """Every party of one privproc deployment, under ``home``."""

    home: Path
    spec: ClusterSpec = field(default_factory=ClusterSpec)
    parties: dict[str, Party] = field(default_factory=dict)
    release: Release | None = None
    progress: Callable[[str], None] = lambda _msg: None

    # --- processes ------------------------------------------------------------------

    def _folder(self, name: str) -> Path:
        folder = self.home / name
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def _spawn(
        self, name: str, args: list[str], port: int, health: str, module: str = "privproc"
    ) -> Party:
        where = ("--host", self.spec.host, "--port", str(port))
        return self._spawn_command(
            name, (sys.executable, "-m", module, *args, *where), port, health
        )

    def _spawn_command(self, name: str, command: tuple[str, ...], port: int, health: str) -> Party:
        folder = self._folder(name)
        log = folder / f"{name}.log"
        process = self._popen(command, log)
        (folder / "pid").write_text(f"{process.pid}\n")
        party = Party(name, f"http://{self.spec.host}:{port}", process, log, command, health)
        self.parties[name] = party
        self._wait(party, health)
        self.progress(f"{name} up at {party.url}")
        return party

    def _popen(self, command: tuple[str, ...], log: Path) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["PRIVPROC_HOME"] = str(self.home)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        with log.open("ab") as out:
            return subprocess.Popen(  # noqa: S603 - our own interpreter and module
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )

    def _wait(self, party: Party, path: str) -> None:
        deadline = time.monotonic() + self.spec.ready_timeout
        while time.monotonic() < deadline:
            if party.process.poll() is not None:
                raise ConfigError(f"{party.name} exited (see {party.log})")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(party.url + path, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise ConfigError(f"{party.name} did not answer within {self.spec.ready_timeout:.0f}s")

    def halt(self, name: str) -> None:
        """Stop one party (its port and files stay; :meth:`resume` starts it again)."""
        _terminate([self.parties[name]])

    def resume(self, name: str) -> Party:
        """Start a halted party again with the command and port it had."""
        party = self.parties[name]
        process = self._popen(party.command, party.log)
        (party.log.parent / "pid").write_text(f"{process.pid}\n")
        again = dataclasses.replace(party, process=process)
        self.parties[name] = again
        self._wait(again, again.health)
        return again

    def supervise(self, report: Callable[[str], None]) -> None:
        """Restart every party that exited, on its port, like a process manager.

        Each exit is reported (``report``); the others keep serving meanwhile. A party
        that exits more than ``RESTART_LIMIT`` times in ``RESTART_WINDOW`` seconds is
        crash-looping: a ConfigError names it (``up`` then stops, as before this).
        """
        for name, party in list(self.parties.items()):
            code = party.process.poll()
            if code is None:
                continue
            now = time.monotonic()
            recent = tuple(t for t in party.restarts if now - t < RESTART_WINDOW)
            if len(recent) >= RESTART_LIMIT:
                raise ConfigError(
                    f"{name} exited {len(recent) + 1} times in {RESTART_WINDOW:.0f}s"
                    f" (see {party.log})"
                )
            report(f"{name} exited (code {code}); restarting it on {party.url}")
            self.parties[name] = dataclasses.replace(party, restarts=(*recent, now))
            again = self.resume(name)
            report(f"{name} restarted (pid {again.process.pid})")

    def restart(self, name: str, *, before: Callable[[], None] = lambda: None) -> Party:
        """Stop one party, run ``before`` (e.g. lose its state), start it again on its port."""
        self.halt(name)
        before()
        return self.resume(name)

    def stop(self) -> None:
        """Stop every party (SIGTERM, then SIGKILL after a few seconds)."""
        _terminate(list(reversed(self.parties.values())))

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- bring-up -------------------------------------------------------------------

    def start(self) -> ClientConfig:
        """Start every party; return (and write) the client's config."""
        if self.spec.model is not None and not self.spec.model.is_file():
            raise ConfigError(f"model file not found: {self.spec.model}")
        self.home.mkdir(parents=True, exist_ok=True)
        platform = self._folder("platform")
        seed = platform / "vendor.seed"
        if not seed.exists():
            seed.write_bytes(os.urandom(48))
        vendor_root = load_vendor(seed).root_der
        emulated = self.spec.platform != "simulated"
        gpu = self.spec.platform == "sev-snp+nvidia-cc-emulated"
        test_chains, nvidia_roots = self._emulated_roots(platform)
        operator = self._folder("operator")
        publisher_file = operator / "publisher.key"
        if not publisher_file.exists():
            publisher_file.write_text(
                f"{PUBLISHER} {Ed25519PrivateKey.generate().private_bytes_raw().hex()}\n"
            )
        publisher_name, hex_key = publisher_file.read_text().split()
        publisher_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(hex_key))
        publisher_vkey = Ed25519Signer(publisher_name, publisher_key).verifier().vkey()
        ledger_home = self._folder("ledger")
        if not (ledger_home / "log.key").exists():
            signer = Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate())
            (ledger_home / "log.key").write_text(signer.signer_key() + "\n")
        log_signer_text = (ledger_home / "log.key").read_text().strip()
        log_vkey = _vkey_of_signer(log_signer_text)

        witness_urls, witness_vkeys = [], []
        for i in (1, 2):
            w = self._spawn(
                f"witness-{i}",
                [
                    "witness",
                    "--home",
                    str(self._folder(f"witness-{i}")),
                    "--name",
                    f"witness-{i}.privproc.local",
                    "--log",
                    log_vkey,
                ],
                free_port(),
                "/.well-known/privproc-vkey",
            )
            witness_urls.append(w.url)
            witness_vkeys.append(httpx.get(w.url + "/.well-known/privproc-vkey").text.strip())
        ledger = self._spawn(
            "ledger",
            [
                "ledger",
                "serve",
                "--home",
                str(ledger_home),
                "--origin",
                ORIGIN,
                "--witness-interval",
                "1",
                *[a for u in witness_urls for a in ("--witness", u)],
                *(["--database", self.spec.ledger_database] if self.spec.ledger_database else []),
            ],
            free_port(),
            "/checkpoint",
        )
        ledger_token = (ledger_home / "token").read_text().strip()
        issuer = self._start_issuers()
        nodes = self._start_nodes(platform, seed, ledger.url)
        self.release = record_release(
            ledger.url,
            ledger_token,
            (publisher_name, publisher_key),
            generative_model=self.spec.model,
            platform=("sev-snp+nvidia-cc" if gpu else "sev-snp") if emulated else "simulated",
            min_tcb=NODE_TCB if emulated else None,
            # The RIM digests, recorded at release time (docs/attestation.md, "GPU").
            gpu_rims=tuple(sorted(golden_measurements().items())) if gpu else (),
        )
        self.progress(
            f"release {self.release.version} recorded at ledger index {self.release.index}"
        )
        node_args = [a for n in nodes for a in ("--node", n.url)]
        gateway_args = [
            "--issuer",
            issuer.url,
            "--ledger",
            ledger.url,
            "--ledger-token",
            str(ledger_home / "token"),
            "--publisher",
            str(publisher_file),
            "--issuer-name",
            ISSUER_NAME,
            "--origin",
            GATEWAY_ORIGIN,
            "--key-lifetime",
            str(self.spec.gateway_key_lifetime),
            "--key-announce",
            str(self.spec.gateway_key_announce),
            "--node-timeout",
            str(self.spec.request_timeout),
            *node_args,
        ]
        gateway = self._start_gateways(gateway_args, operator)
        directory = self._spawn(
            "directory",
            [
                "directory",
                "--gateway",
                gateway.url,
                "--ledger",
                ledger.url,
                "--refresh",
                "1",
                *node_args,
            ],
            free_port(),
            "/healthz",
        )
        relay = self._spawn(
            "relay",
            [
                "relay",
                "--gateway",
                gateway.url + "/gateway",
                "--timeout",
                str(self.spec.request_timeout),
            ],
            free_port(),
            "/healthz",
        )
        self.wait_bundle(directory.url, self.spec.nodes)
        config = ClientConfig(
            relay_url=relay.url + "/",
            directory_url=directory.url,
            issuer_url=issuer.url,
            account=self.spec.account,
            issuer_name=ISSUER_NAME,
            origin=GATEWAY_ORIGIN,
            vendor_roots=(base64.b64encode(vendor_root).decode(),),
            log_vkey=log_vkey,
            witness_vkeys=tuple(witness_vkeys),
            quorum=2,
            publisher_vkey=publisher_vkey,
            k=self.spec.k,
            min_nodes=self.spec.min_nodes,
            cosignature_max_age=self.spec.cosignature_max_age,
            cosignature_max_skew=self.spec.cosignature_max_skew,
            request_timeout=self.spec.request_timeout + 10,
            # Simulated and emulated roots are test keys: only a test store trusts them.
            trust_store="test",
            evidence_checkpoint_max_age=self.spec.evidence_checkpoint_max_age,
            test_sevsnp_chains=test_chains,
            test_nvidia_roots=nvidia_roots,
        )
        client = self._folder("client")
        tmp = client / ".config.json.tmp"
        tmp.write_text(config.dumps())
        tmp.replace(client / "config.json")
        self.progress(f"client config written to {client / 'config.json'}")
        return config

    def _start_issuers(self) -> Party:
        """One issuer, or ``issuers`` replicas sharing one key folder and Redis, behind
        HAProxy (the party ``issuer``)."""
        home = str(self._folder("issuer"))
        base = ["issuer", "--home", home, "--quota", "10000"]
        if self.spec.redis_url is None:
            return self._spawn(
                "issuer", ["issuer", "--home", home, "--quota", "10000"], free_port(), "/healthz"
            )
        replicas = [
            self._spawn(
                f"issuer-{i}", [*base, "--redis", self.spec.redis_url], free_port(), "/healthz"
            )
            for i in range(1, self.spec.issuers + 1)
        ]
        return self._balance("issuer", replicas)

    def _start_gateways(self, args: list[str], operator: Path) -> Party:
        """One gateway, or ``gateways`` replicas sharing one key sequence in Redis (the
        private keys wrapped under the KEK in ``operator/gateway.kek``), behind HAProxy."""
        if self.spec.redis_url is None:
            return self._spawn(
                "gateway",
                ["gateway", "--home", str(self._folder("gateway")), *args],
                free_port(),
                "/healthz",
            )
        kek = operator / "gateway.kek"
        if not kek.exists():
            fd = os.open(kek, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(os.urandom(32).hex() + "\n")
        replicas = []
        for i in range(1, self.spec.gateways + 1):
            name = f"gateway-{i}"
            shared = ["--replica", name, "--redis", self.spec.redis_url, "--kek-file", str(kek)]
            replicas.append(
                self._spawn(
                    name,
                    ["gateway", "--home", str(self._folder(name)), *args, *shared],
                    free_port(),
                    "/healthz",
                )
            )
        return self._balance("gateway", replicas)

    def _balance(self, name: str, replicas: list[Party]) -> Party:
        """HAProxy for ``replicas`` on a free loopback port: the party ``name``."""
        from privproc.cluster.balancer import haproxy_binary, haproxy_config

        port = free_port()
        config = self._folder(name) / "haproxy.cfg"
        config.write_text(
            haproxy_config(
                name,
                self.spec.host,
                port,
                [(r.name, r.url) for r in replicas],
                timeout=self.spec.request_timeout,
            )
        )
        return self._spawn_command(
            name, (haproxy_binary(), "-f", str(config), "-db"), port, "/healthz"
        )

    def _emulated_roots(self, platform: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Create the emulated vendors once; their roots for the device's test trust store."""
        test_chains: tuple[str, ...] = ()
        nvidia_roots: tuple[str, ...] = ()
        if self.spec.platform != "simulated":
            amd = write_emulated_amd(platform / EMULATED_AMD_DIR)
            test_chains = (amd.chain_pem().decode("ascii"),)
        if self.spec.platform == "sev-snp+nvidia-cc-emulated":
            root = write_emulated_nvidia(platform / EMULATED_NVIDIA_DIR).root_der()
            nvidia_roots = (base64.b64encode(root).decode(),)
        return test_chains, nvidia_roots

    def _start_nodes(self, platform: Path, seed: Path, ledger_url: str) -> list[Party]:
        """The enclave nodes: released ones, then rogue ones, then debuggable ones."""
        nodes = []
        rogue_config = platform / "rogue-release.json"
        rogue_config.write_bytes(ROGUE_CONFIG)
        released = self.spec.nodes
        rogue_end = released + self.spec.rogue_nodes
        debug_end = rogue_end + self.spec.debug_nodes
        low_end = debug_end + self.spec.low_tcb_nodes
        lying_end = low_end + self.spec.lying_nodes
        stale_end = lying_end + self.spec.stale_nodes
        total = stale_end + self.spec.gpu_devtools_nodes
        for i in range(1, total + 1):
            name = f"enclave-{i}"
            # The node's own entry point: it loads no CLI code (docs/attestation.md).
            args = [
                "--node-id",
                name,
                "--home",
                str(self._folder(name)),
                "--key-lifetime",
                str(self.spec.node_key_lifetime),
                "--timeout",
                str(self.spec.request_timeout),
                "--ledger",
                ledger_url,
                "--evidence-refresh",
                str(self.spec.evidence_refresh),
            ]
            if self.spec.platform != "simulated":
                amd = platform / EMULATED_AMD_DIR
                args += ["--platform", "sev-snp-emulated", "--emulated-amd", str(amd)]
            if self.spec.platform == "sev-snp+nvidia-cc-emulated":
                args += ["--emulated-gpu", str(platform / EMULATED_NVIDIA_DIR)]
                if i > stale_end:
                    args += ["--gpu-devtools"]
            else:
                args += ["--platform-seed", str(seed)]
            if released < i <= rogue_end:
                args += ["--config", str(rogue_config)]
            elif rogue_end < i <= debug_end:
                args += ["--debug"]
            elif debug_end < i <= low_end:
                args += ["--tcb", LOW_TCB]
            elif low_end < i <= lying_end:
                args += ["--launch-digest", OTHER_LAUNCH_DIGEST]
            refresh = 86400.0 if lying_end < i <= stale_end else self.spec.checkpoint_refresh
            args += ["--checkpoint-refresh", str(refresh)]
            if self.spec.model is not None:
                from privproc.enclave.generative import llama_python

                # Resolved here, where ``.venv-llama`` is relative to the working folder.
                args += ["--model", str(self.spec.model.resolve())]
                if self.spec.inference_url is not None:
                    args += ["--inference-url", self.spec.inference_url]
                else:
                    args += ["--llama-python", llama_python(self.spec.llama_python)]
            nodes.append(
                self._spawn(name, args, free_port(), "/evidence", module="privproc.enclave")
            )
        return nodes

    def extra_directory(self, name: str, nodes: list[str]) -> Party:
        """Another directory process listing only ``nodes`` (parties by name)."""
        urls = [self.parties[n].url for n in nodes]
        return self.extra_directory_for(name, self.parties["gateway"].url, urls)

    def extra_directory_for(self, name: str, gateway_url: str, node_urls: list[str]) -> Party:
        """Another directory process for ``gateway_url`` and ``node_urls``."""
        args = [a for u in node_urls for a in ("--node", u)]
        ledger = self.parties["ledger"].url
        command = ["directory", "--gateway", gateway_url, "--ledger", ledger, "--refresh", "1"]
        return self._spawn(name, [*command, *args], free_port(), "/healthz")

    def wait_bundle(self, url: str, released: int) -> None:
        """Until the bundle has a key-config proof and ``released`` nodes with release proofs."""
        deadline = time.monotonic() + self.spec.ready_timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, TypeError):
                doc = httpx.get(url + "/nodes", timeout=2).json()
                proven = sum(1 for n in doc["nodes"] if n["release"] is not None)
                keyed = any(c["ledger"] is not None for c in doc["key_configs"])
                if keyed and proven >= released:
                    return
            time.sleep(0.3)
        raise ConfigError("the directory never served a complete, witnessed bundle")


def _vkey_of_signer(signer_key: str) -> str:
    """The verifier key of a C2SP signer key ``PRIVATE+KEY+<name>+<id>+<b64>``."""
    parts = signer_key.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise ConfigError("ledger log.key is not a signed-note signer key")
    raw = base64.b64decode(parts[4])
    key = Ed25519PrivateKey.from_private_bytes(raw[1:])
    return Ed25519Signer(parts[2], key).verifier().vkey()
