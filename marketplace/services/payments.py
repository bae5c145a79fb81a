"""Payments: starting a checkout, and the provider's notifications, each applied once.

A webhook is verified (signature, timestamp, size, bytes) and stored before anything else; the
answer is a 2xx at once. A worker then applies the stored event under a row lock, once, and only
when the event matches the payment it names exactly: provider object id, amount, currency."""

import logging
import secrets
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from peerhub.exceptions import Conflict, DomainError, NotAllowed, TooLarge
from peerhub.models import User

from .. import payments, permissions, social_events
from ..models import Order, Payment, ProviderEvent, Subscription
from ..payments import InvalidNotification, Notification

logger = logging.getLogger(__name__)


def new_payment_key() -> str:
    """A payment's reference: sent to the provider and shown in its checkout, so unguessable
    (a guessed reference must never let an event for one payment pay another)."""
    return f"pay_{secrets.token_urlsafe(24)}"


def payment_start(
    *,
    payer: User,
    amount: int,
    currency: str,
    title: str,
    return_url: str,
    order: Order | None = None,
    subscription: Subscription | None = None,
    contribution=None,
    expires_at: datetime | None = None,
) -> Payment:
    """A pending payment and its checkout page. The payment's key is also the provider's
    idempotency key: a retried request cannot make a second charge."""
    provider = payments.payment_provider()
    payment = Payment.objects.create(
        provider=provider.name,
        idempotency_key=new_payment_key(),
        payer=payer,
        order=order,
        subscription=subscription,
        contribution=contribution,
        amount=amount,
        currency=currency,
    )
    checkout = provider.start_checkout(
        payment=payment,
        title=title,
        success_url=return_url,
        cancel_url=return_url,
        expires_at=expires_at,
    )
    payment.checkout_url = checkout.url
    payment.provider_reference = checkout.reference
    payment.save(update_fields=["checkout_url", "provider_reference", "updated_at"])
    return payment


# --- Provider events: verified and stored at once, applied by a worker ------------------------


def notification_size_check(size: int) -> None:
    """A webhook body over the cap (any real event is a few kB): 413. The endpoint asks this
    of the declared length before it reads the body, and the service of the body it got."""
    if size > settings.PEERHUB_MARKETPLACE["webhook_max_bytes"]:
        raise TooLarge("The notification is too large.")


def _check_body(body: bytes) -> None:
    """What no provider sends: bodies over the cap, bytes that are not UTF-8, NUL characters
    (raw or escaped, which PostgreSQL cannot store). Refused with a 4xx, so the sender does
    not retry them forever."""
    notification_size_check(len(body))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DomainError("The notification is not UTF-8.", code="malformed") from error
    if "\x00" in text or "\\u0000" in text.lower():
        raise DomainError("The notification holds a NUL character.", code="malformed")


def notification_receive(
    *, provider_name: str, body: bytes, headers, apply_now: bool = False
) -> str:
    """Verify one webhook and store it; applying it is provider_event_apply's work, queued
    after commit (and found again by money_sweep if the queue loses it). The provider's event
    id is unique: an event delivered five times, even at once, is stored and applied once.
    `apply_now` applies in this request too (the sandbox checkout, which shows the result)."""
    provider = payments.get(provider_name)
    _check_body(body)
    try:
        note = provider.parse_notification(body=body, headers=headers)
    except InvalidNotification as error:
        raise DomainError(f"Invalid notification: {error}", code="invalid_signature") from error
    actionable = note.outcome in (Notification.SUCCEEDED, Notification.FAILED)
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = ProviderEvent.objects.create(
                    provider=provider.name,
                    event_id=note.event_id[:255],
                    kind=note.kind[:80],
                    reported=note.outcome,
                    state=ProviderEvent.State.RECEIVED
                    if actionable
                    else ProviderEvent.State.IGNORED,
                    outcome="" if actionable else f"ignored: {note.outcome}",
                    payment_key=note.payment_key[:80],
                    provider_reference=note.provider_reference[:255],
                    provider_charge=note.provider_charge[:255],
                    amount=note.amount,
                    currency=note.currency.upper()[:3],
                    payload=note.payload,
                    next_attempt_at=timezone.now() if actionable else None,
                )
        except IntegrityError:
            return "duplicate"
        if actionable and not apply_now:
            from ..tasks import apply_provider_event

            event_pk = event.pk
            transaction.on_commit(lambda: apply_provider_event.delay(event_pk), robust=True)
    logger.info("%s event %s (%s) stored", provider.name, note.event_id, note.kind)
    if actionable and apply_now:
        return provider_event_apply(event_id=event.pk)
    return "received" if actionable else event.outcome


def _mismatch(event: ProviderEvent, payment: Payment | None) -> str:
    """Why this event may not move this payment's money, or "" when it matches exactly."""
    if payment is None:
        return "names no payment of this provider"
    if payment.provider_reference and event.provider_reference != payment.provider_reference:
        return "names another checkout than the payment's"
    if event.amount != payment.amount:
        return f"amount {event.amount} is not the payment's {payment.amount}"
    if event.currency != payment.currency.upper():
        return f"currency {event.currency or '—'} is not the payment's {payment.currency}"
    return ""


def provider_event_apply(*, event_id: int, now: datetime | None = None) -> str:
    """Apply one stored event, exactly once: the event row is locked and must still be
    `received`, and its effect commits with its new state. An event that does not match the
    payment it names (provider object, amount, currency) changes nothing and is flagged for
    staff. An error leaves it `received` for a retry after a backoff; after the last attempt
    it is `failed`, for staff."""
    from . import transfers

    now = now or timezone.now()
    with transaction.atomic():
        event = (
            ProviderEvent.objects.select_for_update()
            .filter(pk=event_id, state=ProviderEvent.State.RECEIVED, next_attempt_at__lte=now)
            .first()
        )
        if event is None:
            return "not due"
        event.attempts += 1
        payment = (
            Payment.objects.select_for_update()
            .filter(provider=event.provider, idempotency_key=event.payment_key)
            .first()
        )
        event.payment = payment
        mismatch = _mismatch(event, payment)
        if mismatch:
            event.state = ProviderEvent.State.MISMATCHED
            event.outcome = f"not applied: {mismatch}"[:200]
            event.payment = payment if payment and event.payment_key else None
            event.next_attempt_at = None
            event.save()
            social_events.provider_event_flagged(event)
            logger.warning("%s event %s %s", event.provider, event.event_id, event.outcome)
            return event.outcome
        try:
            with transaction.atomic():
                outcome = _apply(payment, event)
        except Exception as error:  # kept for a retry; the event stays stored whatever happens
            logger.exception("applying %s event %s failed", event.provider, event.event_id)
            event.last_error = (str(error) or type(error).__name__)[:300]
            if event.attempts >= transfers.max_attempts():
                event.state = ProviderEvent.State.FAILED
                event.outcome = "failed to apply"
                event.next_attempt_at = None
                social_events.provider_event_flagged(event)
            else:
                event.next_attempt_at = now + transfers.backoff(event.attempts)
            event.save()
            return "retrying" if event.state == ProviderEvent.State.RECEIVED else "failed"
        event.state = ProviderEvent.State.APPLIED
        event.outcome = outcome[:200]
        event.applied_at = now
        event.next_attempt_at = None
        event.last_error = ""
        event.save()
    logger.info("%s event %s applied: %s", event.provider, event.event_id, outcome)
    return outcome


def provider_events_due(*, now: datetime | None = None, limit: int = 200) -> int:
    now = now or timezone.now()
    due = ProviderEvent.objects.filter(
        state=ProviderEvent.State.RECEIVED, next_attempt_at__lte=now
    ).order_by("next_attempt_at")
    ids = list(due.values_list("pk", flat=True)[:limit])
    for pk in ids:
        provider_event_apply(event_id=pk, now=now)
    return len(ids)


@transaction.atomic
def provider_event_dismiss(*, event: ProviderEvent, by: User, note: str = "") -> ProviderEvent:
    """Staff looked at a flagged event (and settled it with the provider by hand if needed)."""
    if not permissions.is_staff(by):
        raise NotAllowed("Only staff can review provider events.")
    event = ProviderEvent.objects.select_for_update().get(pk=event.pk)
    if event.state not in ProviderEvent.NEEDS_STAFF:
        raise Conflict("Only a flagged event can be marked reviewed.", code="not_flagged")
    event.state = ProviderEvent.State.DISMISSED
    event.outcome = f"reviewed by {by.username}: {note or event.outcome}"[:200]
    event.save(update_fields=["state", "outcome"])
    return event


def _apply(payment: Payment, event: ProviderEvent) -> str:
    if event.provider_charge and not payment.provider_charge:
        payment.provider_charge = event.provider_charge
        payment.save(update_fields=["provider_charge", "updated_at"])
    if event.reported == Notification.SUCCEEDED:
        return payment_succeeded(payment=payment)
    if payment.status != Payment.Status.PENDING:
        return f"ignored: payment already {payment.status}"
    payment.status = Payment.Status.FAILED
    payment.failure_reason = event.kind[:200]
    payment.save(update_fields=["status", "failure_reason", "updated_at"])
    if payment.contribution_id:
        from .purses import contribution_payment_failed

        contribution_payment_failed(payment=payment)
        return "failed"
    social_events.payment_failed(payment)
    if payment.subscription_id:
        from .subscriptions import subscription_payment_failed

        subscription_payment_failed(payment=payment)
    return "failed"


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
    if payment.contribution_id:
        from .purses import contribution_payment_captured

        return contribution_payment_captured(payment=payment)
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
        raise DomainError(_("No such checkout."), code="not_found")
    if payment.payer_id != getattr(user, "pk", None):
        raise NotAllowed(_("This checkout belongs to someone else."))
    return payment


def sandbox_answer(*, payment: Payment, by: User, outcome: str) -> str:
    """The payer's choice on the sandbox checkout page, sent as a signed notification through
    the same code as any provider's webhook. `pending` leaves the payment waiting: the payer
    may come back and let it succeed later, as a slow bank would."""
    from ..payments import sandbox

    if payment.payer_id != by.pk:
        raise NotAllowed(_("This checkout belongs to someone else."))
    kinds = {"succeed": "payment.succeeded", "decline": "payment.failed", "pending": None}
    if outcome not in kinds:
        raise DomainError(_("Choose succeed, decline or pending."), code="invalid_outcome")
    if kinds[outcome] is None:
        return "pending"
    body = sandbox.event_body(payment=payment, kind=kinds[outcome])
    headers = {sandbox.SIGNATURE_HEADER: sandbox.sign(body)}
    return notification_receive(provider_name="sandbox", body=body, headers=headers, apply_now=True)
