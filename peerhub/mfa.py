"""Who must have two-factor authentication, and the one check for it.

Members set it up themselves (allauth.mfa: an authenticator app, with recovery codes) under
Settings → Two-factor authentication. It is required, as settings.PEERHUB_MFA says:

- of staff, before any staff page or the admin (StaffMfaMiddleware, on the paths listed there):
  they are sent to set it up, with a message saying why; the API's staff paths answer 403
  `mfa_required`;
- of sellers, before a payout: `require_mfa(user, for_what="payouts")`, which the marketplace's
  payout service calls, so the HTML page and the API refuse alike.
"""

import re
from functools import lru_cache

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .exceptions import NotAllowed

# Authenticators that are a second factor in their own right; recovery codes only back one up.
SECOND_FACTORS = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
_CACHE_ATTRIBUTE = "_peerhub_has_mfa"


def has_mfa(user) -> bool:
    """The member has an authenticator app (or a security key) set up. One query, then cached
    on the user object for the rest of the request."""
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS).exists()
        setattr(user, _CACHE_ATTRIBUTE, cached)
    return cached


def verify_code(user, code: str) -> bool:
    """A code from the member's authenticator app, or one of their unused recovery codes (which
    is then used up), as allauth's own 2FA step checks it."""
    code = (code or "").strip()
    if not code:
        return False
    for authenticator in Authenticator.objects.filter(
        user_id=user.pk, type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
    ):
        if authenticator.wrap().validate_code(code):
            authenticator.record_usage()
            return True
    return False


REASONS = {
    "staff": _("Staff pages need two-factor authentication: set up an authenticator app first."),
    "payouts": _(
        "Payouts need two-factor authentication: set up an authenticator app under "
        "Settings → Two-factor authentication, then ask again."
    ),
}


def required(user, *, for_what: str) -> bool:
    """Whether `for_what` ("staff", "payouts") demands 2FA of this member and they lack it."""
    return bool(settings.PEERHUB_MFA.get(for_what)) and not has_mfa(user)


def require_mfa(user, *, for_what: str) -> None:
    """Refuse (403, code `mfa_required`) until the member has set up 2FA."""
    if required(user, for_what=for_what):
        raise NotAllowed(str(REASONS[for_what]), code="mfa_required")


def staff_page_refused(user, path: str) -> bool:
    """A staff member without 2FA asking for a staff page (the session's user here; the token
    authentication asks the same for a token's member)."""
    return (
        bool(getattr(user, "is_staff", False))
        and _staff_paths(tuple(settings.PEERHUB_MFA["staff_paths"])).match(path) is not None
        and required(user, for_what="staff")
    )


@lru_cache(maxsize=4)
def _staff_paths(patterns: tuple[str, ...]) -> re.Pattern:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


class StaffMfaMiddleware:
    """Staff without 2FA reach no staff page: HTML pages send them to set it up, the API
    answers 403 `mfa_required`. Members who are not staff pass through
    to the pages' own checks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and staff_page_refused(user, request.path):
            return self._refuse(request)
        return self.get_response(request)

    def _refuse(self, request):
        if request.path.startswith("/api/"):
            from .api.errors import error_body

            body = error_body(status_code=403, code="mfa_required", message=str(REASONS["staff"]))
            return JsonResponse(body, status=403)
        messages.warning(request, REASONS["staff"])
        return redirect(reverse("mfa_activate_totp"))
