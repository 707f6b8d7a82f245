"""Signing staff in by password, for the staff tests."""

from services.identity.seed import DEMO_PASSWORD

from .conftest import bearer

PASSWORD_URL = "/identity/v1/tokens/password"
STRONG = "Correct-Horse-42-Battery"


def sign_in(client, username: str, password: str = DEMO_PASSWORD):
    return client.post(PASSWORD_URL, json={"username": username, "password": password})


def headers(client, username: str, password: str = DEMO_PASSWORD) -> dict:
    """A demo staff member's Authorization header, from a real password sign-in."""
    r = sign_in(client, username, password)
    assert r.status_code == 200, r.text
    return bearer(r.json()["access_token"])


def admin(client) -> dict:
    return headers(client, "admin-1")
