"""A service's worker: its outbox relay, its consumers and its background work, as threads.

One start-up for both modes; only the transport differs. Embedded, every service's worker runs
in the one process over the durable in-process bus; in services mode each service has its own
worker process over RabbitMQ, with PostgreSQL LISTEN/NOTIFY waking its relay. Stopping sets the
stop event and every event a thread may be waiting on, so a stop takes as long as the slowest
batch in flight, not a sleep.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from . import audit
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


class Transport(Protocol):
    def publisher(self) -> Publisher: ...
    def relay_wakeup(self, rt: "ServiceRuntime") -> Wakeup: ...
    def consumer(self, queue: QueueSpec, dispatcher: "Dispatcher") -> Loop: ...
    def notifier(self, rt: "ServiceRuntime") -> Loop | None: ...
    def interrupt(self) -> None: ...


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


class AmqpTransport:
    """Services mode: RabbitMQ, and PostgreSQL NOTIFY between the processes of a service."""

    def __init__(self, rt: "ServiceRuntime"):
        self.settings = rt.settings
        self.channel = notify_channel(rt.name)
        self.dsn = rt.settings.database_url(rt.name)
        self._wakeups: list[PgWakeup] = []

    def publisher(self) -> Publisher:
        from .messaging.amqp import AmqpPublisher  # only workers import pika

        return AmqpPublisher(self.settings.amqp_url)

    def relay_wakeup(self, rt: "ServiceRuntime") -> Wakeup:
        wakeup = PgWakeup(self.dsn, self.channel)
        self._wakeups.append(wakeup)
        return wakeup

    def consumer(self, queue: QueueSpec, dispatcher: "Dispatcher") -> Loop:
        from .messaging.amqp import AmqpConsumer

        return AmqpConsumer(self.settings.amqp_url, queue, dispatcher, prefetch=self.settings.consumer_prefetch,
                            batch=self.settings.consumer_batch).run

    def notifier(self, rt: "ServiceRuntime") -> Loop | None:
        # Events this worker's handlers emit wake every relay of the service, this one included.
        return PgNotifier(self.dsn, self.channel, rt.relay_signal).run

    def interrupt(self) -> None:
        for wakeup in self._wakeups:
            wakeup.interrupt()


class Worker:
    """The threads of one service's worker."""

    def __init__(self, spec: "ServiceSpec", rt: "ServiceRuntime", transport: Transport):
        self.spec, self.rt, self.transport = spec, rt, transport
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self._publisher: Publisher | None = None

    def loops(self) -> list[tuple[str, Loop]]:
        rt, settings = self.rt, self.rt.settings
        self._publisher = self.transport.publisher()
        relay = OutboxRelay(rt.engine, self.spec.outbox, self._publisher, self.transport.relay_wakeup(rt),
                            batch=settings.relay_batch, safety_poll=settings.relay_safety_poll_seconds)
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

    def join(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self.threads if t.is_alive()]
        if alive:
            log.warning("worker %s: threads still running after %.0fs: %s", self.rt.name, timeout, ", ".join(alive))
        if self._publisher is not None and self._publisher is not getattr(self.transport, "bus", None):
            self._publisher.close()

    def stop(self, timeout: float = 10.0) -> None:
        self.signal_stop()
        self.join(timeout)

    def run(self) -> int:
        """Services mode: run until stopped; 1 when a thread died, so the supervisor restarts the worker."""
        self.start()
        log.info("worker %s running: %d threads", self.rt.name, len(self.threads))
        code = 0
        while not self.stop_event.wait(1.0):
            if not all(t.is_alive() for t in self.threads):
                log.error("a thread of worker %s died; stopping so the worker is restarted", self.rt.name)
                code = 1
                break
        self.stop()
        return code
