"""The city's OpenID Connect provider as seen from here (the relying party): discovery, the
provider's signing keys, the code exchange and the ID token's verification. No database and no
users: the sign-in rule is `oidc.py`.

One `Providers` per process (kept in the runtime's cache). A discovery document is kept for an
hour (a stale one is used, with a warning, while the provider cannot be reached); a provider's
JWKS is kept for an hour too and refetched at once when an ID token names a key it does not hold
(the provider rotated), at most once every 10 seconds, so forged key ids cannot make us hammer it.

Two outcomes besides success, each the caller's to answer: `Unavailable` (the provider cannot be
reached or is misconfigured: try later) and `Rejected` (this sign-in failed verification). Their
reason is for the log and never holds a secret (no code, token, verifier or client secret).
"""

import base64
import hashlib
import hmac
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

import httpx
import jwt

from .config import OidcProvider, secure_url

log = logging.getLogger(__name__)

# Signature algorithms an ID token may use; never "none" nor a shared-secret HMAC.
ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 60  # clock skew allowed between the provider and us


class Unavailable(Exception):
    """The provider cannot be reached, answers with a server error, or its metadata is unusable."""


class Rejected(Exception):
    """This sign-in failed at the provider or failed verification here."""


@dataclass(frozen=True)
class Discovery:
    """What discovery told us of a provider (only what the code flow needs)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    fetched_at: float  # time.monotonic()


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)), no padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _basic(client_id: str, secret: str) -> str:
    # RFC 6749 2.3.1: each part form-urlencoded before the Basic scheme's base64.
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


class ProviderKeys:
    """One provider's JWKS: RS256 and ES256 (P-256) signing keys, by key id."""

    def __init__(self, url: str, client: httpx.Client, *, max_age: float, min_refresh: float):
        self.url, self._client = url, client
        self.max_age, self.min_refresh = max_age, min_refresh
        self._keys: list[tuple[str | None, jwt.PyJWK]] = []
        self._fetched_at = float("-inf")  # last success
        self._tried_at = float("-inf")  # last attempt, successful or not
        self._lock = threading.Lock()

    def _fetch(self) -> None:
        self._tried_at = time.monotonic()
        try:
            response = self._client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            entries = response.json()["keys"]
            if not isinstance(entries, list):
                raise TypeError("keys is not a list")
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning("OIDC JWKS fetch from %s failed: %s", self.url, type(exc).__name__)
            return
        keys = []
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                continue  # a key type we do not use (an encryption key, an unknown curve)
            if key.algorithm_name in ALGORITHMS:
                keys.append((entry.get("kid") if isinstance(entry.get("kid"), str) else None, key))
        self._keys, self._fetched_at = keys, time.monotonic()

    def _pick(self, kid: str | None, alg: str) -> jwt.PyJWK | None:
        usable = [(k, key) for k, key in self._keys if key.algorithm_name == alg]
        if kid is not None:
            return next((key for k, key in usable if k == kid), None)
        return usable[0][1] if len(usable) == 1 else None  # no kid: only when one key can be meant

    def key(self, kid: str | None, alg: str) -> jwt.PyJWK:
        with self._lock:
            now = time.monotonic()
            if now - self._fetched_at > self.max_age and now - self._tried_at >= self.min_refresh:
                self._fetch()
            found = self._pick(kid, alg)
            if found is None and time.monotonic() - self._tried_at >= self.min_refresh:
                self._fetch()  # a key we do not hold yet: the provider may have rotated
                found = self._pick(kid, alg)
            if found is not None:
                return found
            if not self._keys:  # never fetched, or the provider publishes no key we can use
                raise Unavailable("jwks unreachable or without a usable key")
            raise Rejected("unknown signing key")


class Providers:
    """Every configured provider's metadata and keys, cached in this process."""

    def __init__(self, *, timeout: float = 5.0, discovery_ttl: float = 3600.0, jwks_max_age: float = 3600.0,
                 jwks_min_refresh: float = 10.0, client: httpx.Client | None = None):
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self.discovery_ttl, self.jwks_max_age, self.jwks_min_refresh = discovery_ttl, jwks_max_age, jwks_min_refresh
        self._discovered: dict[str, Discovery] = {}
        self._keys: dict[str, ProviderKeys] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    # ----------------------------------------------------------------------------------- discovery

    def _fetch_discovery(self, provider: OidcProvider) -> Discovery:
        url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = self._client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            doc = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise Unavailable(f"discovery: {type(exc).__name__}") from None
        if not isinstance(doc, dict):
            raise Unavailable("discovery: not a JSON object")
        if doc.get("issuer") != provider.issuer:
            # OpenID Connect Discovery 4.3: a document for another issuer must not be used.
            log.error("OIDC provider %s: discovery names the issuer %r, configured %r", provider.name,
                      doc.get("issuer"), provider.issuer)
            raise Unavailable("discovery: issuer mismatch")
        endpoints = {name: doc.get(name) for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")}
        bad = [name for name, value in endpoints.items() if not isinstance(value, str) or not secure_url(value)]
        if bad:
            log.error("OIDC provider %s: discovery lacks usable (https) %s", provider.name, ", ".join(bad))
            raise Unavailable("discovery: endpoints")
        return Discovery(issuer=provider.issuer, fetched_at=time.monotonic(), **endpoints)

    def discovery(self, provider: OidcProvider) -> Discovery:
        known = self._discovered.get(provider.issuer)
        if known is not None and time.monotonic() - known.fetched_at < self.discovery_ttl:
            return known
        with self._lock:
            known = self._discovered.get(provider.issuer)
            if known is not None and time.monotonic() - known.fetched_at < self.discovery_ttl:
                return known
            try:
                fresh = self._fetch_discovery(provider)
            except Unavailable as exc:
                if known is None:
                    log.warning("OIDC provider %s unavailable: %s", provider.name, exc)
                    raise
                log.warning("OIDC provider %s: %s; using the discovery document fetched before", provider.name, exc)
                return known
            self._discovered[provider.issuer] = fresh
            return fresh

    def _keys_of(self, provider: OidcProvider) -> ProviderKeys:
        uri = self.discovery(provider).jwks_uri
        with self._lock:
            keys = self._keys.get(uri)
            if keys is None:
                keys = self._keys[uri] = ProviderKeys(uri, self._client, max_age=self.jwks_max_age,
                                                      min_refresh=self.jwks_min_refresh)
            return keys

    # ----------------------------------------------------------------------------------- the flow

    def authorization_url(self, provider: OidcProvider, *, redirect_uri: str, state: str, nonce: str,
                          code_verifier: str) -> str:
        """Where the browser goes to sign in at the provider (authorization code flow, PKCE S256)."""
        return _with_query(self.discovery(provider).authorization_endpoint, {
            "response_type": "code", "client_id": provider.client_id, "redirect_uri": redirect_uri,
            "scope": " ".join(provider.scopes), "state": state, "nonce": nonce,
            "code_challenge": pkce_challenge(code_verifier), "code_challenge_method": "S256",
        })

    def exchange(self, provider: OidcProvider, *, code: str, redirect_uri: str, code_verifier: str) -> str:
        """The authorization code → the provider's ID token (unverified yet)."""
        endpoint = self.discovery(provider).token_endpoint
        secret = provider.client_secret
        if secret is None:
            log.error("OIDC provider %s: the environment variable %s (its client secret) is not set", provider.name,
                      provider.client_secret_env)
            raise Unavailable("no client secret")
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": code_verifier}
        headers = {"Accept": "application/json"}
        if provider.token_auth == "client_secret_post":
            form |= {"client_id": provider.client_id, "client_secret": secret}
        else:
            headers["Authorization"] = _basic(provider.client_id, secret)
        try:
            response = self._client.post(endpoint, data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise Unavailable(f"token endpoint: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise Unavailable(f"token endpoint: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            error = body.get("error") if isinstance(body, dict) else None
            # The provider's error code (invalid_grant, invalid_client...) is no secret: say it.
            raise Rejected(f"token endpoint: HTTP {response.status_code} {str(error)[:40] if error else ''}".strip())
        id_token = body.get("id_token") if isinstance(body, dict) else None
        if not isinstance(id_token, str):
            raise Rejected("token endpoint: no id_token")
        return id_token

    def verify(self, provider: OidcProvider, id_token: str, *, nonce: str, not_before: datetime) -> dict:
        """The ID token's claims once it is proven (OpenID Connect Core 3.1.3.7): signed by the
        provider's key (RS256 or ES256), for us (aud, azp), by the issuer, current (exp, iat no
        earlier than the sign-in began), for this sign-in (nonce)."""
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise Rejected("id_token: malformed") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise Rejected(f"id_token: algorithm {str(alg)[:10]!r} not allowed")
        key = self._keys_of(provider).key(kid if isinstance(kid, str) else None, alg)
        try:
            claims = jwt.decode(id_token, key.key, algorithms=[alg], audience=provider.client_id,
                                issuer=provider.issuer, leeway=LEEWAY_SECONDS,
                                options={"require": ["iss", "aud", "sub", "exp", "iat"]})
        except jwt.PyJWTError as exc:
            raise Rejected(f"id_token: {type(exc).__name__}") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        azp = claims.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp != provider.client_id:
            raise Rejected("id_token: azp")
        given = claims.get("nonce")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), nonce.encode()):
            raise Rejected("id_token: nonce")
        iat = claims["iat"]
        if not isinstance(iat, int | float) or iat < not_before.timestamp() - LEEWAY_SECONDS:
            raise Rejected("id_token: issued before this sign-in began")
        sub = claims["sub"]
        if not isinstance(sub, str) or not 0 < len(sub) <= 255:
            raise Rejected("id_token: sub")
        return claims
