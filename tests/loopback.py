"""The one home of the tests' real HTTP servers on loopback (no mocks).

A provider's server subclasses `LoopbackServer` and writes only its protocol: `handle(method, path,
headers, body)` gets the request (headers as a dict, body as bytes) and returns `(status, body)` or
`(status, body, headers)`. A dict or list body is sent as JSON, a str or bytes body as it is; the
Content-Type is the returned headers' or application/json. The server speaks keep-alive HTTP/1.1
as real providers do, on an ephemeral port of 127.0.0.1, in a thread started by `with`.

`down = True` takes the server off the network without closing it: every request, also on a
connection kept alive, is answered by dropping the connection. `stop()` (and leaving the `with`)
sets it and closes the listening socket.
"""

import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real providers

    def log_message(self, *args):  # quiet
        pass

    def _gone(self) -> bool:
        if not self.server.owner.down:
            return False
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)  # a kept-alive connection dies with the server
        return True

    def _serve(self, method: str) -> None:
        if self._gone():
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, payload, *rest = self.server.owner.handle(method, self.path, dict(self.headers.items()), body)
        headers = dict(rest[0]) if rest else {}
        content_type = "application/json"
        for name in [n for n in headers if n.lower() == "content-type"]:
            content_type = headers.pop(name)
        if isinstance(payload, dict | list):
            raw = json.dumps(payload, ensure_ascii=False).encode()
        else:
            raw = payload.encode() if isinstance(payload, str) else bytes(payload)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")


class LoopbackServer:
    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.lock = threading.Lock()
        self.down = False
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def handle(self, method: str, path: str, headers: dict, body: bytes) -> tuple:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self) -> None:
        self.down = True
        if self.httpd.socket.fileno() != -1:
            if self.thread.is_alive():
                self.httpd.shutdown()
            self.httpd.server_close()


@contextmanager
def served(app):
    """One of our own applications served by uvicorn on a free loopback port, as `make run` serves it
    (no lifespan: nothing runs in the background); yields the port. For clients that must speak real
    HTTP to it (a fuzzer, an independent client library)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    # log_config and log_level None: uvicorn leaves the process's logging alone (its own configuration
    # would mute "uvicorn.error" and stop "uvicorn" propagating for every test run after this one).
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None, log_level=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(250):
            if server.started:
                break
            time.sleep(0.02)
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()
