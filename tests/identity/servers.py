"""Small real servers on loopback that speak a provider's protocol (no mocks), as tests/notify/servers.py.

WechatLoginServer speaks the mini-program's code2session (GET /sns/jscode2session) as WeChat
does: HTTP 200 either way, `Content-Type: text/plain`, a success body `{session_key, openid,
unionid?}` or `{errcode, errmsg}` with WeChat's own messages, a login code good once.
"""

import itertools
import json
import urllib.parse

from ..loopback import LoopbackServer

# WeChat's own error bodies (errmsg as it sends them; the rid differs per call).
ERRMSG = {
    40029: "invalid code",
    40163: "code been used",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    -1: "system error",
    40226: "high risk level user, login intercepted",
    40013: "invalid appid",
    40125: "invalid appsecret",
}
TEXT, HTML = {"Content-Type": "text/plain"}, {"Content-Type": "text/html"}


class WechatLoginServer(LoopbackServer):
    """`login(openid, unionid)` is what wx.login gives the mini-program: a code for that user.
    `errcodes[code]` makes a code answer with that errcode; `http_status` answers every call with
    an HTTP error; `garbage` answers with a body that is not JSON. `requests` holds every query."""

    def __init__(self, appid: str = "wx-mini-app", secret: str = "wx-mini-secret"):
        super().__init__()
        self.appid, self.secret = appid, secret
        self.codes: dict[str, dict] = {}
        self.used: set[str] = set()
        self.errcodes: dict[str, int] = {}
        self.http_status: int | None = None
        self.garbage = False
        self.requests: list[dict] = []
        self.issued_session_keys: list[str] = []
        self.ids = itertools.count(1)

    def login(self, openid: str, unionid: str | None = None) -> str:
        code = f"0{next(self.ids):03d}wxlogincode{openid[-4:]}"
        self.codes[code] = {"openid": openid, **({"unionid": unionid} if unionid else {})}
        return code

    def _error(self, errcode: int) -> tuple[int, str, dict]:
        rid = f"rid: {next(self.ids):08x}-{next(self.ids):08x}"
        return 200, json.dumps({"errcode": errcode, "errmsg": f"{ERRMSG.get(errcode, 'error')}, {rid}"}), TEXT

    def handle(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, str, dict]:
        parsed = urllib.parse.urlparse(path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}
        with self.lock:
            self.requests.append(query)
            if parsed.path != "/sns/jscode2session":
                return 404, "<html>404 Not Found</html>", HTML
            if self.http_status:
                return self.http_status, "<html>Bad Gateway</html>", HTML
            if self.garbage:
                return 200, "<html>busy</html>", HTML
            if query.get("appid") != self.appid:
                return self._error(40013)
            if query.get("secret") != self.secret:
                return self._error(40125)
            if query.get("grant_type") != "authorization_code":
                return self._error(40002)
            code = query.get("js_code", "")
            if code in self.errcodes:
                return self._error(self.errcodes[code])
            if code in self.used:
                return self._error(40163)
            if code not in self.codes:
                return self._error(40029)
            self.used.add(code)
            session_key = f"sk{next(self.ids):06d}SESSIONKEY=="
            self.issued_session_keys.append(session_key)
            return 200, json.dumps({"session_key": session_key, **self.codes[code]}), TEXT
