"""seed_demo's marketplace: offers, an order in every state, a Premium organiser, clean books."""

from io import StringIO

import pytest
from django.core.management import call_command

from marketplace import ledger
from marketplace.models import Offer, Order, Subscription

pytestmark = pytest.mark.django_db


def test_the_demo_has_every_order_state_and_balanced_books():
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    assert set(Order.objects.values_list("state", flat=True)) == set(Order.State.values)
    assert Subscription.objects.get(user__username="kwame").status == "active"
    assert ledger.audit() == []
    offers, orders = Offer.objects.count(), Order.objects.count()
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO())
    assert "Marketplace demo already present" in out.getvalue()
    assert (Offer.objects.count(), Order.objects.count()) == (offers, orders)
    call_command("audit_ledger", stdout=StringIO())
