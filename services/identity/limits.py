"""How often one client address, one username or one phone may try to sign in or ask for a code:
every default of identity's rate limits, in this one place (shared/ratelimit.py counts them: in
Redis in services mode, so every API process shares each count; in memory embedded). A deployment
changes one without a release: CG_RATE_LIMITS='{"identity.password.address": "120/minute"}'.
Over a limit: 429 `rate.limited` with Retry-After.

Why these numbers. An address is often many people: a government office behind one NAT gateway,
thousands of residents behind a mobile carrier's (CGNAT). So the limits per address are set far
above what a crowd at one address does by hand, and only stop a script; the limits per username
and per phone guard one account, which a person retrying a mistyped password or code stays far
below. They stand beside the rules that already hold:
- a password: `password.max_failures` failures from one address lock that address out of the
  account, and a flood from many addresses slows it (lockout.py), which counts only
  failures; the limit per username also bounds attempts on a locked account and successful ones;
- an SMS code: 5 tries kill a code, 5 codes per number and 30 per address an hour are sent
  (codes.py, counted in the database); the limits here also bound what is refused (a bad number,
  a code over the hourly allowance), which the database counts do not.

A request over a limit is not tried, so it is no sign-in attempt: no row, no audit entry (a flood
must not fill the trail); the attempts before it are there.

The keys are never the personal data itself: a username or phone is counted by its keyed hash
(the blind index), a number in the form it is normalised to, so "+86 138…" and "138…" count as one.
"""

from typing import Annotated

from fastapi import Depends

from shared.keys import BlindIndex
from shared.phones import BadPhone, normalise
from shared.ratelimit import Limiter, LimiterDep, limit

from .users import normal_username

DEFAULTS: dict[str, str] = {
    # Staff passwords: a whole office signs in at 9:00 through one gateway; a script stuffing
    # credentials is stopped at one a second.
    "identity.password.address": "60/minute",
    # One account: the lockout stops guessing after 5 failures; this bounds the rest.
    "identity.password.username": "20/minute",
    # Residents' SMS sign-in, per address (a carrier's NAT) and per phone (5 tries kill a code anyway).
    "identity.sms_sign_in.address": "60/minute",
    "identity.sms_sign_in.phone": "10/minute",
    # Asking for a code: at most 30 are sent per address an hour (codes.py); this bounds the refused ones.
    "identity.sms_code.address": "60/minute",
    # The WeChat mini-program: one code2session call to WeChat each.
    "identity.wechat.address": "60/minute",
    # The city's identity provider: starting a sign-in writes a state row; finishing calls the provider.
    "identity.oidc_authorize.address": "60/minute",
    "identity.oidc_token.address": "60/minute",
    # Every app refreshes every 15 minutes: thousands of residents behind one carrier address.
    "identity.refresh.address": "600/minute",
}


def per_address(name: str):
    """A route dependency counting the request against `name` per client address."""
    return limit(name, DEFAULTS[name], per="address")


def hit(limiter: Limiter, name: str, key: str) -> None:
    limiter.hit(name, DEFAULTS[name], key)


class Accounts:
    """The limits per account tried: a username, a phone (by their keyed hashes)."""

    def __init__(self, limiter: LimiterDep):
        self.limiter = limiter

    def username(self, index: BlindIndex, raw: str) -> None:
        hit(self.limiter, "identity.password.username", "n:" + index(normal_username(raw), "username"))

    def phone(self, index: BlindIndex, name: str, raw: str) -> None:
        """A number that is no mobile number is refused anyway (422): not counted per phone."""
        try:
            phone = normalise(raw, mobile=True)
        except BadPhone:
            return
        hit(self.limiter, name, "p:" + index(phone, "phone"))


AccountLimits = Annotated[Accounts, Depends()]
