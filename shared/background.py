"""Periodic work of a worker process (clock scanners, timeouts, digests): one loop for all.

A step returns how much it did; a step that did a full batch runs again at once, otherwise the
loop sleeps until the next interval or until it is stopped. An error is logged by its type only
(its text may quote personal data from a row) and the loop goes on: one bad row must not stop
the clocks of every other case.
"""

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def every(interval: float, step: Callable[[], int], stop: threading.Event, *, name: str,
          full_batch: int | None = None) -> None:
    """Run `step` until `stop` is set. With `full_batch`, a step that returns at least that many
    runs again without waiting (a backlog is drained at once); otherwise any non-zero result does."""
    while not stop.is_set():
        try:
            while not stop.is_set():
                done = step()
                if not done or (full_batch is not None and done < full_batch):
                    break
        except Exception as exc:
            log.warning("%s failed: %s; the next round retries", name, type(exc).__name__)
        stop.wait(interval)
