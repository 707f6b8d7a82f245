"""python -m services embedded | api NAME | worker NAME | seed"""

import argparse
import gc
import signal
import socket
import threading

import uvicorn

from shared import logs
from shared.config import SERVICES, get_settings
from shared.keys import KeyConfigError

from . import spec

PORTS = {"intake": 8001, "routing": 8002, "mediation": 8003, "notify": 8004, "identity": 8005, "grid": 8006,
         "selfgov": 8007}


def proxy_trust(settings) -> dict:
    """X-Forwarded-For names the client only when it comes from a proxy the deployment trusts
    (CG_TRUSTED_PROXIES); otherwise anyone could pick the address the audit trail and the
    per-address limits see."""
    trusted = settings.trusted_proxies.strip()
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or None}


def freeze_startup_heap() -> None:
    """Everything allocated to start (modules, the app, its models, compiled configuration) moved out of
    the collector's sight: it lives as long as the process. Each full collection had walked it all again,
    stopping the process for 100-400 ms under load (measured with gc.callbacks), long enough for an API's
    admission bound to refuse residents at a third of its capacity and for a worker to stall the pipeline."""
    gc.collect()
    gc.freeze()


def run_embedded(args) -> None:
    from .embedded import Embedded

    system = Embedded(get_settings(mode="embedded"))
    system.prepare(seed=not args.no_seed)
    system.start()
    app = system.asgi()
    freeze_startup_heap()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False,
                    log_config=None, **proxy_trust(system.settings))
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
    config = uvicorn.Config(app, host=args.host, port=args.port or PORTS[args.name], log_level="warning",
                            access_log=False, log_config=None, **proxy_trust(settings))
    freeze_startup_heap()
    uvicorn.Server(config).run(sockets=[shared_listener(config.host, config.port)])


def shared_listener(host: str, port: int) -> socket.socket:
    """The API's listening socket with SO_REUSEPORT: several processes of one service bind the same
    port and the kernel spreads new connections across them (deploy/services.sh APIS=n), each process
    with its own event loop, pool and admission bound; one dying leaves the others serving."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def run_worker(args) -> None:
    from shared.worker import AmqpTransport, Worker

    service = spec(args.name)
    rt = service.runtime(get_settings(mode="services"))
    worker = Worker(service, rt, AmqpTransport(rt))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.signal_stop())
    freeze_startup_heap()
    # A thread that died of an unexpected error must not leave a half-working process running:
    # the exit code tells the supervisor to restart the worker.
    raise SystemExit(worker.run(rt.settings.worker_health_address))


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
    # uvicorn is given no logging configuration (log_config=None): its lines go through this one.
    services_mode = args.command in ("api", "worker")
    logs.configure(mode="services" if services_mode else None, service=getattr(args, "name", None),
                   role=args.command if services_mode else None)
    try:
        args.func(args)
    except KeyConfigError as exc:  # said plainly, without a traceback: what to set before starting again
        raise SystemExit(f"{args.command} {getattr(args, 'name', '')}: cannot start: {exc}") from None


if __name__ == "__main__":
    main()
