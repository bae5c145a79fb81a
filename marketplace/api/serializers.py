"""Serializers of the marketplace API: outputs shape what selectors return, inputs only parse;
the rules stay in the services. Money is integer minor units with a currency code."""

from decimal import Decimal
from functools import cached_property

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse as rf_reverse

from challenges.api.serializers import AttachSerializer, UserRefSerializer
from challenges.models import Solution
from challenges.permissions import solutions_visible_to
from peerhub import limits
from peerhub.api.fields import PlainCharField
from peerhub.moderation import HiddenFieldsMixin

from .. import selectors
from ..models import (
    Earning,
    Offer,
    Order,
    OrderEvent,
    OrderMessage,
    OrderMessageFile,
    OrderReview,
    Payment,
    Payout,
    Plan,
    ProviderEvent,
    Refund,
    Subscription,
)


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = ["code", "name", "description", "monthly_price", "yearly_price", "currency",
                  "is_premium"]  # fmt: skip
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    checkout_url = serializers.SerializerMethodField(
        help_text="Where the payer completes the payment (absolute); empty while there is none."
    )

    class Meta:
        model = Payment
        fields = ["id", "provider", "status", "amount", "currency", "checkout_url",
                  "idempotency_key", "order", "subscription", "contribution",
                  "created_at"]  # fmt: skip
        read_only_fields = fields

    def get_checkout_url(self, payment: Payment) -> str:
        # The sandbox checks out on our own pages (a path); a real provider answers a full URL.
        request = self.context.get("request")
        if payment.checkout_url.startswith("/") and request is not None:
            return request.build_absolute_uri(payment.checkout_url)
        return payment.checkout_url


class SubscriptionSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Subscription
        fields = ["id", "plan", "interval", "status", "price", "currency", "current_period_start",
                  "current_period_end", "cancel_at_period_end", "grace_until", "created_at",
                  "ended_at"]  # fmt: skip
        read_only_fields = fields


class SubscribeSerializer(serializers.Serializer):
    interval = serializers.ChoiceField(choices=Subscription.Interval.choices)


class OfferSerializer(HiddenFieldsMixin, serializers.ModelSerializer):
    hidden_fields = ("title", "description")
    author_field = "seller_id"
    hidden_reason = serializers.CharField(
        read_only=True, help_text="Why moderation hid it; empty when shown."
    )
    seller = UserRefSerializer(read_only=True)
    seller_level = serializers.IntegerField(read_only=True)
    completed_orders = serializers.IntegerField(source="completed", read_only=True)
    active_orders = serializers.IntegerField(source="active", read_only=True)
    rating = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Offer
        fields = ["id", "seller", "seller_level", "title", "description", "base_solution",
                  "price", "currency", "delivery_days", "capacity", "is_active",
                  "completed_orders", "active_orders", "rating", "created_at",
                  "updated_at", "hidden_reason"]  # fmt: skip
        read_only_fields = fields


class VisibleSolutionField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return solutions_visible_to(self.context["request"].user)


class OfferWriteSerializer(serializers.ModelSerializer):
    title = PlainCharField(max_length=limits.OFFER_TITLE)
    base_solution = VisibleSolutionField(
        queryset=Solution.objects.none(), required=False, allow_null=True
    )

    class Meta:
        model = Offer
        fields = ["title", "description", "base_solution", "price", "currency", "delivery_days",
                  "capacity", "is_active"]  # fmt: skip
        extra_kwargs = {"currency": {"required": False}}


class OrderEventSerializer(serializers.ModelSerializer):
    actor = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = OrderEvent
        fields = ["from_state", "to_state", "actor", "note", "created_at"]
        read_only_fields = fields

    def to_representation(self, event: OrderEvent) -> dict:
        """What the fields above give (a test compares the two), written out: a list of 25
        orders carries a few hundred events, and the generic walk over each one's fields and
        its actor's nested serializer cost more than the rest of the list."""
        actor = event.actor
        return {
            "from_state": event.from_state,
            "to_state": event.to_state,
            "actor": None if actor is None else {"username": actor.username, "name": actor.name},
            "note": event.note,
            "created_at": self.fields["created_at"].to_representation(event.created_at),
        }


class OrderReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderReview
        fields = ["rating", "text", "created_at"]
        read_only_fields = ["created_at"]


class MoneyRowSerializer(serializers.Serializer):
    """One line of the order's money panel (selectors.order_money_summary)."""

    key = serializers.CharField(
        help_text="price, held, fee_expected, seller_expected, refunded, returned, "
        "seller_paid, fee_kept or charged"
    )
    label = serializers.CharField()
    amount = serializers.IntegerField(help_text="Minor units, in the order's currency.")
    status = serializers.CharField(
        help_text="Empty when done; expected (before settlement), on_its_way, refunded or "
        "failed (a refund's progress)"
    )


class OrderFileSerializer(serializers.Serializer):
    path = serializers.CharField()
    size = serializers.IntegerField(source="blob.size")
    content_type = serializers.CharField(source="blob.content_type")
    sha256 = serializers.CharField(source="blob.sha256")
    url = serializers.SerializerMethodField()

    def get_url(self, item) -> str:
        return rf_reverse(
            "api-order-message-file",
            kwargs={"pk": item.message.order_id, "message": item.message_id, "path": item.path},
            request=self.context.get("request"),
        )


class OrderSerializer(serializers.ModelSerializer):
    buyer = UserRefSerializer(read_only=True)
    seller = UserRefSerializer(read_only=True)
    timeline = OrderEventSerializer(source="events", many=True, read_only=True)
    money = serializers.SerializerMethodField()
    brief_files = serializers.SerializerMethodField(
        help_text="The files given with the brief (also on the thread's first message)."
    )

    class Meta:
        model = Order
        fields = ["id", "offer", "base_solution", "buyer", "seller", "state", "title", "brief",
                  "price", "currency", "fee_rate", "fee", "resolution", "refunded_amount",
                  "released_amount", "fee_collected", "money", "created_at", "paid_at",
                  "start_by", "delivered_at", "auto_complete_at", "completed_at",
                  "wash_suspected", "brief_files", "timeline"]  # fmt: skip
        read_only_fields = fields

    # One instance of each nested serializer for the whole list: building one per order (its
    # fields copied each time) cost more than the rows it writes.
    @cached_property
    def _money_row(self) -> MoneyRowSerializer:
        return MoneyRowSerializer()

    @cached_property
    def _brief_file(self) -> OrderFileSerializer:
        return OrderFileSerializer(context=self.context)

    @extend_schema_field(MoneyRowSerializer(many=True))
    def get_money(self, order: Order) -> list[dict]:
        rows = selectors.order_money_summary(order)
        return [self._money_row.to_representation(row) for row in rows]

    @extend_schema_field(OrderFileSerializer(many=True))
    def get_brief_files(self, order: Order) -> list[dict]:
        briefs = getattr(order, "brief_messages", None)  # prefetched by the list
        if briefs is None:
            files = OrderMessageFile.objects.filter(
                message__order=order, message__is_brief=True
            ).select_related("blob", "message")
        else:
            files = [file for message in briefs for file in message.files.all()]
        return [self._brief_file.to_representation(file) for file in files]


ORDER_FILES_HELP = (
    "Files (multipart/form-data, the field repeated): documents, data, images, ZIP. Checked "
    "like a solution's files; only the buyer, the seller and staff may fetch them."
)


def _order_files_field():
    return serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        required=False,
        write_only=True,
        help_text=ORDER_FILES_HELP,
    )


class OrderCreateSerializer(serializers.Serializer):
    offer = serializers.PrimaryKeyRelatedField(queryset=Offer.objects.all())
    # Required here too, so a client hears it as a field error (order_place refuses it anyway).
    brief = serializers.CharField(
        max_length=limits.ORDER_BRIEF,
        help_text="What the buyer needs, for whom and by when (Markdown). Required.",
        error_messages={
            "required": gettext_lazy("Tell the seller what you need: the brief is required."),
            "blank": gettext_lazy("Tell the seller what you need: the brief is required."),
        },
    )
    files = _order_files_field()
    attach = serializers.ListField(
        child=AttachSerializer(),
        required=False,
        max_length=100,
        help_text="Your earlier uploads (POST /api/uploads/) to attach to the brief, by id "
        "(send the request as JSON); only your own, each attached once.",
    )


class DeliverSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=limits.ORDER_MESSAGE)
    links = serializers.ListField(
        child=serializers.CharField(max_length=limits.DELIVERY_LINK), required=False
    )
    files = _order_files_field()


class DisputeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=limits.DISPUTE_REASON)


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=Order.Resolution.choices)
    buyer_amount = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class OrderMessageSerializer(HiddenFieldsMixin, serializers.ModelSerializer):
    hidden_fields = ("body",)
    hidden_reason = serializers.CharField(
        read_only=True, help_text="Why moderation hid it; empty when shown."
    )
    author = UserRefSerializer(read_only=True)
    files = OrderFileSerializer(many=True, read_only=True)
    upload = _order_files_field()

    class Meta:
        model = OrderMessage
        fields = [
            "id", "author", "body", "links", "is_delivery", "is_brief", "created_at", "files",
            "upload", "hidden_reason",
        ]  # fmt: skip
        read_only_fields = [
            "id", "author", "links", "is_delivery", "is_brief", "created_at", "files",
            "hidden_reason",
        ]  # fmt: skip
        extra_kwargs = {"body": {"max_length": limits.ORDER_MESSAGE}}


class PayoutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payout
        fields = ["id", "amount", "currency", "provider", "provider_reference", "state",
                  "attempts", "created_at", "done_at"]  # fmt: skip
        read_only_fields = fields


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["id", "payment", "order", "amount", "currency", "provider", "state",
                  "attempts", "last_error", "provider_reference", "created_at",
                  "done_at"]  # fmt: skip
        read_only_fields = fields


class ProviderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProviderEvent
        fields = ["id", "provider", "event_id", "kind", "state", "reported", "payment",
                  "amount", "currency", "outcome", "attempts", "last_error", "received_at",
                  "applied_at"]  # fmt: skip
        read_only_fields = fields


class DismissSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=120)


class PayoutRequestSerializer(serializers.Serializer):
    amount = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    currency = serializers.CharField(required=False, allow_blank=True, max_length=3)


class BalanceSerializer(serializers.Serializer):
    currency = serializers.CharField()
    available = serializers.IntegerField()
    paid_out = serializers.IntegerField()


# --- Prize purses and lineage money (issue 20) ---------------------------------------------------


class PurseRolloverSerializer(serializers.Serializer):
    """A purse without winners moved whole into its follow-up's purse."""

    from_challenge = serializers.CharField(source="from_purse.challenge.slug")
    to_challenge = serializers.CharField(source="to_purse.challenge.slug")
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()


class PurseSerializer(serializers.Serializer):
    """A challenge's purse: its rules, what it holds, and whether it still takes money."""

    challenge = serializers.CharField(source="purse.challenge.slug")
    currency = serializers.CharField(source="purse.currency")
    mode = serializers.CharField(source="purse.mode", help_text="places or equal")
    places = serializers.ListField(
        child=serializers.IntegerField(), source="purse.places",
        help_text="Percent per place, first place first (mode places).",
    )  # fmt: skip
    lineage_share = serializers.DecimalField(
        max_digits=4, decimal_places=3, source="purse.lineage_share",
        help_text="The part of each award paid up the winner's lineage (0 to 0.5).",
    )  # fmt: skip
    state = serializers.CharField(source="purse.state")
    held = serializers.IntegerField(help_text="Net of fees: in escrow, or awarded.")
    raised = serializers.IntegerField(help_text="What backers paid, fees included.")
    fees = serializers.IntegerField()
    backers = serializers.IntegerField()
    fee_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    min_contribution = serializers.IntegerField()
    frozen = serializers.BooleanField(help_text="The rules no longer change: money is in.")
    locked_at = serializers.DateTimeField(source="purse.locked_at", allow_null=True)
    rollover_to = serializers.CharField(
        source="purse.rollover_to.slug", allow_null=True,
        help_text="The follow-up challenge's slug: archived without published winners, the "
        "purse rolls over into its purse (refunds instead if it no longer takes money). "
        "Null: every backer is refunded.",
    )  # fmt: skip
    rolled_in = serializers.IntegerField(
        help_text="Part of `held`: what purses without winners rolled over into this one."
    )
    rollovers_in = PurseRolloverSerializer(many=True, help_text="Largest first.")
    rolled_out = PurseRolloverSerializer(
        allow_null=True, help_text="State rolled_over: where this purse went."
    )


class PurseRulesSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=["places", "equal"])
    places = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=100), required=False, max_length=10
    )
    lineage_share = serializers.DecimalField(
        max_digits=4, decimal_places=3, min_value=0, max_value=Decimal("0.5"), required=False
    )
    rollover_to = serializers.SlugField(
        required=False, allow_null=True, allow_blank=True, max_length=255, allow_unicode=True,
        help_text="A follow-up challenge you organise (its slug), before its results: the "
        "purse rolls over to it if no winner is published. Null or omitted: refunds.",
    )  # fmt: skip


class ContributionSerializer(serializers.Serializer):
    """A backer as the purse shows them: the public name (empty: anonymous) and the amount."""

    public_name = serializers.CharField()
    amount = serializers.IntegerField()
    state = serializers.CharField()
    paid_at = serializers.DateTimeField(allow_null=True)


class ContributeSerializer(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1, help_text="Minor units, the fee included.")
    public_name = serializers.CharField(max_length=60, required=False, allow_blank=True)


class EarningSerializer(serializers.ModelSerializer):
    """One payment along the lineage: an award kept, a lineage share, a royalty."""

    beneficiary = serializers.CharField(source="beneficiary.username")
    challenge = serializers.SerializerMethodField()
    reason = serializers.CharField(help_text="Why it was paid, in the reader's language.")
    ledger_key = serializers.CharField(source="transaction.key")

    class Meta:
        model = Earning
        fields = ["id", "kind", "beneficiary", "amount", "currency", "challenge", "order",
                  "solution", "node", "generation", "place", "award_gross", "reason",
                  "ledger_key", "created_at"]  # fmt: skip
        read_only_fields = fields

    def get_challenge(self, earning: Earning) -> str | None:
        return earning.purse.challenge.slug if earning.purse_id else None


class RoyaltyShareSerializer(serializers.Serializer):
    generation = serializers.IntegerField()
    solution = serializers.IntegerField()
    author = serializers.CharField()
    amount = serializers.IntegerField()


class RoyaltyPreviewSerializer(serializers.Serializer):
    """What one order of the offer pays up its base solution's lineage, from the seller's part."""

    rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    total = serializers.IntegerField()
    shares = RoyaltyShareSerializer(many=True)
