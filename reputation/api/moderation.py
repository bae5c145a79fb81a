"""API twins of the conduct loop (issue 21): flag an item, my flags and my record, the review
queue, a decision, an appeal, and the public moderation record. The rules stay in
reputation.moderation; refusals become the JSON error shape (peerhub.api.errors)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from peerhub.api.pagination import PageNumberPagination
from peerhub.exceptions import NotAllowed, NotFound

from ..models import Flag, FlagReason, ModerationAction, ModerationCase
from ..moderation import selectors, services

OUTCOMES = services.OUTCOMES


class FlagInputSerializer(serializers.Serializer):
    kind = serializers.CharField(
        max_length=24,
        help_text=_("solution, revision, comment, offer, order_message or profile."),
    )
    object_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    reason = serializers.ChoiceField(choices=FlagReason.choices)
    text = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="",
        help_text=_('What is wrong; required with reason "other".'),
    )  # fmt: skip


class FlagSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="case.kind", read_only=True)
    object_id = serializers.IntegerField(source="case.object_id", read_only=True)
    case_status = serializers.CharField(source="case.status", read_only=True)

    class Meta:
        model = Flag
        fields = [
            "id", "kind", "object_id", "reason", "text", "weight", "status", "case_status",
            "created_at", "resolved_at",
        ]  # fmt: skip
        read_only_fields = fields


class FlagRecordSerializer(serializers.Serializer):
    helpful = serializers.IntegerField()
    declined = serializers.IntegerField()
    pending = serializers.IntegerField()


class ReasonCountSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class QueueEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="case.pk")
    kind = serializers.CharField(source="case.kind")
    object_id = serializers.IntegerField(source="case.object_id")
    status = serializers.CharField(source="case.status")
    weight = serializers.DecimalField(source="case.weight", max_digits=8, decimal_places=2)
    opened_at = serializers.DateTimeField(source="case.opened_at")
    deferred_at = serializers.DateTimeField(source="case.deferred_at", allow_null=True)
    appeal = serializers.CharField(source="case.appeal")
    author = serializers.CharField(source="case.author.username")
    author_confirmed = serializers.IntegerField(
        help_text=_("The author's upheld or removed items.")
    )
    author_restored = serializers.IntegerField()
    excerpt = serializers.CharField()
    url = serializers.CharField()
    reasons = serializers.SerializerMethodField()
    flag_texts = serializers.ListField(child=serializers.CharField())

    @extend_schema_field(ReasonCountSerializer(many=True))
    def get_reasons(self, entry) -> list[dict]:
        return [{"reason": reason, "count": count} for reason, count in entry.reasons]


class DecisionInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=list(OUTCOMES),
        help_text=_("hide or remove (agree), restore (disagree), or defer."),
    )


class AppealInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)


class CaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModerationCase
        fields = ["id", "kind", "object_id", "status", "reason", "weight", "decided_at"]
        read_only_fields = fields


class ModerationActionSerializer(serializers.ModelSerializer):
    """Public: never the flagger's or the moderator's name."""

    kind = serializers.CharField(source="case.kind", read_only=True)

    class Meta:
        model = ModerationAction
        fields = ["id", "kind", "action", "reason", "role", "created_at"]
        read_only_fields = fields


class FlagListView(generics.GenericAPIView):
    """The member's flags, newest first, with their outcome. POST flags an item: once per item,
    never one's own; 201 with the flag."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = FlagSerializer
    pagination_class = PageNumberPagination
    filter_backends = []

    def get_queryset(self):
        return selectors.flags_of(self.request.user)

    @extend_schema(responses=FlagSerializer(many=True))
    def get(self, request):
        rows = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(FlagSerializer(rows, many=True).data)

    @extend_schema(request=FlagInputSerializer, responses={201: FlagSerializer})
    def post(self, request):
        data = FlagInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flag = services.flag_create(flagger=request.user, **data.validated_data)
        return Response(FlagSerializer(flag).data, status=status.HTTP_201_CREATED)


class FlagRecordView(APIView):
    """How the member's flags fared: helpful, declined, awaiting review."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=FlagRecordSerializer)
    def get(self, request):
        return Response(selectors.flagger_record(request.user))


class ReviewQueueView(generics.GenericAPIView):
    """The review queue: pending cases the member may decide, with context. Staff and members
    at the moderation trust level only."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = QueueEntrySerializer
    pagination_class = PageNumberPagination
    filter_backends = []

    @extend_schema(responses=QueueEntrySerializer(many=True))
    def get(self, request):
        if not selectors.can_review_flags(request.user):
            raise NotAllowed(gettext("The review queue opens at the moderation trust level."))
        page = self.paginate_queryset(selectors.review_queue(user=request.user))
        entries = selectors.queue_entries(page)
        return self.get_paginated_response(QueueEntrySerializer(entries, many=True).data)


def _case(pk: int) -> ModerationCase:
    case = ModerationCase.objects.filter(pk=pk).first()
    if case is None:
        raise NotFound(gettext("No such case."))
    return case


class CaseDecisionView(APIView):
    """Decide a pending case: hide, remove, restore or defer."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=DecisionInputSerializer, responses=CaseSerializer)
    def post(self, request, pk: int):
        case = _case(pk)
        if not selectors.can_review_flags(request.user):
            raise NotAllowed(gettext("You may not review this item."))
        data = DecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_decide(
            case=case, by=request.user, outcome=data.validated_data["outcome"]
        )
        return Response(CaseSerializer(case).data)


class CaseAppealView(APIView):
    """The author of a hidden item asks for another look."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=AppealInputSerializer, responses=CaseSerializer)
    def post(self, request, pk: int):
        case = _case(pk)
        if not selectors.can_view_case(request.user, case):
            raise NotFound(gettext("No such case."))
        data = AppealInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_appeal(case=case, by=request.user, text=data.validated_data["text"])
        return Response(CaseSerializer(case).data)


class ModerationLogView(generics.ListAPIView):
    """The public moderation record, newest first: kind of item, action, rule, role, time."""

    permission_classes = [permissions.AllowAny]
    serializer_class = ModerationActionSerializer
    pagination_class = PageNumberPagination
    filter_backends = []

    def get_queryset(self):
        return selectors.moderation_log()
