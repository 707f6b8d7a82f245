"""Embedded mode: all four services, their workers and an in-process bus in one process.

The same topology, envelope, outbox, inbox and handlers run as in services mode; only the
transport (the durable SQLite-backed LocalBus instead of RabbitMQ) and the databases
(SQLite files under var/) differ.
"""

import logging

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from shared.config import Settings
from shared.messaging.local_bus import LocalBus
from shared.migrate import upgrade_all
from shared.runtime import ServiceRuntime
from shared.web import add_metrics_route
from shared.worker import LocalTransport, Worker

from . import all_specs

log = logging.getLogger(__name__)


class Embedded:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.specs = {s.name: s for s in all_specs()}
        self.runtimes: dict[str, ServiceRuntime] = {}
        self.bus: LocalBus | None = None
        self.workers: list[Worker] = []

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
        transport = LocalTransport(self.bus, self.settings.consumer_batch)
        self.workers = [Worker(spec, self.runtimes[name], transport) for name, spec in self.specs.items()]
        for worker in self.workers:
            worker.start()

    def stop(self) -> None:
        for worker in self.workers:  # every thread told first, then waited for together
            worker.signal_stop()
        for worker in self.workers:
            worker.join()
        for rt in self.runtimes.values():
            rt.dispose()
        if self.bus:
            self.bus.close()

    def asgi(self):
        apps = {}
        for name, spec in self.specs.items():
            app = spec.app(self.runtimes[name])
            apps |= {prefix: app for prefix in (f"/{name}", *spec.also_serves)}  # intake also /open311
        return PrefixDispatcher(apps, index_app(self.specs, self.settings))


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


def index_app(specs, settings: Settings) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    # The whole process's metrics (every service's APIs and workers share one registry in this mode).
    add_metrics_route(app, "/metrics", settings)

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
            "<h1>社区治理 API 文档</h1><p>五个服务，各自的接口文档（嵌入式模式下同一端口）：</p>"
            f"<ul>{items}</ul><p>登录：<code>/identity/v1/tokens/*</code>；"
            "演示令牌：<code>make token ROLE=resident</code></p></body></html>"
        )

    @app.get("/", include_in_schema=False)
    def root() -> dict:
        return {"service": "community-governance", "docs": "/docs",
                "services": {s.name: f"/{s.name}/docs" for s in specs.values()}}

    return app
