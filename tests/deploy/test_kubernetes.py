"""The Kubernetes manifests (deploy/k8s): the generated base is current, every object is valid against the
Kubernetes API's JSON schemas (kubernetes-validate, no cluster), and what matters is there: both probes,
the restricted pod security, an autoscaler and a disruption budget per Deployment, the migration Job and
its gate, the keys only where they are needed; the example overlay renders (kubectl kustomize, offline)
into valid objects whose every reference resolves."""

import kubernetes_validate
import pytest

from shared.config import SERVICES, Settings
from shared.keys import KeyConfigError, blind_index, data_keys, signing_keys

from .manifests import (
    KUBERNETES_VERSIONS,
    OVERLAY,
    base_documents,
    by_kind,
    containers,
    env_file,
    generator,
    pod_spec,
    render,
)


def test_the_committed_base_is_what_the_generator_writes_for_the_services_of_the_code():
    gen = generator()
    stale = gen.stale(gen.current())
    assert not stale, f"deploy/k8s/base is stale ({stale}): run python deploy/k8s/generate.py"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_base_object_is_valid_against_the_kubernetes_schemas(version):
    docs = base_documents()
    assert docs
    for doc in docs:
        # strict: a misspelt field is an error, not silently dropped by the API server
        kubernetes_validate.validate(doc, version, strict=True)


def test_every_service_has_an_api_and_a_worker_probed_on_healthz_and_readyz():
    deployments = by_kind(base_documents(), "Deployment")
    for service in SERVICES:
        api = deployments[f"{service}-api"]["spec"]["template"]["spec"]["containers"][0]
        assert api["args"][:2] == ["api", service]
        assert api["livenessProbe"]["httpGet"] == {"path": f"/{service}/healthz", "port": "http"}
        assert api["readinessProbe"]["httpGet"] == {"path": f"/{service}/readyz", "port": "http"}
        assert api["startupProbe"]["httpGet"]["path"] == f"/{service}/healthz"
        port = api["args"][api["args"].index("--port") + 1]
        assert api["args"][api["args"].index("--host") + 1] == "0.0.0.0"
        assert {"name": "http", "containerPort": int(port)} in api["ports"]

        worker = deployments[f"{service}-worker"]["spec"]["template"]["spec"]["containers"][0]
        assert worker["args"] == ["worker", service]
        # The worker serves its probes only when told where (shared/worker.py)
        address = {e["name"]: e["value"] for e in worker["env"]}["CG_WORKER_HEALTH_ADDRESS"]
        assert {"name": "probes", "containerPort": int(address.rsplit(":", 1)[1])} in worker["ports"]
        assert worker["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "probes"}
        assert worker["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "probes"}
    assert set(deployments) == {f"{s}-{c}" for s in SERVICES for c in ("api", "worker")}


def test_every_pod_meets_the_restricted_pod_security_standard_with_a_read_only_root():
    docs = base_documents()
    pods = [d for d in docs if d["kind"] in ("Deployment", "Job")]
    assert len(pods) == 2 * len(SERVICES) + 1
    for doc in pods:
        spec = pod_spec(doc)
        assert spec["securityContext"]["runAsNonRoot"] is True, doc["metadata"]["name"]
        assert spec["securityContext"]["runAsUser"] != 0
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        writable = {v["name"] for v in spec["volumes"] if "emptyDir" in v or "persistentVolumeClaim" in v}
        for c in containers(doc):
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, c["name"]
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert sc["readOnlyRootFilesystem"] is True
            assert "memory" in c["resources"]["limits"]
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            if c["name"] != "copy-signing-keys":  # sh and cp write nothing to /tmp
                assert mounts.get("/tmp") in writable, f"{doc['metadata']['name']}/{c['name']} has no writable /tmp"


def test_every_deployment_has_an_autoscaler_and_a_disruption_budget_and_leaves_the_count_to_the_autoscaler():
    docs = base_documents()
    deployments, hpas, pdbs = (by_kind(docs, k) for k in ("Deployment", "HorizontalPodAutoscaler",
                                                          "PodDisruptionBudget"))
    for name, deployment in deployments.items():
        assert "replicas" not in deployment["spec"], f"{name}: an apply would reset what the autoscaler set"
        target = hpas[name]["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert 2 <= hpas[name]["spec"]["minReplicas"] <= hpas[name]["spec"]["maxReplicas"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert pdbs[name]["spec"]["selector"]["matchLabels"] == selector
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert set(hpas) == set(pdbs) == set(deployments)


def test_every_api_is_a_service_and_reached_through_the_ingress_under_its_prefix():
    docs = base_documents()
    services = by_kind(docs, "Service")
    deployments = by_kind(docs, "Deployment")
    for service in SERVICES:
        svc = services[f"{service}-api"]
        labels = deployments[f"{service}-api"]["spec"]["template"]["metadata"]["labels"]
        assert svc["spec"]["selector"].items() <= labels.items()
        assert svc["spec"]["ports"][0]["targetPort"] == "http"
    (ingress,) = by_kind(docs, "Ingress").values()
    routes = {p["path"]: p["backend"]["service"]["name"] for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    assert {f"/{s}": f"{s}-api" for s in SERVICES}.items() <= routes.items()
    assert routes["/open311"] == "intake-api"  # intake also serves Open311 (docs/interop.md)
    assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]


def test_the_migration_job_migrates_every_service_and_every_pod_waits_for_it():
    docs = base_documents()
    (job,) = by_kind(docs, "Job").values()
    command = pod_spec(job)["containers"][0]["command"]
    assert command[:3] == ["python", "-m", "shared.migrate"]
    assert sorted(command[3:]) == sorted(SERVICES)
    assert pod_spec(job)["restartPolicy"] == "Never"
    for name, deployment in by_kind(docs, "Deployment").items():
        service = deployment["metadata"]["labels"]["app.kubernetes.io/name"]
        gates = [c["command"] for c in pod_spec(deployment)["initContainers"] if c["name"] == "wait-for-migrations"]
        assert gates == [["python", "-m", "shared.migrate", "--check", service]], name


def secrets_read(doc: dict) -> set[str]:
    names = {v["secret"]["secretName"] for v in pod_spec(doc).get("volumes", []) if "secret" in v}
    for c in containers(doc):
        names |= {e["secretRef"]["name"] for e in c.get("envFrom", []) if "secretRef" in e}
    return names


def test_only_identity_holds_the_signing_keys_only_workers_the_broker_and_only_apis_redis():
    for name, deployment in by_kind(base_documents(), "Deployment").items():
        service, component = name.rsplit("-", 1)
        secrets = secrets_read(deployment)
        assert {"cg-database", "cg-keys"} <= secrets  # services mode refuses to start without the data keys
        assert ("cg-signing-keys" in secrets) == (service == "identity"), name
        assert ("cg-broker" in secrets) == (component == "worker"), name
        assert ("cg-redis" in secrets) == (component == "api"), name
    identity = by_kind(base_documents(), "Deployment")["identity-api"]
    copy = [c for c in pod_spec(identity)["initContainers"] if c["name"] == "copy-signing-keys"][0]
    # identity refuses a key file others may read: the copy is made with umask 077
    assert "umask 077" in copy["command"][-1]


@pytest.fixture(scope="module")
def rendered():
    return render()


def test_the_example_overlay_renders_into_valid_objects(rendered):
    assert {d["kind"] for d in rendered} >= {"Namespace", "Deployment", "Service", "HorizontalPodAutoscaler",
                                             "PodDisruptionBudget", "Job", "ConfigMap", "Secret", "Ingress"}
    for version in KUBERNETES_VERSIONS:
        for doc in rendered:
            kubernetes_validate.validate(doc, version, strict=True)


def test_every_name_a_pod_reads_exists_in_the_rendered_overlay_and_every_image_is_tagged(rendered):
    configmaps, secrets, claims = (set(by_kind(rendered, k)) for k in ("ConfigMap", "Secret",
                                                                        "PersistentVolumeClaim"))
    (namespace,) = by_kind(rendered, "Namespace")
    assert all(d["metadata"].get("namespace") == namespace for d in rendered if d["kind"] != "Namespace")
    pods = [d for d in rendered if d["kind"] in ("Deployment", "Job")]
    assert len(pods) == 2 * len(SERVICES) + 1
    for doc in pods:
        spec = pod_spec(doc)
        assert secrets_read(doc) <= secrets, doc["metadata"]["name"]
        for c in containers(doc):
            assert {e["configMapRef"]["name"] for e in c.get("envFrom", []) if "configMapRef" in e} <= configmaps
            image = c["image"]
            assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image
        assert {v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"]
                if "persistentVolumeClaim" in v} <= claims
    (ingress,) = by_kind(rendered, "Ingress").values()
    assert ingress["spec"]["tls"][0]["secretName"] in secrets
    settings = next(c for name, c in by_kind(rendered, "ConfigMap").items() if name.startswith("cg-settings-"))
    # what services mode checks at start-up holds for the overlay's settings
    Settings(mode="services", identity_url=settings["data"]["CG_IDENTITY_URL"])


def test_the_example_overlays_keys_are_placeholders_that_every_service_refuses_at_start_up(tmp_path):
    keys = env_file(OVERLAY / "example-secrets" / "keys.env.example")
    settings = Settings(mode="services", data_keys=keys["CG_DATA_KEYS"], index_key=keys["CG_INDEX_KEY"])
    with pytest.raises(KeyConfigError):
        data_keys(settings)
    with pytest.raises(KeyConfigError):
        blind_index(settings)
    pem = tmp_path / "signing-key.pem"
    pem.write_bytes((OVERLAY / "example-secrets" / "signing-key.pem.example").read_bytes())
    pem.chmod(0o600)
    with pytest.raises(KeyConfigError, match="not an unencrypted PEM private key"):
        signing_keys(Settings(mode="services", signing_keys=str(pem)))
