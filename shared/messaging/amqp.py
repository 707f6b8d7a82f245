"""The RabbitMQ transport: topology declaration, a confirming publisher and a batching consumer.

Only the worker processes import this module (the API processes must never import pika).
Message bodies may carry personal data, so nothing here logs a body: ids and types only.
Every connection is made through `Brokers`, so a cluster's nodes are all usable (CG_AMQP_URLS).
"""

import copy
import logging
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from typing import NamedTuple

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPConnectionError, AMQPError, ConsumerCancelled, NackError, UnroutableError
from pika.spec import Basic, BasicProperties

from shared import metrics
from shared.db import DatabaseUnavailable

from .dispatcher import Dispatcher, Outcome, Result
from .publisher import OutgoingMessage, PublishError
from .topology import TOPOLOGY, QueueSpec, Topology, event_key, queue_declarations

log = logging.getLogger(__name__)


class Brokers:
    """The nodes of a RabbitMQ cluster (or the one broker), and which to try first.

    Each instance starts at a random node, so the connections of many processes spread over the cluster,
    and after each connection it moves its start to the node after the one it reached: when that node goes
    away, the reconnection tries a surviving node first instead of waiting on the lost one. A node that
    refuses is passed over for the next within the same attempt. Quorum queues are replicated on every
    node, so any node serves any queue.
    """

    def __init__(self, urls: str | Sequence[str], configure: Callable[[pika.URLParameters], None] | None = None):
        urls = [urls] if isinstance(urls, str) else list(urls)
        if not urls:
            raise ValueError("no RabbitMQ address given")
        self.params = [pika.URLParameters(url) for url in urls]
        for params in self.params:
            if configure is not None:
                configure(params)
        self._start = random.randrange(len(self.params))
        self._lock = threading.Lock()

    def connect(self) -> tuple[pika.BlockingConnection, pika.URLParameters]:
        """A connection to the first node that answers, and its parameters (for a second connection to the
        same node); AMQPConnectionError naming every node's failure when none does."""
        with self._lock:
            start = self._start
        failures = []
        for step in range(len(self.params)):
            index = (start + step) % len(self.params)
            params = self.params[index]
            try:
                connection = pika.BlockingConnection(params)
            except (AMQPError, OSError) as exc:
                failures.append(f"{node(params)}: {type(exc).__name__}")
                continue
            with self._lock:
                self._start = (index + 1) % len(self.params)
            return connection, params
        raise AMQPConnectionError(f"no RabbitMQ node reachable ({'; '.join(failures)})")


def node(params: pika.ConnectionParameters) -> str:
    """A node's address for the logs (never the credentials)."""
    return f"{params.host}:{params.port}"


def declare_topology(channel: BlockingChannel, topology: Topology = TOPOLOGY) -> None:
    """Declare the exchanges, every queue with its arguments, and the bindings. Idempotent."""
    channel.exchange_declare(topology.exchange, exchange_type="topic", durable=True)
    channel.exchange_declare(topology.dlx, exchange_type="direct", durable=True)
    for q in topology.queues:
        for name, arguments in queue_declarations(q, topology):
            channel.queue_declare(name, durable=True, arguments=arguments)
        for binding in q.bindings:
            channel.queue_bind(q.name, topology.exchange, routing_key=binding)
        channel.queue_bind(q.dlq, topology.dlx, routing_key=q.name)


# --------------------------------------------------------------------------- publisher


class _Batch:
    """One publish_batch call in flight: which delivery tags are still unconfirmed."""

    def __init__(self, messages: list[OutgoingMessage]):
        self.messages = messages
        self.results: list[str | None] = [None] * len(messages)
        self.error: str | None = None
        self.done = threading.Event()
        self._unconfirmed: dict[int, int] = {}  # delivery tag -> index, in tag order
        # basic.return names the message only by its properties and routing key.
        self._returnable: dict[tuple[str, str], deque[int]] = defaultdict(deque)

    def expect(self, tag: int, index: int) -> None:
        message = self.messages[index]
        self._unconfirmed[tag] = index
        self._returnable[(message.message_id, message.routing_key)].append(index)

    def returned(self, message_id: str, routing_key: str, reply_text: str) -> None:
        # The broker sends a message's basic.return before its ack, so it is still unconfirmed.
        candidates = self._returnable.get((message_id, routing_key))
        if candidates:
            self.results[candidates.popleft()] = f"unroutable: {reply_text}"

    def confirmed(self, tag: int, multiple: bool, acked: bool) -> None:
        if multiple:
            tags = []
            for pending in self._unconfirmed:  # insertion order is tag order
                if pending > tag:
                    break
                tags.append(pending)
        else:
            tags = [tag] if tag in self._unconfirmed else []
        for settled in tags:
            index = self._unconfirmed.pop(settled)
            if not acked and self.results[index] is None:
                self.results[index] = "nacked by broker"
        if not self._unconfirmed:
            self.done.set()

    def fail(self, reason: str) -> None:
        if not self.done.is_set():
            self.error = reason
            self.done.set()


class _ConfirmLink:
    """A SelectConnection with one confirm-mode channel, driven by its own daemon thread.

    pika objects are touched only on that thread (which also keeps heartbeats flowing between
    batches); callers hand work over with add_callback_threadsafe and wait on an event.
    """

    def __init__(self, params: pika.URLParameters, exchange: str):
        self._exchange = exchange
        self._ready = threading.Event()  # the channel is in confirm mode, or opening failed
        self._stopped = threading.Event()
        self._loop_lock = threading.Lock()  # orders "loop ended" against handing it callbacks
        self._failure: str | None = None
        self._channel = None
        self._next_tag = 0
        self._batch: _Batch | None = None
        self._connection = pika.SelectConnection(
            params,
            on_open_callback=self._on_open,
            on_open_error_callback=self._on_open_error,
            on_close_callback=self._on_closed,
        )
        self._thread = threading.Thread(target=self._run, name="amqp-publisher", daemon=True)

    @property
    def alive(self) -> bool:
        return self._ready.is_set() and self._failure is None and not self._stopped.is_set()

    def open(self, timeout: float) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            self.close()
            raise PublishError(f"no AMQP connection within {timeout:.0f}s")
        if not self.alive:
            self.close()
            raise PublishError(self._failure or "AMQP connection lost")

    def publish(self, messages: list[OutgoingMessage], timeout: float) -> list[str | None]:
        batch = _Batch(messages)
        # Set before handing over: if the loop ends first, _run fails this very batch.
        self._batch = batch
        if not self._call_soon(lambda: self._publish(batch)):
            raise PublishError(self._failure or "AMQP connection lost")
        if not batch.done.wait(timeout):
            raise PublishError(f"{len(messages)} messages not confirmed within {timeout:.0f}s")
        if batch.error is not None:
            raise PublishError(batch.error)
        return batch.results

    def close(self, timeout: float = 5.0) -> None:
        self._call_soon(self._close_connection)
        self._thread.join(timeout)

    def _call_soon(self, callback) -> bool:
        """Run `callback` on the loop thread; False when the loop has already ended."""
        with self._loop_lock:
            if self._stopped.is_set():
                return False
            self._connection.ioloop.add_callback_threadsafe(callback)
            return True

    def _run(self) -> None:
        try:
            self._connection.ioloop.start()
        finally:
            with self._loop_lock:
                self._stopped.set()
                self._connection.ioloop.close()
            reason = self._failure or "AMQP connection ended"
            if self._batch is not None:
                self._batch.fail(reason)
            self._ready.set()

    # Everything below runs on the loop thread.

    def _publish(self, batch: _Batch) -> None:
        if self._channel is None or not self._channel.is_open:
            batch.fail(self._failure or "AMQP channel not open")
            return
        for index, m in enumerate(batch.messages):
            self._next_tag += 1
            batch.expect(self._next_tag, index)
            properties = BasicProperties(
                message_id=m.message_id,
                content_type="application/json",
                delivery_mode=2,
                type=event_key(m.routing_key),
                headers=m.headers,
            )
            self._channel.basic_publish(
                self._exchange, m.routing_key, m.body, properties, mandatory=True
            )

    def _on_open(self, connection) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_channel_open(self, channel) -> None:
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(self._on_confirm, callback=lambda _frame: self._ready.set())
        self._channel = channel

    def _on_confirm(self, frame) -> None:
        if self._batch is not None:
            method = frame.method
            self._batch.confirmed(method.delivery_tag, method.multiple, isinstance(method, Basic.Ack))

    def _on_return(self, _channel, method, properties, _body) -> None:
        if self._batch is not None:
            self._batch.returned(properties.message_id, method.routing_key, method.reply_text)

    def _on_channel_closed(self, _channel, reason) -> None:
        self._fail(f"AMQP channel closed: {reason!r}")
        # A closed channel makes the link useless: drop the connection so the next batch reconnects.
        if self._connection.is_open:
            self._connection.close()

    def _on_open_error(self, _connection, error) -> None:
        self._fail(f"cannot connect to RabbitMQ: {error!r}")
        self._connection.ioloop.stop()

    def _on_closed(self, _connection, reason) -> None:
        self._fail(f"AMQP connection closed: {reason!r}")
        self._connection.ioloop.stop()

    def _close_connection(self) -> None:
        if not (self._connection.is_closing or self._connection.is_closed):
            self._connection.close()

    def _fail(self, reason: str) -> None:
        if self._failure is None:
            self._failure = reason
        if self._batch is not None:
            self._batch.fail(self._failure)


class AmqpPublisher:
    """Publishes batches to the topology's exchange with asynchronous publisher confirms.

    The whole batch is written, then confirms are awaited together, so throughput is bounded by
    the broker rather than by one round trip per message. Not for concurrent callers: a lock
    serialises them.
    """

    def __init__(
        self,
        urls: str | Sequence[str],
        topology: Topology = TOPOLOGY,
        *,
        confirm_timeout: float = 30.0,
        connect_timeout: float = 10.0,
    ):
        def configure(params: pika.URLParameters) -> None:
            params.stack_timeout = connect_timeout  # TCP + TLS + AMQP handshake, together
            params.client_properties = {"connection_name": "relay publisher"}

        self._brokers = Brokers(urls, configure)
        self._topology = topology
        self._confirm_timeout = confirm_timeout
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._link: _ConfirmLink | None = None

    def publish_batch(self, messages: list[OutgoingMessage]) -> list[str | None]:
        if not messages:
            return []
        with self._lock:
            link = self._connected()
            try:
                return link.publish(messages, self._confirm_timeout)
            except PublishError:
                # Whatever was confirmed is published more than once on retry; the inbox absorbs that.
                self._drop_link()
                raise

    def close(self) -> None:
        with self._lock:
            self._drop_link()

    def _connected(self) -> _ConfirmLink:
        if self._link is not None and self._link.alive:
            return self._link
        self._drop_link()
        # Declared on every new connection: a broker that lost its definitions gets them back. The
        # confirming link then goes to the node that just answered.
        try:
            connection, params = self._brokers.connect()
            with connection:
                declare_topology(connection.channel(), self._topology)
        except (AMQPError, OSError) as exc:
            raise PublishError(f"cannot declare the topology: {exc!r}") from exc
        link = _ConfirmLink(params, self._topology.exchange)
        link.open(self._connect_timeout)
        log.info("publisher: connected to %s", node(params))
        self._link = link
        return link

    def _drop_link(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None


# --------------------------------------------------------------------------- consumer

# Capped low: a consumer must be back within a couple of seconds of the broker's return, not sleep
# through it (an attempt against a broker that is down costs one refused TCP connection).
_FIRST_BACKOFF, _MAX_BACKOFF = 0.5, 2.0
_POLL_SECONDS = 0.2  # how long one wait for deliveries lasts, and so how soon `stop` is noticed
# How often a held batch is tried again while the database is away: an attempt is one refused
# connection, and the batch goes through within about this long of the database's return.
_DATABASE_RETRY = 1.0
# Set by the broker about the copy's previous journey; the retry or DLQ copy starts its own.
_BROKER_HEADERS = frozenset({
    "x-death", "x-delivery-count",
    "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
    "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason",
})


class _Delivery(NamedTuple):
    tag: int
    properties: BasicProperties
    body: bytes


class AmqpConsumer:
    """Consumes one queue in batches through a Dispatcher; retries and dead-letters by republishing.

    A message is acked only after the dispatcher's transaction committed and after its retry or
    DLQ copy was confirmed by the broker, so a crash at any point leads to redelivery, not loss.
    """

    def __init__(
        self,
        urls: str | Sequence[str],
        queue: QueueSpec,
        dispatcher: Dispatcher,
        topology: Topology = TOPOLOGY,
        prefetch: int = 200,
        batch: int = 100,
        heartbeat: int = 30,
        linger: float = 0.0,
    ):
        def configure(params: pika.URLParameters) -> None:
            params.heartbeat = heartbeat
            # A node that does not answer (rather than refuse) is given up for the next this soon.
            params.stack_timeout = 5.0
            # Under a broker resource alarm the confirmed retry/DLQ publishes would block forever.
            params.blocked_connection_timeout = 4 * heartbeat
            params.client_properties = {"connection_name": f"{queue.name} consumer"}

        self._brokers = Brokers(urls, configure)
        self.queue = queue
        self.dispatcher = dispatcher
        self.topology = topology
        self.prefetch = prefetch
        self.batch = batch
        self.linger = linger
        self._backoff = _FIRST_BACKOFF  # reset once a connection is up
        # Set while consuming (the worker's readiness reads it), cleared when the connection is lost.
        self.connected = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set, reconnecting with a short, capped back-off.

        Nothing ends this loop but `stop`: a lost connection reconnects, and so does any other error
        (its deliveries, unacked, go back to the queue), so one bad message cannot stop the worker.
        """
        while not stop.is_set():
            try:
                self._consume(stop)
            except (AMQPError, OSError) as exc:
                log.warning("%s consumer: %s: %s; reconnecting in %.1fs",
                            self.queue.name, type(exc).__name__, exc, self._backoff)
            except Exception as exc:  # a bug, not the broker: said loudly, and the queue keeps flowing
                log.error("%s consumer: unexpected %s; reconnecting in %.1fs", self.queue.name,
                          type(exc).__name__, self._backoff, exc_info=True)
            finally:
                self.connected.clear()
            if stop.is_set():
                break
            stop.wait(self._backoff)
            self._backoff = min(_MAX_BACKOFF, self._backoff * 2)

    def _consume(self, stop: threading.Event) -> None:
        connection, params = self._brokers.connect()
        try:
            channel = connection.channel()
            declare_topology(channel, self.topology)
            channel.basic_qos(prefetch_count=self.prefetch)
            # A separate channel for the (rare) retry and DLQ copies, each confirmed before the ack.
            confirms = connection.channel()
            confirms.confirm_delivery()
            arrived: deque[_Delivery] = deque()
            channel.basic_consume(
                self.queue.name,
                lambda _ch, method, props, body: arrived.append(_Delivery(method.delivery_tag, props, body)),
            )
            # The broker cancels the consumer when the queue is deleted; pika would then just go
            # quiet, so note it and reconnect (which declares the queue again).
            cancelled = threading.Event()
            channel.add_on_cancel_callback(lambda _frame: cancelled.set())
            log.info("%s consumer: connected to %s", self.queue.name, node(params))
            self._backoff = _FIRST_BACKOFF
            self.connected.set()
            while not stop.is_set():
                if cancelled.is_set():
                    raise ConsumerCancelled(f"{self.queue.name}: consumer cancelled by the broker")
                # What arrived meanwhile (pika hands deliveries over only in here); wait only when nothing did.
                connection.process_data_events(time_limit=0)
                if not arrived:
                    connection.process_data_events(time_limit=_POLL_SECONDS)
                    if arrived and self.linger:
                        self._gather(connection, arrived)
                if arrived:
                    batch = [arrived.popleft() for _ in range(min(self.batch, len(arrived)))]
                    results = self._dispatch(connection, batch, stop)
                    if results is None:  # stopped while the database was away: the batch goes back unacked
                        return
                    self._handle(channel, confirms, batch, results)
        finally:
            # Unacked deliveries (including those still in `arrived`) go back to the queue.
            if connection.is_open:
                connection.close()

    def _gather(self, connection: pika.BlockingConnection, arrived: deque) -> None:
        """After an idle wait, give the first delivery `linger` seconds of company before handling it: a batch
        costs about as much to begin and commit as it does per message, so at a steady moderate rate, where
        each message would otherwise be a batch of its own, the worker spends half the CPU for a few ms more
        latency. A backlog never waits: deliveries that piled up during the last batch are handled at once."""
        deadline = time.monotonic() + self.linger
        full = min(self.batch, self.prefetch)  # the broker sends no more than prefetch unacked
        while len(arrived) < full and (left := deadline - time.monotonic()) > 0:
            connection.process_data_events(time_limit=left)

    def _dispatch(self, connection: pika.BlockingConnection, batch: list[_Delivery],
                  stop: threading.Event) -> list[Result] | None:
        """The dispatcher's results for a batch. While the database is away (PostgreSQL restarting) the
        batch is held, neither acked nor returned, and handed over again every second or so until it
        answers: returning it would count each delivery towards the quorum queue's delivery limit, and a
        retry towards the DLQ. The connection's heartbeats go on meanwhile. None when stopped first."""
        wait, failures = _FIRST_BACKOFF, 0
        while True:
            try:
                results = self.dispatcher.handle_batch([d.body for d in batch])
            except DatabaseUnavailable as exc:
                failures += 1
                if failures == 1:
                    log.warning("%s consumer: database unavailable (%s: %s); holding %d message(s) until it answers",
                                self.queue.name, type(exc.__cause__).__name__, exc, len(batch))
            else:
                if failures:
                    log.info("%s consumer: database back after %d attempt(s)", self.queue.name, failures)
                return results
            deadline = time.monotonic() + wait
            while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
                connection.process_data_events(time_limit=min(left, _POLL_SECONDS))
            if stop.is_set():
                return None
            wait = min(_DATABASE_RETRY, wait * 2)

    def _handle(self, channel: BlockingChannel, confirms: BlockingChannel, batch: list[_Delivery],
                results: list[Result]) -> None:
        acks, requeued = [], False
        for delivery, result in zip(batch, results, strict=True):
            if result.outcome is Outcome.ACK or self._forward(confirms, delivery, result):
                acks.append(delivery.tag)
            else:
                channel.basic_nack(delivery.tag, requeue=True)
                requeued = True
        if acks and not requeued:
            # Every earlier delivery on this channel is settled already, so one ack covers the batch.
            channel.basic_ack(acks[-1], multiple=True)
        else:
            for tag in acks:
                channel.basic_ack(tag)

    def _forward(self, confirms: BlockingChannel, delivery: _Delivery, result: Result) -> bool:
        """Publish the retry or DLQ copy of a delivery; True once the broker confirmed it."""
        q, props = self.queue, delivery.properties
        headers = {k: v for k, v in (props.headers or {}).items() if k not in _BROKER_HEADERS}
        attempt = _attempts(headers.get("x-attempt")) + 1
        retry = result.outcome is Outcome.RETRY
        if retry:
            headers.update({"x-attempt": attempt, "x-last-error": result.reason})
        if retry and attempt < q.max_attempts:
            exchange, routing_key = "", q.retry_queue(attempt)  # its TTL sends it back to q.name
        else:
            exchange, routing_key = self.topology.dlx, q.name
            headers["x-death-reason"] = result.reason
        copy_props = copy.copy(props)
        copy_props.headers = headers
        try:
            confirms.basic_publish(exchange, routing_key, delivery.body, copy_props, mandatory=True)
        except (UnroutableError, NackError) as exc:
            log.error("%s: copy of %s (%s) to %s not confirmed (%s); requeueing it",
                      q.name, props.message_id, props.type, routing_key, type(exc).__name__)
            return False
        service = getattr(self.dispatcher, "service", q.name)
        metrics.event_outcome(service, result.handler, "dead_lettered" if exchange else "retried")
        if exchange:
            log.warning("%s: dead-lettered %s (%s) after %d attempt(s)",
                        q.name, props.message_id, props.type, attempt)
        else:
            log.info("%s: %s (%s) failed attempt %d; retrying via %s",
                     q.name, props.message_id, props.type, attempt, routing_key)
        return True


def _attempts(value) -> int:
    """The x-attempt header as we wrote it; anything else (a message someone else made) counts as none."""
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0
