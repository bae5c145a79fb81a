"""API for notifications, preferences, follows and the feed. Thin: each view calls
peerhub.notifications or peerhub.following."""

from urllib.parse import urlencode

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from peerhub import following
from peerhub.models import Activity, Channel, Follow, Notification
from peerhub.notifications import all_kinds
from peerhub.notifications import selectors as notification_selectors
from peerhub.notifications import services as notification_services

from .serializers import PublicUserSerializer


class NotificationSerializer(serializers.ModelSerializer):
    actor = PublicUserSerializer(read_only=True)
    url = serializers.CharField(source="target_url", read_only=True)
    text = serializers.CharField(
        source="message", read_only=True, help_text="Worded in the reader's language."
    )
    target_type = serializers.SerializerMethodField()
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id", "kind", "text", "actor", "target_type", "target_id", "url", "created_at",
            "read_at", "is_read",
        ]  # fmt: skip
        read_only_fields = fields

    def get_target_type(self, notification) -> str | None:
        if notification.target_type_id is None:
            return None
        model = ContentType.objects.get_for_id(notification.target_type_id)
        return f"{model.app_label}.{model.model}"


class NotificationListView(generics.ListAPIView):
    """The signed-in member's notifications, newest first; `?unread=true` for unread only."""

    serializer_class = NotificationSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("unread", bool, description="Unread only."),
            OpenApiParameter("kind", str, description="Only this kind of notification."),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        return notification_selectors.notifications_for(
            user=self.request.user,
            unread=params.get("unread", "").lower() in {"1", "true", "yes"},
            kind=params.get("kind", ""),
        )


class NotificationReadView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request, pk: int):
        notification = notification_services.notification_mark_read(
            notification_id=pk, user=request.user
        )
        return Response(NotificationSerializer(notification).data)


class NotificationsReadAllView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=None,
        responses=inline_serializer("NotificationsReadAll", {"marked": serializers.IntegerField()}),
    )
    def post(self, request):
        marked = notification_services.notifications_mark_all_read(user=request.user)
        return Response({"marked": marked, "unread": 0})


class PreferenceSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    important = serializers.BooleanField()
    default = serializers.ChoiceField(choices=Channel.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)


def _preferences(user) -> list[dict]:
    chosen = notification_selectors.preferences_for(user=user)
    return [
        {
            "kind": kind.name,
            "label": kind.label,
            "important": kind.important,
            "default": kind.default_channel,
            "channel": chosen[kind.name],
        }
        for kind in all_kinds()
    ]


class NotificationPreferencesView(APIView):
    """Every kind of notification with the member's channel for it: `immediate` (e-mail at
    once), `digest` (daily e-mail), `in_app` or `off`. PATCH a mapping `{"kind": "channel"}`."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=PreferenceSerializer(many=True))
    def get(self, request):
        return Response(_preferences(request.user))

    @extend_schema(
        request=inline_serializer(
            "NotificationPreferencesUpdate",
            {"kind": serializers.ChoiceField(choices=Channel.choices)},
        ),
        responses=PreferenceSerializer(many=True),
    )
    def patch(self, request):
        data = request.data
        known = {kind.name for kind in all_kinds()}
        if not isinstance(data, dict) or not data:
            raise serializers.ValidationError({"non_field_errors": [_("Send {kind: channel}.")]})
        errors = {}
        for kind, channel in data.items():
            if kind not in known:
                errors[kind] = [_("Unknown kind of notification.")]
            elif channel not in Channel.values:
                errors[kind] = [
                    _("Choose one of {channels}.").format(channels=", ".join(Channel.values))
                ]
        if errors:
            raise serializers.ValidationError(errors)
        notification_services.preferences_update(user=request.user, channels=dict(data))
        return Response(_preferences(request.user))


class FollowSerializer(serializers.ModelSerializer):
    target_type = serializers.ChoiceField(
        choices=[], write_only=True, help_text="member, challenge or solution"
    )
    target_id = serializers.IntegerField(min_value=1)
    kind = serializers.SerializerMethodField()

    class Meta:
        model = Follow
        fields = ["id", "kind", "target_type", "target_id", "created_at"]
        read_only_fields = ["id", "kind", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_type"].choices = following.followable_names()

    def get_kind(self, follow) -> str:
        return following.followable_name_for_type(follow.target_type_id)


class FollowListView(generics.ListCreateAPIView):
    """What the signed-in member follows. POST `{"target_type": "challenge", "target_id": 3}`
    to follow (idempotent: 200 when already followed)."""

    serializer_class = FollowSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    @extend_schema(
        parameters=[OpenApiParameter("target_type", str, enum=["challenge", "member", "solution"])]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        follows = following.follows_of(user=self.request.user)
        name = self.request.query_params.get("target_type", "")
        if name:
            follows = follows.filter(target_type__in=following.followable_type_ids(name))
        return follows

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        target = following.follow_target_get(
            user=request.user, name=data["target_type"], pk=data["target_id"]
        )
        was = following.is_following(user=request.user, target=target)
        following.follow_set(follower=request.user, target=target)
        follow = Follow.objects.get(
            follower=request.user,
            target_type=ContentType.objects.get_for_model(target),
            target_id=target.pk,
        )
        return Response(
            FollowSerializer(follow).data,
            status=status.HTTP_200_OK if was else status.HTTP_201_CREATED,
        )


class FollowDetailView(generics.RetrieveDestroyAPIView):
    """One follow of the member's; DELETE unfollows."""

    serializer_class = FollowSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return following.follows_of(user=self.request.user)


class ActivitySerializer(serializers.ModelSerializer):
    actor = PublicUserSerializer(read_only=True)
    url = serializers.CharField(source="target_url", read_only=True)
    text = serializers.CharField(
        source="message", read_only=True, help_text="Worded in the reader's language."
    )

    class Meta:
        model = Activity
        fields = ["id", "verb", "text", "actor", "url", "created_at"]
        read_only_fields = fields


class FeedView(generics.GenericAPIView):
    """The signed-in member's activity feed: what happened around what they follow, newest
    first. Paged by cursor, not by number: `next` links to the older page (`?before=…`), null on
    the last; there is no total count, which would cost a COUNT over every follow."""

    serializer_class = ActivitySerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter("before", str, description="The `next` cursor of a previous page."),
            OpenApiParameter("page_size", int, description="1 to 100 (default 20)."),
        ],
        responses=inline_serializer(
            "FeedPage",
            {
                "next": serializers.CharField(allow_null=True),
                "results": ActivitySerializer(many=True),
            },
        ),
    )
    def get(self, request):
        params = FeedParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = following.feed_page(
            user=request.user,
            before=params.validated_data["before"] or None,
            size=params.validated_data["page_size"],
        )
        next_url = None
        if page.next_before:
            query = urlencode(
                {"before": page.next_before, "page_size": params.validated_data["page_size"]}
            )
            next_url = request.build_absolute_uri(f"{request.path}?{query}")
        return Response(
            {"next": next_url, "results": ActivitySerializer(page.activities, many=True).data}
        )


class FeedParamsSerializer(serializers.Serializer):
    before = serializers.CharField(required=False, default="", max_length=40)
    page_size = serializers.IntegerField(required=False, default=20, min_value=1, max_value=100)
