"""Embedded mode: all four services, their workers and an in-process bus in one process.

The same topology, envelope, outbox, inbox and handlers run as in services mode; only the
transport (the durable SQLite-backed LocalBus instead of RabbitMQ) and the databases
(SQLite files under var/) differ.
"""

import logging
import threading

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from shared.config import Settings
from shared.messaging.local_bus import LocalBus
from shared.messaging.relay import OutboxRelay
from shared.messaging.topology import TOPOLOGY
from shared.messaging.wakeup import LocalWakeup
from shared.migrate import upgrade_all
from shared.runtime import ServiceRuntime

from . import all_specs

log = logging.getLogger(__name__)


class Embedded:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.specs = {s.name: s for s in all_specs()}
        self.runtimes: dict[str, ServiceRuntime] = {}
        self.bus: LocalBus | None = None
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def prepare(self, seed: bool = True) -> None:
        self.settings.var_dir.mkdir(parents=True, exist_ok=True)
        upgrade_all(self.settings)
        self.runtimes = {name: spec.runtime(self.settings) for name, spec in self.specs.items()}
        self.bus = LocalBus(self.settings.bus_path)
        if seed:
            for name, spec in self.specs.items():
                if spec.seed:
                    spec.seed(self.runtimes[name])

    def start(self) -> None:
        for name, rt in self.runtimes.items():
            relay = OutboxRelay(rt.engine, self.specs[name].outbox, self.bus, LocalWakeup(rt.relay_signal),
                                batch=self.settings.relay_batch,
                                safety_poll=self.settings.relay_safety_poll_seconds)
            self._thread(f"relay-{name}", relay.run, self.stop_event)
        for name, spec in self.specs.items():
            if spec.background is not None:
                self._thread(f"background-{name}", spec.background, self.runtimes[name], self.stop_event)
        for queue in TOPOLOGY.queues:
            spec = self.specs[queue.service]
            dispatcher = spec.dispatcher(self.runtimes[queue.service])
            self._thread(f"consumer-{queue.name}", self.bus.consume, queue, dispatcher, self.stop_event,
                         self.settings.consumer_batch)

    def _thread(self, name: str, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self) -> None:
        self.stop_event.set()
        for rt in self.runtimes.values():
            rt.relay_signal.set()
        for thread in self.threads:
            thread.join(timeout=5)
        for rt in self.runtimes.values():
            rt.dispose()
        if self.bus:
            self.bus.close()

    def asgi(self):
        return PrefixDispatcher(
            {f"/{name}": spec.app(self.runtimes[name]) for name, spec in self.specs.items()},
            index_app(self.specs),
        )


class PrefixDispatcher:
    """Sends each request to the service whose prefix its path starts with; paths are unchanged,
    so every URL is the same as in services mode."""

    def __init__(self, apps: dict, fallback):
        self.apps = apps
        self.fallback = fallback

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self.fallback(scope, receive, send)
        path = scope.get("path", "")
        for prefix, app in self.apps.items():
            if path == prefix or path.startswith(prefix + "/"):
                return await app(scope, receive, send)
        return await self.fallback(scope, receive, send)


def index_app(specs) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> str:
        items = "".join(
            f'<li><a href="/{s.name}/docs">{s.title}</a> — <code>/{s.name}/v1</code>'
            f' (<a href="/{s.name}/openapi.json">OpenAPI</a>)</li>'
            for s in specs.values()
        )
        return (
            '<!doctype html><html lang="zh"><meta charset="utf-8"><title>社区治理 API 文档</title>'
            "<body style=\"font-family:sans-serif;max-width:48em;margin:2em auto\">"
            "<h1>社区治理 API 文档</h1><p>四个服务，各自的接口文档（嵌入式模式下同一端口）：</p>"
            f"<ul>{items}</ul><p>获取令牌：<code>make token ROLE=resident</code></p></body></html>"
        )

    @app.get("/", include_in_schema=False)
    def root() -> dict:
        return {"service": "community-governance", "docs": "/docs",
                "services": {s.name: f"/{s.name}/docs" for s in specs.values()}}

    return app
