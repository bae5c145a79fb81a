from django.urls import path
from rest_framework.routers import SimpleRouter

from peerhub import slugs  # noqa: F401  (registers the <uslug:> converter)
from peerhub.pagecache import cached_route

from ..pagecache import OFFER_LIST_SCOPES
from ..urls import OFFER_QUERY
from . import purse_views, views

router = SimpleRouter()
router.register("plans", views.PlanViewSet, basename="api-plan")
router.register("subscriptions", views.SubscriptionViewSet, basename="api-subscription")
router.register("offers", views.OfferViewSet, basename="api-offer")
router.register("orders", views.OrderViewSet, basename="api-order")
router.register("payouts", views.PayoutViewSet, basename="api-payout")
router.register("refunds", views.RefundViewSet, basename="api-refund")
router.register("payments/events", views.ProviderEventViewSet, basename="api-provider-event")

urlpatterns = [
    path("balance/", views.BalanceView.as_view(), name="api-balance"),
    path("earnings/", purse_views.EarningsView.as_view(), name="api-earnings"),
    path("purses/<uslug:slug>/", purse_views.PurseView.as_view(), name="api-purse"),
    path(
        "purses/<uslug:slug>/rules/", purse_views.PurseRulesView.as_view(), name="api-purse-rules"
    ),
    path(
        "purses/<uslug:slug>/contributions/",
        purse_views.ContributionsView.as_view(),
        name="api-purse-contributions",
    ),
    path("purses/<uslug:slug>/flow/", purse_views.MoneyFlowView.as_view(), name="api-purse-flow"),
    path(
        "offers/<int:pk>/royalty/",
        purse_views.RoyaltyPreviewView.as_view(),
        name="api-offer-royalty",
    ),
    path(
        "marketplace/mentions/",
        views.MentionSuggestionsView.as_view(),
        name="api-marketplace-mention-suggestions",
    ),
    path("payments/webhook/<str:provider>/", views.payment_webhook, name="api-payment-webhook"),
    # Visitors' offers come from the page cache, like the marketplace page (peerhub.pagecache).
    *cached_route(
        router.urls,
        "api-offer-list",
        OFFER_LIST_SCOPES,
        query=[*OFFER_QUERY, "currency", "page_size"],
    ),
]
