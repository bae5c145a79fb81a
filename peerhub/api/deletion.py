"""The API twin of leaving (issue 21; the rules are in peerhub.deletion):

    GET    /api/me/deletion/   the state: pending or not, when it is due, what blocks it
    POST   /api/me/deletion/   {"remove_drafts": false}: ask (201; 200 when already pending;
                               409 listing the blockers in `error.blockers`)
    DELETE /api/me/deletion/   cancel a pending request (204 whether or not there was one)

A session that asks is signed out, as on the settings page; tokens keep working until the
account is anonymised (signing in, or DELETE here, cancels)."""

from django.contrib.auth import logout
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from peerhub import deletion

from .errors import error_body
from .schema import BlockerSerializer


class DeletionStateSerializer(serializers.Serializer):
    pending = serializers.BooleanField(help_text="A deletion is asked for and not yet done.")
    requested_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(
        allow_null=True, help_text="When the account is anonymised, unless cancelled before."
    )
    remove_drafts = serializers.BooleanField()
    grace_days = serializers.IntegerField()
    blockers = BlockerSerializer(many=True, help_text="What must be settled before leaving.")


class AccountDeletionAskSerializer(serializers.Serializer):
    remove_drafts = serializers.BooleanField(
        default=False, help_text="Also remove the drafts that were never published."
    )


def _state(user) -> dict:
    pending = deletion.deletion_pending(user=user)
    return {
        "pending": pending is not None,
        "requested_at": getattr(pending, "requested_at", None),
        "due_at": getattr(pending, "due_at", None),
        "remove_drafts": bool(getattr(pending, "remove_drafts", False)),
        "grace_days": deletion.grace().days,
        "blockers": [
            {"message": str(b.message), "url": b.url} for b in deletion.deletion_blockers(user=user)
        ],
    }


class AccountDeletionView(APIView):
    """The signed-in member's account deletion: GET its state, POST to ask (anonymised after
    the grace period; signing in again cancels), DELETE to cancel."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = DeletionStateSerializer

    @extend_schema(responses={200: DeletionStateSerializer})
    def get(self, request):
        return Response(DeletionStateSerializer(_state(request.user)).data)

    @extend_schema(
        request=AccountDeletionAskSerializer,
        responses={
            200: DeletionStateSerializer,
            201: DeletionStateSerializer,
            409: OpenApiResponse(
                description="Something must be settled first: `error.blockers` lists it."
            ),
        },
    )
    def post(self, request):
        serializer = AccountDeletionAskSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            _, created = deletion.deletion_request(
                user=request.user, remove_drafts=serializer.validated_data["remove_drafts"]
            )
        except deletion.DeletionBlocked as blocked:
            body = error_body(status_code=409, code=blocked.code, message=blocked.message)
            body["error"]["blockers"] = [
                {"message": str(b.message), "url": b.url} for b in blocked.blockers
            ]
            return Response(body, status=status.HTTP_409_CONFLICT)
        state = DeletionStateSerializer(_state(request.user)).data
        if isinstance(request.successful_authenticator, SessionAuthentication):
            logout(request._request)
        return Response(state, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        deletion.deletion_cancel(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
