"""Money survives a broker outage, on PostgreSQL with a real Redis broker and a real Celery
worker: a seller declines a paid order and asks for a payout while the broker is stopped; both
answers are successes, the refund and the payout wait as `created` rows, and once the broker is
back the sweep's task, run by the worker, sends each exactly once.

The broker here is a throwaway redis-server on its own port, stopped and started by its PID:
the shared Redis is never touched."""

from pathlib import Path

import pytest

from marketplace import ledger, services, tasks
from marketplace.models import LedgerTransaction, Order, Payout, Refund
from peerhub.celery import app as celery_app
from tests.helpers import wait_until
from tests.marketplace.factories import delivered_order, paid_order

from .conftest import use_broker

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.services, pytest.mark.real_worker]


def test_a_broker_outage_delays_refunds_and_payouts_but_never_loses_them(
    broker, start_worker, client
):
    with celery_app.connection_for_write() as conn:  # the test's producer reaches the broker
        conn.ensure_connection(max_retries=1)
    celery_app.conf.task_always_eager = True  # build the data without a worker
    order = paid_order()
    earned = delivered_order()
    services.order_accept(order=earned, by=earned.buyer)
    celery_app.conf.task_always_eager = False

    broker.stop()
    client.force_login(order.seller)
    response = client.post(f"/marketplace/orders/{order.pk}/decline/", {"confirmed": "yes"})
    assert response.status_code == 302, response.content[:300]
    payout = services.payout_request(seller=earned.seller, amount=5000)

    order.refresh_from_db()
    assert order.state == Order.State.REFUNDED
    refund = Refund.objects.get(order=order)
    assert refund.state == Refund.State.CREATED and refund.attempts == 0
    payout.refresh_from_db()
    assert payout.state == Payout.State.CREATED

    broker.start()
    use_broker(broker.url)
    start_worker(broker.url)
    tasks.money_sweep.delay()

    wait_until(
        lambda: (
            Refund.objects.get(pk=refund.pk).state == Refund.State.DONE
            and Payout.objects.get(pk=payout.pk).state == Payout.State.DONE
        ),
        timeout=90,
        what="the worker to send the refund and the payout",
    )
    refund.refresh_from_db()
    payout.refresh_from_db()
    assert refund.attempts == 1 and payout.attempts == 1  # each sent exactly once
    assert Refund.objects.filter(order=order).count() == 1
    assert LedgerTransaction.objects.filter(kind="payout").count() == 1
    assert ledger.audit() == []
