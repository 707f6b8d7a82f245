"""The sender's loop: run by the worker, woken by a commit that queued something (and only then),
idle without a channel, and stopped at once."""

import threading
import time

from sqlalchemy import event

from services.cluster import wait_for
from services.notify.messages import sender_wakeup
from services.notify.sender import Sender
from services.notify.service import SPEC

from .conftest import deliver, loopback_config, send_once, set_person
from .payloads import submitted


def test_the_sender_runs_in_the_worker_background_and_wakes_on_commit(rt, servers):
    stop = threading.Event()
    thread = threading.Thread(target=SPEC.background, args=(rt, stop), daemon=True)
    thread.start()
    try:
        # the real clock here: make the resident's quiet hours empty so the test does not depend on the hour
        set_person(rt, "u-resident-1", quiet_start="00:00", quiet_end="00:00")
        deliver(rt, submitted())
        wait_for(lambda: servers["sms"].sent, timeout=10, what="the SMS")
    finally:
        stop.set()
        thread.join(timeout=5)


def test_an_event_that_queues_nothing_external_does_not_wake_the_sender(rt):
    wake = sender_wakeup(rt)
    wake.clear()
    deliver(rt, submitted(reporter="u-new-resident"))  # only an inbox message: nothing for the sender
    assert not wake.is_set()
    deliver(rt, submitted(case_id="c-2"))  # an SMS is queued
    assert wake.is_set()


def test_a_stopping_worker_wakes_the_sender_at_once_instead_of_letting_it_sleep_out_its_poll(rt, servers):
    idle = Sender(rt, loopback_config(servers, policy={"poll_seconds": 60}))
    stop = threading.Event()
    thread = threading.Thread(target=idle.run, args=(stop,), daemon=True)
    thread.start()
    try:
        time.sleep(0.2)  # nothing queued: the loop is waiting out its poll
        started = time.monotonic()
        stop.set()
        rt.wake_all()  # what the worker does when it stops
        thread.join(timeout=5)
        assert not thread.is_alive() and time.monotonic() - started < 2
    finally:
        stop.set()
        idle.close()


def test_a_sender_with_no_channel_configured_does_not_query_the_database(rt, servers):
    off = {"enabled": False}
    idle = Sender(rt, loopback_config(servers, sms=off, wechat=off, push=off, email=off, webhook=off))
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(rt.engine, "before_cursor_execute", listener)
    try:
        assert send_once(idle) == 0
    finally:
        event.remove(rt.engine, "before_cursor_execute", listener)
        idle.close()
    assert statements == []
