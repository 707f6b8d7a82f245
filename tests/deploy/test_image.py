"""The Dockerfile, read as text (no engine here to build it): a python:3.12-slim image that runs as a
numeric non-root user and starts `python -m services`; the installed package carries every data file
the services read, and the build context keeps what the Dockerfile copies."""

import fnmatch
import json
import tomllib
from pathlib import Path

from .manifests import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines, joined = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if raw.lstrip().startswith("#") and not joined:
            continue
        joined += raw.rstrip("\\").strip() + " "
        if not raw.endswith("\\"):
            if joined.strip():
                word, _, rest = joined.strip().partition(" ")
                lines.append((word.upper(), rest.strip()))
            joined = ""
    return lines


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def test_the_image_is_python_3_12_slim_and_runs_as_a_numeric_non_root_user():
    stage = final_stage()
    assert stage[0] == ("FROM", "python:3.12-slim")
    users = [rest for word, rest in stage if word == "USER"]
    assert users, "no USER: the image would run as root"
    user, _, group = users[-1].partition(":")
    # numeric, so Kubernetes' runAsNonRoot can check it; the same uid the manifests run as
    assert user.isdigit() and int(user) != 0 and group.isdigit() and int(group) != 0
    assert f"runAsUser: {user}" in (ROOT / "deploy" / "k8s" / "base" / "intake.yaml").read_text(encoding="utf-8")


def test_the_entrypoint_runs_python_m_services_so_the_command_picks_the_role():
    stage = dict(final_stage())
    assert json.loads(stage["ENTRYPOINT"]) == ["python", "-m", "services"]
    env = stage["ENV"]
    assert "CG_MODE=services" in env and "CG_VAR_DIR=/var/lib/cg" in env


def test_the_installed_package_carries_every_data_file_the_services_read():
    # The image installs the project (pip install .), so a file outside package-data is missing there.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["*"]
    shipped = [p for top in ("shared", "services") for p in (ROOT / top).rglob("*")
               if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
               and "tests" not in p.parts]
    assert shipped
    missing = [str(p.relative_to(ROOT)) for p in shipped if not any(fnmatch.fnmatch(p.name, pat) for pat in patterns)]
    assert not missing, f"not installed by pip install . (add to [tool.setuptools.package-data]): {missing}"


def test_the_build_context_keeps_every_file_the_dockerfile_copies():
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    copied = []
    for word, rest in instructions():
        if word == "COPY" and not rest.startswith("--from"):
            copied += rest.split()[:-1]
    assert {"pyproject.toml", "shared", "services"} <= set(copied)
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not any(Path(source).is_relative_to(pattern) or fnmatch.fnmatch(source, pattern)
                       for pattern in ignored), f"{source} is excluded by .dockerignore"
