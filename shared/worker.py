"""A service's worker: its outbox relay, its consumers and its background work, as threads.

One start-up for both modes; only the transport differs. Embedded, every service's worker runs
in the one process over the durable in-process bus; in services mode each service has its own
worker process over RabbitMQ, with PostgreSQL LISTEN/NOTIFY waking its relay. Stopping sets the
stop event and every event a thread may be waiting on, so a stop takes as long as the slowest
batch in flight, not a sleep, and never longer than the drain budget (DRAIN_SECONDS): a thread
still blocked after it (a connection attempt to a broker that does not answer) is left to the
process exit, which loses nothing: what it had not acknowledged is delivered again, and the
inbox drops the repeat.

Readiness (`Worker.readiness`, served by `serve_health` when CG_WORKER_HEALTH_ADDRESS is set): every
thread running, the database answering, every consumer connected to the broker and the relay's
last batch published. The broker belongs here, not to the APIs' readyz: an API without the broker
still does its job, its outbox keeps the events until the relay can publish them.
"""

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import text

from . import audit, metrics, tracing
from .background import every
from .messaging.local_bus import LocalBus
from .messaging.outbox import notify_channel
from .messaging.publisher import Publisher
from .messaging.relay import OutboxRelay
from .messaging.topology import TOPOLOGY, QueueSpec
from .messaging.wakeup import LocalWakeup, PgNotifier, PgWakeup, Wakeup

if TYPE_CHECKING:
    from .messaging.dispatcher import Dispatcher
    from .runtime import ServiceRuntime
    from .service import ServiceSpec

log = logging.getLogger(__name__)
Loop = Callable[[threading.Event], None]
# How long a stopping worker waits for its threads to finish what they hold (a consumer's batch,
# the relay's publish) before it lets the process exit.
DRAIN_SECONDS = 3.0


class Transport(Protocol):
    def publisher(self) -> Publisher: ...
    def relay_wakeup(self, rt: "ServiceRuntime") -> Wakeup: ...
    def consumer(self, queue: QueueSpec, dispatcher: "Dispatcher") -> Loop: ...
    def notifier(self, rt: "ServiceRuntime") -> Loop | None: ...
    def interrupt(self) -> None: ...
    def checks(self) -> dict[str, str]: ...


class LocalTransport:
    """Embedded mode: the durable SQLite-backed bus, shared by every service of the process."""

    def __init__(self, bus: LocalBus, consumer_batch: int = 100):
        self.bus = bus
        self.consumer_batch = consumer_batch

    def publisher(self) -> Publisher:
        return self.bus

    def relay_wakeup(self, rt: "ServiceRuntime") -> Wakeup:
        return LocalWakeup(rt.relay_signal)

    def consumer(self, queue: QueueSpec, dispatcher: "Dispatcher") -> Loop:
        return lambda stop: self.bus.consume(queue, dispatcher, stop, self.consumer_batch)

    def notifier(self, rt: "ServiceRuntime") -> Loop | None:
        return None  # the relay waits on the commit's signal directly

    def interrupt(self) -> None:
        self.bus.wake_all()

    def checks(self) -> dict[str, str]:
        return {}  # the bus is a file beside the databases


class AmqpTransport:
    """Services mode: RabbitMQ, and PostgreSQL NOTIFY between the processes of a service."""

    def __init__(self, rt: "ServiceRuntime"):
        self.settings = rt.settings
        self.channel = notify_channel(rt.name)
        self.dsn = rt.engine.url.render_as_string(hide_password=False)  # the runtime's own database
        self._wakeups: list[PgWakeup] = []
        self._consumers: list = []  # AmqpConsumer

    def publisher(self) -> Publisher:
        from .messaging.amqp import AmqpPublisher  # only workers import pika

        return AmqpPublisher(self.settings.broker_urls)

    def relay_wakeup(self, rt: "ServiceRuntime") -> Wakeup:
        wakeup = PgWakeup(self.dsn, self.channel)
        self._wakeups.append(wakeup)
        return wakeup

    def consumer(self, queue: QueueSpec, dispatcher: "Dispatcher") -> Loop:
        from .messaging.amqp import AmqpConsumer

        consumer = AmqpConsumer(self.settings.broker_urls, queue, dispatcher, prefetch=self.settings.consumer_prefetch,
                                batch=self.settings.consumer_batch, linger=self.settings.consumer_linger_seconds)
        self._consumers.append(consumer)
        return consumer.run

    def notifier(self, rt: "ServiceRuntime") -> Loop | None:
        # Events this worker's handlers emit wake every relay of the service, this one included.
        return PgNotifier(self.dsn, self.channel, rt.relay_signal).run

    def interrupt(self) -> None:
        for wakeup in self._wakeups:
            wakeup.interrupt()

    def checks(self) -> dict[str, str]:
        waiting = [c.queue.name for c in self._consumers if not c.connected.is_set()]
        return {"broker": f"not connected: {', '.join(waiting)}" if waiting else "ok"}


class Worker:
    """The threads of one service's worker."""

    def __init__(self, spec: "ServiceSpec", rt: "ServiceRuntime", transport: Transport):
        self.spec, self.rt, self.transport = spec, rt, transport
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self._publisher: Publisher | None = None
        self.relay: OutboxRelay | None = None

    def loops(self) -> list[tuple[str, Loop]]:
        rt, settings = self.rt, self.rt.settings
        self._publisher = self.transport.publisher()
        relay = OutboxRelay(rt.engine, self.spec.outbox, self._publisher, self.transport.relay_wakeup(rt),
                            batch=settings.relay_batch, safety_poll=settings.relay_safety_poll_seconds,
                            linger=settings.relay_linger_seconds)
        self.relay = relay
        metrics.watch_outbox(rt)
        loops: list[tuple[str, Loop]] = [(f"relay-{rt.name}", relay.run)]
        notifier = self.transport.notifier(rt)
        if notifier is not None:
            loops.append((f"notifier-{rt.name}", notifier))
        for queue in TOPOLOGY.queues_for(rt.name):
            loops.append((f"consumer-{queue.name}", self.transport.consumer(queue, self.spec.dispatcher(rt))))
        if self.spec.background is not None:
            background = self.spec.background
            loops.append((f"background-{rt.name}", lambda stop: background(rt, stop)))
        if rt.audit is not None:
            loops.append((f"audit-{rt.name}", lambda stop: every(settings.audit_seal_seconds, self._seal, stop,
                                                                 name=f"{rt.name} audit sealing",
                                                                 full_batch=audit.SEAL_BATCH)))
        return loops

    def _seal(self) -> int:
        tracing.prune_when_due(self.rt)  # the event log's old rows, at most hourly (shared/tracing.py)
        return audit.seal_pending(self.rt)

    def start(self) -> None:
        for name, loop in self.loops():
            thread = threading.Thread(target=loop, args=(self.stop_event,), name=name, daemon=True)
            thread.start()
            self.threads.append(thread)

    def signal_stop(self) -> None:
        self.stop_event.set()
        self.transport.interrupt()
        self.rt.wake_all()

    def join(self, timeout: float = DRAIN_SECONDS) -> None:
        """Wait for the threads to finish what they hold, at most `timeout` in all (publisher included)."""
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self.threads if t.is_alive()]
        if alive:
            log.warning("worker %s: threads still busy after %.0fs, left to the process exit (whatever they had not "
                        "acknowledged is delivered again): %s", self.rt.name, timeout, ", ".join(alive))
        if self._publisher is not None and self._publisher is not getattr(self.transport, "bus", None):
            # Closing waits for a publish in flight, which may be waiting on a broker that does not answer.
            closing = threading.Thread(target=self._publisher.close, name=f"close-{self.rt.name}", daemon=True)
            closing.start()
            closing.join(max(0.5, deadline - time.monotonic()))

    def stop(self, timeout: float = DRAIN_SECONDS) -> None:
        self.signal_stop()
        self.join(timeout)

    def readiness(self) -> tuple[bool, dict[str, str]]:
        """(ready, checks): threads running, database answering, broker connected, relay publishing."""
        dead = [t.name for t in self.threads if not t.is_alive()]
        if self.stop_event.is_set():
            checks = {"threads": "stopping"}
        elif not self.threads:
            checks = {"threads": "not started"}
        else:
            checks = {"threads": f"stopped: {', '.join(dead)}" if dead else "ok"}
        try:
            with self.rt.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        checks.update(self.transport.checks())
        failing = self.relay.failing if self.relay is not None else None
        checks["relay"] = f"failing: {failing}" if failing else "ok"
        return all(v == "ok" for v in checks.values()), checks

    def alive(self) -> bool:
        return bool(self.threads) and all(t.is_alive() for t in self.threads)

    def run(self, health_address: str = "") -> int:
        """Services mode: run until stopped; 1 when a thread died, so the supervisor restarts the worker.
        `health_address` ("host:port"): serve /healthz and /readyz there (serve_health)."""
        self.start()
        server = serve_health(self, health_address) if health_address else None
        log.info("worker %s running: %d threads", self.rt.name, len(self.threads))
        code = 0
        while not self.stop_event.wait(1.0):
            if not all(t.is_alive() for t in self.threads):
                log.error("a thread of worker %s died; stopping so the worker is restarted", self.rt.name)
                code = 1
                break
        self.stop()
        if server is not None:
            server.shutdown()
            server.server_close()
        return code


def serve_health(worker: Worker, address: str) -> ThreadingHTTPServer:
    """The worker's probes over HTTP on `address` ("host:port", port 0 for any): GET /healthz is 200 while
    its threads run (liveness), GET /readyz 200 when `Worker.readiness` says ready, 503 otherwise, both
    with their checks as JSON; GET /metrics the process's Prometheus metrics (shared/metrics.py). A thread
    of the worker serves them; `shutdown()` ends it."""
    host, _, port = address.rpartition(":")

    class Probe(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._metrics()
                return
            if self.path == "/healthz":
                ok = worker.alive()
                body = {"status": "ok" if ok else "stopped"}
            elif self.path == "/readyz":
                ok, checks = worker.readiness()
                body = {"status": "ready" if ok else "not ready", "checks": checks}
            else:
                self.send_error(404)
                return
            payload = json.dumps({**body, "service": worker.rt.name, "role": "worker"}).encode()
            self.send_response(200 if ok else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _metrics(self) -> None:
            # As the APIs' /metrics: no token, but loopback and the allow-list only (404 for anybody else).
            if not metrics.allowed(self.client_address[0], worker.rt.settings.metrics_allowed_clients):
                self.send_error(404)
                return
            payload, content_type = metrics.exposition()
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args) -> None:  # probes every few seconds are not worth a log line
            pass

    server = ThreadingHTTPServer((host or "0.0.0.0", int(port)), Probe)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=f"health-{worker.rt.name}", daemon=True).start()
    log.info("worker %s: probes on %s:%d (/healthz, /readyz, /metrics)", worker.rt.name, *server.server_address[:2])
    return server
