from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from peerhub import figures, mentions, selectors, services

from .schema import ErrorSerializer
from .serializers import (
    ManifestoSerializer,
    MeSerializer,
    PublicUserSerializer,
    SignatureSerializer,
)


class ApiRootView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses=inline_serializer("ApiRoot", {"links": serializers.DictField()}),
    )
    def get(self, request):
        def link(name):
            return reverse(name, request=request)

        def template(name, key, placeholder):
            # URI templates (RFC 6570 style) for links that need an id or a username.
            url = reverse(name, kwargs={key: "0" if key == "pk" else "__x__"}, request=request)
            return url.replace("/0/" if key == "pk" else "__x__", placeholder)

        return Response(
            {
                "links": {
                    "me": link("api-me"),
                    "my-exports": link("api-data-export-list"),
                    "users": link("api-user-list"),
                    "manifesto": link("api-manifesto"),
                    "challenges": link("api-challenge-list"),
                    "challenge-proposals": link("api-challenge-proposal-list"),
                    "solutions": link("api-solution-list"),
                    "upstream-proposals": link("api-upstream-proposal-list"),
                    "comments": link("api-comment-list"),
                    "uploads": link("api-upload-list"),
                    "solution-vote": template("api-solution-vote", "pk", "/{id}/"),
                    "solution-reviews": template("api-solution-reviews", "pk", "/{id}/"),
                    "user-reputation": template("api-user-reputation", "username", "{username}"),
                    "leaderboard": link("api-leaderboard"),
                    "notifications": link("api-notification-list"),
                    "notification-preferences": link("api-notification-preferences"),
                    "follows": link("api-follow-list"),
                    "mutes": link("api-mute-list"),
                    "blocks": link("api-block-list"),
                    "feed": link("api-feed"),
                    "search": link("api-search"),
                    "rankings": link("api-rankings"),
                    "solution-score": template("api-solution-score", "pk", "/{id}/"),
                    "challenge-rankings": template("api-challenge-rankings", "slug", "{slug}"),
                    "challenge-evolution": template("api-challenge-evolution", "slug", "{slug}"),
                    "selection-rounds": template("api-selection-round-list", "slug", "{slug}"),
                    "token": link("api-token"),
                    "tokens": link("api-token-list"),
                    "schema": link("api-schema"),
                    "docs": link("api-docs"),
                }
            }
        )


class MeView(generics.RetrieveUpdateAPIView):
    """The signed-in member. PATCH edits the profile (display name, bio, skills) and the
    member's language and time zone."""

    serializer_class = MeSerializer
    permission_classes = [permissions.IsAuthenticated]
    http_method_names = ["get", "patch", "options", "head"]

    def get_object(self):
        return self.request.user

    def perform_update(self, serializer):
        user = self.request.user
        data = serializer.validated_data
        services.profile_update(
            user=user,
            display_name=data.get("display_name", user.display_name),
            bio=data.get("bio", user.bio),
            skills=data.get("skills", user.skills),
        )
        services.member_locale_set(
            user=user, language=data.get("language"), time_zone=data.get("time_zone")
        )


# Query parameters that never change which rows a list holds, only their order or the page.
UNNARROWING_PARAMETERS = frozenset({"ordering", "page", "page_size", "format"})


class UserListView(generics.ListAPIView):
    """Members, searchable by username and display name."""

    serializer_class = PublicUserSerializer
    permission_classes = [permissions.AllowAny]
    search_fields = ["username", "display_name", "skills"]
    ordering_fields = ["username", "date_joined"]
    ordering = ["username"]
    filterset_fields = {"date_joined": ["gte", "lte"]}

    def get_queryset(self):
        return selectors.members_public()

    def known_count(self, request) -> int | None:
        """The whole list's total is the home page's kept member count; with any parameter
        that may narrow the list (search, filters), the list is counted."""
        if set(request.query_params) - UNNARROWING_PARAMETERS:
            return None
        return figures.member_count()


class UserDetailView(generics.RetrieveAPIView):
    serializer_class = PublicUserSerializer
    permission_classes = [permissions.AllowAny]
    lookup_field = "username"

    def get_queryset(self):
        return selectors.members_public()


def _manifesto_or_404():
    version = selectors.manifesto_current()
    if version is None:
        raise Http404(_("No manifesto has been published yet."))
    return version


class ManifestoView(APIView):
    """The current manifesto with its values and signature count."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses={
            200: ManifestoSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No manifesto is published yet."),
        }
    )
    def get(self, request):
        version = _manifesto_or_404()
        version.signature_count = version.signatures.count()
        version.signed_by_me = selectors.manifesto_has_signed(user=request.user, version=version)
        return Response(ManifestoSerializer(version).data)


class ManifestoSignatureListView(generics.ListAPIView):
    """Who has signed the current manifesto, newest first."""

    serializer_class = SignatureSerializer
    permission_classes = [permissions.AllowAny]
    filter_backends = []

    def get_queryset(self):
        return selectors.manifesto_signatures(version=_manifesto_or_404())


class ManifestoSignView(APIView):
    """Sign the current manifesto. Signing again changes nothing (200 instead of 201)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: SignatureSerializer, 201: SignatureSerializer})
    def post(self, request):
        signature, created = services.manifesto_sign(user=request.user)
        return Response(
            SignatureSerializer(signature).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MarkdownPreviewSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)


class MarkdownPreviewView(APIView):
    """Render Markdown exactly as PeerHub stores it (sanitised, @mentions linked): the API twin
    of the editor's Preview tab. Limited in size (413) and rate (429) like a write."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=MarkdownPreviewSerializer,
        responses={
            200: inline_serializer("MarkdownPreview", {"html": serializers.CharField()}),
            413: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def post(self, request):
        serializer = MarkdownPreviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        html = mentions.markdown_preview(user=request.user, text=serializer.validated_data["text"])
        return Response({"html": str(html)})


class StaffQueueSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Stable name: trust_review, disputes, money, hidden.")
    title = serializers.CharField()
    count = serializers.IntegerField(help_text="How many wait for a person.")
    url = serializers.CharField(help_text="The page of the queue.")
    description = serializers.CharField()


class StaffQueuesView(APIView):
    """Staff only: every queue that needs a person with its count, those with work first (the
    API twin of /staff/, peerhub.staff)."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        responses={
            200: StaffQueueSerializer(many=True),
            403: OpenApiResponse(ErrorSerializer, description="Not staff."),
        }
    )
    def get(self, request):
        from peerhub import staff

        queues = staff.staff_queues()
        return Response(StaffQueueSerializer(queues, many=True).data)
