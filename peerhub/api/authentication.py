"""`Authorization: Token <token>` (or `Bearer <token>`) with a personal access token, its
scopes enforced here for every API view, whatever its own permission classes say."""

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from peerhub import locales, mfa, tokens


class AccessTokenAuthentication(BaseAuthentication):
    keywords = (b"token", b"bearer")

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header: `Token <token>`."))
        try:
            secret = header[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        try:
            token = tokens.token_authenticate(secret=secret)
        except tokens.TokenExpired:
            raise exceptions.AuthenticationFailed(
                _("This token has expired: create a new one."), code="token_expired"
            ) from None
        except tokens.TokenInvalid:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        missing = tokens.missing_scope(token, method=request.method, path=request.path)
        if missing:
            raise exceptions.PermissionDenied(
                _("This token lacks the “{scope}” scope.").format(scope=missing),
                code="insufficient_scope",
            )
        if mfa.staff_page_refused(token.user, request.path):
            raise exceptions.PermissionDenied(str(mfa.REASONS["staff"]), code="mfa_required")
        tokens.token_touch(token=token)
        # The member's language and time zone, as a signed-in page gets them (DRF reads the
        # token after every middleware has run).
        locales.member_locale_activate(token.user)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return "Token"


class AccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = AccessTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Token <token>`, a personal access token. Scopes: `read` (GET), `write` (every "
                "method, read included), `marketplace` (orders, payouts, subscriptions, balance, "
                "refunds and payment events). A token lacking a scope gets 403 "
                "`insufficient_scope`; an expired one 401 `token_expired`."
            ),
        }
