"""A member's orders page and orders API list are kept for them (issue 17) under their orders'
scope (marketplace.pagecache.orders_scope): read from the kept copy while nothing they show
changed, and, right after each kind of write that changes what they show, exactly what a live
read gives, for the buyer and the seller alike. Writes that update rows in place send no
signal: those bump the scope themselves (a transfer's state, the wash flag, the ledger's
balances, a lapsed plan). Nobody is ever shown another member's kept orders, and staff, who
see everyone's, read theirs live."""

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace import ledger, selectors, services, wash
from marketplace.models import LedgerTransaction, Order, Payout, Plan, Refund, Subscription
from marketplace.plans import plans_ensure
from marketplace.services import transfers
from tests.factories import UserFactory
from tests.helpers import one_moment, page_main

from .factories import OfferFactory, delivered_order, paid_order, pay, place

pytestmark = pytest.mark.django_db

PAGE, API = reverse("marketplace:order-list"), "/api/orders/"


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PEERHUB_PAGE_CACHE = True


def seen(client, user, settings) -> tuple[str, dict, str, dict]:
    """What `user` gets from the orders page and the orders API: kept (the cache on), then
    live (the cache off)."""
    client.force_login(user)
    kept_page, kept_api = page_main(client, PAGE), client.get(API).json()
    settings.PEERHUB_PAGE_CACHE = False
    live_page, live_api = page_main(client, PAGE), client.get(API).json()
    settings.PEERHUB_PAGE_CACHE = True
    return kept_page, kept_api, live_page, live_api


def both_parties_see_it_live(client, order, settings, before: dict) -> None:
    changed = []
    for user in (order.buyer, order.seller):
        kept_page, kept_api, live_page, live_api = seen(client, user, settings)
        assert kept_page == live_page
        assert kept_api == live_api
        changed.append((kept_page, kept_api) != before[user.pk])
    assert any(changed), "the write changed nothing either party is shown"


def snapshot(client, order, settings) -> dict:
    """Each party's kept page and API answer before the write (which also fills the cache)."""
    result = {}
    for user in (order.buyer, order.seller):
        kept_page, kept_api, live_page, live_api = seen(client, user, settings)
        assert (kept_page, kept_api) == (live_page, live_api)
        result[user.pk] = (kept_page, kept_api)
    return result


def sent(transfer) -> None:
    transfers.transfer_send(transfer_model=type(transfer), pk=transfer.pk)


def refused(monkeypatch):
    """The provider refuses every transfer, and one attempt is all there is: it fails."""
    from marketplace.payments.sandbox import SandboxProvider
    from peerhub.exceptions import DomainError

    def refuse(self, **kwargs):
        raise DomainError("The provider timed out.", code="provider_error")

    monkeypatch.setattr(SandboxProvider, "refund", refuse)
    monkeypatch.setattr(SandboxProvider, "payout", refuse)
    monkeypatch.setattr(transfers, "max_attempts", lambda: 1)


# Each write: (how to make the order it starts from, the write).
WRITES = {
    "a new order": (paid_order, lambda order, mp: place(offer=order.offer, buyer=order.buyer)),
    "paid": (place, lambda order, mp: pay(order)),
    "started": (paid_order, lambda order, mp: services.order_start(order=order, by=order.seller)),
    "delivered": (
        lambda: _started(paid_order()),
        lambda order, mp: services.order_deliver(order=order, by=order.seller, message="Done."),
    ),
    "accepted (the seller's balance)": (
        delivered_order,
        lambda order, mp: services.order_accept(order=order, by=order.buyer),
    ),
    "declined (a refund row)": (
        paid_order,
        lambda order, mp: services.order_decline(order=order, by=order.seller, reason="Busy."),
    ),
    "the refund sent (an update)": (
        lambda: _declined(paid_order()),
        lambda order, mp: sent(Refund.objects.get(order=order)),
    ),
    "the refund refused for good (an update)": (
        lambda: _declined(paid_order()),
        lambda order, mp: (refused(mp), sent(Refund.objects.get(order=order))),
    ),
    "flagged as a wash trade (an update)": (
        lambda: _accepted(delivered_order()),
        lambda order, mp: wash.wash_flag(
            order=order, by=UserFactory(is_staff=True, mfa=False), reason="Circular."
        ),
    ),
    "the seller's payout (the ledger, a payout row)": (
        lambda: _accepted(delivered_order()),
        lambda order, mp: services.payout_request(seller=order.seller, amount=1000),
    ),
    "the payout sent (an update)": (
        lambda: _paid_out(_accepted(delivered_order())),
        lambda order, mp: sent(Payout.objects.get(seller=order.seller)),
    ),
    "a prize award into the seller's account (the ledger alone)": (
        paid_order,
        lambda order, mp: ledger.post(
            key=f"test:award:{order.pk}",
            kind=LedgerTransaction.Kind.AWARD,
            legs=[
                ledger.Leg(ledger.payable(order.seller, "EUR"), 700),
                ledger.Leg(ledger.clearing("EUR"), -700),
            ],
        ),
    ),
    "the seller renamed": (
        paid_order,
        lambda order, mp: _rename(order.seller),
    ),
    "the buyer's plan lapsed (an update)": (
        lambda: _subscribed(paid_order()),
        lambda order, mp: _lapse(order.buyer),
    ),
}


def _started(order):
    services.order_start(order=order, by=order.seller)
    order.refresh_from_db()
    return order


def _declined(order):
    services.order_decline(order=order, by=order.seller, reason="Busy.")
    order.refresh_from_db()
    return order


def _accepted(order):
    services.order_accept(order=order, by=order.buyer)
    order.refresh_from_db()
    return order


def _paid_out(order):
    services.payout_request(seller=order.seller, amount=1000)
    return order


def _rename(user):
    user.display_name = "Renamed Seller"
    user.save()


def _subscribed(order):
    """The buyer on Premium, a renewal payment overdue and its grace running."""
    plans_ensure()
    Subscription.objects.create(
        user=order.buyer, plan=Plan.objects.get(code=Plan.PREMIUM), price=500, currency="EUR",
        status=Subscription.Status.PAST_DUE, grace_until=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    return order


def _lapse(user):
    Subscription.objects.filter(user=user).update(grace_until=timezone.now() - timedelta(days=1))
    services.subscriptions_renew(now=timezone.now() + timedelta(seconds=1))


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_after_each_write_both_parties_get_what_a_live_read_gives(
    client, settings, monkeypatch, write
):
    make, change = WRITES[write]
    with one_moment():
        order = make()
        order.refresh_from_db()
        before = snapshot(client, order, settings)
        change(order, monkeypatch)
        both_parties_see_it_live(client, order, settings, before)


def test_the_kept_copy_is_read_while_nothing_changed(client):
    order = paid_order()
    client.force_login(order.buyer)
    with one_moment():
        first_page, first_api = page_main(client, PAGE), client.get(API).json()
        with (
            mock.patch.object(selectors, "orders_of", wraps=selectors.orders_of) as rows,
            mock.patch.object(selectors, "balance_of", wraps=selectors.balance_of) as money,
        ):
            assert page_main(client, PAGE) == first_page
            assert client.get(API).json() == first_api
        rows.assert_not_called()
        money.assert_not_called()
    # Each member their own: the seller's page is not the buyer's.
    client.force_login(order.seller)
    assert client.get(API).json()["results"][0]["seller"]["username"] == order.seller.username
    other = UserFactory()
    client.force_login(other)
    assert client.get(API).json()["count"] == 0
    assert f"#{order.pk} " not in page_main(client, PAGE)


def test_another_role_and_page_are_kept_apart(client):
    order = paid_order()
    offer = OfferFactory(seller=order.buyer, capacity=5)
    sold = place(offer=offer)
    client.force_login(order.buyer)
    everything = page_main(client, PAGE)
    bought = page_main(client, PAGE + "?role=buyer")
    assert f"#{order.pk} " in everything and f"#{sold.pk} " in everything
    assert f"#{order.pk} " in bought and f"#{sold.pk} " not in bought
    assert [o["id"] for o in client.get(API + "?role=seller").json()["results"]] == [sold.pk]
    # The pages of one role link to the next page of that role.
    assert client.get(PAGE + "?role=buyer").context["querystring"] == "role=buyer"
    assert client.get(PAGE).context["querystring"] == ""


def test_staff_read_everyones_orders_live(client):
    staff = UserFactory(is_staff=True, mfa=False)
    client.force_login(staff)
    assert client.get(API).json()["count"] == 0
    order = place()
    Order.objects.filter(pk=order.pk).update(title="Changed behind the cache")  # no signal
    assert [o["title"] for o in client.get(API).json()["results"]] == ["Changed behind the cache"]
