"""Write throttles by trust level (Discourse's new-user limits, Stack Overflow's rate limits).

Every write a member makes — a post, a revision, a fork, a comment, an order message, a
challenge proposal, an order, an offer, a review — spends one unit of its action's budget for a
window (settings.PEERHUB_WRITE_LIMITS), in the cache, so every web process shares it (Redis in
production). Members below the trust level that unlocks down-votes (levels 0 and 1) get the
strict budget; staff are not limited. The services call `write_spend` before they write, so the
HTML pages (a friendly message) and the API (a 429 with Retry-After and RateLimit headers) are
limited alike. Trust levels are asked through `has_perm`, so peerhub depends on no app."""

import logging
import math

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .exceptions import RateLimited
from .redis_cache import unavailable

logger = logging.getLogger(__name__)

# The privilege that marks an established member (trust level 2): below it, the strict budget.
ESTABLISHED = "reputation.vote_down"

# What each budget counts, as said in the reader's language (settings.PEERHUB_WRITE_LIMITS keeps
# the English "label", used for an action not listed here).
LABELS = {
    "solution": gettext_lazy("new solutions"),
    "revision": gettext_lazy("revisions"),
    "fork": gettext_lazy("forks"),
    "comment": gettext_lazy("comments"),
    "order_message": gettext_lazy("messages"),
    "proposal": gettext_lazy("challenge proposals"),
    "order": gettext_lazy("orders"),
    "offer": gettext_lazy("new offers"),
    "review": gettext_lazy("reviews"),
    "token": gettext_lazy("new API tokens"),
    "upload": gettext_lazy("file uploads"),
    "preview": gettext_lazy("previews"),
}


class WriteLimited(RateLimited):
    """Too many writes of one kind for now; `retry_after` seconds until the window resets."""

    code = "write_limited"

    def __init__(self, message: str, *, limit: int, retry_after: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Retry-After": str(self.retry_after),
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(self.retry_after),
        }


def _budget(user, action: str) -> tuple[int, int] | None:
    """(allowed writes, window in seconds) for this member and action; None: unlimited."""
    rule = settings.PEERHUB_WRITE_LIMITS.get(action)
    if rule is None or not settings.PEERHUB_WRITE_LIMITS_ENABLED:
        return None
    if getattr(user, "is_staff", False):
        return None
    tier = "established" if user.has_perm(ESTABLISHED) else "new"
    return rule[tier], rule["window"]


def write_spend(user, action: str) -> None:
    """Spend one `action` write of the member's budget, or refuse with WriteLimited: a fixed
    window per member and action (`_count`)."""
    budget = _budget(user, action)
    if budget is None:
        return
    allowed, window = budget
    used, retry_after = _count(f"write-limit:{action}:{user.pk}", window)
    if used > allowed:
        what = LABELS.get(action) or settings.PEERHUB_WRITE_LIMITS[action].get(
            "label", action.replace("_", " ")
        )
        raise WriteLimited(
            _(
                "You have reached the limit of {allowed} {what} {per}. Try again in {wait}; "
                "the limit grows with your trust level."
            ).format(allowed=allowed, what=what, per=_per(window), wait=_span(retry_after)),
            limit=allowed,
            retry_after=retry_after,
        )


def _count(prefix: str, window: int) -> tuple[int, int]:
    """One more use in the current fixed window of `prefix`: (uses so far, seconds until the
    window ends). cache.add then incr: atomic in Redis and in the local-memory cache. While
    Redis is unreachable (peerhub.redis_cache) nothing is counted and the write goes through:
    the limit fails open rather than refusing everyone."""
    now = timezone.now().timestamp()
    start = math.floor(now / window) * window
    key = f"{prefix}:{start}"
    cache.add(key, 0, timeout=window + 5)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr: a fresh window
        if not cache.add(key, 1, timeout=window + 5) and unavailable(cache):
            logger.info("write limit %s not counted: the cache is unavailable", prefix)
        used = 1
    return used, max(1, math.ceil(start + window - now))


def _per(seconds: int) -> str:
    """A budget's window: "per hour", "per 10 minutes"."""
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = seconds // 3600
        if hours == 1:
            return _("per hour")
        return ngettext("per {count} hour", "per {count} hours", hours).format(count=hours)
    minutes = max(1, math.ceil(seconds / 60))
    if minutes == 1:
        return _("per minute")
    return ngettext("per {count} minute", "per {count} minutes", minutes).format(count=minutes)


def _span(seconds: int) -> str:
    """How long until a window ends: "an hour", "10 minutes", "a few seconds"."""
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = seconds // 3600
        if hours == 1:
            return _("an hour")
        return ngettext("{count} hour", "{count} hours", hours).format(count=hours)
    if seconds >= 60:
        minutes = math.ceil(seconds / 60)
        if minutes == 1:
            return _("a minute")
        return ngettext("{count} minute", "{count} minutes", minutes).format(count=minutes)
    return _("a few seconds") if seconds > 1 else _("a second")


# --- Per address ------------------------------------------------------------------------------

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Providers notify from a few addresses, many events at once; their webhooks verify themselves.
EXEMPT_PREFIXES = ("/api/payments/webhook/", "/healthz")


class IpWriteLimitMiddleware:
    """Every unsafe request from one address (peerhub.proxies.client_ip, which believes
    X-Forwarded-For only from trusted proxies) spends the address's budget for a window
    (settings.PEERHUB_IP_WRITE_LIMIT), whoever is signed in: a flood from one machine, signed in
    as many members or none, is stopped before any view runs. 429 with Retry-After, in the API's
    error shape under /api/, a short page elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method in UNSAFE
            and settings.PEERHUB_WRITE_LIMITS_ENABLED
            and not request.path.startswith(EXEMPT_PREFIXES)
            and not getattr(getattr(request, "user", None), "is_staff", False)
        ):
            refused = self._spend(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _spend(self, request):
        from .proxies import client_ip

        rule = settings.PEERHUB_IP_WRITE_LIMIT
        allowed, window = rule["writes"], rule["window"]
        used, retry_after = _count(f"write-limit:ip:{client_ip(request)}", window)
        if used <= allowed:
            return None
        error = WriteLimited(
            _("Too many changes from your network address: try again in {wait}.").format(
                wait=_span(retry_after)
            ),
            limit=allowed,
            retry_after=retry_after,
        )
        if request.path.startswith("/api/"):
            from django.http import JsonResponse

            from .api.errors import error_body

            response = JsonResponse(
                error_body(status_code=429, code=error.code, message=error.message), status=429
            )
        else:
            from django.shortcuts import render

            response = render(request, "429.html", {"message": error.message}, status=429)
        for name, value in error.headers.items():
            response[name] = value
        return response
