"""allauth, told two things about PeerHub: where a request really comes from, and that password
sign-ins go through the site's one set of failed-login limits."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django import forms

from . import locales, login_limits
from .proxies import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def new_user(self, request):
        """A new member starts in the time zone their browser reported (site.js's cookie)."""
        user = super().new_user(request)
        zone = locales.reader_time_zone(request)
        if zone:
            user.time_zone = zone
        return user

    def get_client_ip(self, request) -> str:
        # Every allauth rate limit (sign-up, password reset, login codes, the 2FA step) keys on
        # this: the same address as the site's own limits and DRF's throttles.
        return client_ip(request)

    def authenticate(self, request, **credentials):
        """A password sign-in: counted by peerhub.login_limits instead of allauth's own
        "login_failed" limit (which stays in force for the 2FA code step)."""
        login = credentials.get("username") or credentials.get("email") or ""
        try:
            attempt = login_limits.attempt(request, login)
        except login_limits.LoginLimited as limited:
            raise forms.ValidationError(limited.message, code="too_many_login_attempts") from None
        user = super().authenticate(request, **credentials)
        if user is None:
            attempt.failed()
        else:
            attempt.succeeded()
        return user

    def pre_authenticate(self, request, **credentials) -> None:
        """Replaced by the limits in `authenticate`; reauthentication goes through there too."""

    def _delete_login_attempts_cached_email(self, request, **credentials) -> None:
        # Called by allauth after a successful password reset: the member proved they hold the
        # address, so their account's failed attempts are forgotten.
        email = credentials.get("email", "")
        for user_id in EmailAddress.objects.filter(email__iexact=email).values_list(
            "user_id", flat=True
        ):
            login_limits.reset(account=f"user-{user_id}")
