"""The sandbox provider: a checkout page on PeerHub itself, like a card test mode.

The checkout page (marketplace.views.sandbox_checkout) lets the payer succeed, be declined, or
leave the payment pending and confirm it later. Each choice becomes a signed notification that
goes through exactly the code path of a real provider's webhook (services.payments
.notification_receive), and the same JSON may be POSTed to /api/payments/webhook/sandbox/."""

import hashlib
import hmac
import json
import secrets
import time

from django.conf import settings
from django.urls import reverse

from .base import Checkout, InvalidNotification, Notification, PaymentProvider

SIGNATURE_HEADER = "X-Sandbox-Signature"
TOLERANCE_SECONDS = 300
OUTCOMES = {
    "payment.succeeded": Notification.SUCCEEDED,
    "payment.failed": Notification.FAILED,
    "payment.pending": Notification.PENDING,
}


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> str:
    """The header value for `body`: `t=<unix time>,v1=<hex HMAC-SHA256>` (Stripe's scheme)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    secret = settings.SANDBOX_WEBHOOK_SECRET if secret is None else secret
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def event_body(*, payment, kind: str, event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_sbx_{secrets.token_hex(8)}",
            "type": kind,
            "payment": payment.idempotency_key,
            "reference": payment.provider_reference,
            "amount": payment.amount,
            "currency": payment.currency,
        },
        sort_keys=True,
    ).encode()


class SandboxProvider(PaymentProvider):
    name = "sandbox"

    def start_checkout(self, *, payment, title, success_url, cancel_url, expires_at=None):
        reference = payment.provider_reference or f"sbx_{secrets.token_hex(10)}"
        url = reverse("marketplace:sandbox-checkout", kwargs={"reference": reference})
        return Checkout(url=url, reference=reference)

    def parse_notification(self, *, body: bytes, headers) -> Notification:
        secret = settings.SANDBOX_WEBHOOK_SECRET
        if not secret:
            raise InvalidNotification("The sandbox has no webhook secret: nothing verifies.")
        header = headers.get(SIGNATURE_HEADER, "")
        parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        try:
            timestamp = int(parts.get("t", ""))
        except ValueError as error:
            raise InvalidNotification("No signature timestamp.") from error
        expected = _mac(secret, timestamp, body)
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            raise InvalidNotification("The signature does not match.")
        if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
            raise InvalidNotification("The signature is too old.")
        try:
            data = json.loads(body)
            event_id, kind = str(data["id"]), str(data["type"])
            amount = data.get("amount")
            if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
                raise TypeError("amount")
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidNotification("Not a sandbox event.") from error
        return Notification(
            event_id=event_id,
            kind=kind,
            outcome=OUTCOMES.get(kind, Notification.IGNORED),
            payment_key=str(data.get("payment", "")),
            provider_reference=str(data.get("reference", "")),
            provider_charge=str(data.get("reference", "")),
            amount=amount,
            currency=str(data.get("currency", "")),
            payload=data,
        )

    def refund(self, *, payment, amount, key) -> str:
        return f"sbx_refund_{hashlib.sha256(key.encode()).hexdigest()[:16]}"

    def charge_renewal(self, *, payment) -> bool:
        return not payment.subscription.sandbox_declines_renewal

    def payout(self, *, payout) -> str:
        return f"sbx_payout_{hashlib.sha256(payout.idempotency_key.encode()).hexdigest()[:16]}"
