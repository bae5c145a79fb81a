from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

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
    path("payments/webhook/<str:provider>/", views.payment_webhook, name="api-payment-webhook"),
    *router.urls,
]
