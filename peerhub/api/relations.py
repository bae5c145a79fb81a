"""API twins of muting and blocking (issue 21): the signed-in member's mutes and blocks.
Thin: each view calls peerhub.relations.

    GET    /api/me/mutes/              the members I muted (paged)
    POST   /api/me/mutes/              {"username": "ben"}: 201, or 200 when already muted
    DELETE /api/me/mutes/{username}/   204, whether or not there was a mute (idempotent)

and the same under /api/me/blocks/."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response

from peerhub import relations
from peerhub.models import MemberRelation, User

from .serializers import PublicUserSerializer


class MemberRelationSerializer(serializers.ModelSerializer):
    username = serializers.SlugRelatedField(
        source="other",
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        write_only=True,
        help_text="The member to mute or block.",
    )
    member = PublicUserSerializer(source="other", read_only=True)

    class Meta:
        model = MemberRelation
        fields = ["username", "member", "kind", "created_at"]
        read_only_fields = ["kind", "created_at"]


class _RelationList(generics.ListCreateAPIView):
    serializer_class = MemberRelationSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []
    kind = ""
    add = None

    def get_queryset(self):
        return relations.relations_of(member=self.request.user, kind=self.kind)

    @extend_schema(responses={200: MemberRelationSerializer, 201: MemberRelationSerializer})
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        other = serializer.validated_data["other"]
        created = self.add(member=request.user, other=other)
        relation = self.get_queryset().get(other=other)
        return Response(
            MemberRelationSerializer(relation, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class _RelationDetail(generics.GenericAPIView):
    serializer_class = MemberRelationSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []
    remove = None

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, username: str):
        other = generics.get_object_or_404(User.objects.filter(is_active=True), username=username)
        self.remove(member=request.user, other=other)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MuteListView(_RelationList):
    """The members the signed-in member muted: their social notifications (comments, replies,
    mentions, forks, reviews) do not reach the member. POST `{"username": …}` to mute
    (idempotent: 200 when already muted); muting yourself is a 400."""

    kind = MemberRelation.Kind.MUTE
    add = staticmethod(relations.mute)


class BlockListView(_RelationList):
    """The members the signed-in member blocked: neither hears the other's social
    notifications, mentions the other or orders from the other (orders placed before go on).
    POST `{"username": …}` to block (idempotent: 200 when already blocked); blocking yourself
    is a 400, blocking staff a 403."""

    kind = MemberRelation.Kind.BLOCK
    add = staticmethod(relations.block)


class MuteDetailView(_RelationDetail):
    """DELETE unmutes the member (204 whether or not they were muted)."""

    remove = staticmethod(relations.unmute)


class BlockDetailView(_RelationDetail):
    """DELETE unblocks the member (204 whether or not they were blocked)."""

    remove = staticmethod(relations.unblock)
