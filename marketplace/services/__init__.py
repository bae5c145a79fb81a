"""Every write of the marketplace. Views, API views and tasks call these and nothing else."""

from .offers import OFFER_LABELS, offer_create, offer_fields, offer_update, offer_value_shown
from .orders import (
    fee_for,
    fee_rate,
    late_cancel_opens_at,
    order_accept,
    order_cancel,
    order_decline,
    order_deliver,
    order_dispute,
    order_message_post,
    order_pay,
    order_place,
    order_resolve,
    order_review_save,
    order_start,
    orders_auto_complete,
    orders_remind_unstarted,
)
from .payments import (
    notification_receive,
    provider_event_apply,
    provider_event_dismiss,
    sandbox_answer,
    sandbox_payment_for,
)
from .payouts import payout_request
from .subscriptions import (
    current_subscription,
    subscription_cancel,
    subscription_pay_renewal,
    subscription_resume,
    subscription_start,
    subscriptions_renew,
)
from .sweep import money_sweep
from .transfers import transfer_retry

__all__ = [
    "OFFER_LABELS",
    "current_subscription",
    "fee_for",
    "fee_rate",
    "late_cancel_opens_at",
    "money_sweep",
    "notification_receive",
    "offer_create",
    "offer_fields",
    "offer_update",
    "offer_value_shown",
    "order_accept",
    "order_cancel",
    "order_decline",
    "order_deliver",
    "order_dispute",
    "order_message_post",
    "order_pay",
    "order_place",
    "order_resolve",
    "order_review_save",
    "order_start",
    "orders_auto_complete",
    "orders_remind_unstarted",
    "payout_request",
    "provider_event_apply",
    "provider_event_dismiss",
    "sandbox_answer",
    "sandbox_payment_for",
    "subscription_cancel",
    "subscription_pay_renewal",
    "subscription_resume",
    "subscription_start",
    "subscriptions_renew",
    "transfer_retry",
]  # fmt: skip
