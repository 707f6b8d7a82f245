"""Key material: the identity service's signing keys, the public keys every service verifies
tokens with (a JWKS), and the symmetric data keys that seal personal data crossing a service
boundary.

Signing keys are EC P-256 (ES256). A key's id (`kid`) is its RFC 7638 thumbprint, so every party
derives the same id from the key itself. During a rotation two keys are configured: the first
signs, both are published, and tokens of either verify until the old one is removed.

Embedded mode (a developer's machine, the demo) generates a key on first run under var/keys/,
marked as a development key in the file itself; services mode refuses such a key, and refuses to
start with none, so a deployment can never run on a key that sits in a developer's folder.
"""

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwt.algorithms import ECAlgorithm

from .config import Settings

log = logging.getLogger(__name__)

DEV_MARKER = "CG DEVELOPMENT KEY - NEVER USE IN PRODUCTION"
ALGORITHM = "ES256"


class KeyConfigError(RuntimeError):
    """The deployment's keys are missing or unusable: the process must not start."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict:
    jwk = json.loads(ECAlgorithm.to_jwk(public_key))
    core = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    # RFC 7638: the SHA-256 of the required members, sorted, without whitespace.
    thumbprint = hashlib.sha256(json.dumps(core, sort_keys=True, separators=(",", ":")).encode()).digest()
    return {**core, "kid": _b64url(thumbprint), "use": "sig", "alg": ALGORITHM}


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    development: bool

    @property
    def jwk(self) -> dict:
        return public_jwk(self.private_key.public_key())


@dataclass(frozen=True)
class SigningKeys:
    """The keys the identity service holds: the first signs, all are published."""

    keys: tuple[SigningKey, ...]

    @property
    def active(self) -> SigningKey:
        return self.keys[0]

    def jwks(self) -> dict:
        return {"keys": [k.jwk for k in self.keys]}


def _read_key(path: Path, *, private_file: bool = False) -> SigningKey:
    try:
        if private_file and path.stat().st_mode & 0o077:
            raise KeyConfigError(f"{path} can be read by others than its owner: chmod 600 it")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyConfigError(f"cannot read the signing key {path}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except ValueError:
        raise KeyConfigError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise KeyConfigError(f"{path} is not an EC P-256 key (ES256)")
    return SigningKey(public_jwk(key.public_key())["kid"], key, DEV_MARKER in text)


def new_private_key_pem(development: bool) -> str:
    """A fresh P-256 key as PEM (what `python -m shared.keys new-signing-key` prints)."""
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return (DEV_MARKER + "\n" + pem) if development else pem


_lock = threading.Lock()


def _dev_file(path: Path, make) -> str:
    """A development key file under var/keys/, made on first use (readable by its owner only)."""
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):  # another process made it a moment ago
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(make())
    return path.read_text(encoding="utf-8")


def dev_key_path(settings: Settings) -> Path:
    return (settings.var_dir / "keys" / "signing-key.dev.pem").resolve()


def signing_keys(settings: Settings) -> SigningKeys:
    """The configured signing keys; in embedded mode without any, the development key under var/
    (made on first use). Raises KeyConfigError when services mode has none or a development one."""
    if settings.signing_keys:
        paths = [Path(p.strip()) for p in settings.signing_keys.split(",") if p.strip()]
        keys = tuple(_read_key(p, private_file=settings.mode == "services") for p in paths)
    elif settings.mode == "embedded":
        path = dev_key_path(settings)
        _dev_file(path, lambda: new_private_key_pem(development=True))
        keys = (_read_key(path),)
    else:
        raise KeyConfigError(
            "no signing key: set CG_SIGNING_KEYS to the PEM file(s) of the identity service's EC P-256 "
            "key(s) (make one with `python -m shared.keys new-signing-key > key.pem`)")
    if not keys:
        raise KeyConfigError("CG_SIGNING_KEYS names no file")
    if settings.mode == "services" and any(k.development for k in keys):
        raise KeyConfigError("a development signing key is configured (it says so in the file): services mode "
                             "needs the deployment's own key in CG_SIGNING_KEYS")
    return SigningKeys(keys)


# --------------------------------------------------------------------------- verifying


class UnknownKey(Exception):
    """No published key has this id."""


class KeysUnavailable(Exception):
    """The JWKS could not be fetched and none is cached."""


class LocalJwks:
    """Public keys known in this process (the identity service, and every service in embedded mode)."""

    def __init__(self, jwks: dict):
        self._keys = {k["kid"]: ECAlgorithm.from_jwk(json.dumps(k)) for k in jwks["keys"]}

    def key(self, kid: str):
        try:
            return self._keys[kid]
        except KeyError:
            raise UnknownKey(kid) from None

    def ready(self) -> bool:
        return True

    def known(self, kid: str):
        """The key, or None (nothing here ever needs a fetch)."""
        return self._keys.get(kid)


class RemoteJwks:
    """The identity service's JWKS over HTTP, cached; an unknown `kid` (a rotation just began)
    refetches it, at most once per `min_refresh` seconds so forged kids cannot hammer identity."""

    def __init__(self, url: str, *, min_refresh: float = 10.0, max_age: float = 300.0, timeout: float = 3.0,
                 client: httpx.Client | None = None):
        self.url = url
        self.min_refresh = min_refresh
        # Read again at least this often: a key removed from identity (compromised) stops verifying
        # within max_age everywhere, not at the next restart.
        self.max_age = max_age
        self._client = client or httpx.Client(timeout=timeout)
        self._keys: dict[str, object] = {}
        self._fetched_at = self._tried_at = float("-inf")
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        self._tried_at = time.monotonic()
        response = self._client.get(self.url)
        response.raise_for_status()
        keys = {k["kid"]: ECAlgorithm.from_jwk(json.dumps(k)) for k in response.json()["keys"] if k.get("kty") == "EC"}
        # Replaced, never merged: a key identity stopped publishing stops verifying here.
        self._keys, self._fetched_at = keys, time.monotonic()

    def ready(self) -> bool:
        """Whether tokens can be verified: the keys were read once (read now if not yet, at most once a
        second: a readiness probe polls this while identity starts beside us). Later failures leave it
        ready: the keys last read still verify."""
        if self._keys:
            return True
        with self._lock:
            if not self._keys and time.monotonic() - self._tried_at >= 1.0:
                try:
                    self._refresh()
                except Exception as exc:  # whatever the answer was (a bad URL, a key that will not load): not ready
                    log.warning("JWKS fetch from %s failed: %s", self.url, type(exc).__name__)
        return bool(self._keys)

    def known(self, kid: str):
        """The key as `key` would return it without fetching, or None where `key` might fetch (unknown, or
        the keys older than max_age): a check that must not block asks this first."""
        found = self._keys.get(kid)
        return found if found is not None and time.monotonic() - self._fetched_at < self.max_age else None

    def key(self, kid: str):
        found = self.known(kid)
        if found is not None:
            return found
        with self._lock:
            now = time.monotonic()
            wanted = now - self._fetched_at >= self.max_age or kid not in self._keys
            if wanted and now - self._tried_at >= self.min_refresh:
                try:
                    self._refresh()
                except Exception as exc:  # unreachable, or an answer that is no JWKS (not a 500 for the caller)
                    # Identity unreachable: the keys last read still verify (tokens are short-lived);
                    # the next try waits min_refresh.
                    log.warning("JWKS fetch from %s failed: %s", self.url, type(exc).__name__)
                    if not self._keys:
                        raise KeysUnavailable(self.url) from None
            found = self._keys.get(kid)
        if found is None:
            raise UnknownKey(kid)
        return found


def jwks_source(settings: Settings):
    """Where this process's services look up token keys: the identity service's JWKS in services
    mode; in embedded mode the keys themselves (one process, one var/ folder)."""
    if settings.mode == "services":
        return RemoteJwks(f"{settings.identity_url.rstrip('/')}/identity/.well-known/jwks.json")
    return LocalJwks(signing_keys(settings).jwks())


# --------------------------------------------------------------------------- sealing


class DataKeys:
    """AES-256-GCM keys by id: `seal` with the first, `open` with whichever sealed it."""

    def __init__(self, keys: list[tuple[str, bytes]]):
        if not keys:
            raise KeyConfigError("no data key")
        self._keys = dict(keys)
        self._current = keys[0][0]

    @property
    def current(self) -> str:
        """The id of the key that seals."""
        return self._current

    def seal(self, text: str, context: str = "") -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self._keys[self._current]).encrypt(nonce, text.encode(), context.encode())
        return f"{self._current}.{_b64url(nonce + sealed)}"

    def open(self, token: str, context: str = "") -> str:
        kid, _, body = token.partition(".")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return AESGCM(self._keys[kid]).decrypt(raw[:12], raw[12:], context.encode()).decode()


def _parse_data_keys(spec: str) -> list[tuple[str, bytes]]:
    keys = []
    for part in spec.split(","):
        kid, _, b64 = part.strip().partition(":")
        try:
            key = base64.b64decode(b64, validate=True)
        except ValueError:
            key = b""
        if not kid or len(key) != 32:
            raise KeyConfigError("CG_DATA_KEYS must be kid:base64-of-32-bytes[,kid:...]")
        keys.append((kid, key))
    return keys


def data_keys(settings: Settings) -> DataKeys:
    if settings.data_keys:
        return DataKeys(_parse_data_keys(settings.data_keys))
    if settings.mode == "services":
        raise KeyConfigError("no data key: set CG_DATA_KEYS to kid:base64-32-bytes "
                             "(make one with `python -m shared.keys new-data-key`)")
    text = _dev_file((settings.var_dir / "keys" / "data-key.dev").resolve(),
                     lambda: "dev1:" + base64.b64encode(os.urandom(32)).decode())
    return DataKeys(_parse_data_keys(text.strip()))


class BlindIndex:
    """A keyed hash (HMAC-SHA256) to find a value without storing it readable."""

    def __init__(self, key: bytes):
        self._key = key

    def __call__(self, value: str, purpose: str) -> str:
        return hmac.new(self._key, f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()


def blind_index(settings: Settings) -> BlindIndex:
    if settings.index_key:
        try:
            key = base64.b64decode(settings.index_key, validate=True)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise KeyConfigError("CG_INDEX_KEY must be base64 of 32 bytes")
        return BlindIndex(key)
    if settings.mode == "services":
        raise KeyConfigError("no index key: set CG_INDEX_KEY to base64 of 32 random bytes "
                             "(make one with `python -m shared.keys new-index-key`)")
    text = _dev_file((settings.var_dir / "keys" / "index-key.dev").resolve(),
                     lambda: base64.b64encode(os.urandom(32)).decode())
    return BlindIndex(base64.b64decode(text.strip()))


def main(argv: list[str] | None = None) -> None:
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m shared.keys", description="make keys for a deployment")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("new-signing-key", help="an EC P-256 private key (PEM) for CG_SIGNING_KEYS")
    sub.add_parser("new-data-key", help="a data key (kid:base64) for CG_DATA_KEYS")
    sub.add_parser("new-index-key", help="a key (base64) for CG_INDEX_KEY")
    args = parser.parse_args(argv)
    if args.command == "new-signing-key":
        sys.stdout.write(new_private_key_pem(development=False))
    elif args.command == "new-index-key":
        sys.stdout.write(base64.b64encode(os.urandom(32)).decode() + "\n")
    else:
        kid = time.strftime("k%Y%m%d")
        sys.stdout.write(f"{kid}:{base64.b64encode(os.urandom(32)).decode()}\n")


if __name__ == "__main__":
    main()
