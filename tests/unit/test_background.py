"""The one loop of periodic work: drains a backlog at once, survives errors, stops when told."""

import logging
import threading
import time

from shared.background import every


def test_a_full_batch_runs_again_at_once_and_a_partial_one_waits_for_the_interval():
    calls, stop = [], threading.Event()

    def step() -> int:
        calls.append(time.monotonic())
        if len(calls) == 4:
            stop.set()
        return [200, 200, 3, 200][len(calls) - 1]

    thread = threading.Thread(target=every, args=(0.3, step, stop), kwargs={"name": "t", "full_batch": 200})
    thread.start()
    thread.join(5)
    assert len(calls) == 4
    assert calls[2] - calls[0] < 0.2  # the backlog: three steps without a pause
    assert calls[3] - calls[2] >= 0.25  # then the interval


def test_an_error_is_logged_by_its_type_only_and_the_loop_goes_on(caplog):
    stop, calls = threading.Event(), []

    def step() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("张三 13812345678 failed")  # text that may hold personal data
        stop.set()
        return 0

    with caplog.at_level(logging.WARNING):
        every(0.01, step, stop, name="scanner")
    assert len(calls) == 2
    assert "ValueError" in caplog.text and "13812345678" not in caplog.text and "张三" not in caplog.text


def test_setting_stop_ends_the_wait_at_once():
    stop = threading.Event()
    thread = threading.Thread(target=every, args=(60.0, lambda: 0, stop), kwargs={"name": "idle"})
    thread.start()
    time.sleep(0.05)
    started = time.monotonic()
    stop.set()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - started < 0.5
