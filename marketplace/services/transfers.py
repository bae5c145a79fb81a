"""Refunds and payouts: money PeerHub sends out through a provider, kept as rows.

A refund or payout row is written in the same transaction as the ledger lines that promise it
(refund_create, payout_request), so a committed promise is never lost. Sending is at least
once and the provider makes it at most once: every call carries the row's idempotency key.

    created ──send──▶ sent ──provider says yes──▶ done
                       │  └─provider says no: retry after a backoff, up to max_attempts──▶ failed

A send first claims the row with a conditional UPDATE (state open, due now), which also moves
`next_attempt_at` a lease ahead: two workers never send the same row at once, and a row whose
worker died mid-send is sent again by the sweep once the lease is over. The task queued after
commit is only the fast path; money_sweep finds every due row whatever happened to the broker."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from peerhub.models import User

from .. import payments, social_events
from ..models import Order, Payment, Payout, Refund, Transfer
from ..pagecache import transfer_changed

logger = logging.getLogger(__name__)

# How long a claimed send may take before the sweep may try the row again.
LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


def max_attempts() -> int:
    return settings.PEERHUB_MARKETPLACE["max_attempts"]


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … at most an hour: the wait after the `attempts`-th failure."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def refund_create(*, payment: Payment, amount: int, key: str, order: Order | None = None) -> Refund:
    """Promise `amount` of `payment` back to its payer. Call it in the transaction that posts
    the ledger's refund lines under the same `key` (the ledger refuses a key twice, so a fact
    is refunded once); the provider is asked after commit."""
    refund = Refund.objects.create(
        provider=payment.provider,
        payment=payment,
        order=order,
        amount=amount,
        currency=payment.currency,
        idempotency_key=key,
        next_attempt_at=timezone.now(),
    )
    _send_on_commit(refund)
    return refund


def payout_create(*, seller: User, amount: int, currency: str, key: str) -> Payout:
    payout = Payout.objects.create(
        provider=payments.payout_provider().name,
        seller=seller,
        amount=amount,
        currency=currency,
        idempotency_key=key,
        next_attempt_at=timezone.now(),
    )
    _send_on_commit(payout)
    return payout


def _send_on_commit(transfer: Transfer) -> None:
    """Queue the send after commit. A broker that is down is logged, not raised: the row is
    committed and money_sweep sends it (robust=True keeps the caller's answer a success)."""
    from ..tasks import send_payout, send_refund

    task, pk = (send_refund if isinstance(transfer, Refund) else send_payout), transfer.pk
    transaction.on_commit(lambda: task.delay(pk), robust=True)


def transfer_send(*, transfer_model: type[Transfer], pk: int, now: datetime | None = None) -> str:
    """Send one refund or payout if it is open and due. Safe to run twice, at once or after a
    crash: the claim lets one caller through, and the provider's idempotency key makes a
    repeated call after a lost answer a no-op at the provider."""
    now = now or timezone.now()
    claimed = transfer_model.objects.filter(
        pk=pk, state__in=Transfer.OPEN, next_attempt_at__lte=now
    ).update(
        state=Transfer.State.SENT,
        attempts=F("attempts") + 1,
        next_attempt_at=now + LEASE,
        updated_at=now,
    )
    if not claimed:
        return "not due"
    transfer = transfer_model.objects.select_related(
        *(["payment"] if transfer_model is Refund else ["seller"])
    ).get(pk=pk)
    transfer_changed(transfer)  # the updates here send no signal: sent, done, failed
    provider = payments.get(transfer.provider)
    try:
        if isinstance(transfer, Refund):
            reference = provider.refund(
                payment=transfer.payment, amount=transfer.amount, key=transfer.idempotency_key
            )
        else:
            reference = provider.payout(payout=transfer)
    except Exception as error:  # the provider's refusal, its library's or the network's error
        logger.warning("%s %s attempt %s failed: %s", transfer_model.__name__, pk,
                       transfer.attempts, error)  # fmt: skip
        return _attempt_failed(transfer, error, now)
    with transaction.atomic():
        transfer_model.objects.filter(pk=pk, state=Transfer.State.SENT).update(
            state=Transfer.State.DONE,
            provider_reference=str(reference)[:255],
            last_error="",
            next_attempt_at=None,
            done_at=now,
            updated_at=now,
        )
        transfer_changed(transfer)
        if isinstance(transfer, Payout):
            social_events.payout_sent(transfer)
    return "done"


def _attempt_failed(transfer: Transfer, error: Exception, now: datetime) -> str:
    message = (str(error) or type(error).__name__)[:300]
    if transfer.attempts >= max_attempts():
        with transaction.atomic():
            type(transfer).objects.filter(pk=transfer.pk, state=Transfer.State.SENT).update(
                state=Transfer.State.FAILED, last_error=message, next_attempt_at=None,
                updated_at=now,
            )  # fmt: skip
            transfer.state, transfer.last_error = Transfer.State.FAILED, message
            transfer_changed(transfer)
            social_events.transfer_failed(transfer)
        return "failed"
    type(transfer).objects.filter(pk=transfer.pk, state=Transfer.State.SENT).update(
        last_error=message, next_attempt_at=now + backoff(transfer.attempts), updated_at=now
    )
    transfer_changed(transfer)
    return "retrying"


def refund_send(*, refund_id: int) -> str:
    return transfer_send(transfer_model=Refund, pk=refund_id)


def payout_send(*, payout_id: int) -> str:
    return transfer_send(transfer_model=Payout, pk=payout_id)


@transaction.atomic
def transfer_retry(*, transfer: Transfer, by: User) -> Transfer:
    """Staff send a failed refund or payout again, with a fresh round of attempts (after
    fixing what made the provider refuse it). The idempotency key stays: never paid twice."""
    from peerhub.exceptions import Conflict, NotAllowed

    from .. import permissions

    if not permissions.is_staff(by):
        raise NotAllowed(_("Only staff can retry a refund or a payout."))
    model = type(transfer)
    updated = model.objects.filter(pk=transfer.pk, state=Transfer.State.FAILED).update(
        state=Transfer.State.CREATED, attempts=0, next_attempt_at=timezone.now(),
        updated_at=timezone.now(),
    )  # fmt: skip
    if not updated:
        raise Conflict(_("Only a failed refund or payout can be retried."), code="not_failed")
    transfer.refresh_from_db()
    transfer_changed(transfer)
    _send_on_commit(transfer)
    return transfer


def transfers_due(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send every open refund and payout that is due (the sweep)."""
    now = now or timezone.now()
    results: dict[str, int] = {}
    for model in (Refund, Payout):
        due = model.objects.filter(state__in=Transfer.OPEN, next_attempt_at__lte=now)
        for pk in due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit]:
            outcome = transfer_send(transfer_model=model, pk=pk, now=now)
            key = f"{model.__name__.lower()}s {outcome}"
            results[key] = results.get(key, 0) + 1
    return results
