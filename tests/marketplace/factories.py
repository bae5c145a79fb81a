"""Marketplace data for tests, built through the real services where it is domain behaviour."""

import factory

from marketplace import services
from marketplace.models import Offer, Order
from reputation.models import ReputationScore
from tests.factories import UserFactory


def make_seller(**kwargs):
    """A verified member pinned at trust level 3 ("trusted"): holds marketplace.add_offer. With
    two-factor authentication, which payouts require, unless `mfa=False`."""
    user = UserFactory(**{"mfa": True, **kwargs})
    ReputationScore.objects.update_or_create(user=user, defaults={"pinned_level": 3})
    return user


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    seller = factory.LazyFunction(make_seller)
    title = factory.Sequence(lambda n: f"Adapt the filter to your town {n}")
    description = "I visit, measure and **adapt** the design."
    price = 10000
    currency = "EUR"
    delivery_days = 7
    capacity = 2


def place(offer=None, buyer=None, **kwargs) -> Order:
    kwargs.setdefault("brief", "Our school roof, 40 pupils: please adapt the design.")
    return services.order_place(
        buyer=buyer or UserFactory(), offer=offer or OfferFactory(), **kwargs
    )


def pay(order: Order, outcome: str = "succeed") -> Order:
    """Pay through the sandbox: the buyer starts a checkout and the card answers `outcome`."""
    payment = services.order_pay(order=order, by=order.buyer)
    services.sandbox_answer(payment=payment, by=order.buyer, outcome=outcome)
    order.refresh_from_db()
    return order


def paid_order(**kwargs) -> Order:
    return pay(place(**kwargs))


def delivered_order(**kwargs) -> Order:
    order = paid_order(**kwargs)
    services.order_start(order=order, by=order.seller)
    return services.order_deliver(order=order, by=order.seller, message="Here it is.")
