"""The order state machine: every step allowed and refused, by role and by state."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace import ledger, services
from marketplace.models import Order, OrderEvent, Payment
from peerhub.exceptions import Conflict, DomainError, NotAllowed
from tests.factories import UserFactory, make_solution

from .factories import OfferFactory, delivered_order, make_seller, paid_order, pay, place

pytestmark = pytest.mark.django_db
State = Order.State


def _order_in(state: str) -> Order:
    order = _build(state)
    return Order.objects.get(pk=order.pk)


def _build(state: str) -> Order:
    if state == State.PENDING_PAYMENT:
        return place()
    if state == State.CANCELLED:
        order = place()
        return services.order_cancel(order=order, by=order.buyer)
    order = paid_order()
    if state == State.PAID:
        return order
    if state == State.REFUNDED:
        return services.order_decline(order=order, by=order.seller)
    services.order_start(order=order, by=order.seller)
    if state == State.IN_PROGRESS:
        return order
    if state == State.DISPUTED:
        return services.order_dispute(order=order, by=order.buyer, reason="Nothing came.")
    services.order_deliver(order=order, by=order.seller, message="Done.")
    if state == State.DELIVERED:
        return order
    if state == State.COMPLETED:
        return services.order_accept(order=order, by=order.buyer)
    if state == State.RESOLVED:
        services.order_dispute(order=order, by=order.buyer, reason="Wrong town.")
        staff = UserFactory(is_staff=True)
        return services.order_resolve(order=order, by=staff, resolution="refund")
    raise AssertionError(state)


ACTIONS = {
    "pay": lambda o, by: services.order_pay(order=o, by=by),
    "cancel": lambda o, by: services.order_cancel(order=o, by=by),
    "start": lambda o, by: services.order_start(order=o, by=by),
    "decline": lambda o, by: services.order_decline(order=o, by=by),
    "deliver": lambda o, by: services.order_deliver(order=o, by=by, message="Done."),
    "accept": lambda o, by: services.order_accept(order=o, by=by),
    "dispute": lambda o, by: services.order_dispute(order=o, by=by, reason="Late."),
    "resolve": lambda o, by: services.order_resolve(order=o, by=by, resolution="release"),
}
# Who may take each step, and from which states.
ROLES = {
    "pay": {"buyer"},
    "cancel": {"buyer", "seller"},
    "start": {"seller"},
    "decline": {"seller"},
    "deliver": {"seller"},
    "accept": {"buyer"},
    "dispute": {"buyer"},
    "resolve": {"staff"},
}
FROM = {
    "pay": {State.PENDING_PAYMENT},
    "cancel": {State.PENDING_PAYMENT},
    "start": {State.PAID},
    "decline": {State.PAID, State.IN_PROGRESS},
    "deliver": {State.IN_PROGRESS},
    "accept": {State.DELIVERED},
    "dispute": {State.IN_PROGRESS, State.DELIVERED},
    "resolve": {State.DISPUTED},
}
TO = {
    "cancel": State.CANCELLED,
    "start": State.IN_PROGRESS,
    "decline": State.REFUNDED,
    "deliver": State.DELIVERED,
    "accept": State.COMPLETED,
    "dispute": State.DISPUTED,
    "resolve": State.RESOLVED,
}


def _actor(order: Order, role: str):
    return {
        "buyer": order.buyer,
        "seller": order.seller,
        "staff": UserFactory(is_staff=True),
        "stranger": UserFactory(),
    }[role]


@pytest.mark.parametrize("state", list(State.values))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_transition_matrix(action, state):
    """Every step from every state by every role: the wrong role is refused (403) whatever the
    state, the right role in a wrong state gets a conflict (409), otherwise the step happens
    and the timeline says who took it."""
    order = _order_in(state)
    assert order.state == state
    roles = ["stranger", "staff", "buyer", "seller"]
    for role in sorted(roles, key=lambda r: r in ROLES[action]):  # refused roles first
        by = _actor(order, role)
        if role not in ROLES[action]:
            with pytest.raises(NotAllowed):
                ACTIONS[action](order, by)
        elif state not in FROM[action]:
            with pytest.raises(Conflict):
                ACTIONS[action](order, by)
        else:
            ACTIONS[action](order, by)
            order.refresh_from_db()
            if action == "pay":
                assert order.payments.filter(status="pending").count() == 1
            else:
                assert order.state == TO[action]
                last = order.events.last()
                assert (last.from_state, last.to_state, last.actor_id) == (
                    state, TO[action], by.pk,
                )  # fmt: skip
            break
    assert ledger.audit() == []


def test_price_and_fee_are_snapshotted(settings):
    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "fee_rate": "0.125"}
    offer = OfferFactory(price=1999)
    order = place(offer=offer)
    offer.price = 5000
    offer.save()
    order.refresh_from_db()
    assert (order.price, str(order.fee_rate), order.fee) == (1999, "0.1250", 250)


def test_a_seller_cannot_buy_their_own_offer():
    offer = OfferFactory()
    with pytest.raises(NotAllowed, match="own offer"):
        services.order_place(buyer=offer.seller, offer=offer)


def test_unverified_members_cannot_order():
    with pytest.raises(NotAllowed):
        services.order_place(buyer=UserFactory(verified=False), offer=OfferFactory())


def test_paused_offers_take_no_orders():
    with pytest.raises(Conflict):
        place(offer=OfferFactory(is_active=False))


def test_the_whole_journey_moves_the_money():
    order = delivered_order()
    assert ledger.balance(ledger.escrow("EUR")) == 10000
    services.order_accept(order=order, by=order.buyer)
    order.refresh_from_db()
    assert order.state == State.COMPLETED
    assert ledger.balances_of(order.seller) == {"EUR": 9000}
    assert ledger.balance(ledger.revenue("EUR")) == 1000
    assert ledger.balance(ledger.escrow("EUR")) == 0
    assert (order.released_amount, order.fee_collected) == (9000, 1000)
    states = list(order.events.values_list("to_state", flat=True))
    assert states == ["pending_payment", "paid", "in_progress", "delivered", "completed"]


def test_declining_refunds_everything():
    order = paid_order()
    services.order_decline(order=order, by=order.seller, reason="Too far away.")
    order.refresh_from_db()
    assert order.refunded_amount == order.price
    assert ledger.balance(ledger.escrow("EUR")) == 0
    assert ledger.balance(ledger.clearing("EUR")) == 0
    assert ledger.balances_of(order.seller) == {}


@pytest.mark.parametrize(
    ("resolution", "buyer_amount", "buyer_back", "seller_gets", "fee"),
    [
        ("refund", None, 10000, 0, 0),
        ("release", None, 0, 9000, 1000),
        ("split", 4000, 4000, 5400, 600),
    ],
)
def test_staff_resolve_a_dispute(resolution, buyer_amount, buyer_back, seller_gets, fee):
    order = delivered_order()
    services.order_dispute(order=order, by=order.buyer, reason="Half of it is missing.")
    staff = UserFactory(is_staff=True)
    services.order_resolve(order=order, by=staff, resolution=resolution, buyer_amount=buyer_amount)
    order.refresh_from_db()
    assert order.state == State.RESOLVED
    assert (order.refunded_amount, order.released_amount, order.fee_collected) == (
        buyer_back, seller_gets, fee,
    )  # fmt: skip
    assert ledger.balances_of(order.seller).get("EUR", 0) == seller_gets
    assert ledger.balance(ledger.revenue("EUR")) == fee
    assert ledger.balance(ledger.escrow("EUR")) == 0
    assert ledger.audit() == []


@pytest.mark.parametrize("amount", [None, 0, 10000, 12000])
def test_a_split_gives_each_side_something(amount):
    order = delivered_order()
    services.order_dispute(order=order, by=order.buyer, reason="Late.")
    with pytest.raises(DomainError, match="split"):
        services.order_resolve(
            order=order, by=UserFactory(is_staff=True), resolution="split", buyer_amount=amount
        )


def test_delivery_needs_a_message_and_proper_links():
    order = paid_order()
    services.order_start(order=order, by=order.seller)
    with pytest.raises(DomainError):
        services.order_deliver(order=order, by=order.seller, message="  ")
    with pytest.raises(DomainError, match="https"):
        services.order_deliver(
            order=order, by=order.seller, message="See", links=["javascript:alert(1)"]
        )
    services.order_deliver(
        order=order, by=order.seller, message="See the plan", links=["https://example.org/plan"]
    )
    delivery = order.messages.get(is_delivery=True)
    assert delivery.links == ["https://example.org/plan"]


def test_auto_completion_runs_twice_without_double_effect():
    order = delivered_order()
    assert services.orders_auto_complete() == 0  # not due yet
    later = timezone.now() + timedelta(days=8)
    assert services.orders_auto_complete(now=later) == 1
    assert services.orders_auto_complete(now=later) == 0
    order.refresh_from_db()
    assert order.state == State.COMPLETED
    assert ledger.balances_of(order.seller) == {"EUR": 9000}
    event = order.events.last()
    assert event.actor is None and "automatically" in event.note


def test_a_disputed_order_never_completes_by_itself():
    order = delivered_order()
    services.order_dispute(order=order, by=order.buyer, reason="Wrong.")
    assert services.orders_auto_complete(now=timezone.now() + timedelta(days=30)) == 0


def test_auto_complete_task_calls_the_service():
    from marketplace.tasks import auto_complete_orders

    delivered_order()
    Order.objects.update(auto_complete_at=timezone.now() - timedelta(minutes=1))
    assert auto_complete_orders.delay().get() == 1
    assert auto_complete_orders.delay().get() == 0


def _expire(order) -> None:
    """Its reservation lapsed a second ago (saved, as a write: pages kept from before it see
    it; time passing alone is marketplace.selectors.slots_now's)."""
    order.reserved_until = timezone.now() - timedelta(seconds=1)
    order.save(update_fields=["reserved_until"])


def test_placing_an_order_reserves_a_slot_and_a_full_offer_is_sold_out_before_any_charge():
    offer = OfferFactory(capacity=1)
    first = place(offer=offer)
    assert first.reserved_until > timezone.now()
    with pytest.raises(Conflict, match="sold out") as refused:
        place(offer=offer)
    assert refused.value.code == "sold_out"
    assert Order.objects.filter(offer=offer).count() == 1
    assert not Payment.objects.exists()


def test_an_expired_reservation_frees_its_slot_and_is_refused_at_payment():
    offer = OfferFactory(capacity=1)
    first = place(offer=offer)
    _expire(first)
    second = place(offer=offer)
    with pytest.raises(Conflict, match="reservation expired") as refused:
        services.order_pay(order=first, by=first.buyer)
    assert refused.value.code == "sold_out"
    assert not first.payments.exists()
    assert pay(second).state == State.PAID


def test_an_expired_reservation_is_taken_again_while_a_slot_is_free():
    offer = OfferFactory(capacity=1)
    order = place(offer=offer)
    _expire(order)
    payment = services.order_pay(order=order, by=order.buyer)
    order.refresh_from_db()
    assert order.reserved_until > timezone.now() + timedelta(minutes=29)
    services.sandbox_answer(payment=payment, by=order.buyer, outcome="succeed")
    order.refresh_from_db()
    assert order.state == State.PAID
    assert order.reserved_until is None
    assert order.start_by == order.paid_at + timedelta(days=offer.delivery_days)


def test_a_checkout_that_outlived_its_reservation_is_replaced_by_a_fresh_one():
    order = place(offer=OfferFactory(capacity=1))
    stale = services.order_pay(order=order, by=order.buyer)
    _expire(order)
    fresh = services.order_pay(order=order, by=order.buyer)
    stale.refresh_from_db()
    assert fresh.pk != stale.pk
    assert stale.status == Payment.Status.CANCELLED


def test_money_arriving_after_the_slot_went_to_another_buyer_is_refunded_at_once():
    offer = OfferFactory(capacity=1)
    slow = place(offer=offer)
    payment = services.order_pay(order=slow, by=slow.buyer)
    _expire(slow)  # the bank took longer than the reservation
    pay(place(offer=offer))
    services.sandbox_answer(payment=payment, by=slow.buyer, outcome="succeed")
    slow.refresh_from_db()
    assert slow.state == State.REFUNDED
    assert "no free slot" in slow.events.last().note
    assert ledger.balance(ledger.escrow("EUR")) == offer.price
    assert slow.refunds.get().amount == offer.price
    assert ledger.audit() == []


def test_cancelling_an_unpaid_order_frees_its_slot():
    offer = OfferFactory(capacity=1)
    first = place(offer=offer)
    services.order_cancel(order=first, by=first.buyer)
    assert place(offer=offer).state == State.PENDING_PAYMENT


def test_an_order_needs_a_brief():
    with pytest.raises(DomainError, match="brief") as refused:
        place(brief="   ")
    assert refused.value.code == "no_brief"
    assert not Order.objects.exists()


def test_messages_only_between_the_parties():
    order = place()
    services.order_message_post(order=order, by=order.seller, body="When do you need it?")
    services.order_message_post(order=order, by=order.buyer, body="By June.")
    with pytest.raises(NotAllowed):
        services.order_message_post(order=order, by=UserFactory(), body="Hi")
    with pytest.raises(DomainError):
        services.order_message_post(order=order, by=order.buyer, body=" ")
    assert order.messages.count() == 2


def test_the_buyer_reviews_a_completed_order_once():
    order = delivered_order()
    with pytest.raises(Conflict):
        services.order_review_save(order=order, by=order.buyer, rating=5)
    services.order_accept(order=order, by=order.buyer)
    with pytest.raises(NotAllowed):
        services.order_review_save(order=order, by=order.seller, rating=5)
    with pytest.raises(DomainError):
        services.order_review_save(order=order, by=order.buyer, rating=6)
    review = services.order_review_save(order=order, by=order.buyer, rating=5, text="Great")
    assert review.rating == 5
    with pytest.raises(Conflict):
        services.order_review_save(order=order, by=order.buyer, rating=4)


def test_every_transition_is_on_the_timeline():
    order = delivered_order()
    services.order_accept(order=order, by=order.buyer)
    events = OrderEvent.objects.filter(order=order)
    assert [e.actor_id for e in events] == [
        order.buyer_id,
        order.buyer_id,
        order.seller_id,
        order.seller_id,
        order.buyer_id,
    ]


def test_selling_needs_the_privilege():
    with pytest.raises(NotAllowed):
        services.offer_create(
            seller=UserFactory(), title="X", description="Y", price=100, delivery_days=1
        )
    offer = services.offer_create(
        seller=make_seller(), title="X", description="Y", price=100, delivery_days=1
    )
    assert offer.currency == "EUR"


def test_the_base_solution_is_snapshotted_for_adoption():
    seller = make_seller()
    solution = make_solution(author=seller)
    offer = OfferFactory(seller=seller, base_solution=solution)
    order = place(offer=offer)
    offer.base_solution = None
    offer.save()
    order.refresh_from_db()
    assert order.base_solution_id == solution.pk


def test_the_offer_page_counts_reservations_and_says_when_it_is_sold_out(client):
    offer = OfferFactory(capacity=1)
    client.force_login(UserFactory())
    page = client.get(offer.get_absolute_url()).content.decode()
    assert "Order this service" in page and "holds a slot for you for 15 minutes" in page
    held = place(offer=offer)
    page = client.get(offer.get_absolute_url()).content.decode()
    assert "Sold out right now" in page and "Order this service" not in page
    _expire(held)
    page = client.get(offer.get_absolute_url()).content.decode()
    assert "Order this service" in page


def test_the_buyer_sees_how_long_the_slot_is_held_and_when_it_has_lapsed(client):
    order = place()
    client.force_login(order.buyer)
    assert "Your slot is held until" in client.get(order.get_absolute_url()).content.decode()
    _expire(order)
    assert "Your reservation has lapsed" in client.get(order.get_absolute_url()).content.decode()
