from django.contrib import admin
from django.db.models import Sum

from peerhub.admin_mixins import ReadOnlyAdmin, RenderedMarkdownAdmin

from .models import (
    Contribution,
    Earning,
    IdempotentRequest,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
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
    Purse,
    PurseRollover,
    Refund,
    Subscription,
    WashDecision,
)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    """Prices are edited here (minor units); subscriptions snapshot them when they start."""

    list_display = ("name", "code", "monthly_price", "yearly_price", "currency", "is_premium")
    search_fields = ("name", "code")


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "plan",
        "interval",
        "status",
        "current_period_end",
        "cancel_at_period_end",
    )
    list_filter = ("status", "interval", "plan")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


@admin.register(Offer)
class OfferAdmin(RenderedMarkdownAdmin):
    rendered_fields = {"description": "description_html"}
    list_display = ("title", "seller", "price", "currency", "capacity", "is_active")
    list_filter = ("is_active", "currency")
    search_fields = ("title", "seller__username")
    raw_id_fields = ("seller", "base_solution")
    list_select_related = ("seller",)


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ("from_state", "to_state", "actor", "note", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


class LedgerTransactionInline(admin.TabularInline):
    """The order's money flow: every ledger transaction that names it."""

    model = LedgerTransaction
    fk_name = "order"
    extra = 0
    can_delete = False
    fields = ("key", "kind", "memo", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Orders change only through their services (disputes: the order page, or the API)."""

    list_display = (
        "__str__", "buyer", "seller", "state", "price", "fee", "currency", "wash_suspected",
        "created_at",
    )  # fmt: skip
    list_filter = ("state", "currency", "wash_suspected")
    search_fields = ("title", "buyer__username", "seller__username")
    list_select_related = ("buyer", "seller")
    inlines = [OrderEventInline, LedgerTransactionInline]


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ("order", "from_state", "to_state", "actor", "created_at")
    list_filter = ("to_state",)
    search_fields = ("order__title", "actor__username")


@admin.register(WashDecision)
class WashDecisionAdmin(ReadOnlyAdmin):
    """Staff decisions about wash trades, made on /marketplace/staff/wash/ (append-only)."""

    list_display = ("order", "suspected", "decided_by", "decided_at", "reason")
    list_filter = ("suspected",)
    search_fields = ("order__title", "decided_by__username", "reason")
    list_select_related = ("order", "decided_by")


@admin.register(OrderMessageFile)
class OrderMessageFileAdmin(admin.ModelAdmin):
    list_display = ("message", "path", "blob")
    search_fields = ("path", "blob__sha256")
    list_select_related = ("message", "blob")
    raw_id_fields = ("message", "blob")


@admin.register(OrderMessage)
class OrderMessageAdmin(ReadOnlyAdmin):
    list_display = ("order", "author", "is_delivery", "created_at")
    search_fields = ("body", "author__username")


@admin.register(OrderReview)
class OrderReviewAdmin(admin.ModelAdmin):
    list_display = ("order", "rating", "created_at")
    list_filter = ("rating",)
    search_fields = ("text", "order__title")
    raw_id_fields = ("order",)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("idempotency_key", "provider", "payer", "amount", "currency", "status")
    list_filter = ("provider", "status")
    search_fields = ("idempotency_key", "provider_reference", "payer__username")


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = (
        "provider", "event_id", "kind", "state", "amount", "currency", "payment", "outcome",
        "attempts", "received_at",
    )  # fmt: skip
    list_filter = ("state", "provider", "kind")
    search_fields = ("event_id", "outcome", "payment_key", "provider_reference")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = (
        "payment", "order", "amount", "currency", "state", "attempts", "last_error", "created_at",
    )  # fmt: skip
    list_filter = ("state", "provider")
    search_fields = ("idempotency_key", "provider_reference")


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = (
        "seller", "amount", "currency", "provider", "state", "attempts", "last_error", "created_at",
    )  # fmt: skip
    list_filter = ("state", "provider")
    search_fields = ("seller__username", "provider_reference")


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    """Balances are derived from the entries: shown here, stored nowhere."""

    list_display = ("__str__", "kind", "user", "currency", "balance")
    list_filter = ("kind", "currency")
    search_fields = ("user__username",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(_balance=Sum("entries__amount"))
        )

    @admin.display(description="balance (minor units)")
    def balance(self, obj):
        return obj._balance or 0


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    extra = 0
    can_delete = False
    readonly_fields = ("account", "amount")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    """Append-only: a correction is a new transaction. Revenue by month: /marketplace/staff/."""

    list_display = ("key", "kind", "memo", "order", "created_at")
    list_filter = ("kind",)
    search_fields = ("key", "memo")
    date_hierarchy = "created_at"
    inlines = [LedgerEntryInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("transaction", "account", "amount")
    list_filter = ("account__kind",)
    search_fields = ("transaction__key",)
    list_select_related = ("transaction", "account__user")


@admin.register(IdempotentRequest)
class IdempotentRequestAdmin(ReadOnlyAdmin):
    list_display = ("user", "key", "status_code", "created_at")
    search_fields = ("key", "user__username")


@admin.register(Purse)
class PurseAdmin(ReadOnlyAdmin):
    """Purses change only through their services (rules frozen once money is in; awards and
    refunds from the ledger), so staff read them here."""

    list_display = ("challenge", "state", "mode", "places", "lineage_share", "rollover_to",
                    "locked_at")  # fmt: skip
    list_filter = ("state", "mode", "currency")
    search_fields = ("challenge__title", "challenge__slug", "rollover_to__title")
    list_select_related = ("challenge", "rollover_to")


@admin.register(PurseRollover)
class PurseRolloverAdmin(ReadOnlyAdmin):
    """Purses archived without winners that moved into their follow-up's purse."""

    list_display = ("from_purse", "to_purse", "amount", "currency", "transaction", "created_at")
    list_filter = ("currency",)
    search_fields = ("from_purse__challenge__title", "to_purse__challenge__title")
    list_select_related = ("from_purse__challenge", "to_purse__challenge", "transaction")


@admin.register(Contribution)
class ContributionAdmin(ReadOnlyAdmin):
    list_display = ("purse", "backer", "amount", "fee", "currency", "state", "public_name",
                    "created_at")  # fmt: skip
    list_filter = ("state", "currency")
    search_fields = ("backer__username", "public_name", "purse__challenge__title")
    list_select_related = ("purse__challenge", "backer")


@admin.register(Earning)
class EarningAdmin(ReadOnlyAdmin):
    list_display = ("kind", "beneficiary", "amount", "currency", "node", "generation", "purse",
                    "order", "created_at")  # fmt: skip
    list_filter = ("kind", "currency", "generation")
    search_fields = ("beneficiary__username", "node__title", "solution__title")
    list_select_related = ("beneficiary", "node", "purse__challenge", "order")
