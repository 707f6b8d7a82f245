"""Webhook targets (issue 11): only public addresses of allowed hosts, checked when an admin
subscribes and again at each delivery, which connects to the very address it checked.

No test here sends a packet off this machine: names resolve through a stand-in resolver, and every
address a delivery could connect to is the loopback receiver's."""

import pytest

from services.notify.config import CACHE_KEY, WebhookConfig, load_config
from services.notify.sender import Sender
from services.notify.targets import RESOLVER_KEY, Refused, check, system_resolver

from .conftest import DAYTIME, auth, deliver, drain, loopback_config, messages
from .payloads import dispatched

PUBLIC = "93.184.216.34"  # a public address no test ever connects to


class Resolver:
    """Names → addresses, as DNS would answer now; counts the look-ups."""

    def __init__(self, names: dict[str, list[str]]):
        self.names, self.calls = names, []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.names:
            raise OSError("no such name")
        return self.names[host]


def refused(config: WebhookConfig, url: str, resolve) -> str:
    with pytest.raises(Refused) as caught:
        check(config, url, resolve)
    return caught.value.code


def allowing(*hosts: str, **settings) -> WebhookConfig:
    """The rules with these hosts on the allow-list (an empty one allows none)."""
    return WebhookConfig(allowed_hosts=list(hosts), **settings)


def test_an_https_url_of_a_public_host_is_a_target_at_the_address_it_resolved_to():
    resolve = Resolver({"12345.example.gov.cn": [PUBLIC]})
    target = check(allowing("12345.example.gov.cn"), "https://12345.example.gov.cn/hooks?x=1", resolve)
    assert (target.host, target.address) == ("12345.example.gov.cn", PUBLIC)
    url, headers, extensions = target.pinned()
    assert url == f"https://{PUBLIC}/hooks?x=1" and headers == {"Host": "12345.example.gov.cn"}
    assert extensions == {"sni_hostname": "12345.example.gov.cn"}  # TLS still checks the name's certificate


@pytest.mark.parametrize("address", [
    "10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "127.8.8.8", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.10", "::1", "fe80::1", "fc00::1", "ff02::1",
    "::", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe", "2001:db8::1"])
def test_a_host_resolving_to_a_private_loopback_link_local_multicast_or_reserved_address_is_refused(address):
    resolve = Resolver({"hooks.example.gov.cn": [address]})
    assert refused(allowing("hooks.example.gov.cn"), "https://hooks.example.gov.cn/h", resolve) == \
        "notify.url_not_public"
    literal = f"[{address}]" if ":" in address else address
    # Even where the allow-list names the address itself.
    assert refused(allowing(address), f"https://{literal}/h", resolve) == \
        "notify.url_not_public"


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    resolve = Resolver({"hooks.example.gov.cn": [PUBLIC, "10.1.2.3"]})
    assert refused(allowing("hooks.example.gov.cn"), "https://hooks.example.gov.cn/h", resolve) == \
        "notify.url_not_public"


def test_names_the_system_resolves_to_loopback_are_refused():
    # Resolved by this machine itself (hosts file, numeric forms): no network needed.
    config = allowing("localhost", "2130706433", "0x7f000001", "127.1")
    for url in ("https://localhost/h", "https://2130706433/h", "https://0x7f000001/h", "https://127.1/h"):
        assert refused(config, url, system_resolver) in ("notify.url_not_public", "notify.url_unresolvable")


def test_the_allow_list_names_hosts_or_the_names_below_a_domain():
    config = allowing("12345.example.gov.cn", "*.hooks.example.gov.cn")
    resolve = Resolver({h: [PUBLIC] for h in ("12345.example.gov.cn", "a.hooks.example.gov.cn",
                                              "hooks.example.gov.cn", "evil12345.example.gov.cn",
                                              "12345.example.gov.cn.evil.com")})
    assert check(config, "https://12345.example.gov.cn/h", resolve).address == PUBLIC
    assert check(config, "https://A.Hooks.Example.Gov.Cn./h", resolve).host == "a.hooks.example.gov.cn"
    for url in ("https://hooks.example.gov.cn/h", "https://evil12345.example.gov.cn/h",
                "https://12345.example.gov.cn.evil.com/h", f"https://{PUBLIC}/h"):
        assert refused(config, url, resolve) == "notify.url_host_not_allowed"


def test_only_https_unless_the_test_only_setting_allows_http():
    resolve = Resolver({"hooks.example.gov.cn": [PUBLIC]})
    config = allowing("*.example.gov.cn")
    for url in ("http://hooks.example.gov.cn/h", "ftp://hooks.example.gov.cn/h", "https:///h", "https://[::1/h",
                "hooks.example.gov.cn/h"):
        assert refused(config, url, resolve) == "notify.bad_url"
    assert check(allowing("*.example.gov.cn", allow_http=True), "http://hooks.example.gov.cn/h",
                 resolve).address == PUBLIC
    assert refused(config, "https://nowhere.example.gov.cn/h", resolve) == "notify.url_unresolvable"


def test_an_empty_allow_list_allows_no_host_and_asks_no_resolver():
    # The default: a deployment names the hosts of the systems it feeds (channels.json,
    # webhook.allowed_hosts); until it does, no subscription is possible, public host or not.
    resolve = Resolver({"12345.example.gov.cn": [PUBLIC]})
    assert WebhookConfig().allowed_hosts == []
    for url in ("https://12345.example.gov.cn/h", f"https://{PUBLIC}/h"):
        assert refused(WebhookConfig(), url, resolve) == "notify.url_host_not_allowed"
    assert resolve.calls == []
    assert load_config().webhook.allowed_hosts  # the shipped (demo) configuration names its hosts


def _strict(rt, servers, resolver, **webhook):
    """The deployment's rules (no test-only setting for private addresses), with a stand-in resolver."""
    rt.cache[CACHE_KEY] = loopback_config(servers, webhook={"allow_private_addresses": False, **webhook})
    rt.cache[RESOLVER_KEY] = resolver


def test_subscribing_to_an_internal_or_unlisted_address_is_refused(rt, client, servers):
    resolve = Resolver({"intranet.example.gov.cn": ["10.0.0.8"], "12345.example.gov.cn": [PUBLIC]})
    admin = auth(rt, "u-admin-1", "admin")
    listed = [("http://intranet.example.gov.cn/h", "notify.url_host_not_allowed"),
              (servers["webhook"].url + "/h", "notify.url_host_not_allowed")]
    # Listed, but internal or unresolvable: the allow-list never lets a private address through.
    internal = [("http://intranet.example.gov.cn/h", "notify.url_not_public"),
                (servers["webhook"].url + "/h", "notify.url_not_public"),
                ("http://169.254.169.254/latest/meta-data", "notify.url_not_public"),
                ("http://nowhere.example.gov.cn/h", "notify.url_unresolvable")]
    every_host = ["intranet.example.gov.cn", "127.0.0.1", "169.254.169.254", "nowhere.example.gov.cn",
                  "12345.example.gov.cn"]
    nothing = [(url, "notify.url_host_not_allowed") for url, _ in internal + [("http://12345.example.gov.cn/h", "")]]
    for allowed, cases in (([], nothing), (["12345.example.gov.cn"], listed), (every_host, internal)):
        _strict(rt, servers, resolve, allowed_hosts=allowed)
        for url, code in cases:
            r = client.post("/notify/v1/webhooks", headers=admin, json={"name": "x", "url": url,
                                                                         "event_patterns": ["routing.#"]})
            assert r.status_code == 422 and (r.json()["error"]["code"], r.json()["error"]["field"]) == (code, "url")
    assert client.get("/notify/v1/webhooks", headers=admin).json() == []
    ok = client.post("/notify/v1/webhooks", headers=admin, json={
        "name": "12345", "url": "http://12345.example.gov.cn/h", "event_patterns": ["routing.#"]})
    assert ok.status_code == 201


def test_a_name_that_resolves_elsewhere_at_delivery_time_is_not_delivered_to(rt, client, servers):
    hook = servers["webhook"]
    port = hook.url.rsplit(":", 1)[1]
    resolve = Resolver({"hooks.example.gov.cn": [PUBLIC]})
    _strict(rt, servers, resolve, allowed_hosts=["hooks.example.gov.cn"])
    r = client.post("/notify/v1/webhooks", headers=auth(rt, "u-admin-1", "admin"), json={
        "name": "12345", "url": f"http://hooks.example.gov.cn:{port}/h", "event_patterns": ["routing.#"]})
    assert r.status_code == 201
    hook.secret = r.json()["secret"]
    resolve.names["hooks.example.gov.cn"] = ["127.0.0.1"]  # DNS rebinding: now the receiver on loopback
    deliver(rt, dispatched())
    sender = Sender(rt)
    try:
        drain(sender, now=DAYTIME)
    finally:
        sender.close()
    [m] = messages(rt, channel="webhook")
    assert (m.status, m.reason) == ("failed", "webhook: notify.url_not_public") and m.dead_at is not None
    assert hook.hosts == [] and hook.received == []


def test_a_delivery_connects_to_the_address_it_checked_with_the_names_host_header(rt, client, servers):
    # The test-only setting lets the loopback receiver through; the name resolves only through the
    # stand-in resolver, so the request can have reached the receiver only at the address checked.
    hook = servers["webhook"]
    port = hook.url.rsplit(":", 1)[1]
    resolve = Resolver({"hooks.example.test": ["127.0.0.1"]})
    rt.cache[CACHE_KEY] = loopback_config(servers, webhook={"allowed_hosts": ["hooks.example.test"]})
    rt.cache[RESOLVER_KEY] = resolve
    r = client.post("/notify/v1/webhooks", headers=auth(rt, "u-admin-1", "admin"), json={
        "name": "12345", "url": f"http://hooks.example.test:{port}/h", "event_patterns": ["routing.#"]})
    hook.secret = r.json()["secret"]
    resolve.calls.clear()
    deliver(rt, dispatched())
    sender = Sender(rt)
    try:
        drain(sender, now=DAYTIME)
    finally:
        sender.close()
    assert [m.status for m in messages(rt, channel="webhook")] == ["sent"]
    assert hook.hosts == [f"hooks.example.test:{port}"] and len(hook.received) == 1
    assert resolve.calls == ["hooks.example.test"]  # resolved once for the delivery


def test_a_changed_allow_list_stops_deliveries_to_a_host_no_longer_on_it(rt, client, servers):
    hook = servers["webhook"]
    admin = auth(rt, "u-admin-1", "admin")
    r = client.post("/notify/v1/webhooks", headers=admin, json={
        "name": "12345", "url": hook.url + "/h", "event_patterns": ["routing.#"]})
    assert r.status_code == 201
    rt.cache[CACHE_KEY] = loopback_config(servers, webhook={"allowed_hosts": ["12345.example.gov.cn"]})
    deliver(rt, dispatched())
    sender = Sender(rt)
    try:
        drain(sender, now=DAYTIME)
    finally:
        sender.close()
    [m] = messages(rt, channel="webhook")
    assert (m.status, m.reason) == ("failed", "webhook: notify.url_host_not_allowed") and hook.hosts == []


def test_a_redirect_is_not_followed(rt, client, servers, sender):
    hook = servers["webhook"]
    r = client.post("/notify/v1/webhooks", headers=auth(rt, "u-admin-1", "admin"), json={
        "name": "12345", "url": hook.url + "/h", "event_patterns": ["routing.#"]})
    hook.secret = r.json()["secret"]
    hook.redirect_to = hook.url + "/elsewhere"
    deliver(rt, dispatched())
    drain(sender, now=DAYTIME)
    [m] = messages(rt, channel="webhook")
    assert (m.status, m.reason) == ("failed", "webhook: HTTP 307") and len(hook.hosts) == 1


@pytest.fixture
def tls_receiver(tmp_path):
    """An https receiver on loopback whose certificate names hooks.example.test (self-signed)."""
    import datetime
    import http.server
    import ssl
    import threading

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.example.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example.test")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    seen: list[tuple[str, str]] = []  # (TLS server name, Host header)
    names: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append((names[-1] if names else "", self.headers.get("Host")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, sni, ctx: names.append(sni)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server.server_address[1], ssl.create_default_context(cafile=str(cert_file)), seen
    server.shutdown()
    server.server_close()


def test_https_to_the_pinned_address_still_checks_the_names_certificate(tls_receiver):
    import httpx

    from services.notify.channels.base import Outgoing
    from services.notify.channels.webhook import WebhookChannel

    port, trust, seen = tls_receiver
    config = allowing("*.example.test", allow_private_addresses=True)  # the receiver is on loopback
    resolve = Resolver({"hooks.example.test": ["127.0.0.1"], "other.example.test": ["127.0.0.1"]})
    with httpx.Client(verify=trust, follow_redirects=False, limits=httpx.Limits(max_keepalive_connections=0)) as c:
        channel = WebhookChannel(config, c, resolve)
        ok = channel.send_one(Outgoing("m-1", "t", "t", "{}", {}, address=f"https://hooks.example.test:{port}/h",
                                       secret="s", event_type="routing.case.dispatched"))
        assert ok.outcome == "sent" and seen == [("hooks.example.test", f"hooks.example.test:{port}")]
        # The same address under a name its certificate does not carry: the TLS check refuses it.
        wrong = channel.send_one(Outgoing("m-2", "t", "t", "{}", {}, address=f"https://other.example.test:{port}/h",
                                          secret="s", event_type="routing.case.dispatched"))
        assert wrong.outcome == "retry" and wrong.reason == "webhook: ConnectError" and len(seen) == 1
