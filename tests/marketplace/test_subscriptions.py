"""Premium: subscribe through the provider, renew at period end, cancel at period end, lapse
after a failed renewal and its grace period; every period is revenue in the ledger."""

from datetime import timedelta

import pytest
from django.utils import timezone

from challenges.permissions import can_create_challenge
from marketplace import ledger, services
from marketplace.backends import PREMIUM_PERMISSIONS
from marketplace.models import LedgerTransaction, Payment, Subscription
from marketplace.tasks import renew_subscriptions
from peerhub.exceptions import Conflict, NotAllowed
from peerhub.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Status = Subscription.Status


def subscribe(user=None, interval="monthly", outcome="succeed") -> Subscription:
    user = user or UserFactory()
    payment = services.subscription_start(user=user, interval=interval)
    services.sandbox_answer(payment=payment, by=user, outcome=outcome)
    return Subscription.objects.get(pk=payment.subscription_id)


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)  # no cached permissions or premium flag


def test_subscribing_pays_and_unlocks_premium():
    user = UserFactory()
    assert not can_create_challenge(fresh(user))
    assert not fresh(user).has_perm("challenges.create_private_challenge")
    subscription = subscribe(user, interval="yearly")
    assert subscription.status == Status.ACTIVE
    assert subscription.price == 15000
    assert subscription.current_period_end.year == subscription.current_period_start.year + 1
    assert ledger.balance(ledger.revenue("EUR")) == 15000
    assert all(fresh(user).has_perm(perm) for perm in PREMIUM_PERMISSIONS)
    assert can_create_challenge(fresh(user))  # Premium makes an organiser (DESIGN.md)
    with pytest.raises(Conflict):
        services.subscription_start(user=user, interval="monthly")


def test_a_double_click_on_subscribe_makes_one_payment():
    user = UserFactory()
    first = services.subscription_start(user=user, interval="monthly")
    second = services.subscription_start(user=user, interval="monthly")
    assert first.pk == second.pk
    assert Payment.objects.count() == 1


def test_a_declined_first_payment_leaves_no_premium():
    user = UserFactory()
    subscription = subscribe(user, outcome="decline")
    assert subscription.status == Status.INCOMPLETE
    assert not fresh(user).has_perm("challenges.export_challenge")
    assert not LedgerTransaction.objects.exists()


def test_unverified_members_cannot_subscribe():
    with pytest.raises(NotAllowed):
        services.subscription_start(user=UserFactory(verified=False), interval="monthly")


def test_renewal_runs_twice_without_double_charge():
    subscription = subscribe()
    end = subscription.current_period_end
    later = end + timedelta(minutes=1)
    assert services.subscriptions_renew(now=later) == {"renewed": 1}
    assert services.subscriptions_renew(now=later) == {}
    subscription.refresh_from_db()
    assert subscription.current_period_start == end
    assert subscription.status == Status.ACTIVE
    assert ledger.balance(ledger.revenue("EUR")) == 2 * 1500
    assert LedgerTransaction.objects.filter(kind="subscription").count() == 2


def test_the_beat_task_renews():
    subscription = subscribe()
    Subscription.objects.filter(pk=subscription.pk).update(
        current_period_end=timezone.now() - timedelta(minutes=1)
    )
    assert renew_subscriptions.delay().get() == {"renewed": 1}
    assert renew_subscriptions.delay().get() == {}


def test_cancel_at_period_end_keeps_premium_until_then():
    user = UserFactory()
    subscription = subscribe(user)
    services.subscription_cancel(user=user)
    assert fresh(user).has_perm("challenges.export_challenge")
    later = subscription.current_period_end + timedelta(minutes=1)
    assert services.subscriptions_renew(now=later) == {"cancelled": 1}
    subscription.refresh_from_db()
    assert subscription.status == Status.CANCELLED
    assert not fresh(user).has_perm("challenges.export_challenge")
    assert ledger.balance(ledger.revenue("EUR")) == 1500  # no renewal charged


def test_resume_undoes_a_cancellation():
    user = UserFactory()
    subscribe(user)
    services.subscription_cancel(user=user)
    assert not services.subscription_resume(user=user).cancel_at_period_end


def test_a_failed_renewal_has_a_grace_period_then_lapses():
    user = UserFactory()
    subscription = subscribe(user)
    Subscription.objects.filter(pk=subscription.pk).update(sandbox_declines_renewal=True)
    end = subscription.current_period_end
    assert services.subscriptions_renew(now=end + timedelta(minutes=1)) == {"past due": 1}
    subscription.refresh_from_db()
    assert subscription.status == Status.PAST_DUE
    assert subscription.grace_until == end + timedelta(days=7)
    assert fresh(user).has_perm("challenges.export_challenge")  # still premium in grace
    assert services.subscriptions_renew(now=end + timedelta(days=6)) == {}
    assert services.subscriptions_renew(now=end + timedelta(days=8)) == {"lapsed": 1}
    subscription.refresh_from_db()
    assert subscription.status == Status.LAPSED
    assert not fresh(user).has_perm("challenges.export_challenge")
    assert ledger.balance(ledger.revenue("EUR")) == 1500


def test_a_past_due_member_pays_the_renewal_by_checkout():
    user = UserFactory()
    subscription = subscribe(user)
    Subscription.objects.filter(pk=subscription.pk).update(sandbox_declines_renewal=True)
    end = subscription.current_period_end
    services.subscriptions_renew(now=end + timedelta(minutes=1))
    payment = services.subscription_pay_renewal(user=user)
    assert services.subscription_pay_renewal(user=user).pk == payment.pk
    services.sandbox_answer(payment=payment, by=user, outcome="succeed")
    subscription.refresh_from_db()
    assert subscription.status == Status.ACTIVE
    assert subscription.current_period_start == end
    assert subscription.grace_until is None
    assert ledger.balance(ledger.revenue("EUR")) == 3000
    assert ledger.audit() == []


def test_missing_plans_are_created_from_settings():
    from marketplace.models import Plan

    Plan.objects.all().delete()  # as after a transactional test's flush
    payment = services.subscription_start(user=UserFactory(), interval="monthly")
    assert payment.amount == 1500
    assert set(Plan.objects.values_list("code", flat=True)) == {"free", "premium"}
