"""Payments: starting a checkout, and the provider's notifications, each applied once."""

import logging

from django.db import IntegrityError, transaction

from peerhub.exceptions import DomainError, NotAllowed
from peerhub.models import User

from .. import payments, social_events
from ..models import Order, Payment, ProviderEvent, Subscription
from ..payments import InvalidNotification, Notification

logger = logging.getLogger(__name__)


def payment_start(
    *,
    payer: User,
    amount: int,
    currency: str,
    key: str,
    title: str,
    return_url: str,
    order: Order | None = None,
    subscription: Subscription | None = None,
) -> Payment:
    """A pending payment and its checkout page. `key` is the payment's idempotency key, also
    sent to the provider: a retried request cannot make a second charge."""
    provider = payments.payment_provider()
    payment = Payment.objects.create(
        provider=provider.name,
        idempotency_key=key,
        payer=payer,
        order=order,
        subscription=subscription,
        amount=amount,
        currency=currency,
    )
    checkout = provider.start_checkout(
        payment=payment, title=title, success_url=return_url, cancel_url=return_url
    )
    payment.checkout_url = checkout.url
    payment.provider_reference = checkout.reference
    payment.save(update_fields=["checkout_url", "provider_reference", "updated_at"])
    return payment


def notification_receive(*, provider_name: str, body: bytes, headers) -> str:
    """Verify one webhook and apply it. The provider's event id is stored under a unique
    constraint in the same transaction as its effect: a notification delivered five times
    changes state once; one that arrives after a later one (a `pending` after `succeeded`)
    changes nothing, because payments only ever leave `pending`."""
    provider = payments.get(provider_name)
    try:
        note = provider.parse_notification(body=body, headers=headers)
    except InvalidNotification as error:
        raise DomainError(f"Invalid notification: {error}", code="invalid_signature") from error
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = ProviderEvent.objects.create(
                    provider=provider.name, event_id=note.event_id, kind=note.kind,
                    payload=note.payload,
                )  # fmt: skip
        except IntegrityError:
            return "duplicate"
        payment = (
            Payment.objects.select_for_update()
            .filter(provider=provider.name, idempotency_key=note.payment_key)
            .first()
        )
        outcome = "unknown payment" if payment is None else _apply(payment, note)
        event.payment = payment
        event.outcome = outcome[:200]
        event.save(update_fields=["payment", "outcome"])
    logger.info("%s event %s (%s): %s", provider.name, note.event_id, note.kind, outcome)
    return outcome


def _apply(payment: Payment, note: Notification) -> str:
    if note.provider_charge and not payment.provider_charge:
        payment.provider_charge = note.provider_charge
        payment.save(update_fields=["provider_charge", "updated_at"])
    if note.outcome == Notification.SUCCEEDED:
        return payment_succeeded(payment=payment)
    if note.outcome == Notification.FAILED:
        if payment.status != Payment.Status.PENDING:
            return f"ignored: payment already {payment.status}"
        payment.status = Payment.Status.FAILED
        payment.failure_reason = note.kind[:200]
        payment.save(update_fields=["status", "failure_reason", "updated_at"])
        social_events.payment_failed(payment)
        if payment.subscription_id:
            from .subscriptions import subscription_payment_failed

            subscription_payment_failed(payment=payment)
        return "failed"
    return f"ignored: {note.outcome}"


def payment_succeeded(*, payment: Payment) -> str:
    """The money arrived (payment locked by the caller). A payment succeeds once; what it pays
    for decides where the money goes."""
    if payment.status == Payment.Status.SUCCEEDED:
        return "ignored: already succeeded"
    # A payment we gave up on (cancelled, or reported failed) that still succeeds is money we
    # hold: it is captured and then refunded by the handlers below.
    payment.status = Payment.Status.SUCCEEDED
    payment.save(update_fields=["status", "updated_at"])
    if payment.order_id:
        from .orders import order_payment_captured

        return order_payment_captured(payment=payment)
    from .subscriptions import subscription_payment_captured

    return subscription_payment_captured(payment=payment)


def sandbox_payment_for(*, reference: str, user: User) -> Payment:
    """The sandbox checkout's payment; only its payer may see or answer it."""
    payment = (
        Payment.objects.select_related("order", "subscription__plan")
        .filter(provider="sandbox", provider_reference=reference)
        .first()
    )
    if payment is None:
        raise DomainError("No such checkout.", code="not_found")
    if payment.payer_id != getattr(user, "pk", None):
        raise NotAllowed("This checkout belongs to someone else.")
    return payment


def sandbox_answer(*, payment: Payment, by: User, outcome: str) -> str:
    """The payer's choice on the sandbox checkout page, sent as a signed notification through
    the same code as any provider's webhook. `pending` leaves the payment waiting: the payer
    may come back and let it succeed later, as a slow bank would."""
    from ..payments import sandbox

    if payment.payer_id != by.pk:
        raise NotAllowed("This checkout belongs to someone else.")
    kinds = {"succeed": "payment.succeeded", "decline": "payment.failed", "pending": None}
    if outcome not in kinds:
        raise DomainError("Choose succeed, decline or pending.", code="invalid_outcome")
    if kinds[outcome] is None:
        return "pending"
    body = sandbox.event_body(payment=payment, kind=kinds[outcome])
    headers = {sandbox.SIGNATURE_HEADER: sandbox.sign(body)}
    return notification_receive(provider_name="sandbox", body=body, headers=headers)
