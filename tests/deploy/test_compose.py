"""deploy/compose.yaml, one host: valid against the Compose Specification's JSON schema (the copy vendored by
check-jsonschema, no engine needed), every service's API and worker started from the image after the
migration, the APIs published and identity reached on loopback, the signing key for identity alone, and
an env file example that names every required value with placeholders the services refuse."""

import re

import jsonschema
import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema

from services.__main__ import PORTS
from shared.config import SERVICES, Settings
from shared.keys import KeyConfigError, blind_index, data_keys

from .manifests import DEPLOY, env_file

COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / "compose.env.example"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # resolves the `<<` merges as compose does


def app_containers(compose: dict) -> dict[str, dict]:
    return {f"{s}-{c}": compose["services"][f"{s}-{c}"] for s in SERVICES for c in ("api", "worker")}


def test_the_compose_file_is_valid_against_the_compose_specification(compose):
    validator = jsonschema.Draft202012Validator(get_builtin_schema("vendor.compose-spec"))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert not errors


def test_every_service_runs_its_api_and_its_worker_from_the_image_once_the_migration_succeeded(compose):
    image = compose["services"]["migrate"]["image"]
    assert compose["services"]["migrate"]["entrypoint"] == ["python", "-m", "shared.migrate"]
    for name, container in app_containers(compose).items():
        service, component = name.rsplit("-", 1)
        assert container["image"] == image
        assert container["command"][:2] == [component, service]
        if component == "api":
            assert container["command"][2:] == ["--host", "0.0.0.0"]  # the port is the service's own (PORTS)
        assert container["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert container["read_only"] is True and "/tmp" in container["tmpfs"]
        assert container["environment"]["CG_MODE"] == "services"


def test_workers_weigh_less_than_the_apis_on_the_hosts_cores(compose):
    """As `nice` under make up: in a surge a saturated pipeline drains behind the APIs, never starves them."""
    docker_default = 1024
    for name, container in app_containers(compose).items():
        shares = container.get("cpu_shares", docker_default)
        assert shares < docker_default / 10 if name.endswith("-worker") else shares == docker_default, name


def test_every_api_is_published_and_identity_is_reached_on_the_loopback_the_containers_share(compose):
    net = compose["services"]["app-net"]
    published = {int(p.rsplit(":", 1)[1]) for p in net["ports"]}
    assert published == {PORTS[s] for s in SERVICES}
    for name, container in app_containers(compose).items():
        assert container["network_mode"] == "service:app-net", name
        url = container["environment"]["CG_IDENTITY_URL"]
        assert url == f"http://127.0.0.1:{PORTS['identity']}"
        Settings(mode="services", identity_url=url)  # services mode accepts plain http on loopback only


def test_only_the_identity_containers_get_the_signing_key(compose):
    for name, container in app_containers(compose).items():
        holds = [s["source"] for s in container.get("secrets", [])] == ["signing_key"]
        assert holds == name.startswith("identity-"), name
        signing = container["environment"].get("CG_SIGNING_KEYS")
        assert (signing == "/run/secrets/signing-key.pem") == name.startswith("identity-"), name
    assert set(compose["secrets"]) == {"signing_key"}


def test_every_value_the_compose_file_requires_is_in_the_env_file_example(compose):
    required = set(re.findall(r"\$\{([A-Z_]+):\?", COMPOSE.read_text(encoding="utf-8")))
    assert {"CG_DB_PASSWORD", "CG_BROKER_PASSWORD", "CG_DATA_KEYS", "CG_INDEX_KEY"} <= required
    assert required <= set(env_file(ENV_EXAMPLE))
    # services mode refuses to start without these (shared/keys.py): every API and worker gets them
    for name, container in app_containers(compose).items():
        assert {"CG_PG_URL", "CG_AMQP_URL", "CG_REDIS_URL", "CG_DATA_KEYS", "CG_INDEX_KEY"} <= set(
            container["environment"]), name


def test_the_env_file_examples_keys_are_placeholders_the_services_refuse_at_start_up():
    example = env_file(ENV_EXAMPLE)
    settings = Settings(mode="services", data_keys=example["CG_DATA_KEYS"], index_key=example["CG_INDEX_KEY"])
    with pytest.raises(KeyConfigError):
        data_keys(settings)
    with pytest.raises(KeyConfigError):
        blind_index(settings)
