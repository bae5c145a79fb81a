"""API twins of the purse pages: a challenge's purse and its rules (the award table), its
contributions (POST starts one and answers the payment to complete), the results' money flow,
a member's earnings and an offer's royalty preview. The services' refusals become the JSON
error shape."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from challenges import permissions as challenge_permissions
from challenges.models import Challenge

from .. import purse_selectors, selectors
from ..models import Contribution, Earning
from ..services import purses
from ..services.royalties import royalty_rate
from . import serializers as s
from .idempotency import idempotent
from .views import IDEMPOTENCY


def _challenge(request, slug: str) -> Challenge:
    challenge = get_object_or_404(Challenge, slug=slug)
    if not challenge_permissions.can_view_challenge(request.user, challenge):
        raise Http404
    return challenge


def _purse(request, slug: str):
    purse = purse_selectors.purse_for(_challenge(request, slug))
    if purse is None:
        raise Http404
    return purse


def _summary(purse) -> dict:
    summary = purse_selectors.purse_summary(purse)
    return s.PurseSerializer(summary).data


class PurseView(GenericAPIView):
    """A challenge's prize purse: its rules, what it holds, its state (open → locked → awarded;
    archived without winners: rolled_over to its follow-up `rollover_to`, or refunded)."""

    permission_classes = [permissions.AllowAny]
    serializer_class = s.PurseSerializer

    def get(self, request, slug: str):
        return Response(_summary(_purse(request, slug)))


class PurseRulesView(GenericAPIView):
    """Set the award table, the lineage share and the follow-up challenge the purse rolls over
    to without winners (organisers; all frozen once money is in)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = s.PurseRulesSerializer

    @extend_schema(request=s.PurseRulesSerializer, responses=s.PurseSerializer)
    def put(self, request, slug: str):
        challenge = _challenge(request, slug)
        serializer = s.PurseRulesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        rollover_to = None
        if data.get("rollover_to"):
            rollover_to = Challenge.objects.filter(slug=data["rollover_to"]).first()
            if rollover_to is None or not challenge_permissions.can_view_challenge(
                request.user, rollover_to
            ):
                raise ValidationError(
                    {"rollover_to": [_("No challenge you can see has this slug.")]}
                )
        purse = purses.purse_configure(
            challenge=challenge,
            by=request.user,
            mode=data["mode"],
            places=data.get("places", []),
            lineage_share=data.get("lineage_share"),
            rollover_to=rollover_to,
        )
        return Response(_summary(purse))


class ContributionsView(GenericAPIView):
    """The purse's backers (paid, refunded or rolled over; anonymous ones with an empty name),
    largest first. POST contributes: answers the payment to complete at its `checkout_url`; the fee
    (`fee_rate` of the purse) is taken on the way in."""

    serializer_class = s.ContributionSerializer

    def get_permissions(self):
        if self.request.method == "POST":
            return [permissions.IsAuthenticated()]
        return [permissions.AllowAny()]

    def get_queryset(self):
        return Contribution.objects.none()

    def get(self, request, slug: str):
        purse = _purse(request, slug)
        rows = purse.contributions.filter(state__in=purse_selectors.COUNTED).order_by(
            "-amount", "pk"
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.ContributionSerializer(page, many=True).data)

    @extend_schema(
        request=s.ContributeSerializer,
        responses={201: s.PaymentSerializer},
        parameters=[IDEMPOTENCY],
    )
    @idempotent
    def post(self, request, slug: str):
        challenge = _challenge(request, slug)
        serializer = s.ContributeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        purse_page = request.build_absolute_uri(reverse("marketplace:purse", kwargs={"slug": slug}))
        payment = purses.contribution_start(
            challenge=challenge,
            backer=request.user,
            amount=serializer.validated_data["amount"],
            public_name=serializer.validated_data.get("public_name", ""),
            return_url=purse_page,
        )
        data = s.PaymentSerializer(payment, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


class MoneyFlowView(GenericAPIView):
    """Where the purse's money went once the results published: every award kept and every
    lineage share, each with its reason and ledger key (empty before the award)."""

    permission_classes = [permissions.AllowAny]
    serializer_class = s.EarningSerializer

    def get_queryset(self):
        return Earning.objects.none()

    def get(self, request, slug: str):
        rows = purse_selectors.purse_earnings(_purse(request, slug)).select_related(
            "purse__challenge"
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.EarningSerializer(page, many=True).data)


class EarningsView(GenericAPIView):
    """Your prize awards, lineage shares and royalties, newest first (`?kind=` award, lineage
    or royalty). The money is in your balance (`/api/marketplace/balance/`) to pay out."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = s.EarningSerializer

    def get_queryset(self):
        return Earning.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=["award", "lineage", "royalty"], required=False)
        ],
        responses=s.EarningSerializer(many=True),  # a page of them (the pagination's envelope)
    )
    def get(self, request):
        rows = purse_selectors.earnings_of(request.user)
        kind = request.query_params.get("kind")
        if kind:
            if kind not in Earning.Kind.values:
                raise ValidationError({"kind": [_("Choose award, lineage or royalty.")]})
            rows = rows.filter(kind=kind)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.EarningSerializer(page, many=True).data)


class RoyaltyPreviewView(GenericAPIView):
    """What one order of this offer pays the authors its base solution was built on (taken from
    the seller's part, not added to the price); `total` 0 and no shares when nobody is owed."""

    permission_classes = [permissions.AllowAny]
    serializer_class = s.RoyaltyPreviewSerializer

    def get(self, request, pk: int):
        offer = selectors.offer_get(user=request.user, pk=pk)
        preview = purse_selectors.royalty_preview(offer)
        data = {
            "rate": royalty_rate(),
            "total": preview.pool if preview else 0,
            "shares": [
                {
                    "generation": payee.generation,
                    "solution": payee.solution_id,
                    "author": node.author.username,
                    "amount": amount,
                }
                for payee, amount, node in (preview.shares if preview else [])
            ],
        }
        return Response(s.RoyaltyPreviewSerializer(data).data)
