from django.urls import path

from peerhub import slugs  # noqa: F401  (registers the <uslug:> converter)
from peerhub.pagecache import cached

from . import purse_views, views
from .pagecache import OFFER_LIST_SCOPES

app_name = "marketplace"

# The query parameters the offer list reads (marketplace.filters.OfferFilter, and its page).
OFFER_QUERY = [
    "q", "challenge", "value", "min_price", "max_price", "max_delivery_days", "seller_level",
    "ordering", "page",
]  # fmt: skip


urlpatterns = [
    path(
        "marketplace/",
        cached(OFFER_LIST_SCOPES, query=OFFER_QUERY)(views.offer_list),
        name="offer-list",
    ),
    path("marketplace/offers/new/", views.offer_create, name="offer-create"),
    # The seller's reputation shows ("reputation"), and the royalties the lineage of the base
    # solution would take ("lists": any solution written).
    path(
        "marketplace/offers/<int:pk>/",
        cached(["offers", "reputation", "lists"])(views.offer_detail),
        name="offer-detail",
    ),
    path("marketplace/offers/<int:pk>/edit/", views.offer_edit, name="offer-edit"),
    path("marketplace/offers/<int:pk>/history/", views.offer_history, name="offer-history"),
    path("marketplace/offers/<int:pk>/order/", views.order_place, name="order-place"),
    path("marketplace/orders/", views.order_list, name="order-list"),
    path("marketplace/orders/<int:pk>/", views.order_detail, name="order-detail"),
    path("marketplace/orders/<int:pk>/pay/", views.order_pay, name="order-pay"),
    path("marketplace/orders/<int:pk>/deliver/", views.order_deliver, name="order-deliver"),
    path("marketplace/orders/<int:pk>/dispute/", views.order_dispute, name="order-dispute"),
    path("marketplace/orders/<int:pk>/resolve/", views.order_resolve, name="order-resolve"),
    path("marketplace/orders/<int:pk>/messages/", views.order_message, name="order-message"),
    path(
        "marketplace/orders/<int:pk>/messages/<int:message>/files/<str:path>",
        views.order_file,
        name="order-file",
    ),
    path("marketplace/orders/<int:pk>/review/", views.order_review, name="order-review"),
    path("marketplace/orders/<int:pk>/<slug:step>/", views.order_step, name="order-step"),
    path("marketplace/checkout/<str:reference>/", views.sandbox_checkout, name="sandbox-checkout"),
    path("premium/", views.subscription, name="subscription"),
    path("premium/subscribe/", views.subscription_start, name="subscription-start"),
    path("premium/export/<uslug:slug>.<str:fmt>", views.challenge_export, name="challenge-export"),
    path("premium/<slug:action>/", views.subscription_change, name="subscription-change"),
    path("marketplace/payouts/", views.payout_request, name="payout-request"),
    path(
        "marketplace/purses/<uslug:slug>/",
        cached(["challenge:{slug}"])(purse_views.purse_page),
        name="purse",
    ),
    path("marketplace/purses/<uslug:slug>/rules/", purse_views.purse_rules, name="purse-rules"),
    path(
        "marketplace/purses/<uslug:slug>/contribute/",
        purse_views.purse_contribute,
        name="purse-contribute",
    ),
    path("marketplace/earnings/", purse_views.earnings, name="earnings"),
    path("marketplace/staff/", views.staff_money, name="staff-money"),
    path("marketplace/staff/wash/", views.staff_wash, name="staff-wash"),
    path(
        "marketplace/staff/wash/<int:pk>/<str:verb>/",
        views.staff_wash_decide,
        name="staff-wash-decide",
    ),
    path(
        "marketplace/staff/events/<int:pk>/dismiss/",
        views.staff_event_dismiss,
        name="staff-event-dismiss",
    ),
    path(
        "marketplace/staff/<slug:kind>/<int:pk>/retry/",
        views.staff_transfer_retry,
        name="staff-transfer-retry",
    ),
]
