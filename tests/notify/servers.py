"""Small real servers on loopback that speak each provider's protocol (no mocks).

Each runs in a thread on an ephemeral port; tests steer their answers (error codes, HTTP status)
and read what they received. The SMS server checks the Alibaba Cloud RPC signature with its own
implementation of the documented algorithm, so a wrong signature fails the test.
"""

import base64
import hashlib
import hmac
import itertools
import json
import socket
import threading
import urllib.parse
from http.server import ThreadingHTTPServer

from aiosmtpd.controller import Controller

from services.notify.channels import platform as platform_channel
from services.notify.channels.webhook import verify

from ..loopback import LoopbackServer, _Handler


def aliyun_signature(params: dict, secret: str, method: str = "POST") -> str:
    # Written apart from the client's: quote with "~" safe, sorted pairs, METHOD&%2F&encoded.
    def enc(s):
        return urllib.parse.quote(s, safe="~")

    pairs = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()) if k != "Signature")
    mac = hmac.new((secret + "&").encode(), f"{method}&%2F&{enc(pairs)}".encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


class AliyunSmsServer(LoopbackServer):
    """dysmsapi SendSms / SendBatchSms. `codes[phone]` makes a number answer with a provider code;
    `http_errors` answers the next n calls with HTTP 500."""

    def __init__(self, key_id="test-key", secret="test-secret"):
        super().__init__()
        self.key_id, self.secret = key_id, secret
        self.sent: list[dict] = []  # {"phone", "template", "params", "sign", "out_id", "biz_id"}
        self.calls = 0
        self.codes: dict[str, str] = {}
        self.http_errors = 0
        self.ids = itertools.count(1)
        self.record = True

    def handle(self, method, path, headers, body):
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()}
        with self.lock:
            self.calls += 1
            if self.http_errors:
                self.http_errors -= 1
                return 500, {"Code": "InternalError"}
        if form.get("AccessKeyId") != self.key_id:
            return 404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."}
        if form.get("Signature") != aliyun_signature(form, self.secret, method):
            return 400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched."}
        if form.get("Version") != "2017-05-25" or form.get("SignatureMethod") != "HMAC-SHA1":
            return 400, {"Code": "InvalidVersion"}
        if form["Action"] == "SendSms":
            items = [(form["PhoneNumbers"], form["SignName"], json.loads(form["TemplateParam"]), form.get("OutId"))]
        elif form["Action"] == "SendBatchSms":
            phones, signs = json.loads(form["PhoneNumberJson"]), json.loads(form["SignNameJson"])
            params = json.loads(form["TemplateParamJson"])
            if not (len(phones) == len(signs) == len(params)) or len(phones) > 100:
                return 400, {"Code": "isv.BATCH_LIMIT_CONTROL"}
            items = [(p, s, t, None) for p, s, t in zip(phones, signs, params, strict=True)]
        else:
            return 400, {"Code": "InvalidAction.NotFound"}
        for phone, *_ in items:
            if phone in self.codes:
                return 200, {"Code": self.codes[phone], "Message": "refused", "RequestId": "r"}
        biz_id = f"{next(self.ids):06d}^0"
        if self.record:
            with self.lock:
                self.sent.extend({"phone": p, "sign": s, "params": t, "out_id": o, "biz_id": biz_id,
                                  "template": form["TemplateCode"]} for p, s, t, o in items)
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": "req"}


class WechatServer(LoopbackServer):
    """stable_token and subscribeMessage.send. `errcodes[openid]` answers sends to that user;
    `expire_tokens()` invalidates every token issued so far (the next send gets 42001)."""

    def __init__(self, appid="wx-app", secret="wx-secret"):
        super().__init__()
        self.appid, self.secret = appid, secret
        self.valid: set[str] = set()
        self.token_calls: list[dict] = []
        self.sent: list[dict] = []
        self.errcodes: dict[str, int] = {}
        self.ids = itertools.count(1000)

    def expire_tokens(self):
        self.valid.clear()

    def handle(self, method, path, headers, body):
        parsed = urllib.parse.urlparse(path)
        if parsed.path == "/cgi-bin/stable_token":
            req = json.loads(body)
            self.token_calls.append(req)
            if req.get("appid") != self.appid or req.get("secret") != self.secret:
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            token = f"tok-{next(self.ids)}"
            self.valid.add(token)
            return 200, {"access_token": token, "expires_in": 7200}
        if parsed.path == "/cgi-bin/message/subscribe/send":
            token = urllib.parse.parse_qs(parsed.query).get("access_token", [""])[0]
            if token not in self.valid:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            req = json.loads(body)
            limits = {"thing": 20, "phrase": 5, "name": 10, "character_string": 32}
            for key, value in req["data"].items():
                limit = limits.get(key.rstrip("0123456789"))
                if limit and len(value["value"]) > limit:
                    return 200, {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value"}
            if req["touser"] in self.errcodes:
                return 200, {"errcode": self.errcodes[req["touser"]], "errmsg": "error"}
            msgid = next(self.ids)
            self.sent.append({**req, "msgid": msgid})
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": msgid}
        return 404, {"errcode": 404}


class PushServer(LoopbackServer):
    """A generic push provider: POST /v1/messages; `status[token]` answers that device with a status."""

    def __init__(self, api_key="push-key"):
        super().__init__()
        self.api_key = api_key
        self.sent: list[dict] = []
        self.status: dict[str, int] = {}
        self.ids = itertools.count(1)

    def handle(self, method, path, headers, body):
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, {"error": "unauthorized"}
        req = json.loads(body)
        if req["token"] in self.status:
            return self.status[req["token"]], {"error": "refused"}
        self.sent.append(req)
        return 200, {"id": f"push-{next(self.ids)}"}


class WebhookReceiver(LoopbackServer):
    """A subscribed government system: verifies signature, timestamp and replay as docs/notify.md says."""

    def __init__(self):
        super().__init__()
        self.secret = ""
        self.seen: set[str] = set()
        self.received: list[dict] = []
        self.rejected = 0
        self.fail_next = 0
        self.hosts: list[str] = []  # the Host header of every request
        self.redirect_to: str | None = None  # answer 307 to there

    def handle(self, method, path, headers, body):
        self.hosts.append({k.lower(): v for k, v in headers.items()}.get("host", ""))
        if self.redirect_to:
            return 307, {"moved": True}, {"Location": self.redirect_to}
        if self.fail_next:
            self.fail_next -= 1
            return 503, {"error": "busy"}
        if not verify(self.secret, {k.lower(): v for k, v in headers.items()}, body, self.seen):
            self.rejected += 1
            return 401, {"error": "bad signature"}
        self.received.append(json.loads(body))
        return 200, {"ok": True}


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on (now): a connection to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PlatformServer(LoopbackServer):
    """The city's 12345 platform taking our write-backs: it checks the signature, the timestamp and the
    nonce as docs/interop.md tells it to (channels/platform.py:verify), answers {"code": "0"} when it takes
    one, `fail_next` requests (and those of the order numbers in `busy`) with 503, and a refusal code for the
order numbers in `refuse`. Started on a
    given `port`, so that before it starts a connection there is refused: the platform down."""

    def __init__(self, config, secret: str, port: int = 0):
        super().__init__()
        if port:  # the port the deployment's URL names, on which nothing listened until now
            self.httpd.server_close()
            self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
            self.httpd.daemon_threads = True
            self.httpd.owner = self
            self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.config, self.secret = config, secret
        self.seen: set[str] = set()
        self.received: list[dict] = []  # the bodies it took, in the order it took them
        self.nonces: list[str] = []
        self.rejected = 0
        self.fail_next = 0
        self.refuse: dict[str, str] = {}  # order number -> the code it answers
        self.busy: set[str] = set()  # order numbers it answers 503 for (that order's store is locked)

    def handle(self, method, path, headers, body):
        lower = {k.lower(): v for k, v in headers.items()}
        with self.lock:
            # Busy before anything is checked: a nonce is remembered only once the write-back is taken.
            if self.fail_next or json.loads(body).get(self.config.fields["order_no"]) in self.busy:
                self.fail_next = max(0, self.fail_next - 1)
                return 503, {"code": "503", "msg": "系统繁忙"}
            if not platform_channel.verify(self.secret, lower, body, self.config, self.seen):
                self.rejected += 1
                return 401, {"code": "401", "msg": "签名错误"}
            update = json.loads(body)
            refused = self.refuse.get(update.get(self.config.fields["order_no"]))
            if refused:
                return 200, {"code": refused, "msg": "工单状态不允许该操作"}
            self.received.append(update)
            self.nonces.append(lower[self.config.headers.nonce.lower()])
        return 200, {"code": "0", "msg": "成功"}


class _Recorder:
    def __init__(self):
        self.messages: list = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server (aiosmtpd) on loopback."""

    def __init__(self):
        self.handler = _Recorder()
        with socket.socket() as probe:  # aiosmtpd needs a real port up front
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
