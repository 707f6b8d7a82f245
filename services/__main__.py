"""python -m services embedded | api NAME | worker NAME | seed"""

import argparse
import logging
import signal
import threading

import uvicorn

from shared.config import SERVICES, get_settings

from . import spec

PORTS = {"intake": 8001, "routing": 8002, "mediation": 8003, "notify": 8004}


def run_embedded(args) -> None:
    from .embedded import Embedded

    system = Embedded(get_settings(mode="embedded"))
    system.prepare(seed=not args.no_seed)
    system.start()
    try:
        uvicorn.run(system.asgi(), host=args.host, port=args.port, log_level="info", access_log=False)
    finally:
        system.stop()


def run_api(args) -> None:
    from shared.messaging.outbox import notify_channel
    from shared.messaging.wakeup import PgNotifier

    settings = get_settings(mode="services")
    service = spec(args.name)
    rt = service.runtime(settings)
    # Commits here wake the relay in this service's worker process.
    PgNotifier(settings.database_url(args.name), notify_channel(args.name), rt.relay_signal).start(threading.Event())
    app = service.app(rt)
    uvicorn.run(app, host=args.host, port=args.port or PORTS[args.name], log_level="warning",
                access_log=False)


def run_worker(args) -> None:
    # Only the worker talks AMQP: API processes never import pika.
    from shared.messaging.amqp import AmqpConsumer, AmqpPublisher
    from shared.messaging.outbox import notify_channel
    from shared.messaging.relay import OutboxRelay
    from shared.messaging.topology import TOPOLOGY
    from shared.messaging.wakeup import PgNotifier, PgWakeup

    settings = get_settings(mode="services")
    service = spec(args.name)
    rt = service.runtime(settings)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    relay = OutboxRelay(rt.engine, service.outbox, AmqpPublisher(settings.amqp_url),
                        PgWakeup(settings.database_url(args.name), notify_channel(args.name)),
                        batch=settings.relay_batch, safety_poll=settings.relay_safety_poll_seconds)
    threads = [threading.Thread(target=relay.run, args=(stop,), name="relay", daemon=True)]
    # Events emitted by this worker's handlers wake every relay of the service, this one included.
    notifier = PgNotifier(settings.database_url(args.name), notify_channel(args.name), rt.relay_signal)
    threads.append(threading.Thread(target=notifier.run, args=(stop,), name="notifier", daemon=True))
    for queue in TOPOLOGY.queues_for(args.name):
        consumer = AmqpConsumer(settings.amqp_url, queue, service.dispatcher(rt),
                                prefetch=settings.consumer_prefetch, batch=settings.consumer_batch)
        threads.append(threading.Thread(target=consumer.run, args=(stop,), name=queue.name, daemon=True))
    if service.background is not None:
        threads.append(threading.Thread(target=service.background, args=(rt, stop), name="background", daemon=True))
    for thread in threads:
        thread.start()
    logging.getLogger(__name__).info("worker %s running: relay + %d consumer(s)", args.name, len(threads) - 1)
    # A thread that dies of an unexpected error must not leave a half-working process running:
    # exit non-zero so the supervisor restarts the worker.
    while not stop.wait(1.0):
        if not all(t.is_alive() for t in threads):
            logging.getLogger(__name__).error("a worker thread died; stopping so the worker is restarted")
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
            raise SystemExit(1)
    for thread in threads:
        thread.join(timeout=10)


def run_seed(args) -> None:
    settings = get_settings()
    for name in SERVICES:
        service = spec(name)
        if service.seed:
            service.seed(service.runtime(settings))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services")
    sub = parser.add_subparsers(dest="command", required=True)
    emb = sub.add_parser("embedded", help="all four services in one process (SQLite, in-process bus)")
    emb.add_argument("--host", default="127.0.0.1")
    emb.add_argument("--port", type=int, default=8000)
    emb.add_argument("--no-seed", action="store_true")
    emb.set_defaults(func=run_embedded)
    api = sub.add_parser("api", help="one service's API process (services mode)")
    api.add_argument("name", choices=SERVICES)
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int)
    api.set_defaults(func=run_api)
    worker = sub.add_parser("worker", help="one service's worker: AMQP consumers + outbox relay")
    worker.add_argument("name", choices=SERVICES)
    worker.set_defaults(func=run_worker)
    seed = sub.add_parser("seed", help="load the demo district and users (CG_MODE picks the databases)")
    seed.set_defaults(func=run_seed)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("pika", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args.func(args)


if __name__ == "__main__":
    main()
