"""API twins of the marketplace pages. Orders are 404 to anyone but their buyer, seller and
staff; the services' refusals become the JSON error shape; POSTs that move money accept an
`Idempotency-Key` (marketplace.api.idempotency)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import Prefetch
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from challenges import artefacts
from challenges.api.serializers import attachments_of
from challenges.api.views import MentionSuggestionSerializer
from challenges.pagecache import api_as_visitors_see
from peerhub import history
from peerhub.api.errors import error_body
from peerhub.api.schema import ErrorSerializer
from peerhub.api.serializers import EditVersionSerializer, edit_history_data
from peerhub.exceptions import DomainError, TooLarge
from peerhub.pagecache import Fragments

from .. import permissions as perms
from .. import selectors, services
from ..filters import OfferFilter, OrderFilter
from ..models import (
    Offer,
    Order,
    OrderEvent,
    OrderMessage,
    OrderMessageFile,
    Payout,
    Plan,
    ProviderEvent,
    Refund,
    Subscription,
)
from ..pagecache import OFFER_LIST_SCOPES, orders_scope
from ..plans import plans_ensure
from ..services import payments as payment_services
from . import serializers as s
from .idempotency import idempotent

IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Repeat a request safely: the first answer is replayed; the same key with "
    "different parameters is refused with 422.",
)


class _ViewSet(viewsets.GenericViewSet):
    filter_backends = [DjangoFilterBackend]

    def parse(self, serializer_class, *, partial=False) -> dict:
        serializer = serializer_class(
            data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def answer(self, serializer_class, instance, *, status_code=status.HTTP_200_OK):
        data = serializer_class(instance, context=self.get_serializer_context()).data
        return Response(data, status=status_code)


class PlanViewSet(viewsets.ReadOnlyModelViewSet):
    """Free and Premium, with their prices in minor units."""

    queryset = Plan.objects.all()
    serializer_class = s.PlanSerializer

    def get_queryset(self):
        return plans_ensure()

    permission_classes = [permissions.AllowAny]
    lookup_field = "code"
    filter_backends = []


class SubscriptionViewSet(_ViewSet):
    """Your subscriptions. POST subscribes to Premium and answers the payment to complete at
    its `checkout_url`; cancel ends it at the end of the paid period; resume undoes that; pay
    starts a checkout for a renewal that is past due."""

    serializer_class = s.SubscriptionSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Subscription.objects.none()
        return self.request.user.subscriptions.select_related("plan")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.SubscriptionSerializer(page, many=True).data)

    @extend_schema(
        request=s.SubscribeSerializer,
        responses={201: s.PaymentSerializer},
        parameters=[IDEMPOTENCY],
    )
    @idempotent
    def create(self, request):
        interval = self.parse(s.SubscribeSerializer)["interval"]
        payment = services.subscription_start(user=request.user, interval=interval)
        return self.answer(s.PaymentSerializer, payment, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.SubscriptionSerializer)
    @action(detail=False, methods=["post"])
    def cancel(self, request):
        return self.answer(
            s.SubscriptionSerializer, services.subscription_cancel(user=request.user)
        )

    @extend_schema(request=None, responses=s.SubscriptionSerializer)
    @action(detail=False, methods=["post"])
    def resume(self, request):
        return self.answer(
            s.SubscriptionSerializer, services.subscription_resume(user=request.user)
        )

    @extend_schema(request=None, responses=s.PaymentSerializer, parameters=[IDEMPOTENCY])
    @action(detail=False, methods=["post"])
    @idempotent
    def pay(self, request):
        payment = services.subscription_pay_renewal(user=request.user)
        return self.answer(s.PaymentSerializer, payment)


class OfferViewSet(_ViewSet):
    """Hand-made services. Anyone browses; members with the `marketplace.add_offer` privilege
    (a trust level) list services; sellers edit, pause (`is_active: false`) and resume them."""

    serializer_class = s.OfferSerializer
    filterset_class = OfferFilter
    queryset = Offer.objects.none()

    def get_queryset(self):
        return selectors.offer_list(user=self.request.user)

    def list(self, request):
        def answer(user) -> Response:
            # The list's filters, as DjangoFilterBackend applies them, for `user`.
            filterset = OfferFilter(
                request.query_params, queryset=Offer.objects.none(), request=request, viewer=user
            )
            if not filterset.is_valid():
                raise translate_validation(filterset.errors)
            page = self.paginate_queryset(filterset.qs)
            return self.get_paginated_response(s.OfferSerializer(page, many=True).data)

        return api_as_visitors_see(
            request,
            OFFER_LIST_SCOPES,
            "api-offers",
            answer,
            alike=lambda: selectors.lists_like_a_visitor(request.user),
        )

    def retrieve(self, request, pk=None):
        return self.answer(s.OfferSerializer, self._offer(pk))

    def _offer(self, pk):
        try:
            return selectors.offer_get(user=self.request.user, pk=int(pk))
        except ValueError as error:
            raise Http404 from error

    @extend_schema(request=s.OfferWriteSerializer, responses={201: s.OfferSerializer})
    def create(self, request):
        data = self.parse(s.OfferWriteSerializer)
        offer = services.offer_create(seller=request.user, **data)
        return self.answer(s.OfferSerializer, self._offer(offer.pk), status_code=201)

    @extend_schema(responses=EditVersionSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request, pk=None):
        """Every version of the offer (its words, price, delivery, pause): the first as first
        listed, then each edit. 404 while moderation hides it, except to its seller."""
        offer = self._offer(pk)
        if not perms.can_read_offer_words(request.user, offer):
            raise Http404(_("No such offer."))
        return Response(edit_history_data(history.versions(offer)))

    @extend_schema(request=s.OfferWriteSerializer, responses=s.OfferSerializer)
    def partial_update(self, request, pk=None):
        offer = self._offer(pk)
        data = self.parse(s.OfferWriteSerializer, partial=True)
        services.offer_update(offer=offer, by=request.user, **data)
        return self.answer(s.OfferSerializer, self._offer(pk))


class OrderViewSet(_ViewSet):
    """Your orders, as buyer or seller (staff: all). POST places one (a brief is required);
    then the steps: pay (buyer) → start, deliver (seller) → accept or dispute (buyer); cancel
    before payment (either side) or, with a full refund, once a paid order is past its
    `start_by` unstarted (buyer); decline with a full refund (seller); resolve a dispute
    (staff). `money` says what happened to the money, row by row."""

    serializer_class = s.OrderSerializer
    filterset_class = OrderFilter
    permission_classes = [permissions.IsAuthenticated]
    queryset = Order.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        briefs = OrderMessage.objects.filter(is_brief=True).prefetch_related(
            Prefetch("files", queryset=OrderMessageFile.objects.select_related("blob"))
        )
        events = selectors.with_names(OrderEvent.objects.all(), "actor")
        orders = selectors.order_rows(selectors.orders_visible_to(self.request.user))
        return orders.prefetch_related(
            Prefetch("events", queryset=events),
            "refunds",
            Prefetch("messages", queryset=briefs, to_attr="brief_messages"),
        )

    def get_object(self):
        try:
            return selectors.order_get(user=self.request.user, pk=int(self.kwargs["pk"]))
        except ValueError as error:
            raise Http404 from error

    def list(self, request):
        def answer() -> dict:
            page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
            data = self.get_paginated_response(s.OrderSerializer(page, many=True).data).data
            return {**data, "results": list(data["results"])}  # plain: it pickles

        if perms.is_staff(request.user):  # everyone's orders: read live
            return Response(answer())
        # The member's own, kept like their orders page (marketplace.pagecache.orders_scope),
        # one copy per query string (its links are absolute).
        kept = Fragments(request, [orders_scope(request.user.pk)])
        return Response(
            kept.value("api-orders", (request.user.pk, request.build_absolute_uri()), answer)
        )

    def retrieve(self, request, pk=None):
        return self.answer(s.OrderSerializer, self.get_object())

    @extend_schema(
        request=s.OrderCreateSerializer,
        responses={201: s.OrderSerializer},
        parameters=[IDEMPOTENCY],
    )
    @idempotent
    def create(self, request):
        data = self.parse(s.OrderCreateSerializer)
        offer = selectors.offer_get(user=request.user, pk=data["offer"].pk)
        order = services.order_place(
            buyer=request.user,
            offer=offer,
            brief=data["brief"],
            uploads=data.get("files", []),
            attachments=attachments_of(data),
        )
        return self.answer(s.OrderSerializer, order, status_code=status.HTTP_201_CREATED)

    def _step(self, service, **kwargs):
        order = service(order=self.get_object(), by=self.request.user, **kwargs)
        return self.answer(s.OrderSerializer, order)

    @extend_schema(request=None, responses=s.PaymentSerializer, parameters=[IDEMPOTENCY])
    @action(detail=True, methods=["post"])
    @idempotent
    def pay(self, request, pk=None):
        """Start paying (buyer): answers the payment; complete it at its `checkout_url`. A
        repeat while it is pending answers the same payment."""
        payment = services.order_pay(order=self.get_object(), by=request.user)
        return self.answer(s.PaymentSerializer, payment)

    @extend_schema(request=None, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._step(services.order_start)

    @extend_schema(request=s.DeliverSerializer, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        data = self.parse(s.DeliverSerializer)
        return self._step(
            services.order_deliver,
            message=data["message"],
            links=data.get("links", []),
            uploads=data.get("files", []),
        )

    @extend_schema(request=None, responses=s.OrderSerializer, parameters=[IDEMPOTENCY])
    @action(detail=True, methods=["post"])
    @idempotent
    def accept(self, request, pk=None):
        return self._step(services.order_accept)

    @extend_schema(request=s.DisputeSerializer, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def dispute(self, request, pk=None):
        return self._step(services.order_dispute, reason=self.parse(s.DisputeSerializer)["reason"])

    @extend_schema(request=None, responses=s.OrderSerializer, parameters=[IDEMPOTENCY])
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, pk=None):
        """Cancel before payment (buyer or seller), or get the full price back from a paid
        order the seller has not started by its `start_by` (buyer; 409 before then)."""
        return self._step(services.order_cancel)

    @extend_schema(request=None, responses=s.OrderSerializer, parameters=[IDEMPOTENCY])
    @action(detail=True, methods=["post"])
    @idempotent
    def decline(self, request, pk=None):
        return self._step(services.order_decline)

    @extend_schema(
        request=s.ResolveSerializer, responses=s.OrderSerializer, parameters=[IDEMPOTENCY]
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def resolve(self, request, pk=None):
        data = self.parse(s.ResolveSerializer)
        return self._step(
            services.order_resolve,
            resolution=data["resolution"],
            buyer_amount=data.get("buyer_amount"),
            note=data.get("note", ""),
        )

    @extend_schema(methods=["get"], request=None, responses=s.OrderMessageSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=s.OrderMessageSerializer,
        responses={201: s.OrderMessageSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def messages(self, request, pk=None):
        """The thread between buyer and seller (the delivery is a message too)."""
        order = self.get_object()
        if request.method == "POST":
            data = self.parse(s.OrderMessageSerializer)
            message = services.order_message_post(
                order=order, by=request.user, body=data["body"], uploads=data.get("upload", [])
            )
            return self.answer(s.OrderMessageSerializer, message, status_code=201)
        page = self.paginate_queryset(selectors.order_messages(order))
        context = self.get_serializer_context()
        return self.get_paginated_response(
            s.OrderMessageSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("message", int, OpenApiParameter.PATH),
            OpenApiParameter("path", str, OpenApiParameter.PATH, description="The file's name."),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file, as an attachment with nosniff and a sandboxing CSP.",
            ),
            404: OpenApiResponse(description="No such order, message or file."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"messages/(?P<message>[0-9]{1,18})/files/(?P<path>[^/]+)",
        url_name="message-file",
        filter_backends=[],
    )
    def message_file(self, request, pk=None, message=None, path=None):
        """A file of a message or delivery: the buyer, the seller and staff only."""
        order = self.get_object()
        entry = (
            OrderMessageFile.objects.select_related("blob")
            .filter(message__order=order, message_id=int(message), path=path)
            .first()
        )
        if entry is None:
            raise Http404(_("No such file."))
        return artefacts.serve_blob(request, entry.blob, entry.path, public=False, download=True)

    @extend_schema(request=s.OrderReviewSerializer, responses={201: s.OrderReviewSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """The buyer reviews a completed order, once: a rating from 1 to 5 and a text."""
        data = self.parse(s.OrderReviewSerializer)
        review = services.order_review_save(
            order=self.get_object(),
            by=request.user,
            rating=data["rating"],
            text=data.get("text", ""),
        )
        return self.answer(s.OrderReviewSerializer, review, status_code=201)


class PayoutViewSet(_ViewSet):
    """Your payouts. POST pays out `amount` (minor units; default everything available)."""

    serializer_class = s.PayoutSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Payout.objects.none()
        if perms.is_staff(self.request.user):
            return Payout.objects.order_by("-created_at", "-pk")
        return self.request.user.payouts.all()

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.PayoutSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self.answer(s.PayoutSerializer, self.get_object())

    @extend_schema(request=None, responses=s.PayoutSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Staff: send a failed payout again (a fresh round of attempts, the same key)."""
        payout = services.transfer_retry(transfer=self.get_object(), by=request.user)
        return self.answer(s.PayoutSerializer, payout)

    @extend_schema(
        request=s.PayoutRequestSerializer,
        responses={201: s.PayoutSerializer},
        parameters=[IDEMPOTENCY],
    )
    @idempotent
    def create(self, request):
        data = self.parse(s.PayoutRequestSerializer)
        payout = services.payout_request(
            seller=request.user, amount=data.get("amount"), currency=data.get("currency", "")
        )
        return self.answer(s.PayoutSerializer, payout, status_code=201)


class RefundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ViewSet):
    """Refunds of your payments (staff: all), with their state and attempts. Staff may send a
    failed one again (`retry`): a fresh round of attempts with the same idempotency key."""

    serializer_class = s.RefundSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []
    queryset = Refund.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Refund.objects.none()
        refunds = Refund.objects.all()
        if not perms.is_staff(self.request.user):
            refunds = refunds.filter(payment__payer=self.request.user)
        return refunds.order_by("-created_at", "-pk")

    @extend_schema(request=None, responses=s.RefundSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        refund = services.transfer_retry(transfer=self.get_object(), by=request.user)
        return self.answer(s.RefundSerializer, refund)


class ProviderEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ViewSet):
    """Staff: every provider event with its state and attempts; `?state=mismatched` lists
    those for staff. `dismiss` marks a flagged event reviewed (it moved no money)."""

    serializer_class = s.ProviderEventSerializer
    permission_classes = [permissions.IsAdminUser]
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["state", "provider"]
    queryset = ProviderEvent.objects.order_by("-received_at", "-pk")

    @extend_schema(request=s.DismissSerializer, responses=s.ProviderEventSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        note = self.parse(s.DismissSerializer).get("note", "")
        event = services.provider_event_dismiss(event=self.get_object(), by=request.user, note=note)
        return self.answer(s.ProviderEventSerializer, event)


class BalanceView(APIView):
    """Your payable balance per currency: available now, and paid out so far."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=s.BalanceSerializer(many=True))
    def get(self, request):
        rows = [
            {"currency": currency, **figures}
            for currency, figures in selectors.balance_of(request.user).items()
        ]
        return Response(s.BalanceSerializer(rows, many=True).data)


@csrf_exempt
@require_POST
def payment_webhook(request, provider: str):
    """Where the configured provider notifies payments (outside DRF: the raw body is what is
    signed). The verified event is stored and answered with a 2xx at once; a worker applies
    it. Anything not genuine gets a 4xx with the API's JSON error shape, never a 500, so a
    provider does not retry it into a loop."""
    if provider != settings.PEERHUB_MARKETPLACE["payment_provider"]:
        return _webhook_error(404, "not_found", "No such provider.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    try:
        payment_services.notification_size_check(declared)  # before reading the body
        try:
            body = request.body
        except RequestDataTooBig as error:
            raise TooLarge("The notification is too large.") from error
        outcome = services.notification_receive(
            provider_name=provider, body=body, headers=request.headers
        )
    except DomainError as error:
        return _webhook_error(error.status_code, error.code, error.message)
    return JsonResponse({"received": True, "outcome": outcome})


def _webhook_error(status_code: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        error_body(status_code=status_code, code=code, message=message), status=status_code
    )


class MentionSuggestionsView(APIView):
    """Members to @mention while writing an order's brief or messages (its buyer, seller and
    staff only) or an offer's description (whoever may see it; without `offer`, a new one).
    The editor's autocomplete asks this as you type `@`."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="The start of a username or display name."),
            OpenApiParameter("order", int, description="The id of the order."),
            OpenApiParameter("offer", int, description="The id of the offer."),
        ],
        responses={
            200: MentionSuggestionSerializer(many=True),
            404: OpenApiResponse(
                ErrorSerializer, description="No order or offer the member may see."
            ),
        },
    )
    def get(self, request):
        members = selectors.mention_suggestions_for(
            user=request.user,
            order=request.query_params.get("order", ""),
            offer=request.query_params.get("offer", ""),
            query=request.query_params.get("q", ""),
        )
        return Response(MentionSuggestionSerializer(members, many=True).data)
