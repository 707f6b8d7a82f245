"""Where a webhook may be sent: a public host of the allow-list, reached at the address its name
resolved to for this very delivery.

Checked when an admin subscribes and again before every delivery (a name's DNS answer can change
between the two: DNS rebinding), by the same function:
- https only (plain http only with the test-only `allow_http`), no other scheme;
- the host on `webhook.allowed_hosts` (data/channels.json): a name itself, or "*.example.gov.cn"
  for the names below it. An empty list allows NO host (the default): a deployment names the
  systems it feeds, so an admin's token alone cannot send the city's events anywhere on the
  internet. Checked before any name is resolved, so an unlisted name is never looked up;
- every address the host resolves to (or the address written in the URL) public: private,
  loopback, link-local, multicast, reserved, unspecified, shared (100.64/10) and documentation
  ranges are refused, also inside an IPv4-mapped or NAT64 IPv6 address. Only the test-only
  `allow_private_addresses` lets the tests' receiver on loopback through.
The delivery then connects to the address checked (`Target.address`), never to a second answer
of the resolver: the URL's host is replaced by that address, the Host header and the TLS server
name (SNI, and the certificate checked against it) stay the name's.
"""

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from shared.runtime import ServiceRuntime

from .config import WebhookConfig

# host, port → the addresses it resolves to (strings); raises OSError when it resolves to none.
Resolver = Callable[[str, int], list[str]]
RESOLVER_KEY = "notify.resolver"
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(ValueError):
    """Not a place a webhook may go; `code` is the error code (notify.*), also the delivery's reason."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Target:
    url: str  # as subscribed
    host: str  # the name (or address) in the URL, lower case, ASCII (IDNA)
    address: str  # the address checked, to connect to

    def pinned(self) -> tuple[str, dict, dict]:
        """The URL with the checked address in place of the name, the Host header, and the request
        extensions that keep the TLS server name (SNI and the certificate check) the name's."""
        url = httpx.URL(self.url)
        host_header = url.netloc.decode("ascii").rpartition("@")[2]
        extensions = {"sni_hostname": self.host} if url.scheme == "https" else {}
        return str(url.copy_with(host=self.address)), {"Host": host_header}, extensions


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolver_of(rt: ServiceRuntime) -> Resolver:
    """The resolver this runtime checks webhook hosts with (the tests put their own in rt.cache)."""
    return rt.cache.get(RESOLVER_KEY) or system_resolver


def public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


def host_allowed(host: str, allowed: list[str]) -> bool:
    """Whether the allow-list names the host (an empty list names none)."""
    for entry in (e.strip().lower().rstrip(".") for e in allowed):
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and len(host) > len(entry) - 1:
                return True
        elif host == entry:
            return True
    return False


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def check(config: WebhookConfig, url: str, resolve: Resolver) -> Target:
    """The target to deliver to, or Refused with the reason's code."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii").lower().rstrip(".")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except (httpx.InvalidURL, UnicodeError, ValueError):
        raise Refused("notify.bad_url") from None
    if parsed.scheme != "https" and not (parsed.scheme == "http" and config.allow_http):
        raise Refused("notify.bad_url")
    if not host:
        raise Refused("notify.bad_url")
    if not host_allowed(host, config.allowed_hosts):
        raise Refused("notify.url_host_not_allowed")
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError):
            raise Refused("notify.url_unresolvable") from None
        if not addresses:
            raise Refused("notify.url_unresolvable")
    if not config.allow_private_addresses and not all(public(a) for a in addresses):
        raise Refused("notify.url_not_public")
    return Target(url, host, addresses[0])
