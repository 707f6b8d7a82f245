"""Services mode as child processes: 4 APIs + 4 workers on fresh PostgreSQL databases and a
private RabbitMQ vhost. Used by the end-to-end tests and the benchmark."""

import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from shared.config import SERVICES

ROOT = Path(__file__).resolve().parent.parent


# Below Linux's ephemeral range (32768–60999) and clear of the Erlang distribution ports (AMQP port + 20000):
# a port the kernel handed out as free was later taken by some process's outgoing connection or a broker
# node booting meanwhile, and a worker then failed to bind its probes (a CI run lost a test to it).
_PORTS = [*range(20000, 25000), *range(26000, 32000)]


def free_port() -> int:
    """A port free now on 127.0.0.1, for a process started in a moment."""
    for port in random.sample(_PORTS, 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000")


def wait_for(fn, timeout: float = 30.0, what: str = "condition", interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout}s")
        time.sleep(interval)


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _vhost(name: str, action: str) -> bool:
    """A private vhost keeps these queues apart from anything else on the broker."""
    if shutil.which("rabbitmqctl") is None:
        return False
    cmds = ([["rabbitmqctl", "-q", "add_vhost", name],
             ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"]]
            if action == "add" else [["rabbitmqctl", "-q", "delete_vhost", name]])
    return all(subprocess.run(c, capture_output=True, timeout=60).returncode == 0 for c in cmds)


def deployment_keys(folder: Path) -> dict[str, str]:
    """The keys a services-mode deployment must be given (made the way an operator makes them),
    as the environment variables that name them."""
    from shared.keys import new_private_key_pem

    folder.mkdir(parents=True, exist_ok=True)
    signing = folder / "signing-key.pem"
    if not signing.exists():
        signing.write_text(new_private_key_pem(development=False), encoding="utf-8")
        signing.chmod(0o600)
    return {"CG_SIGNING_KEYS": str(signing),
            "CG_DATA_KEYS": "e2e1:" + base64.b64encode(os.urandom(32)).decode(),
            "CG_INDEX_KEY": base64.b64encode(os.urandom(32)).decode()}


def _count(counts: int | dict[str, int], name: str) -> int:
    return counts.get(name, 1) if isinstance(counts, dict) else counts


class Cluster:
    """`apis`/`workers`: processes per service (a number for all, or {service: n}; 1 otherwise): a
    service's APIs share its port (SO_REUSEPORT). `worker_nice`: how much lower the workers run than the
    APIs, so a saturated pipeline drains behind the APIs instead of starving them of the cores."""

    def __init__(self, pg_url: str, amqp_url: str, log_dir: Path, tag: str = "e2e",
                 apis: int | dict[str, int] = 1, workers: int | dict[str, int] = 1, worker_nice: int = 0,
                 env: dict[str, str] | None = None, launcher: tuple[str, ...] = ()):
        suffix = uuid.uuid4().hex[:8]
        self.prefix = f"cg_{tag}_{suffix}_"
        self.vhost = f"cg_{tag}_{suffix}"
        self.has_vhost = _vhost(self.vhost, "add")
        amqp = amqp_url.rsplit("/", 1)[0] + "/" + (self.vhost if self.has_vhost else "%2F")
        self.ports = {name: free_port() for name in SERVICES}
        self.env = {**os.environ, "CG_MODE": "services", "CG_PG_URL": pg_url, "CG_DB_PREFIX": self.prefix,
                    "CG_AMQP_URL": amqp, "CG_IDENTITY_URL": f"http://127.0.0.1:{self.ports['identity']}",
                    "CG_DEMO_PASSWORDS": "true", **deployment_keys(log_dir / "keys"),
                    # The tests and the benchmark submit as one demo resident far faster than a person.
                    "CG_RATE_LIMITS": json.dumps({name: "1000000/hour" for name in (
                        "intake.case.submit", "intake.case.submit.address", "intake.duplicates",
                        "intake.duplicates.address")}), **(env or {})}
        self.apis, self.workers, self.worker_nice = apis, workers, worker_nice
        # What runs `-m services …` (the benchmark's statement counter: bench/roundtrips.py).
        self.launcher = launcher
        self.pg_url = pg_url
        self.procs: dict[str, subprocess.Popen] = {}
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)

    def database_url(self, service: str) -> str:
        return f"{self.pg_url}/{self.prefix}{service}"

    def run(self, *args: str) -> None:
        subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env, check=True, capture_output=True,
                       timeout=180)

    def start(self, name: str, kind: str, copy: int = 1) -> None:
        """One process; the first of a kind is `<name>-<kind>`, further copies `<name>-<kind>-<copy>`."""
        args = ["-m", "services", kind, name] + (["--port", str(self.ports[name])] if kind == "api" else [])
        key = f"{name}-{kind}" if copy == 1 else f"{name}-{kind}-{copy}"
        nice = self.worker_nice if kind == "worker" else 0
        with open(self.log_dir / f"{key}.log", "ab") as log:
            self.procs[key] = subprocess.Popen([sys.executable, *self.launcher, *args], cwd=ROOT, env=self.env,
                                               stdout=log, stderr=subprocess.STDOUT,
                                               preexec_fn=(lambda: os.nice(nice)) if nice else None)

    def up(self) -> "Cluster":
        self.run("-m", "shared.migrate")
        self.run("-m", "services", "seed")
        for name in SERVICES:
            for copy in range(1, _count(self.apis, name) + 1):
                self.start(name, "api", copy)
            for copy in range(1, _count(self.workers, name) + 1):
                self.start(name, "worker", copy)
        for name in SERVICES:
            wait_for(lambda n=name: http_ok(f"{self.url(n)}/{n}/readyz"), timeout=60, what=f"{name} ready")
        return self

    def stop(self, *keys: str) -> None:
        """SIGTERM to each process first, then wait for them together (a kill after 15 s)."""
        procs = [self.procs.pop(key) for key in keys]
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def token(self, role: str) -> str:
        """An access token of the first demo user with this role, signed with the cluster's own key (the
        test is this deployment's operator). A person signs in at identity: see password_token."""
        from shared.auth import access_claims, demo_users, sign
        from shared.config import get_settings
        from shared.keys import signing_keys

        settings = get_settings(mode="services", signing_keys=self.env["CG_SIGNING_KEYS"])
        user = next(u for u in demo_users(settings) if u["role"] == role)
        claims = access_claims(settings, user_id=user["id"], role=role,
                               unit_codes=[user["unit_code"]] if user.get("unit_code") else [],
                               session_id=f"e2e-{uuid.uuid4()}")
        return sign(claims, signing_keys(settings).active)

    def password_token(self, username: str, password: str) -> httpx.Response:
        return httpx.post(f"{self.url('identity')}/identity/v1/tokens/password", timeout=30,
                          json={"username": username, "password": password})

    def logs(self, tail: int = 3000) -> str:
        return "".join(f"--- {p.name}\n{p.read_text(errors='replace')[-tail:]}\n"
                       for p in sorted(self.log_dir.glob("*.log")))

    def close(self) -> None:
        import psycopg

        self.stop(*self.procs)
        admin = self.pg_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in SERVICES:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.prefix}{name}" WITH (FORCE)')
        if self.has_vhost:
            _vhost(self.vhost, "delete")
