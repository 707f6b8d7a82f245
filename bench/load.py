"""A small open-loop HTTP/1.1 load generator on raw asyncio streams.

httpx tops out near the rates we measure on these 2 cores, so this speaks keep-alive
HTTP/1.1 directly. Latency is counted from the moment a request was *scheduled*, not sent,
so a stalled server shows up as latency instead of silently lowering the offered rate
(no coordinated omission).
"""

import asyncio
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse


@dataclass
class StepResult:
    offered_rps: float | None
    duration_s: float
    sent: int = 0
    accepted: int = 0  # 2xx
    refused: int = 0  # 503 with Retry-After: the server's fast "busy", not an error of the run
    errors: int = 0  # anything else: another status, a reset, a closed connection
    latencies_ms: list[float] = field(default_factory=list)  # every answer
    accepted_ms: list[float] = field(default_factory=list)
    refused_ms: list[float] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    @property
    def accepted_rps(self) -> float:
        return self.accepted / self.duration_s if self.duration_s else 0.0


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return round(ordered[k], 2)


class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def request(self, raw: bytes) -> tuple[int, bytes, dict[bytes, bytes]]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(raw)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        headers = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get(b"content-length", 0))
        body = await self.reader.readexactly(length) if length else b""
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, body, headers

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def build_request(url: str, body: dict, headers: dict) -> tuple[str, int, bytes]:
    parsed = urlparse(url)
    payload = json.dumps(body, ensure_ascii=False).encode()
    lines = [f"POST {parsed.path} HTTP/1.1", f"Host: {parsed.hostname}:{parsed.port}",
             "Content-Type: application/json", f"Content-Length: {len(payload)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return parsed.hostname, parsed.port, ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def run_step(url: str, make_body, headers: dict, *, rate: float | None, duration: float,
                   concurrency: int = 128, keep_bodies: bool = False) -> StepResult:
    """`rate` requests/s for `duration` s (open loop); rate None: as fast as `concurrency` allows."""
    host, port, _ = build_request(url, make_body(0), headers)
    result = StepResult(rate, duration)
    queue: asyncio.Queue = asyncio.Queue()
    start = time.perf_counter()

    async def worker():
        conn = Connection(host, port)
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                i, scheduled = item
                raw = build_request(url, make_body(i), headers)[2]
                try:
                    status, body, answer = await conn.request(raw)
                except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
                    conn.close()
                    result.errors += 1
                    continue
                took = (time.perf_counter() - scheduled) * 1000
                result.latencies_ms.append(took)
                if 200 <= status < 300:
                    result.accepted += 1
                    result.accepted_ms.append(took)
                    if keep_bodies:
                        result.bodies.append(body)
                elif status == 503 and b"retry-after" in answer:
                    result.refused += 1
                    result.refused_ms.append(took)
                else:
                    result.errors += 1
        finally:
            conn.close()

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    i = 0
    if rate:
        while True:
            scheduled = start + i / rate
            if scheduled - start >= duration:
                break
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((i, scheduled))
            i += 1
    else:
        while time.perf_counter() - start < duration:
            if queue.qsize() < concurrency:
                for _ in range(concurrency):
                    queue.put_nowait((i, time.perf_counter()))
                    i += 1
            await asyncio.sleep(0.001)
        # requests queued but not started are dropped from a closed-loop run
        while not queue.empty():
            queue.get_nowait()
            i -= 1
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    result.sent = i
    result.duration_s = time.perf_counter() - start
    return result
