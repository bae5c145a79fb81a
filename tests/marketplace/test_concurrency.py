"""Fifty buyers race for an offer's last free slot on PostgreSQL: exactly one order is paid;
every other buyer is refused before paying, or refunded at once; the ledger does not drift."""

import threading

import pytest
from django.db import connection

from marketplace import ledger, services
from marketplace.models import LedgerTransaction, Order, Payment
from peerhub.exceptions import DomainError
from tests.factories import UserFactory

from .factories import OfferFactory

BUYERS = 50


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_race_for_the_last_slot(postgres):
    offer = OfferFactory(capacity=1, price=3000)
    orders = [services.order_place(buyer=UserFactory(), offer=offer) for _ in range(BUYERS)]
    start = threading.Barrier(BUYERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def buy(order: Order) -> None:
        try:
            start.wait()
            payment = services.order_pay(order=order, by=order.buyer)
            result = services.sandbox_answer(payment=payment, by=order.buyer, outcome="succeed")
        except DomainError as error:
            result = f"refused: {error.code}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=buy, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == BUYERS
    assert Order.objects.filter(offer=offer, state=Order.State.PAID).count() == 1
    assert outcomes.count("paid") == 1
    refunded = Order.objects.filter(offer=offer, state=Order.State.REFUNDED).count()
    refused = Order.objects.filter(offer=offer, state=Order.State.PENDING_PAYMENT).count()
    assert 1 + refunded + refused == BUYERS
    # Whoever was charged and did not get the slot got the money back in the same transaction.
    captured = Payment.objects.filter(order__offer=offer, status="succeeded").count()
    assert LedgerTransaction.objects.filter(kind="refund").count() == captured - 1
    assert ledger.balance(ledger.escrow("EUR")) == 3000
    assert ledger.balance(ledger.clearing("EUR")) == -3000
    assert ledger.audit() == []
