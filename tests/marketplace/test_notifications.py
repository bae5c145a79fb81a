"""Who hears about orders, payments, payouts and Premium (marketplace.social_events): each event
notifies exactly the right members once, never the one who acted; a webhook delivered twice
notifies once; a rolled-back action notifies no one."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from marketplace import services
from marketplace.models import Order, Payment, Subscription
from marketplace.payments import sandbox
from peerhub.models import Notification
from peerhub.notifications import get_kind
from tests.factories import UserFactory

from .factories import OfferFactory, make_seller

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    class People:
        seller = make_seller(username="seller")
        buyer = UserFactory(username="buyer")
        staff = UserFactory(username="staff", is_staff=True)
        offer = OfferFactory(seller=seller, title="Adapt the filter")

    return People


def heard(kind: str) -> list[str]:
    """Who was notified of `kind`, one entry per notification."""
    return sorted(
        Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True)
    )


def answer(payment: Payment, kind: str = "payment.succeeded", event_id: str | None = None) -> str:
    body = sandbox.event_body(payment=payment, kind=kind, event_id=event_id)
    return services.notification_receive(
        provider_name="sandbox", body=body, headers={sandbox.SIGNATURE_HEADER: sandbox.sign(body)}
    )


def placed(commit, people) -> Order:
    return commit(services.order_place, buyer=people.buyer, offer=people.offer, brief="Brief.")


def paid(commit, people) -> Order:
    order = placed(commit, people)
    payment = commit(services.order_pay, order=order, by=people.buyer)
    commit(answer, payment)
    order.refresh_from_db()
    return order


def delivered(commit, people) -> Order:
    order = paid(commit, people)
    commit(services.order_start, order=order, by=people.seller)
    return commit(services.order_deliver, order=order, by=people.seller, message="Here it is.")


# --- Orders ----------------------------------------------------------------------------------


def test_placing_an_order_tells_the_seller(commit, people):
    order = placed(commit, people)
    assert heard("order_placed") == ["seller"]
    notification = Notification.objects.get(kind="order_placed")
    assert notification.actor == people.buyer
    assert notification.target == order
    assert notification.target_url == order.get_absolute_url()
    assert f"placed “Order #{order.pk}: Adapt the filter”" in notification.text
    assert notification.email == Notification.Email.IMMEDIATE  # orders are important


def test_a_captured_payment_tells_both_sides_once(commit, people):
    paid(commit, people)
    assert heard("order_paid") == ["buyer", "seller"]
    assert Notification.objects.get(kind="order_paid", recipient=people.buyer).actor is None


def test_a_webhook_delivered_twice_notifies_once(commit, people):
    order = placed(commit, people)
    payment = commit(services.order_pay, order=order, by=people.buyer)
    for _ in range(5):
        commit(answer, payment, event_id="evt_same")
    commit(answer, payment, event_id="evt_another")  # a second success for the same payment
    assert heard("order_paid") == ["buyer", "seller"]


def test_money_for_a_full_offer_is_refunded_at_once_and_only_the_buyer_hears(commit, people):
    people.offer.capacity = 1
    people.offer.save()
    late_buyer = UserFactory(username="late")
    first = placed(commit, people)
    first_payment = commit(services.order_pay, order=first, by=people.buyer)
    # The first buyer's bank is slow: the reservation lapses and a faster buyer takes the slot.
    Order.objects.filter(pk=first.pk).update(reserved_until=timezone.now() - timedelta(seconds=1))
    second = commit(services.order_place, buyer=late_buyer, offer=people.offer, brief="Brief.")
    second_payment = commit(services.order_pay, order=second, by=late_buyer)
    commit(answer, second_payment)
    commit(answer, first_payment)
    first.refresh_from_db()
    assert first.state == Order.State.REFUNDED
    assert heard("order_refunded") == ["buyer"]
    assert heard("order_paid") == ["late", "seller"]  # the second order only


def test_a_declined_payment_tells_the_buyer(commit, people):
    order = placed(commit, people)
    payment = commit(services.order_pay, order=order, by=people.buyer)
    commit(answer, payment, "payment.failed")
    commit(answer, payment, "payment.failed")
    assert heard("payment_failed") == ["buyer"]
    assert Notification.objects.get(kind="payment_failed").target == order
    assert heard("order_paid") == []


def test_start_and_delivery_tell_the_buyer(commit, people):
    delivered(commit, people)
    assert heard("order_started") == ["buyer"]
    assert heard("order_delivered") == ["buyer"]


def test_declining_tells_the_buyer_of_the_refund(commit, people):
    order = paid(commit, people)
    commit(services.order_decline, order=order, by=people.seller, reason="Fully booked")
    assert heard("order_declined") == ["buyer"]
    assert "refunded" in Notification.objects.get(kind="order_declined").text


def test_cancelling_tells_the_other_side(commit, people):
    order = placed(commit, people)
    commit(services.order_cancel, order=order, by=people.buyer)
    assert heard("order_cancelled") == ["seller"]


def test_accepting_tells_the_seller_who_gets_the_money(commit, people):
    order = delivered(commit, people)
    commit(services.order_accept, order=order, by=people.buyer)
    assert heard("order_completed") == ["seller"]
    assert "released" in Notification.objects.get(kind="order_completed").text
    # The buyer, who accepted on the order page, is asked to review right there.
    assert heard("order_review_requested") == []


def test_automatic_completion_tells_the_seller_and_invites_the_buyer_to_review_once(commit, people):
    order = delivered(commit, people)
    later = order.auto_complete_at + timedelta(minutes=1)
    assert commit(services.orders_auto_complete, now=later) == 1
    assert commit(services.orders_auto_complete, now=later) == 0
    assert heard("order_completed") == ["seller"]
    assert heard("order_review_requested") == ["buyer"]
    invitation = Notification.objects.get(kind="order_review_requested")
    assert invitation.target_url == f"{order.get_absolute_url()}#review-title"


def test_a_dispute_tells_the_seller_and_staff(commit, people):
    order = delivered(commit, people)
    commit(services.order_dispute, order=order, by=people.buyer, reason="Wrong town")
    assert heard("order_disputed") == ["seller", "staff"]


def test_a_resolution_tells_both_sides(commit, people):
    order = delivered(commit, people)
    commit(services.order_dispute, order=order, by=people.buyer, reason="Wrong town")
    commit(services.order_resolve, order=order, by=people.staff, resolution="refund")
    assert heard("order_resolved") == ["buyer", "seller"]


def test_each_message_tells_the_other_side(commit, people):
    order = placed(commit, people)
    commit(services.order_message_post, order=order, by=people.buyer, body="A question")
    commit(services.order_message_post, order=order, by=people.buyer, body="Another one")
    commit(services.order_message_post, order=order, by=people.seller, body="An answer")
    commit(services.order_message_post, order=order, by=people.staff, body="Staff here")
    assert heard("order_message") == ["buyer", "buyer", "seller", "seller", "seller"]


def test_a_review_tells_the_seller(commit, people):
    order = delivered(commit, people)
    commit(services.order_accept, order=order, by=people.buyer)
    commit(services.order_review_save, order=order, by=people.buyer, rating=5, text="Great")
    assert heard("order_reviewed") == ["seller"]
    assert "5/5" in Notification.objects.get(kind="order_reviewed").text


def test_the_whole_journey_never_notifies_whoever_acted(commit, people):
    order = delivered(commit, people)
    commit(services.order_accept, order=order, by=people.buyer)
    acted = Notification.objects.filter(actor__isnull=False)
    assert acted.exists()
    assert not [n for n in acted if n.actor_id == n.recipient_id]


def test_a_rolled_back_action_notifies_no_one(commit, people):
    order = paid(commit, people)
    before = Notification.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        commit(services.order_start, order=order, by=people.seller)
        raise RuntimeError("the request failed after the start")
    assert Notification.objects.count() == before
    assert heard("order_started") == []


# --- Payouts ---------------------------------------------------------------------------------


def test_a_payout_confirms_to_the_seller(commit, people):
    order = delivered(commit, people)
    commit(services.order_accept, order=order, by=people.buyer)
    commit(services.payout_request, seller=people.seller)
    assert heard("payout_sent") == ["seller"]
    assert "90.00 EUR" in Notification.objects.get(kind="payout_sent").text


# --- Subscriptions ---------------------------------------------------------------------------


def subscribe(commit, user) -> Subscription:
    payment = commit(services.subscription_start, user=user, interval="monthly")
    commit(services.sandbox_answer, payment=payment, by=user, outcome="succeed")
    return Subscription.objects.get(pk=payment.subscription_id)


def test_subscribing_renewing_and_cancelling_tell_the_member_once_each(commit):
    member = UserFactory(username="org")
    subscription = subscribe(commit, member)
    assert heard("subscription_active") == ["org"]
    end = subscription.current_period_end
    for _ in range(2):
        commit(services.subscriptions_renew, now=end + timedelta(minutes=1))
    assert heard("subscription_renewed") == ["org"]
    commit(services.subscription_cancel, user=member)
    commit(services.subscription_resume, user=member)
    commit(services.subscription_cancel, user=member)
    assert heard("subscription_cancel_requested") == ["org"]
    assert all(
        n.email == Notification.Email.IMMEDIATE
        for n in Notification.objects.filter(recipient=member)
    )


def test_a_failed_renewal_warns_then_lapses_once(commit):
    member = UserFactory(username="org")
    subscription = subscribe(commit, member)
    Subscription.objects.filter(pk=subscription.pk).update(sandbox_declines_renewal=True)
    end = subscription.current_period_end
    commit(services.subscriptions_renew, now=end + timedelta(minutes=1))
    commit(services.subscriptions_renew, now=end + timedelta(minutes=2))
    assert heard("subscription_past_due") == ["org"]
    for _ in range(2):
        commit(services.subscriptions_renew, now=end + timedelta(days=30))
    assert heard("subscription_lapsed") == ["org"]


def test_a_declined_first_premium_payment_tells_the_member(commit):
    member = UserFactory(username="org")
    payment = commit(services.subscription_start, user=member, interval="monthly")
    commit(services.sandbox_answer, payment=payment, by=member, outcome="decline")
    assert heard("payment_failed") == ["org"]
    assert heard("subscription_active") == []


def test_order_money_and_premium_kinds_are_important():
    for kind in ("order_placed", "order_paid", "payment_failed", "payout_sent",
                 "subscription_past_due", "subscription_lapsed"):  # fmt: skip
        assert get_kind(kind).important, kind


def test_nothing_is_announced_for_a_payment_still_pending(commit, people):
    order = placed(commit, people)
    payment = commit(services.order_pay, order=order, by=people.buyer)
    commit(services.sandbox_answer, payment=payment, by=people.buyer, outcome="pending")
    assert heard("order_paid") == heard("payment_failed") == []
    order.refresh_from_db()
    assert order.state == Order.State.PENDING_PAYMENT
