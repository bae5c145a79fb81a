"""The API's way in: a password exchanged for a token (POST /api/auth/token/, for scripts), and a
member's personal access tokens (/api/auth/tokens/). The rules live in peerhub.tokens,
peerhub.login_limits and peerhub.mfa."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from peerhub import login_limits, mfa, selectors, tokens
from peerhub.exceptions import NotAllowed
from peerhub.models import AccessToken

from .serializers import TokenCredentialsSerializer
from .throttling import ScopedRateThrottle

SCOPES_HELP = "; ".join(f"`{scope}`: {text}" for scope, text in tokens.SCOPE_HELP.items())


class AccessTokenSerializer(serializers.ModelSerializer):
    """A token as listed: never its secret."""

    scopes = serializers.ListField(source="scope_list", child=serializers.CharField())
    is_expired = serializers.BooleanField(read_only=True)

    class Meta:
        model = AccessToken
        fields = [
            "id", "name", "prefix", "scopes", "created_at", "expires_at", "last_used_at",
            "is_expired",
        ]  # fmt: skip
        read_only_fields = fields


class AccessTokenCreatedSerializer(AccessTokenSerializer):
    """A token just made, with its secret: shown this once, stored nowhere (for the schema;
    `_created` builds the answer)."""

    token = serializers.CharField(
        help_text="The secret: send it as `Authorization: Token <token>`. Shown only now."
    )

    class Meta(AccessTokenSerializer.Meta):
        fields = ["token", *AccessTokenSerializer.Meta.fields]
        read_only_fields = fields


class AccessTokenRequestSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, help_text="What the token is for.")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=AccessToken.Scope.choices),
        min_length=1,
        max_length=3,
        help_text=SCOPES_HELP,
    )
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=3660,
        allow_null=True,
        required=False,
        default=tokens.default_expiry_days,
        help_text="Days until the token expires (default 90). `null`: it never expires.",
    )


class PasswordTokenRequestSerializer(TokenCredentialsSerializer):
    otp = serializers.CharField(
        required=False,
        max_length=64,
        help_text="For accounts with two-factor authentication: a code from the authenticator "
        "app, or an unused recovery code.",
    )
    name = serializers.CharField(
        required=False, max_length=80, default=gettext_lazy("API token (password)")
    )
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=AccessToken.Scope.choices),
        required=False,
        min_length=1,
        max_length=3,
        default=lambda: ["read", "write"],
        help_text=f"Default `read` and `write` (not `marketplace`). {SCOPES_HELP}",
    )
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=3660,
        allow_null=True,
        required=False,
        default=tokens.default_expiry_days,
        help_text="Default 90 days. `null`: the token never expires.",
    )


def _created(issued: tokens.IssuedToken, **extra) -> dict:
    """AccessTokenCreatedSerializer's shape: the secret comes from the issue, not the row."""
    return {"token": issued.secret, **AccessTokenSerializer(issued.token).data, **extra}


class PasswordTokenView(APIView):
    """Exchange a username (or e-mail) and password for a new personal access token, for
    scripts. Unless asked otherwise the token has the `read` and `write` scopes and expires in
    90 days; accounts with two-factor authentication also send `otp`. Failed attempts are
    limited per account and per client address (429 with `Retry-After`); a member locked out
    of password sign-in can always sign in with a code sent by e-mail on the website."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth-token"

    @extend_schema(
        request=PasswordTokenRequestSerializer,
        responses={
            200: AccessTokenCreatedSerializer,
            400: OpenApiResponse(description="Missing fields or wrong credentials."),
            403: OpenApiResponse(
                description="`forbidden`: the address is not verified yet; `otp_required` or "
                "`otp_invalid`: the account uses two-factor authentication."
            ),
            429: OpenApiResponse(description="Too many attempts; see `Retry-After`."),
        },
    )
    def post(self, request):
        serializer = PasswordTokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            attempt = login_limits.attempt(request, data["username"])
        except login_limits.LoginLimited as limited:
            raise exceptions.Throttled(
                wait=limited.retry_after, detail=limited.message, code="too_many_login_attempts"
            ) from None
        user = authenticate(request=request, username=data["username"], password=data["password"])
        if user is None:
            attempt.failed()
            # The same answer for an unknown name and a wrong password: nothing is revealed.
            raise exceptions.ValidationError(
                _("Unable to log in with the credentials provided."), code="authorization"
            )
        if mfa.has_mfa(user):
            if not data.get("otp"):
                attempt.failed()
                raise NotAllowed(
                    _("This account uses two-factor authentication: send `otp` too."),
                    code="otp_required",
                )
            if not mfa.verify_code(user, data["otp"]):
                attempt.failed()
                raise NotAllowed(_("The two-factor code is not correct."), code="otp_invalid")
        attempt.succeeded()
        if not selectors.user_is_verified(user):
            raise NotAllowed(_("Verify your e-mail address first: follow the link we sent you."))
        issued = tokens.token_create(
            user=user,
            name=data["name"],
            scopes=data["scopes"],
            expires_in_days=data["expires_in_days"],
        )
        return Response(_created(issued, username=user.username))


class AccessTokenListView(generics.ListAPIView):
    """Your personal access tokens (never their secrets). POST makes one and answers its
    secret, once."""

    serializer_class = AccessTokenSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccessToken.objects.none()
        return tokens.tokens_of(user=self.request.user)

    @extend_schema(
        request=AccessTokenRequestSerializer, responses={201: AccessTokenCreatedSerializer}
    )
    def post(self, request):
        serializer = AccessTokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        within = request.auth if isinstance(request.auth, AccessToken) else None
        issued = tokens.token_create(
            user=request.user,
            name=data["name"],
            scopes=data["scopes"],
            expires_in_days=data["expires_in_days"],
            within=within,
        )
        return Response(_created(issued), status=status.HTTP_201_CREATED)


class AccessTokenDetailView(APIView):
    """One of your tokens. DELETE revokes it: it stops working at once."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=AccessTokenSerializer)
    def get(self, request, pk: int):
        token = tokens.token_get(user=request.user, pk=pk)
        return Response(AccessTokenSerializer(token).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        tokens.token_revoke(token=tokens.token_get(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
