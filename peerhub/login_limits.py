"""Failed sign-in limits: one implementation for every way in that takes a password (allauth's
login form, the admin's login through it, and the API's POST /api/auth/token/).

Three scopes, each counted in the cache (Redis in production, so all web processes share them):

- `pair`    one account from one client address: the plain brute force;
- `ip`      one client address, whatever the account: credential stuffing;
- `account` one account, whatever the address: a guess spread over many addresses.

In each scope the first `free` attempts go through; after that one attempt per `delay` seconds,
doubling with each further attempt up to `max_delay`. There is never a hard lock: an attacker
who keeps failing can slow the account's password sign-in down, but the owner still signs in
from their own address (the `pair` and `ip` scopes are the attacker's), and always with a code
sent by e-mail (allauth's login by code), which does not go through here and which resets the
account's count. A successful sign-in resets the account's and the pair's counts.

Attempts are counted before the password is checked (`cache.incr` is atomic), and a delayed
attempt must win an atomic `cache.add` on the scope's gate, so parallel requests cannot slip
extra guesses past the limits."""

import contextlib
import hashlib
import math
import time
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.db.models.functions import Lower
from django.dispatch import receiver
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import User
from .proxies import client_ip

SCOPES = ("pair", "ip", "account")


@dataclass(frozen=True)
class Rule:
    free: int
    delay: int
    max_delay: int
    window: int

    def delay_after(self, attempt: int) -> int:
        """Seconds the gate stays shut after allowed attempt number `attempt` (1-based)."""
        if attempt < self.free:
            return 0
        return min(self.delay * 2 ** (attempt - self.free), self.max_delay)


def rules() -> dict[str, Rule]:
    return {scope: Rule(**settings.PEERHUB_LOGIN_LIMITS[scope]) for scope in SCOPES}


class LoginLimited(Exception):
    """Too many failed sign-ins: `retry_after` seconds until the next attempt may be made."""

    def __init__(self, *, scope: str, retry_after: int) -> None:
        self.scope = scope
        self.retry_after = max(1, retry_after)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        wait = _duration(self.retry_after)
        if self.scope == "account":
            return _(
                "Too many failed login attempts for this account. Try again in {wait}, or "
                "sign in with a code sent to your e-mail address."
            ).format(wait=wait)
        return _("Too many failed login attempts. Try again in {wait}.").format(wait=wait)


def _duration(seconds: int) -> str:
    if seconds < 90:
        return ngettext("{count} second", "{count} seconds", seconds).format(count=seconds)
    minutes = math.ceil(seconds / 60)
    return ngettext("{count} minute", "{count} minutes", minutes).format(count=minutes)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def account_key(login: str) -> str:
    """One key per account, however the member types their login (username or any of their
    addresses, in any case); an unknown login gets a key of its own, without revealing that."""
    login = (login or "").strip().lower()
    if "@" in login:
        user_id = (
            EmailAddress.objects.annotate(address=Lower("email"))
            .filter(address=login)
            .values_list("user_id", flat=True)
            .first()
        )
    else:
        user_id = (
            User.objects.annotate(name=Lower("username"))
            .filter(name=login)
            .values_list("pk", flat=True)
            .first()
        )
    return f"user-{user_id}" if user_id else f"login-{_digest(login)}"


def _keys(scope: str, ident: str) -> tuple[str, str]:
    base = f"login-limit:{scope}:{ident}"
    return f"{base}:n", f"{base}:gate"


def _incr(key: str, window: int) -> int:
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=window)
        return 1


def _decr(key: str) -> None:
    with contextlib.suppress(ValueError):  # already expired: nothing left to take back
        cache.decr(key)


@dataclass
class Attempt:
    """One password attempt let through; tell it how it ended."""

    idents: dict[str, str]

    def succeeded(self) -> None:
        """The password was right: the account and this address start afresh with it, and the
        attempt does not count against the address (which may serve many members)."""
        reset(account=self.idents["account"], ip=self.idents["ip"])
        _decr(_keys("ip", self.idents["ip"])[0])

    def failed(self) -> None:
        """Nothing to do: the attempt was counted when it was let through."""


def attempt(request, login: str) -> Attempt:
    """Let one password attempt for `login` through, or raise LoginLimited."""
    ip = client_ip(request)
    account = account_key(login)
    idents = {"pair": f"{account}:{ip}", "ip": ip, "account": account}
    limits = rules()
    now = time.time()
    numbers: dict[str, int] = {}
    gates_won: list[str] = []
    refused: LoginLimited | None = None
    for scope in SCOPES:
        rule = limits[scope]
        count_key, gate_key = _keys(scope, idents[scope])
        number = numbers[scope] = _incr(count_key, rule.window)
        if number <= rule.free:
            continue
        delay = rule.delay_after(number)
        if cache.add(gate_key, now + delay, timeout=delay):
            gates_won.append(gate_key)
            continue
        opens_at = cache.get(gate_key) or now + delay
        refused = LoginLimited(scope=scope, retry_after=math.ceil(opens_at - now))
        break
    if refused is not None:
        # Not an attempt after all: it neither counts nor shuts the gates it passed.
        for scope in numbers:
            _decr(_keys(scope, idents[scope])[0])
        cache.delete_many(gates_won)
        raise refused
    for scope, number in numbers.items():
        rule = limits[scope]
        if number == rule.free:  # the last free attempt shuts the gate for the next one
            delay = rule.delay_after(number)
            cache.set(_keys(scope, idents[scope])[1], now + delay, timeout=delay)
    return Attempt(idents=idents)


def reset(*, account: str, ip: str | None = None) -> None:
    """Forget an account's failed attempts (and the pair's, from `ip`)."""
    keys = list(_keys("account", account))
    if ip is not None:
        keys += _keys("pair", f"{account}:{ip}")
    cache.delete_many(keys)


def reset_for_user(user, request=None) -> None:
    """A member proved who they are another way (a code by e-mail, a password reset)."""
    reset(account=f"user-{user.pk}", ip=client_ip(request) if request is not None else None)


@receiver(user_logged_in)
def _forget_failures_on_sign_in(sender, request, user, **kwargs) -> None:
    """Any completed sign-in (a password and its 2FA step, a code by e-mail) frees the
    account."""
    reset_for_user(user, request)
