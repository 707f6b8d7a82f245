"""A real OpenID Connect provider on loopback (no mocks): discovery, a JWKS with a key it makes,
an authorization endpoint that "auto-approves" whoever `person` is, and a token endpoint that
checks client authentication, the code, the redirect URI and the PKCE verifier before it signs an
ID token with the nonce it was given.

Tests steer it: `person` is who signs in, `id_token_claims` overrides claims of the next ID
tokens (aud, nonce, exp...), `sign_with` signs with another key, `forge` signs as an attacker
would (HS256 keyed with the client secret, or alg "none"), `rotate()` publishes a new key, `stop()`
takes it off the network (connections kept alive are dropped too).
"""

import base64
import hashlib
import json
import secrets
import time
import urllib.parse

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from ..loopback import LoopbackServer


def _new_key(alg: str):
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _public_jwk(key, kid: str, alg: str) -> dict:
    algorithm = RSAAlgorithm if alg == "RS256" else ECAlgorithm
    return {**json.loads(algorithm.to_jwk(key.public_key())), "kid": kid, "alg": alg, "use": "sig"}


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class OidcProvider(LoopbackServer):
    def __init__(self, *, client_id: str = "grid-portal", client_secret: str = "the-client-secret-of-grid-portal",
                 token_auth: str = "client_secret_basic", alg: str = "RS256"):
        super().__init__()
        self.client_id, self.client_secret, self.token_auth, self.alg = client_id, client_secret, token_auth, alg
        self.keys = [("key-1", _new_key(alg))]  # published; the first signs
        self.person = {"sub": "cd-0001", "preferred_username": "zhang.wei", "name": "张伟",
                       "role": "网格员", "unit": "510107001001001"}
        self.id_token_claims: dict = {}
        self.sign_with: tuple[str, object] | None = None  # (kid, private key) instead of the published key
        self.forge: str | None = None  # "HS256" (keyed with the client secret) or "none": tokens an attacker makes
        self.codes: dict[str, dict] = {}
        self.token_requests: list[dict] = []  # what reached /token: the client auth used and the form
        self.jwks_fetches = 0

    @property
    def issuer(self) -> str:
        return self.url

    def rotate(self) -> None:
        """A new signing key, published beside the old one."""
        with self.lock:
            self.keys.insert(0, (f"key-{len(self.keys) + 1}", _new_key(self.alg)))

    # ------------------------------------------------------------------------------ endpoints

    def handle(self, method: str, path: str, headers: dict, body: bytes):
        status, payload, *rest = self.get(path) if method == "GET" else self.post(path, headers, body.decode())
        return status, payload, {**(rest[0] if rest else {}), "Cache-Control": "no-store"}

    def get(self, path: str):
        url = urllib.parse.urlsplit(path)
        if url.path == "/.well-known/openid-configuration":
            return 200, {
                "issuer": self.issuer, "authorization_endpoint": self.issuer + "/authorize",
                "token_endpoint": self.issuer + "/token", "jwks_uri": self.issuer + "/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [self.alg], "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [self.token_auth],
            }
        if url.path == "/jwks":
            with self.lock:
                self.jwks_fetches += 1
                return 200, {"keys": [_public_jwk(key, kid, self.alg) for kid, key in self.keys]}
        if url.path == "/authorize":
            return self.authorize(dict(urllib.parse.parse_qsl(url.query)))
        return 404, {"error": "not_found"}

    def authorize(self, q: dict):
        if q.get("response_type") != "code" or q.get("client_id") != self.client_id or not q.get("redirect_uri") \
                or "openid" not in q.get("scope", "").split() or q.get("code_challenge_method") != "S256" \
                or not q.get("code_challenge") or not q.get("state") or not q.get("nonce"):
            return 400, {"error": "invalid_request"}
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {"redirect_uri": q["redirect_uri"], "challenge": q["code_challenge"],
                                "nonce": q["nonce"], "person": dict(self.person), "used": False}
        back = q["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": q["state"]})
        return 302, b"", {"Location": back}

    def _client(self, headers: dict, form: dict) -> tuple[str | None, str | None, str]:
        auth = headers.get("Authorization") or headers.get("authorization")
        if auth and auth.startswith("Basic "):
            raw = base64.b64decode(auth[6:]).decode()
            cid, _, secret = raw.partition(":")
            return urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(secret), "client_secret_basic"
        return form.get("client_id"), form.get("client_secret"), "client_secret_post"

    def post(self, path: str, headers: dict, body: str):
        if urllib.parse.urlsplit(path).path != "/token":
            return 404, {"error": "not_found"}
        form = dict(urllib.parse.parse_qsl(body))
        cid, secret, method = self._client(headers, form)
        with self.lock:
            self.token_requests.append({"method": method, "form": form})
            if method != self.token_auth or cid != self.client_id or secret != self.client_secret:
                return 401, {"error": "invalid_client"}
            if form.get("grant_type") != "authorization_code":
                return 400, {"error": "unsupported_grant_type"}
            grant = self.codes.get(form.get("code", ""))
            if grant is None or grant["used"] or grant["redirect_uri"] != form.get("redirect_uri") \
                    or s256(form.get("code_verifier", "")) != grant["challenge"]:
                return 400, {"error": "invalid_grant"}
            grant["used"] = True
            now = int(time.time())
            claims = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 300,
                      "nonce": grant["nonce"], "auth_time": now, **grant["person"], **self.id_token_claims}
            kid, key = self.sign_with or self.keys[0]
        if self.forge == "HS256":
            id_token = jwt.encode(claims, self.client_secret, algorithm="HS256", headers={"kid": kid})
        elif self.forge == "none":
            id_token = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
        else:
            id_token = jwt.encode(claims, key, algorithm=self.alg, headers={"kid": kid})
        return 200, {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": 300,
                     "id_token": id_token}
