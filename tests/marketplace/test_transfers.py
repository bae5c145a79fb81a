"""Refunds and payouts are rows written with the ledger lines that promise them, sent by a
worker with the provider's idempotency key, retried with a backoff, and never dropped: a lost
task is found by the sweep; a provider that always refuses leaves a `failed` row that staff see,
are told about and can retry; audit_ledger names whatever is not done."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from marketplace import ledger, services, tasks
from marketplace.models import Payout, Refund
from marketplace.payments.sandbox import SandboxProvider
from marketplace.services import transfers
from peerhub.exceptions import Conflict, DomainError, NotAllowed
from peerhub.models import Notification
from tests.factories import UserFactory
from tests.helpers import after_commit

from .factories import delivered_order, paid_order

pytestmark = pytest.mark.django_db


class FlakyProvider:
    """Fails `failures` times, then answers; counts what reached it and with which keys."""

    def __init__(self, monkeypatch, failures: int):
        self.failures, self.keys = failures, []
        monkeypatch.setattr(SandboxProvider, "refund", self.refund)
        monkeypatch.setattr(SandboxProvider, "payout", self.payout)

    def _answer(self, key: str) -> str:
        self.keys.append(key)
        if len(self.keys) <= self.failures:
            raise DomainError("The provider timed out.", code="provider_error")
        return f"ref_{len(self.keys)}"

    def refund(self, *, payment, amount, key):
        return self._answer(key)

    def payout(self, *, payout):
        return self._answer(payout.idempotency_key)


def broker_down(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    for task in (tasks.send_refund, tasks.send_payout, tasks.apply_provider_event):
        monkeypatch.setattr(task, "delay", refuse)


def sweep_until_quiet(start=None, *, rounds=12):
    """Run the minute's sweep as the clock moves past every backoff."""
    now = start or timezone.now()
    for _ in range(rounds):
        now += transfers.LONGEST_RETRY + timedelta(minutes=1)
        with after_commit():  # the notifications it sends go out as after a commit
            services.money_sweep(now=now)


def test_a_decline_writes_the_refund_row_with_its_ledger_lines_and_sends_it_after_commit():
    order = paid_order()
    with after_commit():
        services.order_decline(order=order, by=order.seller)
    refund = Refund.objects.get(order=order)
    assert refund.idempotency_key == f"order:{order.pk}:settle"
    assert (refund.amount, refund.currency) == (order.price, order.currency)
    assert refund.state == Refund.State.DONE and refund.attempts == 1
    assert refund.provider_reference.startswith("sbx_refund_")
    assert ledger.audit() == []


def test_with_the_broker_down_a_decline_still_succeeds_and_the_sweep_sends_the_refund_once(
    client, monkeypatch
):
    order = paid_order()
    provider = FlakyProvider(monkeypatch, failures=0)
    broker_down(monkeypatch)
    client.force_login(order.seller)
    with after_commit():
        response = client.post(f"/marketplace/orders/{order.pk}/decline/", {"confirmed": "yes"})
    assert response.status_code == 302  # a success, not a 500
    order.refresh_from_db()
    assert order.state == "refunded"
    refund = Refund.objects.get(order=order)
    assert refund.state == Refund.State.CREATED and provider.keys == []
    monkeypatch.setattr(tasks.send_refund, "delay", tasks.send_refund.__class__.delay)
    sweep_until_quiet()
    refund.refresh_from_db()
    assert refund.state == Refund.State.DONE
    assert provider.keys == [f"order:{order.pk}:settle"]  # exactly once
    assert ledger.audit() == []


def test_a_provider_failing_n_times_then_succeeding_makes_one_refund(monkeypatch):
    provider = FlakyProvider(monkeypatch, failures=3)
    order = paid_order()
    with after_commit():
        services.order_decline(order=order, by=order.seller)
    refund = Refund.objects.get(order=order)
    assert refund.state == Refund.State.SENT and refund.attempts == 1
    assert "timed out" in refund.last_error
    sweep_until_quiet()
    refund.refresh_from_db()
    assert refund.state == Refund.State.DONE and refund.attempts == 4
    assert set(provider.keys) == {refund.idempotency_key}  # every retry with the same key
    assert refund.provider_reference == "ref_4"


def test_backoff_waits_longer_after_each_failure():
    waits = [transfers.backoff(n) for n in range(1, 10)]
    assert waits[0] == timedelta(seconds=30)
    assert waits == sorted(waits)
    assert waits[-1] == transfers.LONGEST_RETRY


def test_a_refund_is_not_sent_again_before_its_backoff(monkeypatch):
    provider = FlakyProvider(monkeypatch, failures=1)
    order = paid_order()
    with after_commit():
        services.order_decline(order=order, by=order.seller)
    services.money_sweep()  # now: the backoff has not passed
    assert len(provider.keys) == 1
    sweep_until_quiet(rounds=1)
    assert len(provider.keys) == 2


def test_a_provider_that_always_refuses_leaves_a_failed_refund_for_staff(monkeypatch, settings):
    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "max_attempts": 4}
    staff = UserFactory(is_staff=True)
    provider = FlakyProvider(monkeypatch, failures=10**6)
    order = paid_order()
    with after_commit():
        services.order_decline(order=order, by=order.seller)
    sweep_until_quiet()
    refund = Refund.objects.get(order=order)
    assert refund.state == Refund.State.FAILED and refund.attempts == 4
    assert len(provider.keys) == 4
    assert Notification.objects.filter(kind="transfer_failed", recipient=staff).count() == 1
    problems = ledger.audit()
    assert any(f"refund {refund.pk} " in p and "failed" in p for p in problems)
    # Staff fix the cause and retry: a fresh round, the same key, done once.
    provider.failures = 0
    provider.keys.clear()
    with after_commit():
        services.transfer_retry(transfer=refund, by=staff)
    refund.refresh_from_db()
    assert refund.state == Refund.State.DONE
    assert provider.keys == [refund.idempotency_key]
    assert ledger.audit() == []


def test_only_staff_retry_and_only_failed_transfers(monkeypatch):
    order = paid_order()
    with after_commit():
        services.order_decline(order=order, by=order.seller)
    refund = Refund.objects.get(order=order)
    with pytest.raises(NotAllowed):
        services.transfer_retry(transfer=refund, by=order.buyer)
    with pytest.raises(Conflict):
        services.transfer_retry(transfer=refund, by=UserFactory(is_staff=True))


def test_two_senders_at_once_send_once(monkeypatch):
    """The claim is a conditional UPDATE: the second caller finds the row not due."""
    provider = FlakyProvider(monkeypatch, failures=0)
    order = paid_order()
    services.order_decline(order=order, by=order.seller)  # queued, not yet sent
    refund = Refund.objects.get(order=order)
    assert transfers.refund_send(refund_id=refund.pk) == "done"
    assert transfers.refund_send(refund_id=refund.pk) == "not due"
    assert len(provider.keys) == 1


def test_a_send_whose_worker_died_is_sent_again_after_the_lease(monkeypatch):
    provider = FlakyProvider(monkeypatch, failures=0)
    order = paid_order()
    services.order_decline(order=order, by=order.seller)
    refund = Refund.objects.get(order=order)
    # A worker claimed it and died before the provider answered.
    now = timezone.now()
    Refund.objects.filter(pk=refund.pk).update(
        state=Refund.State.SENT, attempts=1, next_attempt_at=now + transfers.LEASE
    )
    services.money_sweep(now=now)
    assert provider.keys == []
    services.money_sweep(now=now + transfers.LEASE + timedelta(seconds=1))
    refund.refresh_from_db()
    assert refund.state == Refund.State.DONE and provider.keys == [refund.idempotency_key]


def test_a_rolled_back_decline_leaves_no_refund_row(django_capture_on_commit_callbacks):
    order = paid_order()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.order_decline(order=order, by=order.seller)
        raise RuntimeError("later in the same request")
    assert callbacks == []
    assert not Refund.objects.exists()


def test_a_split_refunds_the_buyers_part_and_the_audit_matches_it():
    order = delivered_order()
    services.order_dispute(order=order, by=order.buyer, reason="Half of it is missing.")
    with after_commit():
        services.order_resolve(
            order=order, by=UserFactory(is_staff=True), resolution="split", buyer_amount=4000
        )
    refund = Refund.objects.get(order=order)
    assert refund.amount == 4000 and refund.state == Refund.State.DONE
    assert ledger.audit() == []


def test_a_ledger_refund_without_its_row_fails_the_audit():
    order = paid_order()
    services.order_decline(order=order, by=order.seller)
    Refund.objects.filter(order=order).update(amount=1)
    assert any("without a refund of it" in p for p in ledger.audit())


# --- Payouts --------------------------------------------------------------------------------


def _earned(seller_order=None):
    order = seller_order or delivered_order()
    services.order_accept(order=order, by=order.buyer)
    return order.seller


def test_a_payout_with_the_broker_down_is_kept_and_sent_by_the_sweep(monkeypatch):
    seller = _earned()
    provider = FlakyProvider(monkeypatch, failures=0)
    broker_down(monkeypatch)
    with after_commit():
        payout = services.payout_request(seller=seller, amount=1000)
    assert payout.state == Payout.State.CREATED
    assert ledger.balances_of(seller)["EUR"] == 9000 - 1000
    sweep_until_quiet()
    payout.refresh_from_db()
    assert payout.state == Payout.State.DONE
    assert provider.keys == [payout.idempotency_key]
    assert Notification.objects.filter(kind="payout_sent", recipient=seller).count() == 1
    assert ledger.audit() == []


def test_a_payout_the_provider_always_refuses_is_failed_and_audited(monkeypatch, settings):
    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "max_attempts": 2}
    seller = _earned()
    FlakyProvider(monkeypatch, failures=10**6)
    with after_commit():
        payout = services.payout_request(seller=seller)
    sweep_until_quiet()
    payout.refresh_from_db()
    assert payout.state == Payout.State.FAILED
    assert any(f"payout {payout.pk} " in p for p in ledger.audit())
    assert not Notification.objects.filter(kind="payout_sent").exists()


def test_an_open_transfer_is_overdue_for_the_audit_after_the_configured_time():
    order = paid_order()
    services.order_decline(order=order, by=order.seller)  # queued, never sent
    refund = Refund.objects.get(order=order)
    assert ledger.audit() == []
    Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert any(f"refund {refund.pk} " in p and "created" in p for p in ledger.audit())


# --- The staff money page -------------------------------------------------------------------


def test_staff_see_failed_transfers_and_flagged_events_and_can_retry(
    client, monkeypatch, settings, django_assert_max_num_queries
):
    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "max_attempts": 1}
    FlakyProvider(monkeypatch, failures=10**6)
    staff = UserFactory(is_staff=True)
    for _ in range(3):
        order = paid_order()
        with after_commit():
            services.order_decline(order=order, by=order.seller)
    client.force_login(staff)
    with django_assert_max_num_queries(40):
        page = client.get("/marketplace/staff/")
    text = page.content.decode()
    assert page.status_code == 200
    assert text.count("Failed: for staff") == 3
    assert "The provider timed out." in text
    refund = Refund.objects.first()
    monkeypatch.undo()
    with after_commit():
        response = client.post(
            f"/marketplace/staff/refund/{refund.pk}/retry/", {"confirmed": "yes"}
        )
    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.state == Refund.State.DONE


def test_members_cannot_reach_the_staff_money_actions(client):
    order = paid_order()
    services.order_decline(order=order, by=order.seller)
    refund = Refund.objects.get()
    client.force_login(order.buyer)
    response = client.post(f"/marketplace/staff/refund/{refund.pk}/retry/", {"confirmed": "yes"})
    assert response.status_code == 302 and "/login" in response["Location"]
    refund.refresh_from_db()
    assert refund.state == Refund.State.CREATED


# --- The API twins ----------------------------------------------------------------------------


def _api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_buyers_see_their_refunds_strangers_none_and_only_staff_retry(monkeypatch, settings):
    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "max_attempts": 1}
    FlakyProvider(monkeypatch, failures=10**6)
    order = paid_order()
    with after_commit():
        services.order_decline(order=order, by=order.seller)
    refund = Refund.objects.get()
    mine = _api(order.buyer).get("/api/refunds/").json()["results"]
    assert [(r["id"], r["state"], r["amount"]) for r in mine] == [(refund.pk, "failed", 10000)]
    assert _api(UserFactory()).get("/api/refunds/").json()["results"] == []
    assert _api(order.buyer).post(f"/api/refunds/{refund.pk}/retry/").status_code == 403
    monkeypatch.undo()
    with after_commit():
        retried = _api(UserFactory(is_staff=True)).post(f"/api/refunds/{refund.pk}/retry/")
    assert retried.status_code == 200 and retried.json()["state"] == "created"
    refund.refresh_from_db()
    assert refund.state == Refund.State.DONE


def test_staff_list_and_dismiss_flagged_events_through_the_api():
    from marketplace.models import ProviderEvent
    from marketplace.payments import sandbox

    order = paid_order()
    payment = order.payments.get()
    body = sandbox.event_body(payment=payment, kind="payment.succeeded").replace(
        b'"amount": 10000', b'"amount": 1'
    )
    services.notification_receive(
        provider_name="sandbox", body=body, headers={sandbox.SIGNATURE_HEADER: sandbox.sign(body)}
    )
    services.money_sweep()
    flagged = ProviderEvent.objects.get(state="mismatched")
    staff = _api(UserFactory(is_staff=True))
    listed = staff.get("/api/payments/events/?state=mismatched").json()["results"]
    assert [e["id"] for e in listed] == [flagged.pk]
    assert _api(order.buyer).get("/api/payments/events/").status_code == 403
    dismissed = staff.post(f"/api/payments/events/{flagged.pk}/dismiss/", {"note": "checked"})
    assert dismissed.status_code == 200 and dismissed.json()["state"] == "dismissed"
    again = staff.post(f"/api/payments/events/{flagged.pk}/dismiss/")
    assert again.status_code == 409
    assert ledger.audit() == []
