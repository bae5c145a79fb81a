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


def test_the_premium_organiser_uses_premium_in_the_challenges_demo(settings):
    """The marketplace demo subscribes its Premium organiser before the challenges demo runs, so
    that organiser's private challenge and extra open challenges went through the real rules."""
    from challenges import permissions
    from challenges.models import Challenge
    from peerhub.models import User

    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    kwame = User.objects.get(username="kwame")
    assert Challenge.objects.filter(created_by=kwame, visibility="private").exists()
    free = settings.PEERHUB_CHALLENGES["open_challenges"]["free"]
    assert permissions.open_challenges_run_by(kwame) > free
    marta = User.objects.get(username="marta")
    assert permissions.open_challenges_run_by(marta) <= free  # on the free plan
    assert not marta.has_perm(permissions.MORE_OPEN_CHALLENGES_PERMISSION)


def test_the_demo_has_a_funded_challenge_whose_money_reached_an_ancestor():
    from marketplace.models import Earning, Purse
    from tests.helpers import after_commit

    with after_commit():  # the award is promised through the outbox
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    purse = Purse.objects.get(state=Purse.State.AWARDED)
    lineage = Earning.objects.filter(purse=purse, kind=Earning.Kind.LINEAGE)
    assert lineage.exists()
    assert all(e.beneficiary_id != e.solution.author_id for e in lineage)
    assert Purse.objects.filter(state=Purse.State.OPEN, contributions__state="paid").exists()
    assert ledger.audit() == []
