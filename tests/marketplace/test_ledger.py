"""The ledger: balanced transactions only, derived balances, the audit, and a property test
over any sequence of order actions, payments, refunds, disputes and payouts."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from marketplace import ledger, services
from marketplace.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Order,
    Payment,
    Refund,
)
from marketplace.payments.sandbox import SandboxProvider
from peerhub.exceptions import Conflict, DomainError
from tests.factories import UserFactory

from .factories import OfferFactory, delivered_order, make_seller


@pytest.mark.django_db
def test_a_transaction_must_sum_to_zero_and_is_recorded_once():
    clearing, escrow = ledger.clearing("EUR"), ledger.escrow("EUR")
    with pytest.raises(DomainError, match="zero"):
        ledger.post(
            key="k", kind="correction", legs=[ledger.Leg(clearing, -5), ledger.Leg(escrow, 4)]
        )
    with pytest.raises(DomainError, match="currency"):
        ledger.post(
            key="k", kind="correction",
            legs=[ledger.Leg(clearing, -5), ledger.Leg(ledger.escrow("USD"), 5)],
        )  # fmt: skip
    ledger.post(key="k", kind="correction", legs=[ledger.Leg(clearing, -5), ledger.Leg(escrow, 5)])
    with pytest.raises(Conflict):
        ledger.post(
            key="k", kind="correction", legs=[ledger.Leg(clearing, -5), ledger.Leg(escrow, 5)]
        )
    assert LedgerTransaction.objects.count() == 1
    assert ledger.balance(escrow) == 5


@pytest.mark.django_db
def test_the_audit_command_finds_drift():
    delivered_order()
    call_command("audit_ledger")
    # Drift only a bug (or a hand edit) could make: one entry changed behind the ledger's back.
    entry = LedgerEntry.objects.filter(account__kind="escrow").first()
    LedgerEntry.objects.filter(pk=entry.pk).update(amount=entry.amount + 1)
    with pytest.raises(CommandError):
        call_command("audit_ledger")
    assert any("sums to 1" in p for p in ledger.audit())


@pytest.mark.django_db
def test_payouts_spend_only_the_available_balance():
    order = delivered_order()
    services.order_accept(order=order, by=order.buyer)
    seller = order.seller
    with pytest.raises(DomainError, match="available"):
        services.payout_request(seller=seller, amount=9001)
    services.payout_request(seller=seller, amount=4000)
    payout = services.payout_request(seller=seller)
    assert payout.amount == 5000
    assert ledger.balances_of(seller) == {"EUR": 0}
    with pytest.raises(DomainError, match="nothing"):
        services.payout_request(seller=seller)
    assert ledger.audit() == []


@pytest.mark.django_db
def test_members_without_earnings_have_nothing_to_pay_out():
    with pytest.raises(DomainError):
        services.payout_request(seller=UserFactory())
    assert not LedgerTransaction.objects.exists()


def _check_invariants():
    for total in (
        LedgerEntry.objects.values("transaction")
        .annotate(t=Sum("amount"))
        .values_list("t", flat=True)
    ):
        assert total == 0
    for account in LedgerAccount.objects.all():
        derived = sum(account.entries.values_list("amount", flat=True))
        assert ledger.balance(account) == derived
        if account.kind != LedgerAccount.Kind.CLEARING:
            assert derived >= 0, account
    assert ledger.audit() == []


ACTIONS = ["place", "pay", "decline_pay", "cancel", "start", "decline", "deliver", "accept",
           "dispute", "resolve_refund", "resolve_release", "resolve_split", "auto_complete",
           "payout", "expire", "checkout", "late_success", "provider_down", "provider_up",
           "sweep", "retry_failed"]  # fmt: skip


def _check_every_cent(allow_failed: bool = True) -> None:
    """Every cent of every captured payment is, exactly once, held in escrow for its order,
    promised back (a refund row, sent or not), or settled to the seller and the fee."""
    for order in Order.objects.all():
        captured = (
            LedgerEntry.objects.filter(
                transaction__order=order,
                transaction__kind=LedgerTransaction.Kind.CAPTURE,
                account__kind=LedgerAccount.Kind.ESCROW,
            ).aggregate(total=Sum("amount"))["total"]
            or 0
        )
        held = (
            LedgerEntry.objects.filter(
                transaction__order=order, account__kind=LedgerAccount.Kind.ESCROW
            ).aggregate(total=Sum("amount"))["total"]
            or 0
        )
        refunded = Refund.objects.filter(order=order).aggregate(total=Sum("amount"))["total"] or 0
        assert captured == held + refunded + order.released_amount + order.fee_collected, order
        assert held >= 0
        if order.state in Order.ACTIVE_STATES:
            assert held == order.price
    for payment in Payment.objects.all():
        back = payment.refunds.aggregate(total=Sum("amount"))["total"] or 0
        assert back <= payment.amount
        if payment.status != Payment.Status.SUCCEEDED:
            assert back == 0 and not payment.transactions.exists()
    problems = ledger.audit()
    if allow_failed:
        problems = [p for p in problems if "is failed, not done" not in p]
    assert problems == []


class LedgerPropertyTest(TestCase):
    """Any sequence of actions keeps every transaction at zero, every balance equal to the sum
    of its entries, and escrow and members' balances non-negative."""

    @settings(
        max_examples=40, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )  # fmt: skip
    @given(
        steps=st.lists(
            st.tuples(st.sampled_from(ACTIONS), st.integers(0, 5), st.integers(1, 20000)),
            min_size=1,
            max_size=25,
        ),
        price=st.integers(1, 50000),
    )
    def test_any_sequence_keeps_the_books_balanced(self, steps, price):
        seller = make_seller()
        staff = UserFactory(is_staff=True)
        offer = OfferFactory(seller=seller, price=price, capacity=3)
        buyers = [UserFactory() for _ in range(2)]
        orders: list[Order] = []
        provider = {"down": False}

        def refund(self, *, payment, amount, key):
            if provider["down"]:
                raise DomainError("The provider is down.", code="provider_error")
            return f"re_{key}"

        patch = mock.patch.object(SandboxProvider, "refund", refund)
        patch.start()
        self.addCleanup(patch.stop)
        clock = timezone.now()
        for action, index, amount in steps:
            order = Order.objects.get(pk=orders[index % len(orders)].pk) if orders else None
            try:
                if action == "place" or order is None:
                    orders.append(
                        services.order_place(buyer=buyers[index % 2], offer=offer, brief="Brief.")
                    )
                elif action in ("pay", "decline_pay"):
                    payment = services.order_pay(order=order, by=order.buyer)
                    outcome = "succeed" if action == "pay" else "decline"
                    services.sandbox_answer(payment=payment, by=order.buyer, outcome=outcome)
                elif action == "cancel":
                    services.order_cancel(order=order, by=order.buyer)
                elif action == "start":
                    services.order_start(order=order, by=seller)
                elif action == "decline":
                    services.order_decline(order=order, by=seller)
                elif action == "deliver":
                    services.order_deliver(order=order, by=seller, message="Done")
                elif action == "accept":
                    services.order_accept(order=order, by=order.buyer)
                elif action == "dispute":
                    services.order_dispute(order=order, by=order.buyer, reason="No")
                elif action.startswith("resolve"):
                    resolution = action.split("_")[1]
                    services.order_resolve(
                        order=order, by=staff, resolution=resolution,
                        buyer_amount=amount % max(order.price, 1),
                    )  # fmt: skip
                elif action == "auto_complete":
                    services.orders_auto_complete(now=timezone.now() + timedelta(days=30))
                elif action == "payout":
                    services.payout_request(seller=seller, amount=amount)
                elif action == "expire":  # the buyer left the checkout open too long
                    Order.objects.filter(pk=order.pk).update(
                        reserved_until=timezone.now() - timedelta(seconds=1)
                    )
                elif action == "checkout":  # a checkout started, its money not yet arrived
                    services.order_pay(order=order, by=order.buyer)
                elif action == "late_success":  # money arrives for an open or given-up checkout
                    payment = order.payments.exclude(status="succeeded").last()
                    if payment is not None:
                        services.sandbox_answer(payment=payment, by=order.buyer, outcome="succeed")
                elif action in ("provider_down", "provider_up"):
                    provider["down"] = action == "provider_down"
                elif action == "sweep":  # the clock moves past every backoff: refunds go out
                    clock += timedelta(hours=2)
                    services.money_sweep(now=clock)
                elif action == "retry_failed":
                    for failed in Refund.objects.filter(state="failed"):
                        services.transfer_retry(transfer=failed, by=staff)
            except DomainError:
                pass  # refused by the rules: must leave the books as they were
            _check_invariants()
            _check_every_cent()
        completed = Order.objects.filter(state__in=["completed", "resolved"])
        released = sum(completed.values_list("released_amount", flat=True))
        paid_out = sum(seller.payouts.values_list("amount", flat=True))
        assert ledger.balances_of(seller).get("EUR", 0) == released - paid_out
