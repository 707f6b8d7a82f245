"""notify: queued SMS → the loopback Alibaba Cloud SMS server, from one worker's sender.

Measures notifications/s through the whole sender (claim from the database, render, sign,
SendBatchSms over HTTP, record the outcome and a notify.message.sent event in the outbox), and
the bound measured in the same run against the same server: the raw HTTP client sending the
same signed batches with the same threads and no database. Also the handler's rate (events
→ recorded inbox + queued messages, the consumer side). Database: PostgreSQL when reachable
(as a services-mode worker), else SQLite.
"""

import json
import os
import socket
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select

from services.notify.channels.sms import AliyunSms
from services.notify.config import CACHE_KEY, load_config
from services.notify.models import Message, Recipient
from services.notify.sender import Sender
from services.notify.service import SPEC
from shared.config import get_settings
from shared.db import utcnow
from shared.events import envelope_for
from shared.events.intake import CaseSubmitted
from shared.migrate import ensure_database, upgrade
from tests.notify.servers import AliyunSmsServer

TITLE = "notify: SMS notifications/s from one worker to the loopback SMS server (bound: raw HTTP client)"
N = int(os.environ.get("CG_BENCH_NOTIFY_N", "20000"))
PG_URL = os.environ.get("CG_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _database(tmp: Path) -> tuple[str, str, callable]:
    if _pg_reachable() and os.environ.get("CG_BENCH_NOTIFY_DB", "pg") == "pg":
        import psycopg
        name = f"cg_bench_notify_{uuid.uuid4().hex[:8]}"
        url = f"{PG_URL}/{name}"
        ensure_database(url)

        def drop():
            admin = PG_URL.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return url, "postgresql", drop
    return f"sqlite:///{tmp / 'notify.sqlite'}", "sqlite", lambda: None


def _people(rt, n: int) -> list[str]:
    ids = [f"bench-{i}" for i in range(n)]
    now = utcnow()
    rows = [dict(user_id=uid, role="resident", unit_id=None, phone=f"139{i:08d}", lang="zh",
                 channels='["sms"]', opt_outs="[]", quiet_start="00:00", quiet_end="00:00",
                 timezone="Asia/Shanghai", sms_daily_limit=10, updated_at=now) for i, uid in enumerate(ids)]
    with rt.uow() as session:
        for i in range(0, n, 5000):
            session.execute(insert(Recipient), rows[i:i + 5000])
    return ids


def run() -> dict:
    with tempfile.TemporaryDirectory() as tmp, AliyunSmsServer() as server:
        server.record = False
        url, dialect, drop = _database(Path(tmp))
        try:
            settings = get_settings(mode="embedded", var_dir=Path(tmp))
            upgrade("notify", url)
            rt = SPEC.runtime(settings, url)
            cfg = load_config(overrides={
                "sms": {"enabled": True, "endpoint": server.url + "/", "access_key_id": "test-key",
                        "access_key_secret": "test-secret", "batch": 100},
                "policy": {"batch": 2000, "workers": 4}})
            rt.cache[CACHE_KEY] = cfg
            people = _people(rt, N)

            # the consumer side: events → inbox + queued SMS, 100 events per transaction as the consumer batches
            dispatcher = SPEC.dispatcher(rt)
            at = datetime.now(UTC)
            bodies = [envelope_for(CaseSubmitted(case_id=str(uuid.uuid4()), case_no=f"2026-11-{i:06d}",
                                                 category="env.garbage", channel="app", reporter_id=uid,
                                                 submitted_at=at)).model_dump_json().encode()
                      for i, uid in enumerate(people)]
            t0 = time.perf_counter()
            for i in range(0, len(bodies), 100):
                dispatcher.handle_batch(bodies[i:i + 100])
            handler_s = time.perf_counter() - t0
            with rt.uow() as session:
                queued = session.scalar(select(func.count()).where(Message.channel == "sms",
                                                                   Message.status == "queued"))

            # the sender: queued → sent
            # the sender: queued → sent, its real loop (claim overlapping delivery) as the worker runs it
            sender = Sender(rt, cfg)
            calls0 = server.calls
            stop = threading.Event()

            def count_sent() -> int:
                with rt.uow() as session:
                    return session.scalar(select(func.count()).where(Message.channel == "sms",
                                                                     Message.status == "sent"))

            t0 = time.perf_counter()
            loop = threading.Thread(target=sender.run, args=(stop,))
            loop.start()
            while (sent := count_sent()) < queued and time.perf_counter() - t0 < 300:
                time.sleep(0.2)
            sender_s = time.perf_counter() - t0
            stop.set()
            loop.join()
            sender.close()
            calls = server.calls - calls0

            # the bound: the same signed SendBatchSms calls from the same number of threads, no database
            client = httpx.Client(limits=httpx.Limits(max_connections=8, max_keepalive_connections=8))
            adapter = AliyunSms(cfg.sms, cfg.catalogue, client)
            params = {"case_no": "2026-11-000001"}
            batches = [[(f"139{j:08d}", params) for j in range(i, min(i + 100, N))] for i in range(0, N, 100)]

            def raw(batch):
                return adapter._call("SendBatchSms", {
                    "PhoneNumberJson": json.dumps([p for p, _ in batch]),
                    "SignNameJson": json.dumps([cfg.sms.sign_name] * len(batch), ensure_ascii=False),
                    "TemplateCode": "SMS_470100001",
                    "TemplateParamJson": json.dumps([q for _, q in batch], ensure_ascii=False)})

            with ThreadPoolExecutor(cfg.policy.workers) as pool:
                t0 = time.perf_counter()
                statuses = [s for s, _ in pool.map(raw, batches)]
                bound_s = time.perf_counter() - t0
            client.close()
            rt.dispose()
        finally:
            drop()
    result = {
        "database": dialect, "notifications": N, "sms_batch": cfg.sms.batch, "sender_threads": cfg.policy.workers,
        "handler": {"events": N, "queued_sms": queued, "seconds": round(handler_s, 2),
                    "events_per_s": round(N / handler_s, 1)},
        "sender": {"sent": sent, "http_calls": calls, "seconds": round(sender_s, 2),
                   "notifications_per_s": round(sent / sender_s, 1)},
        "bound_raw_http": {"ok_calls": statuses.count(200), "seconds": round(bound_s, 2),
                           "notifications_per_s": round(N / bound_s, 1)},
    }
    result["sender_vs_bound"] = round(result["sender"]["notifications_per_s"]
                                      / result["bound_raw_http"]["notifications_per_s"], 3)
    print(f"{'stage':<28}{'count':>8}{'seconds':>10}{'per s':>12}")
    print(f"{'handler (events→queued)':<28}{N:>8}{handler_s:>10.2f}{N / handler_s:>12.1f}")
    print(f"{'sender (queued→sent)':<28}{sent:>8}{sender_s:>10.2f}{sent / sender_s:>12.1f}")
    print(f"{'bound: raw HTTP, no DB':<28}{N:>8}{bound_s:>10.2f}{N / bound_s:>12.1f}")
    print(f"database {dialect}; sender at {result['sender_vs_bound']:.0%} of the bound; {calls} HTTP calls")
    return result
