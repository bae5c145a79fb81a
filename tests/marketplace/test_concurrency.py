"""Races on PostgreSQL, with real threads and connections: fifty buyers for an offer's last
slot make exactly one charge and need no refund; one provider event delivered five times at
once is applied once."""

import threading

import pytest
from django.db import connection

from marketplace import ledger, services
from marketplace.models import LedgerTransaction, Order, Payment, ProviderEvent, Refund
from marketplace.payments import sandbox
from peerhub.exceptions import DomainError
from tests.factories import UserFactory

from .factories import OfferFactory, place

BUYERS = 50


def race(count: int, work) -> list[str]:
    """Run `work(i)` in `count` threads released at once; each thread closes its connection."""
    start = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            start.wait()
            result = work(index)
        except DomainError as error:
            result = f"refused: {error.code}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_race_for_the_last_slot_one_is_charged_none_refunded(postgres):
    offer = OfferFactory(capacity=1, price=3000)
    buyers = [UserFactory() for _ in range(BUYERS)]

    def buy(index: int) -> str:
        order = services.order_place(buyer=buyers[index], offer=offer, brief="Our town, please.")
        payment = services.order_pay(order=order, by=order.buyer)
        return services.sandbox_answer(payment=payment, by=order.buyer, outcome="succeed")

    outcomes = race(BUYERS, buy)

    assert len(outcomes) == BUYERS
    assert outcomes.count("paid") == 1
    assert outcomes.count("refused: sold_out") == BUYERS - 1
    assert Order.objects.filter(offer=offer).count() == 1
    assert Order.objects.get(offer=offer).state == Order.State.PAID
    assert Payment.objects.count() == 1  # one charge: the losers never reached a checkout
    assert not Refund.objects.exists()
    assert not LedgerTransaction.objects.filter(kind="refund").exists()
    assert ledger.balance(ledger.escrow("EUR")) == 3000
    assert ledger.audit() == []


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_one_event_delivered_five_times_at_once_is_applied_once(postgres):
    order = place(offer=OfferFactory(price=2500))
    payment = services.order_pay(order=order, by=order.buyer)
    body = sandbox.event_body(payment=payment, kind="payment.succeeded", event_id="evt_race")

    def deliver(index: int) -> str:
        headers = {sandbox.SIGNATURE_HEADER: sandbox.sign(body)}
        received = services.notification_receive(
            provider_name="sandbox", body=body, headers=headers
        )
        event = ProviderEvent.objects.get(event_id="evt_race")
        applied = services.provider_event_apply(event_id=event.pk)
        return f"{received}/{applied}"

    outcomes = race(5, deliver)

    received = [outcome.split("/")[0] for outcome in outcomes]
    assert sorted(received) == ["duplicate"] * 4 + ["received"], outcomes
    event = ProviderEvent.objects.get(event_id="evt_race")
    assert (event.state, event.outcome, event.attempts) == ("applied", "paid", 1)
    assert LedgerTransaction.objects.filter(kind="capture").count() == 1
    order.refresh_from_db()
    assert order.state == Order.State.PAID
    assert ledger.audit() == []
