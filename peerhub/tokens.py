"""Personal access tokens: created, listed, used, revoked. One module for the settings page, the
API (peerhub.api.tokens) and the authentication class (peerhub.api.authentication).

A token is `ph_` followed by 43 URL-safe characters (256 random bits). The member sees it once,
when it is made; the database keeps its SHA-256 and the first 11 characters. Scopes:

- `read`: safe methods (GET, HEAD, OPTIONS);
- `write`: every method (so it reads too);
- `marketplace`: also the money endpoints (settings.PEERHUB_TOKENS["marketplace_paths"]:
  orders, payouts, subscriptions, balance, refunds, payment events), with read or write
  deciding the methods there as everywhere.

Tokens expire (90 days unless chosen otherwise; "never" only when asked for), and every token
of a member is revoked when their password changes or is reset."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .exceptions import Conflict, DomainError, NotAllowed, NotFound
from .models import AccessToken, User
from .throttles import write_spend

PREFIX = "ph_"
SHOWN_CHARACTERS = 11  # "ph_" and 8 characters of the secret: enough to tell tokens apart
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Scope = AccessToken.Scope
SCOPE_HELP = {
    Scope.READ: gettext_lazy("everything you can see (GET)"),
    Scope.WRITE: gettext_lazy("create, change and delete as you (includes read)"),
    Scope.MARKETPLACE: gettext_lazy(
        "orders, payouts, subscriptions, balance and refunds, with read or write"
    ),
}
# How long a token may last, in days, as offered on the settings page; None is "never".
EXPIRY_CHOICES = (7, 30, 90, 365, None)


class TokenInvalid(Exception):
    pass


class TokenExpired(TokenInvalid):
    pass


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: the only moment its secret exists outside the member's hands."""

    token: AccessToken
    secret: str


def _config() -> dict:
    return settings.PEERHUB_TOKENS


def default_expiry_days() -> int:
    return _config()["default_days"]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_scopes(scopes) -> list[str]:
    """Known scopes in a fixed order; `write` brings `read` with it."""
    wanted = set(scopes or ())
    unknown = wanted - set(Scope.values)
    if unknown:
        raise DomainError(
            _("Unknown scope: {scopes}.").format(scopes=", ".join(sorted(unknown))),
            code="invalid_scope",
        )
    if Scope.WRITE in wanted:
        wanted.add(Scope.READ)
    if not wanted & {Scope.READ, Scope.WRITE}:
        raise DomainError(_("A token needs the read or the write scope."), code="invalid_scope")
    return [scope for scope in Scope.values if scope in wanted]


def tokens_of(*, user: User) -> QuerySet[AccessToken]:
    """A member's tokens that are not revoked, expired ones included (they say so)."""
    return AccessToken.objects.filter(user=user, revoked_at__isnull=True)


@transaction.atomic
def token_create(
    *, user: User, name: str, scopes, expires_in_days: int | None, within: AccessToken | None = None
) -> IssuedToken:
    """A new token for `user`. `within`: the token the request came with, if any; a token can
    only make tokens that can do no more than itself and live no longer (no escalation)."""
    name = (name or "").strip()
    if not name:
        raise DomainError(
            _("Give the token a name, e.g. the script that will use it."), code="invalid"
        )
    scope_list = normalise_scopes(scopes)
    if expires_in_days is not None and not 1 <= expires_in_days <= 3660:
        raise DomainError(_("A token lasts between 1 and 3660 days."), code="invalid_expiry")
    now = timezone.now()
    expires_at = None if expires_in_days is None else now + timedelta(days=expires_in_days)
    if within is not None:
        if not set(scope_list) <= set(within.scope_list):
            raise NotAllowed(
                _("A token can only create tokens with scopes it has itself."),
                code="insufficient_scope",
            )
        if within.expires_at is not None and (expires_at is None or expires_at > within.expires_at):
            raise NotAllowed(
                _("A token can only create tokens that expire no later than itself."),
                code="insufficient_scope",
            )
    # Serialise a member's creations so that the cap holds under concurrent requests.
    User.objects.select_for_update().filter(pk=user.pk).first()
    live = tokens_of(user=user).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    if live.count() >= _config()["max_per_member"]:
        raise Conflict(
            _("You have too many tokens: revoke some you no longer use."), code="too_many_tokens"
        )
    write_spend(user, "token")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = AccessToken.objects.create(
        user=user,
        name=name[:80],
        prefix=secret[:SHOWN_CHARACTERS],
        digest=digest(secret),
        scopes=" ".join(scope_list),
        created_at=now,
        expires_at=expires_at,
    )
    return IssuedToken(token=token, secret=secret)


def token_get(*, user: User, pk: int) -> AccessToken:
    token = tokens_of(user=user).filter(pk=pk).first()
    if token is None:
        raise NotFound(_("No such token."))
    return token


def token_revoke(*, token: AccessToken) -> None:
    """Revoke one token (its row stays, marked, for the admin's record)."""
    AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def tokens_revoke_all(*, user: User) -> int:
    """Revoke every token of a member in one UPDATE; answers how many were live."""
    return AccessToken.objects.filter(user_id=user.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def token_authenticate(*, secret: str) -> AccessToken:
    """The live token with this secret (and its member), or TokenInvalid / TokenExpired."""
    if not secret or len(secret) > 200:
        raise TokenInvalid
    token = (
        AccessToken.objects.select_related("user")
        .filter(digest=digest(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        raise TokenInvalid
    if token.is_expired:
        raise TokenExpired
    return token


def token_touch(*, token: AccessToken) -> None:
    """Record that the token was used, at most once a minute (one cheap UPDATE, not one per
    request)."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < timedelta(minutes=1):
        return
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


def is_marketplace_path(path: str) -> bool:
    return any(path.startswith(prefix) for prefix in _config()["marketplace_paths"])


def missing_scope(token: AccessToken, *, method: str, path: str) -> str | None:
    """The scope this request needs and the token lacks, or None."""
    scopes = set(token.scope_list)
    if method.upper() in SAFE_METHODS:
        if not scopes & {Scope.READ, Scope.WRITE}:
            return Scope.READ
    elif Scope.WRITE not in scopes:
        return Scope.WRITE
    if is_marketplace_path(path) and Scope.MARKETPLACE not in scopes:
        return Scope.MARKETPLACE
    return None


@receiver(post_save, sender=User)
def _revoke_tokens_on_password_change(sender, instance: User, created: bool, **kwargs) -> None:
    """Whatever changed the password (allauth's change and reset, the admin, `changepassword`,
    a service): `set_password()` leaves the new raw password on the instance until the save
    completes, which is how Django itself knows to run password_changed(). A hash upgrade at
    login clears it first, so it revokes nothing."""
    if not created and instance._password is not None:
        tokens_revoke_all(user=instance)
