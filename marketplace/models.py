"""Plans, offers, orders, payments and the double-entry ledger (DESIGN.md, Revenue).

Money is always an integer number of minor units (cents) with an ISO currency code. Balances are
never stored: they are the sum of ledger entries (marketplace.ledger)."""

import re

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Cast, Greatest, Now
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_noop, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from challenges.models import rendered
from peerhub import limits

CURRENCY_MAX = 3


def default_currency() -> str:
    return settings.PEERHUB_MARKETPLACE["currency"]


# --- Plans and subscriptions ---------------------------------------------------------------


class Plan(models.Model):
    """Free or Premium. Prices are edited in the admin; the first migration writes the defaults
    from settings.PEERHUB_MARKETPLACE["plans"]."""

    FREE = "free"
    PREMIUM = "premium"

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=60)
    description = models.TextField(
        max_length=limits.PLAN_DESCRIPTION, blank=True, help_text="Markdown."
    )
    monthly_price = models.PositiveIntegerField(default=0, help_text="Minor units (cents).")
    yearly_price = models.PositiveIntegerField(default=0, help_text="Minor units (cents).")
    currency = models.CharField(max_length=CURRENCY_MAX, default=default_currency)
    is_premium = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            limits.length_check(
                "description",
                limits.PLAN_DESCRIPTION,
                name="marketplace_plan_description_max_length",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def price_for(self, interval: str) -> int:
        return self.yearly_price if interval == Subscription.Interval.YEARLY else self.monthly_price


class Subscription(models.Model):
    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", _("Waiting for the first payment")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Renewal failed: in the grace period")
        CANCELLED = "cancelled", pgettext_lazy("subscription status", "Cancelled")
        LAPSED = "lapsed", _("Lapsed after a failed renewal")

    class Interval(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        YEARLY = "yearly", _("Yearly")

    LIVE = (Status.ACTIVE, Status.PAST_DUE)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    interval = models.CharField(max_length=10, choices=Interval, default=Interval.MONTHLY)
    status = models.CharField(max_length=12, choices=Status, default=Status.INCOMPLETE)
    price = models.PositiveIntegerField(help_text="Snapshot of the plan's price, minor units.")
    currency = models.CharField(max_length=CURRENCY_MAX)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    grace_until = models.DateTimeField(null=True, blank=True)
    # Sandbox only: a card that declines renewals, to rehearse the grace period and the lapse.
    sandbox_declines_renewal = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=["active", "past_due", "incomplete"]),
                name="marketplace_one_open_subscription_per_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.plan} ({self.get_status_display()})"


# --- Offers and orders ---------------------------------------------------------------------


def offer_rating_rank():
    """The mean rating from an offer's tallies, 0 when unrated (below any rating): the
    "best rated" order of the listing, and the expression of the index that serves it."""
    return Cast("rating_sum", models.FloatField()) / Greatest("rating_count", Value(1))


class Offer(models.Model):
    """A hand-made service sold by a trusted member."""

    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offers"
    )
    title = models.CharField(max_length=limits.OFFER_TITLE)
    description = models.TextField(max_length=limits.OFFER_DESCRIPTION, help_text=_("Markdown."))
    # `description` rendered when written, @mentions linked (peerhub.mentions).
    description_html = models.TextField(blank=True, default="", editable=False)
    base_solution = models.ForeignKey(
        "challenges.Solution",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="offers",
        help_text=_("The solution this service adapts: its page shows “hire the author”."),
    )
    price = models.PositiveIntegerField(help_text="Minor units (cents).")
    currency = models.CharField(max_length=CURRENCY_MAX, default=default_currency)
    delivery_days = models.PositiveSmallIntegerField()
    capacity = models.PositiveSmallIntegerField(
        default=1, help_text=_("How many orders may be active at once.")
    )
    is_active = models.BooleanField(default=True, help_text=_("Paused offers take no new orders."))
    # Hidden by moderation (issue 21, peerhub.moderation): the public stub says why.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Tallies kept by the order services (services/tallies.py), so that the listing reads them
    # from the row instead of grouping every offer's orders and reviews; the
    # `offer_tallies_rebuild` command recounts them.
    completed_orders = models.PositiveIntegerField(default=0, editable=False)
    rating_count = models.PositiveIntegerField(default=0, editable=False)
    rating_sum = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The listing's orders, read a page at a time instead of sorting every offer.
            models.Index(F("created_at").desc(), F("id").desc(), name="marketplace_offer_newest"),
            models.Index(
                offer_rating_rank().desc(),
                F("completed_orders").desc(),
                F("id").desc(),
                name="marketplace_offer_best_rated",
            ),
            models.Index(fields=["price", "id"], name="marketplace_offer_price"),
            models.Index(fields=["delivery_days", "id"], name="marketplace_offer_delivery"),
            # The page's count reads this narrow index alone (an index-only scan), not the rows.
            models.Index(
                fields=["is_active", "base_solution", "seller"], name="marketplace_offer_listed"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="marketplace_offer_price_gt_0"),
            models.CheckConstraint(
                condition=Q(capacity__gte=1), name="marketplace_offer_capacity_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(delivery_days__gte=1), name="marketplace_offer_delivery_gte_1"
            ),
            limits.length_check(
                "description",
                limits.OFFER_DESCRIPTION,
                name="marketplace_offer_description_max_length",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("marketplace:offer-detail", kwargs={"pk": self.pk})

    @property
    def rendered_description(self):
        return rendered(self.description, self.description_html)


class Order(models.Model):
    class State(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Waiting for payment")
        PAID = "paid", _("Paid (in escrow)")
        IN_PROGRESS = "in_progress", _("In progress")
        DELIVERED = "delivered", _("Delivered")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", pgettext_lazy("order state", "Cancelled")
        REFUNDED = "refunded", _("Refunded")
        DISPUTED = "disputed", _("Disputed")
        RESOLVED = "resolved", _("Resolved by staff")

    # The states that hold one of the offer's capacity slots.
    ACTIVE_STATES = (State.PAID, State.IN_PROGRESS, State.DELIVERED, State.DISPUTED)

    class Resolution(models.TextChoices):
        REFUND = "refund", _("Refund the buyer")
        RELEASE = "release", _("Release to the seller")
        SPLIT = "split", _("Split")

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases"
    )
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales"
    )
    state = models.CharField(max_length=16, choices=State, default=State.PENDING_PAYMENT)
    brief = models.TextField(
        max_length=limits.ORDER_BRIEF, blank=True, help_text=_("What the buyer needs (Markdown).")
    )
    # `brief` rendered when written; only the order's parties' @mentions are linked.
    brief_html = models.TextField(blank=True, default="", editable=False)
    # The solution the service adapted, as it was when ordered: a completed order counts as
    # that solution's adoption even if the offer later changes its base.
    base_solution = models.ForeignKey(
        "challenges.Solution",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="marketplace_orders",
    )
    # Snapshots: later changes to the offer or to the fee rate never change this order.
    title = models.CharField(max_length=limits.OFFER_TITLE)
    price = models.PositiveIntegerField()
    currency = models.CharField(max_length=CURRENCY_MAX)
    fee_rate = models.DecimalField(max_digits=5, decimal_places=4)
    fee = models.PositiveIntegerField()
    resolution = models.CharField(max_length=10, choices=Resolution, blank=True)
    refunded_amount = models.PositiveIntegerField(default=0)
    released_amount = models.PositiveIntegerField(
        default=0, help_text="Paid to the seller's balance (price - fee, or a split's share)."
    )
    fee_collected = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    auto_complete_at = models.DateTimeField(null=True, blank=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # An unpaid order holds one of the offer's slots until then (services.orders.order_place):
    # capacity is taken before any charge, never when the money arrives.
    reserved_until = models.DateTimeField(null=True, blank=True)
    # A paid order the seller has not started by then may be cancelled by the buyer with a full
    # refund (paid_at + the offer's delivery days); the seller is reminded before.
    start_by = models.DateTimeField(null=True, blank=True, db_index=True)
    start_reminded_at = models.DateTimeField(null=True, blank=True)
    # A completed order between members who trade mostly with each other (marketplace.wash):
    # it settles, but gives no adoption and its review no reputation. Kept by the services as
    # orders complete; equal to `wash.wash_refresh_all()`.
    wash_suspected = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["offer", "state"]),
            models.Index(
                fields=["-completed_at"],
                condition=Q(wash_suspected=True),
                name="marketplace_order_wash_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(buyer=F("seller")), name="marketplace_order_not_own_offer"
            ),
            models.CheckConstraint(condition=Q(fee__lte=F("price")), name="marketplace_fee_lte"),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("price"))
                & Q(released_amount__lte=F("price"))
                & Q(fee_collected__lte=F("price")),
                name="marketplace_order_amounts_lte_price",
            ),
            limits.length_check(
                "brief", limits.ORDER_BRIEF, name="marketplace_order_brief_max_length"
            ),
        ]

    def __str__(self) -> str:
        return f"Order #{self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("marketplace:order-detail", kwargs={"pk": self.pk})

    @property
    def rendered_brief(self):
        return rendered(self.brief, self.brief_html)

    @classmethod
    def holds_slot(cls, prefix: str = "") -> Q:
        """The orders that take one of their offer's slots: active ones, and unpaid ones whose
        reservation has not expired (the one rule, for the services and the pages alike)."""
        return Q(**{f"{prefix}state__in": cls.ACTIVE_STATES}) | Q(
            **{f"{prefix}state": cls.State.PENDING_PAYMENT, f"{prefix}reserved_until__gt": Now()}
        )

    @property
    def seller_share(self) -> int:
        return self.price - self.fee


class WashDecision(models.Model):
    """A staff decision about one completed order's wash-trading flag (marketplace.wash),
    append-only: the latest one for an order holds. *Cleared* (`suspected` False) keeps the
    order counted while the rule finds the same circle it found when staff looked (`circle`);
    once new orders change the circle the rule flags it again. *Flagged* (`suspected` True)
    keeps the order suspected whatever the rule says."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="wash_decisions")
    suspected = models.BooleanField()
    # The rule's circle (member ids, sorted) when staff decided; empty when it suspected none.
    circle = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=500)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-pk"]
        indexes = [models.Index(fields=["order", "-decided_at", "-id"])]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="marketplace_wash_reason_given")
        ]

    def __str__(self) -> str:
        verb = "flagged" if self.suspected else "cleared"
        return f"Order #{self.order_id} {verb} by staff"


class OrderEvent(models.Model):
    """One line of an order's timeline: every transition, who made it and when."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, choices=Order.State)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"#{self.order_id}: {self.from_state or '—'} → {self.to_state}"

    @property
    def note_display(self) -> str:
        """The note in the reader's language: PeerHub's own notes (services.orders writes them
        in English) are translated; what a member or staff wrote stays as written."""
        return order_event_note(self.note)


# The notes services.orders writes on the timeline, in English; read through
# order_event_note, they show in the reader's language.
ORDER_EVENT_NOTES = {
    "Payment received into escrow.": gettext_noop("Payment received into escrow."),
    "Refunded at once: no free slot was left.": gettext_noop(
        "Refunded at once: no free slot was left."
    ),
    "Refunded at once: not payable.": gettext_noop(
        "Refunded at once: the order could no longer be paid."
    ),
    "Declined by the seller.": gettext_noop("Declined by the seller."),
    "Accepted by the buyer.": gettext_noop("Accepted by the buyer."),
    "Resolved: refund.": gettext_noop("Resolved: the buyer is refunded."),
    "Resolved: release.": gettext_noop("Resolved: the money is released to the seller."),
    "Resolved: split.": gettext_noop("Resolved: the price is split."),
}
_NOTE_UNSTARTED = re.compile(
    r"Cancelled by the buyer: the seller had not started by (?P<deadline>.+)\. "
    r"The full price is refunded\.",
    re.DOTALL,
)
_NOTE_AUTO_COMPLETED = re.compile(r"Completed automatically after (?P<days>\d+) days\.")


def order_event_note(note: str) -> str:
    """A timeline note in the active language (see ORDER_EVENT_NOTES)."""
    if note in ORDER_EVENT_NOTES:
        return gettext(ORDER_EVENT_NOTES[note])
    if match := _NOTE_UNSTARTED.fullmatch(note):
        return gettext(
            "Cancelled by the buyer: the seller had not started by {deadline}. "
            "The full price is refunded."
        ).format(deadline=match["deadline"])
    if match := _NOTE_AUTO_COMPLETED.fullmatch(note):
        days = int(match["days"])
        return ngettext(
            "Completed automatically after {days} day.",
            "Completed automatically after {days} days.",
            days,
        ).format(days=days)
    return note


class OrderMessage(models.Model):
    """The thread between buyer and seller; the delivery is a message with `is_delivery`, the
    brief's files one with `is_brief`."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    body = models.TextField(max_length=limits.ORDER_MESSAGE, help_text="Markdown.")
    # `body` rendered when written; only the order's parties' @mentions are linked.
    body_html = models.TextField(blank=True, default="", editable=False)
    links = models.JSONField(default=list, blank=True)
    is_delivery = models.BooleanField(default=False)
    # The files the buyer attached to the brief when placing the order (services.order_place).
    is_brief = models.BooleanField(default=False)
    # Hidden by moderation (issue 21, peerhub.moderation): the public stub says why.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            limits.length_check(
                "body", limits.ORDER_MESSAGE, name="marketplace_order_message_body_max_length"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.order_id} · {self.author}"

    # A dispute's reason is posted as a message starting with this, stored in English
    # (services.order_dispute) and worded in the reader's language when shown.
    DISPUTE_PREFIX = "Dispute: "

    @property
    def rendered_body(self):
        html = rendered(self.body, self.body_html)
        opening = "<p>" + self.DISPUTE_PREFIX
        if self.body.startswith(self.DISPUTE_PREFIX) and html.startswith(opening):
            prefix = escape(pgettext("order message opening a dispute's reason", "Dispute:"))
            return mark_safe(f"<p>{prefix} {html[len(opening) :]}")  # noqa: S308  (escaped)
        return html


class OrderReview(models.Model):
    """The buyer's review of a completed order: the seller's reputation fact (see the report)."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="review")
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    text = models.TextField(max_length=limits.ORDER_REVIEW, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="marketplace_review_rating_1_5"
            ),
            limits.length_check(
                "text", limits.ORDER_REVIEW, name="marketplace_order_review_text_max_length"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 on #{self.order_id}"


# --- Payments ------------------------------------------------------------------------------


class Payment(models.Model):
    """Money asked from a member through a provider: for an order or a subscription period."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", pgettext_lazy("payment status", "Cancelled")

    provider = models.CharField(max_length=20)
    provider_reference = models.CharField(max_length=255, blank=True, db_index=True)
    # What a refund is made against (Stripe: the PaymentIntent), learnt from the notification.
    provider_charge = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=80, unique=True)
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments"
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    contribution = models.ForeignKey(
        "Contribution", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=CURRENCY_MAX)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    checkout_url = models.URLField(max_length=1000, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(order__isnull=False, subscription__isnull=True, contribution=None)
                | Q(order__isnull=True, subscription__isnull=False, contribution=None)
                | Q(order__isnull=True, subscription__isnull=True, contribution__isnull=False),
                name="marketplace_payment_for_one_thing",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="marketplace_payment_gt_0"),
        ]

    def __str__(self) -> str:
        return f"Payment {self.idempotency_key} ({self.status})"


class ProviderEvent(models.Model):
    """Every verified notification a provider sent, once (the unique event id makes a repeated
    delivery change nothing), stored before it is applied. What the event claims (payment,
    provider object, amount, currency) is kept in columns: it moves money only when all of it
    matches the payment it names (services.payments.provider_event_apply); otherwise it is
    `mismatched`, changes nothing and waits for staff."""

    class State(models.TextChoices):
        RECEIVED = "received", _("Received, to apply")
        APPLIED = "applied", _("Applied")
        IGNORED = "ignored", _("Nothing to do")
        MISMATCHED = "mismatched", _("Matches no payment: for staff")
        FAILED = "failed", _("Failed to apply: for staff")
        DISMISSED = "dismissed", _("Reviewed by staff")

    # What audit_ledger reports until staff look at it.
    NEEDS_STAFF = (State.MISMATCHED, State.FAILED)

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=80)
    state = models.CharField(max_length=10, choices=State, default=State.RECEIVED)
    # The provider's word on the payment: Notification.SUCCEEDED, FAILED, PENDING or IGNORED.
    reported = models.CharField(max_length=10, blank=True)
    payment_key = models.CharField(max_length=80, blank=True)
    provider_reference = models.CharField(max_length=255, blank=True)
    provider_charge = models.CharField(max_length=255, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=CURRENCY_MAX, blank=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    payload = models.JSONField(default=dict)
    outcome = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="received"),
                name="marketplace_event_due",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="marketplace_provider_event_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class Transfer(models.Model):
    """Money PeerHub owes the outside world and sends through a provider: a refund or a payout.
    The row is written in the same transaction as the ledger lines that promise it, then a
    worker sends it (services.transfers), retrying with backoff under the provider's idempotency
    key until the provider answers; one that still fails is `failed`, for staff. Nothing is
    ever dropped: a lost task is picked up again by the sweep, from `next_attempt_at`."""

    class State(models.TextChoices):
        CREATED = "created", pgettext_lazy("transfer state", "Created")
        SENT = "sent", _("Sent, retrying")
        DONE = "done", pgettext_lazy("transfer state", "Done")
        FAILED = "failed", _("Failed: for staff")

    OPEN = (State.CREATED, State.SENT)

    provider = models.CharField(max_length=20)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=CURRENCY_MAX)
    state = models.CharField(max_length=8, choices=State, default=State.CREATED)
    idempotency_key = models.CharField(max_length=120, unique=True)
    provider_reference = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN


class Refund(Transfer):
    """Money going back to a payer, against the payment that brought it in. Its idempotency key
    is the key of the ledger transaction that records it, so one fact is refunded once."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["created", "sent"]),
                name="marketplace_refund_due",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="marketplace_refund_gt_0")
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount} {self.currency} of payment {self.payment_id} ({self.state})"


class Payout(Transfer):
    """A seller's balance going out. The ledger moves it out of the seller's payable account
    when it is requested; the provider is asked afterwards, like a refund."""

    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["created", "sent"]),
                name="marketplace_payout_due",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="marketplace_payout_gt_0")
        ]

    def __str__(self) -> str:
        return f"Payout {self.amount} {self.currency} to {self.seller}"


# --- The double-entry ledger ---------------------------------------------------------------


class LedgerAccount(models.Model):
    """Where money sits. Each member has one payable account per currency; the platform has one
    escrow, one revenue and one provider clearing account per currency."""

    class Kind(models.TextChoices):
        CLEARING = "clearing", _("Provider clearing (money from and to the outside)")
        ESCROW = "escrow", _("Platform escrow")
        REVENUE = "revenue", _("Platform revenue")
        PAYABLE = "payable", _("Member payable balance")
        PURSE = "purse", _("Challenge prize escrow")

    kind = models.CharField(max_length=10, choices=Kind)
    # A purse account holds one challenge's prize money (issue 20).
    challenge = models.ForeignKey(
        "challenges.Challenge",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    currency = models.CharField(max_length=CURRENCY_MAX)

    class Meta:
        ordering = ["kind", "currency", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "currency"],
                condition=Q(user__isnull=True, challenge__isnull=True),
                name="marketplace_one_platform_account",
            ),
            models.UniqueConstraint(
                fields=["challenge", "currency"],
                condition=Q(challenge__isnull=False),
                name="marketplace_one_purse_account",
            ),
            models.CheckConstraint(
                condition=Q(kind="purse", challenge__isnull=False, user__isnull=True)
                | (~Q(kind="purse") & Q(challenge__isnull=True)),
                name="marketplace_purse_accounts_name_a_challenge",
            ),
            models.UniqueConstraint(
                fields=["kind", "user", "currency"],
                condition=Q(user__isnull=False),
                name="marketplace_one_member_account",
            ),
            models.CheckConstraint(
                condition=Q(kind="payable", user__isnull=False)
                | (~Q(kind="payable") & Q(user__isnull=True)),
                name="marketplace_member_accounts_are_payable",
            ),
        ]

    def __str__(self) -> str:
        owner = f" of {self.user}" if self.user_id else ""
        owner = f" of challenge {self.challenge_id}" if self.challenge_id else owner
        return f"{self.get_kind_display()}{owner} ({self.currency})"


class LedgerTransaction(models.Model):
    """A set of entries that sum to zero. Never edited or deleted: a correction is a new one.
    `key` names the fact it records (e.g. "order:12:capture"), so a fact is recorded once."""

    class Kind(models.TextChoices):
        CAPTURE = "capture", _("Payment captured into escrow")
        RELEASE = "release", _("Escrow released to the seller and the platform fee")
        REFUND = "refund", _("Refund to the buyer")
        SUBSCRIPTION = "subscription", _("Subscription payment")
        PAYOUT = "payout", _("Payout to a seller")
        CORRECTION = "correction", _("Correction")
        CONTRIBUTION = "contribution", _("Contribution to a prize purse")
        AWARD = "award", _("Prize award")
        LINEAGE = "lineage", _("Lineage share of a prize award")
        ROYALTY = "royalty", _("Royalty to the authors a sold solution was built on")
        ROLLOVER = "rollover", _("Prize purse rolled over to a follow-up challenge")

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=14, choices=Kind)
    memo = models.CharField(max_length=200, blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    payout = models.ForeignKey(
        Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.key


class LedgerEntry(models.Model):
    """Money into (positive) or out of (negative) one account."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="marketplace_entry_not_zero")
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.account}"


# --- Idempotent API requests ---------------------------------------------------------------


class IdempotentRequest(models.Model):
    """The first answer to an API POST carrying an `Idempotency-Key`, replayed for repeats."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="marketplace_idempotency_once")
        ]

    def __str__(self) -> str:
        return self.key


class OrderMessageFile(models.Model):
    """A file on an order's message or delivery: a name and a blob (challenges.files), fetched
    only by the buyer, the seller and staff."""

    message = models.ForeignKey(OrderMessage, on_delete=models.PROTECT, related_name="files")
    path = models.CharField(max_length=255)
    blob = models.ForeignKey(
        "challenges.Blob", on_delete=models.PROTECT, related_name="order_message_files"
    )

    class Meta:
        ordering = ["message", "path"]
        constraints = [
            models.UniqueConstraint(fields=["message", "path"], name="one_order_file_per_path")
        ]

    def __str__(self) -> str:
        return f"{self.message_id} {self.path}"

    def get_absolute_url(self) -> str:
        return reverse(
            "marketplace:order-file",
            kwargs={"pk": self.message.order_id, "message": self.message_id, "path": self.path},
        )


# --- Prize purses and lineage money (issue 20) ---------------------------------------------


class Purse(models.Model):
    """A challenge's prize money and the rules that split it: an award table (a percentage per
    place, or equal shares among the winners) and the lineage share, the part of each award
    that flows to the authors the winning solution was built on. The rules are frozen once
    money is in (services.purses.purse_configure, under the row lock). The organisers may name a
    follow-up challenge before then: archived without published winners, the purse rolls over
    into the follow-up's purse instead of being refunded (services.purses.purse_rollover)."""

    class Mode(models.TextChoices):
        PLACES = "places", _("A percentage per place")
        EQUAL = "equal", _("Equal shares among the winners")

    class State(models.TextChoices):
        OPEN = "open", _("Taking contributions")
        LOCKED = "locked", _("Locked: results published, awarding")
        AWARDED = "awarded", _("Awarded")
        REFUNDED = "refunded", _("Refunded: no winner")
        ROLLED_OVER = "rolled_over", _("Rolled over to the follow-up challenge: no winner")

    SETTLED = (State.AWARDED, State.REFUNDED, State.ROLLED_OVER)

    challenge = models.OneToOneField(
        "challenges.Challenge", on_delete=models.PROTECT, related_name="purse"
    )
    # Where the money goes if the challenge is archived without published winners (frozen with
    # the rules once money is in); no follow-up: every backer is refunded.
    rollover_to = models.ForeignKey(
        "challenges.Challenge",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="rolls over to",
    )
    currency = models.CharField(max_length=CURRENCY_MAX, default=default_currency)
    mode = models.CharField(max_length=8, choices=Mode, default=Mode.PLACES)
    # Whole percentages, first place first, summing to 100 (mode "places").
    places = models.JSONField(default=list, blank=True)
    lineage_share = models.DecimalField(max_digits=4, decimal_places=3)
    state = models.CharField(max_length=12, choices=State, default=State.OPEN)
    # The published round whose winners the purse paid, and when it locked.
    selection_round = models.ForeignKey(
        "challenges.SelectionRound",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    locked_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lineage_share__gte=0, lineage_share__lte="0.5"),
                name="marketplace_purse_lineage_share_0_50",
            ),
            models.CheckConstraint(
                condition=Q(state="open", locked_at__isnull=True)
                | (~Q(state="open") & Q(locked_at__isnull=False)),
                name="marketplace_purse_locked_has_a_date",
            ),
            models.CheckConstraint(
                condition=~Q(rollover_to=F("challenge")),
                name="marketplace_purse_rolls_over_elsewhere",
            ),
        ]

    def __str__(self) -> str:
        return f"Purse of {self.challenge}"

    def get_absolute_url(self) -> str:
        return reverse("marketplace:purse", kwargs={"slug": self.challenge.slug})

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN


class Contribution(models.Model):
    """A backer's money for a purse: paid through the provider, the platform fee taken on the
    way in (rate snapshotted), the rest held in the challenge's prize escrow account."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        PAID = "paid", _("In the purse")
        RETURNED = "returned", _("Arrived after the purse locked: returned in full")
        REFUNDED = "refunded", _("Refunded: no winner")
        ROLLED_OVER = "rolled_over", _("Rolled over to the follow-up challenge's purse")
        FAILED = "failed", _("Payment failed")

    purse = models.ForeignKey(Purse, on_delete=models.PROTECT, related_name="contributions")
    backer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contributions"
    )
    amount = models.PositiveIntegerField(help_text="What the backer pays, minor units.")
    currency = models.CharField(max_length=CURRENCY_MAX)
    fee_rate = models.DecimalField(max_digits=5, decimal_places=4)
    fee = models.PositiveIntegerField()
    public_name = models.CharField(
        max_length=60, blank=True, help_text="Shown among the backers; anonymous when empty."
    )
    state = models.CharField(max_length=12, choices=State, default=State.PENDING)
    refunded_amount = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["purse", "state"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(fee__lt=F("amount")),
                name="marketplace_contribution_amount_gt_fee",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("amount")),
                name="marketplace_contribution_refund_lte_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} by {self.backer} ({self.state})"

    @property
    def net(self) -> int:
        """What reaches the purse."""
        return self.amount - self.fee


class PurseRollover(models.Model):
    """A purse without winners moved whole into its follow-up challenge's purse: one ledger
    transaction from one prize escrow to the other. The follow-up's page lists it among its
    backers; a purse rolls over at most once."""

    from_purse = models.OneToOneField(Purse, on_delete=models.PROTECT, related_name="rollover_out")
    to_purse = models.ForeignKey(Purse, on_delete=models.PROTECT, related_name="rollovers_in")
    amount = models.PositiveIntegerField(help_text="What moved, minor units (may be 0).")
    currency = models.CharField(max_length=CURRENCY_MAX)
    transaction = models.OneToOneField(
        LedgerTransaction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="purse_rollover",
        help_text="Empty when the purse held nothing.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_purse=F("to_purse")), name="marketplace_rollover_elsewhere"
            ),
            models.CheckConstraint(
                condition=Q(amount=0, transaction__isnull=True)
                | Q(amount__gt=0, transaction__isnull=False),
                name="marketplace_rollover_moves_money_in_a_transaction",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.amount} {self.currency} from purse {self.from_purse_id} to {self.to_purse_id}"
        )


class Earning(models.Model):
    """One payment along the lineage into a member's balance, with the ledger transaction that
    made it: a prize award kept by a winner, a lineage share of an award, or a royalty from a
    completed order. `solution` is what earned (the winning solution, or the sold offer's base
    solution); `node` is the solution whose author is paid (the winner's own, or an ancestor),
    `generation` how far up (0 the earner, 1 the parent, ...). One row per node and earning
    fact: nobody is paid twice for one node."""

    class Kind(models.TextChoices):
        AWARD = "award", _("Prize award")
        LINEAGE = "lineage", _("Lineage share of a prize award")
        ROYALTY = "royalty", _("Royalty on a sold service")

    kind = models.CharField(max_length=8, choices=Kind)
    beneficiary = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="earnings"
    )
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=CURRENCY_MAX)
    purse = models.ForeignKey(
        Purse, null=True, blank=True, on_delete=models.PROTECT, related_name="earnings"
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="earnings"
    )
    solution = models.ForeignKey(
        "challenges.Solution", on_delete=models.PROTECT, related_name="earnings_as_earner"
    )
    node = models.ForeignKey(
        "challenges.Solution", on_delete=models.PROTECT, related_name="earnings_as_node"
    )
    generation = models.PositiveSmallIntegerField(default=0)
    place = models.PositiveSmallIntegerField(null=True, blank=True)
    award_gross = models.PositiveIntegerField(
        default=0, help_text="An award row: the whole award before its lineage shares."
    )
    transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, related_name="earning"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="marketplace_earning_gt_0"),
            models.CheckConstraint(
                condition=Q(kind__in=["award", "lineage"], purse__isnull=False, order=None)
                | Q(kind="royalty", order__isnull=False, purse=None),
                name="marketplace_earning_from_one_fact",
            ),
            models.UniqueConstraint(
                fields=["purse", "solution", "node"],
                condition=Q(purse__isnull=False),
                name="marketplace_one_prize_earning_per_node",
            ),
            models.UniqueConstraint(
                fields=["order", "node"],
                condition=Q(order__isnull=False),
                name="marketplace_one_royalty_per_node",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.amount} {self.currency} to {self.beneficiary}"

    @property
    def reason(self) -> str:
        """Why it was paid, in the reader's language (the earnings page and the API): the
        ledger's memo is kept in English for the books."""
        solution = self.solution.title
        if self.kind == self.Kind.AWARD:
            return gettext("Award for %(solution)s (place %(place)s)") % {
                "solution": solution,
                "place": self.place,
            }
        if self.kind == self.Kind.LINEAGE:
            return gettext("Lineage share of the award to %(winner)s for %(solution)s") % {
                "winner": self.solution.author.name,
                "solution": solution,
            }
        if self.kind == self.Kind.ROYALTY:
            return gettext(
                "Royalty from order #%(number)s for %(solution)s, built on your work"
            ) % {"number": self.order_id, "solution": solution}
        return self.transaction.memo
