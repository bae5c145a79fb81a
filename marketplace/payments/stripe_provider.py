"""Stripe: Checkout Sessions for payments, the library's own signature check for webhooks.

Every call goes through a `stripe.StripeClient` built with `http_client()`: tests set
`HTTP_CLIENT` to a recording `stripe.HTTPClient`, so nothing ever reaches the network."""

import json
import time

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from peerhub.exceptions import DomainError

from .base import Checkout, InvalidNotification, Notification, PaymentProvider

TOLERANCE_SECONDS = 300

# The library's HTTP client hook: None means the library's default client.
HTTP_CLIENT: stripe.HTTPClient | None = None

OUTCOMES = {
    "checkout.session.async_payment_succeeded": Notification.SUCCEEDED,
    "checkout.session.async_payment_failed": Notification.FAILED,
    "checkout.session.expired": Notification.FAILED,
}


def client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise DomainError(_("Stripe is not configured (STRIPE_SECRET_KEY)."), code="provider_error")
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, http_client=HTTP_CLIENT)


def _absolute(url: str) -> str:
    return url if "://" in url else settings.SITE_URL.rstrip("/") + url


class StripeProvider(PaymentProvider):
    name = "stripe"

    def start_checkout(self, *, payment, title, success_url, cancel_url, expires_at=None):
        params = {
            "mode": "payment",
            "client_reference_id": payment.idempotency_key,
            "metadata": {"payment": payment.idempotency_key},
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": payment.currency.lower(),
                        "unit_amount": payment.amount,
                        "product_data": {"name": title[:250]},
                    },
                }
            ],
            "success_url": _absolute(success_url),
            "cancel_url": _absolute(cancel_url),
        }
        if expires_at is not None:
            # Stripe's sessions last 30 minutes at least: the reservation is made that long.
            params["expires_at"] = int(max(expires_at.timestamp(), time.time() + 30 * 60 + 5))
        try:
            session = client().v1.checkout.sessions.create(
                params=params, options={"idempotency_key": payment.idempotency_key}
            )
        except stripe.StripeError as error:
            raise DomainError(
                _("Stripe refused the checkout: {error}").format(error=error), code="provider_error"
            ) from error
        return Checkout(url=session.url, reference=session.id)

    def parse_notification(self, *, body: bytes, headers) -> Notification:
        secret = settings.STRIPE_WEBHOOK_SECRET
        if not secret:
            # The library would accept an HMAC made with the empty key.
            raise InvalidNotification("STRIPE_WEBHOOK_SECRET is not set: nothing verifies.")
        header = headers.get("Stripe-Signature", "")
        stamps = [item[2:] for item in header.split(",") if item.startswith("t=")]
        try:
            timestamp = int(stamps[0])
        except (IndexError, ValueError) as error:
            raise InvalidNotification("No signature timestamp.") from error
        # The library refuses old timestamps only; a future one is as suspicious.
        if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
            raise InvalidNotification("The signature's timestamp is outside ±5 minutes.")
        try:
            event = stripe.Webhook.construct_event(
                body, header, secret, tolerance=TOLERANCE_SECONDS
            )
        except (ValueError, KeyError, stripe.SignatureVerificationError) as error:
            raise InvalidNotification(str(error) or "Not a Stripe event.") from error
        try:
            obj = event["data"]["object"]
            kind = str(event["type"])
            amount = obj.get("amount_total")
        except (KeyError, TypeError, AttributeError) as error:
            raise InvalidNotification("Not a Stripe event.") from error
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
            raise InvalidNotification("The amount is not a whole number of minor units.")
        outcome = OUTCOMES.get(kind, Notification.IGNORED)
        if kind == "checkout.session.completed":
            paid = obj.get("payment_status") in {"paid", "no_payment_required"}
            outcome = Notification.SUCCEEDED if paid else Notification.PENDING
        metadata = obj.get("metadata") or {}
        return Notification(
            event_id=str(event["id"]),
            kind=kind,
            outcome=outcome,
            payment_key=str(obj.get("client_reference_id") or metadata.get("payment", "")),
            provider_reference=str(obj.get("id", "")),
            provider_charge=str(obj.get("payment_intent") or ""),
            amount=amount,
            currency=str(obj.get("currency") or ""),
            payload=json.loads(body),
        )

    def refund(self, *, payment, amount, key) -> str:
        try:
            refund = client().v1.refunds.create(
                params={"payment_intent": payment.provider_charge, "amount": amount},
                options={"idempotency_key": key},
            )
        except stripe.StripeError as error:
            raise DomainError(
                _("Stripe refused the refund: {error}").format(error=error), code="provider_error"
            ) from error
        return refund.id

    def payout(self, *, payout) -> str:
        raise DomainError(
            "Payouts through Stripe need Stripe Connect, which PeerHub does not use yet: "
            "set MARKETPLACE_PAYOUT_PROVIDER=sandbox or pay sellers by hand.",
            code="provider_error",
        )
