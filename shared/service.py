"""What a service declares about itself, so one runner can serve it in either mode."""

import threading
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from sqlalchemy import MetaData, Table

from .config import Settings
from .messaging.dispatcher import Dispatcher, Handler
from .runtime import ServiceRuntime, build_runtime
from .web import create_app


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    description: str
    metadata: MetaData
    outbox: Table
    inbox: Table
    router: APIRouter
    handlers: Callable[[ServiceRuntime], dict[str, Handler]]
    # The service's typed configuration, loaded and validated when a runtime is built, so a
    # broken deployment file stops the process at start-up rather than at the first case.
    config: Callable[[], object] | None = None
    seed: Callable[[ServiceRuntime], None] | None = None
    # Periodic work of the service's worker (clock scanners, senders): run as a thread until the
    # event is set. Started by the worker in services mode and by the embedded runner.
    background: Callable[[ServiceRuntime, threading.Event], None] | None = None

    def runtime(self, settings: Settings, url: str | None = None) -> ServiceRuntime:
        if self.config is not None:
            self.config()
        return build_runtime(self.name, settings, self.outbox, self.inbox, url)

    def app(self, rt: ServiceRuntime) -> FastAPI:
        return create_app(rt, title=self.title, description=self.description, router=self.router)

    def dispatcher(self, rt: ServiceRuntime) -> Dispatcher:
        return Dispatcher(self.name, rt.sessions, self.inbox, rt.outbox, self.handlers(rt))
