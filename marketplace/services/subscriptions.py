"""The Premium plan: subscribe, renew at period end, cancel at period end, lapse after a failed
renewal and its grace period. Every period is paid through the provider and recorded in the
ledger (clearing → platform revenue)."""

from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from peerhub.exceptions import Conflict, DomainError, NotAllowed
from peerhub.models import User
from peerhub.selectors import user_is_verified

from .. import ledger, payments, social_events
from ..models import LedgerTransaction, Payment, Plan, Subscription
from ..pagecache import members_changed
from ..plans import plans_ensure
from . import transfers

Status = Subscription.Status


def _period_end(start: datetime, interval: str) -> datetime:
    step = (
        relativedelta(years=1)
        if interval == Subscription.Interval.YEARLY
        else relativedelta(months=1)
    )
    return start + step


def current_subscription(user) -> Subscription | None:
    return (
        Subscription.objects.filter(user=user, status__in=[*Subscription.LIVE, Status.INCOMPLETE])
        .select_related("plan")
        .first()
    )


@transaction.atomic
def subscription_start(*, user: User, interval: str, plan_code: str = Plan.PREMIUM) -> Payment:
    """Subscribe to Premium: a subscription waiting for its first payment, and that payment's
    checkout. Asking again while it waits returns the same payment (a double click pays once)."""
    if not user_is_verified(user):
        raise NotAllowed(_("Verify your e-mail address first."), code="unverified")
    if interval not in Subscription.Interval.values:
        raise DomainError(_("Choose monthly or yearly."), code="invalid_interval")
    plan = plans_ensure().filter(code=plan_code, is_premium=True).first()
    if plan is None or plan.price_for(interval) <= 0:
        raise DomainError(_("That plan cannot be bought."), code="invalid_plan")
    # Lock the member's row: two clicks at once serialise here.
    User.objects.select_for_update().get(pk=user.pk)
    current = current_subscription(user)
    if current is not None and current.status != Status.INCOMPLETE:
        raise Conflict(_("You already have Premium."), code="already_subscribed")
    if current is not None:
        pending = current.payments.filter(status=Payment.Status.PENDING).first()
        if pending is not None and current.interval == interval:
            return pending
        current.status = Status.CANCELLED
        current.ended_at = timezone.now()
        current.save(update_fields=["status", "ended_at"])
        current.payments.filter(status=Payment.Status.PENDING).update(
            status=Payment.Status.CANCELLED
        )
    subscription = Subscription.objects.create(
        user=user, plan=plan, interval=interval, price=plan.price_for(interval),
        currency=plan.currency,
    )  # fmt: skip
    from .payments import payment_start

    return payment_start(
        payer=user,
        subscription=subscription,
        amount=subscription.price,
        currency=subscription.currency,
        title=_("PeerHub {plan} ({interval})").format(
            plan=plan.name, interval=str(subscription.get_interval_display()).lower()
        ),
        return_url=reverse("marketplace:subscription"),
    )


def _record_revenue(payment: Payment, subscription: Subscription) -> None:
    ledger.post(
        key=f"payment:{payment.pk}:subscription",
        kind=LedgerTransaction.Kind.SUBSCRIPTION,
        legs=[
            ledger.Leg(ledger.clearing(payment.currency), -payment.amount),
            ledger.Leg(ledger.revenue(payment.currency), payment.amount),
        ],
        memo=f"{subscription.plan.name} for {subscription.user}",
        payment=payment,
        subscription=subscription,
    )


def subscription_payment_captured(*, payment: Payment) -> str:
    """A subscription payment arrived (payment locked by the caller): the period starts, or the
    renewal the member paid by hand extends it. Money for an ended subscription goes back."""
    subscription = Subscription.objects.select_for_update().get(pk=payment.subscription_id)
    _record_revenue(payment, subscription)
    now = timezone.now()
    if subscription.status == Status.INCOMPLETE:
        subscription.status = Status.ACTIVE
        subscription.current_period_start = now
        subscription.current_period_end = _period_end(now, subscription.interval)
        announce = social_events.subscription_active
    elif subscription.status == Status.PAST_DUE:
        start = subscription.current_period_end or now
        subscription.status = Status.ACTIVE
        subscription.current_period_start = start
        subscription.current_period_end = _period_end(start, subscription.interval)
        subscription.grace_until = None
        announce = social_events.subscription_renewed
    else:
        _refund_subscription_payment(payment)
        return f"refunded: subscription is {subscription.status}"
    subscription.save()
    announce(subscription)
    return "subscribed"


def _refund_subscription_payment(payment: Payment) -> None:
    key = f"payment:{payment.pk}:refund"
    ledger.post(
        key=key,
        kind=LedgerTransaction.Kind.REFUND,
        legs=[
            ledger.Leg(ledger.revenue(payment.currency), -payment.amount),
            ledger.Leg(ledger.clearing(payment.currency), payment.amount),
        ],
        memo="Subscription payment refunded",
        payment=payment,
        subscription_id=payment.subscription_id,
    )
    transfers.refund_create(payment=payment, amount=payment.amount, key=key)


def subscription_payment_failed(*, payment: Payment) -> None:
    """A declined first payment leaves the subscription incomplete: the member may try again."""


@transaction.atomic
def subscription_cancel(*, user: User) -> Subscription:
    """Cancel at the end of the paid period: Premium stays until then."""
    subscription = current_subscription(user)
    if subscription is None or subscription.status not in Subscription.LIVE:
        raise Conflict(_("You have no Premium subscription to cancel."), code="not_subscribed")
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.cancel_at_period_end = True
    subscription.save(update_fields=["cancel_at_period_end"])
    social_events.subscription_cancel_requested(subscription)
    return subscription


@transaction.atomic
def subscription_resume(*, user: User) -> Subscription:
    subscription = current_subscription(user)
    if subscription is None or subscription.status != Status.ACTIVE:
        raise Conflict(_("You have no active subscription to keep."), code="not_subscribed")
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.cancel_at_period_end = False
    subscription.save(update_fields=["cancel_at_period_end"])
    return subscription


@transaction.atomic
def subscription_pay_renewal(*, user: User) -> Payment:
    """A past-due member pays the renewal through a checkout (when the provider could not charge
    off-session, or the card was declined). One pending renewal payment at a time."""
    subscription = current_subscription(user)
    if subscription is None or subscription.status != Status.PAST_DUE:
        raise Conflict(_("Nothing is due."), code="nothing_due")
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    pending = subscription.payments.filter(status=Payment.Status.PENDING).first()
    if pending is not None:
        return pending
    from .payments import payment_start

    return payment_start(
        payer=user,
        subscription=subscription,
        amount=subscription.price,
        currency=subscription.currency,
        title=_("PeerHub {plan} renewal").format(plan=subscription.plan.name),
        return_url=reverse("marketplace:subscription"),
    )


def _renew(subscription: Subscription, now: datetime) -> str:
    """Charge the next period (subscription locked by the caller). The payment's key names the
    period, so a second run finds it instead of charging again."""
    end = subscription.current_period_end
    if subscription.cancel_at_period_end:
        subscription.status = Status.CANCELLED
        subscription.ended_at = end
        subscription.save(update_fields=["status", "ended_at"])
        return "cancelled"
    provider = payments.payment_provider()
    payment, created = Payment.objects.get_or_create(
        idempotency_key=f"subscription-{subscription.pk}-renew-{end:%Y%m%d%H%M%S}",
        defaults={
            "provider": provider.name,
            "payer_id": subscription.user_id,
            "subscription": subscription,
            "amount": subscription.price,
            "currency": subscription.currency,
        },
    )
    if not created:
        return "already attempted"
    paid = payments.get(payment.provider).charge_renewal(payment=payment)
    if paid:
        payment.status = Payment.Status.SUCCEEDED
        payment.save(update_fields=["status", "updated_at"])
        _record_revenue(payment, subscription)
        subscription.current_period_start = end
        subscription.current_period_end = _period_end(end, subscription.interval)
        subscription.save(update_fields=["current_period_start", "current_period_end"])
        social_events.subscription_renewed(subscription)
        return "renewed"
    if paid is False:
        payment.status = Payment.Status.FAILED
        payment.failure_reason = "renewal declined"
        payment.save(update_fields=["status", "failure_reason", "updated_at"])
    else:
        payment.status = Payment.Status.CANCELLED
        payment.failure_reason = "the member pays the renewal through a checkout"
        payment.save(update_fields=["status", "failure_reason", "updated_at"])
    subscription.status = Status.PAST_DUE
    subscription.grace_until = end + timedelta(days=settings.PEERHUB_MARKETPLACE["grace_days"])
    subscription.save(update_fields=["status", "grace_until"])
    social_events.subscription_past_due(subscription)
    return "past due"


def subscriptions_renew(*, now: datetime | None = None) -> dict[str, int]:
    """Renew every subscription whose period ended; lapse those past their grace period.
    Each row is locked and its state checked again: running twice charges nothing twice."""
    now = now or timezone.now()
    results: dict[str, int] = {}
    due = Subscription.objects.filter(status=Status.ACTIVE, current_period_end__lte=now)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            subscription = (
                Subscription.objects.select_for_update()
                .filter(pk=pk, status=Status.ACTIVE, current_period_end__lte=now)
                .first()
            )
            if subscription is None:
                continue
            outcome = _renew(subscription, now)
        results[outcome] = results.get(outcome, 0) + 1
    with transaction.atomic():
        # One UPDATE lapses them all; the rows are read under lock first, so those announced
        # are exactly those lapsed (a second run finds none).
        lapsing = list(
            Subscription.objects.select_for_update().filter(
                status=Status.PAST_DUE, grace_until__lte=now
            )
        )
        lapsed = Subscription.objects.filter(pk__in=[s.pk for s in lapsing]).update(
            status=Status.LAPSED, ended_at=now
        )
        members_changed(subscription.user_id for subscription in lapsing)  # their plan
        for subscription in lapsing:
            social_events.subscription_lapsed(subscription)
    if lapsed:
        results["lapsed"] = lapsed
    return results
