"""What a service declares about itself, so one runner can serve it in either mode."""

import threading
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from sqlalchemy import MetaData, Table

from .auth import Verifier
from .auth_state import ApiKeyUseReporter, AuthState, AuthTables, auth_handlers
from .config import Settings
from .keys import data_keys, jwks_source
from .messaging.dispatcher import Dispatcher, Handler, Preload
from .runtime import ServiceRuntime, build_runtime
from .sealed import use_data_keys
from .web import create_app


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    description: str
    metadata: MetaData
    outbox: Table
    inbox: Table
    # What the service keeps of identity's events: revoked sessions and users, API keys.
    auth: AuthTables
    # The service's audit trail (shared/audit.py): every event it emits, confidential reads, exports.
    audit: Table
    router: APIRouter
    handlers: Callable[[ServiceRuntime], dict[str, Handler]]
    # Reads a batch's rows before its messages are handled together (shared/messaging/preload.py).
    preload: Preload | None = None
    # The service's typed configuration, loaded and validated when a runtime is built, so a
    # broken deployment file stops the process at start-up rather than at the first case.
    config: Callable[[], object] | None = None
    seed: Callable[[ServiceRuntime], None] | None = None
    # Periodic work of the service's worker (clock scanners, senders): run as a thread until the
    # event is set. Started by the worker in services mode and by the embedded runner.
    background: Callable[[ServiceRuntime, threading.Event], None] | None = None
    # Where this service finds the public keys of tokens (identity: its own keys).
    jwks: Callable[[Settings], object] = jwks_source
    # How a government system's use of a key reaches identity (identity itself records it directly).
    api_key_use: Callable[[ServiceRuntime], Callable[[str], None]] = ApiKeyUseReporter
    # How stale the service's copy of identity's state may be; None: the deployment's setting.
    # Identity writes its own copy, so it reads it fresh: its own sign-out holds at once.
    auth_refresh_seconds: float | None = None
    # Keys the service cannot work without (shared.keys loaders): checked when a runtime is built,
    # so services mode refuses to start without them (KeyConfigError says what to set).
    keys: tuple[Callable[[Settings], object], ...] = ()
    # Who reads which entries of the audit trail (GET /<service>/v1/audit): the service's access rule,
    # (session, user, audit table) → a condition on the table's rows, raising 403 for a role that may
    # read none. None: admins only (shared/audit_api.py).
    audit_scope: Callable | None = None
    # (session, resident, subject kind, subject id) → whether a refusal on that subject names her by
    # her pseudonym: it is her own anonymous or confidential record (shared/audit_api.py). None: never.
    refusal_conceals: Callable | None = None
    # Path prefixes the service's app answers besides its own /<name> (intake: /open311, the Open311
    # GeoReport v2 endpoint government systems use): embedded mode sends them to the same app; in services
    # mode the service's process answers them. `extend_app` adds to the app what answers there.
    also_serves: tuple[str, ...] = ()
    extend_app: Callable[[FastAPI], FastAPI] | None = None

    def runtime(self, settings: Settings, url: str | None = None) -> ServiceRuntime:
        if self.config is not None:
            self.config()
        for load in self.keys:
            load(settings)
        use_data_keys(data_keys(settings))  # the keys Sealed columns read and write with
        rt = build_runtime(self.name, settings, self.outbox, self.inbox, url, self.audit)
        rt.audit_keys  # noqa: B018 — the audit chain's key: services mode refuses to start without it
        return rt

    def verifier(self, rt: ServiceRuntime) -> Verifier:
        refresh = rt.settings.auth_state_refresh_seconds if self.auth_refresh_seconds is None \
            else self.auth_refresh_seconds
        state = AuthState(rt.engine, self.auth, horizon_seconds=rt.settings.max_token_lifetime_seconds,
                          refresh_seconds=refresh)
        return Verifier(rt.settings, self.jwks(rt.settings), state)

    def app(self, rt: ServiceRuntime) -> FastAPI:
        app = create_app(rt, title=self.title, description=self.description, router=self.router,
                         verifier=self.verifier(rt))
        app.state.report_api_key_use = self.api_key_use(rt)
        app.state.audit_scope = self.audit_scope
        app.state.refusal_conceals = self.refusal_conceals
        return self.extend_app(app) if self.extend_app is not None else app

    def dispatcher(self, rt: ServiceRuntime) -> Dispatcher:
        handlers = auth_handlers(self.auth)
        for key, own in self.handlers(rt).items():
            # The service's own reaction to an identity event runs beside keeping the revocation.
            handlers[key] = _both(handlers[key], own) if key in handlers else own
        return Dispatcher(self.name, rt.sessions, self.inbox, rt.outbox, handlers, self.audit, self.preload)


def _both(first: Handler, then: Handler) -> Handler:
    def both(ctx, payload) -> None:
        first(ctx, payload)
        then(ctx, payload)

    return both
