"""The marketplace's part in the community simulation (reputation.simulation, issue 20): prize
purses funded by simulated backers through the real services, and what the awards paid.
Reputation may not import the marketplace, so the simulation reaches these through the hooks
of MarketplaceConfig (`simulation_purse_fund`, `simulation_award_tasks`, `simulation_money`).

Backers pay through the sandbox provider whatever provider the site is configured with: a
simulation never charges anyone."""

from collections import defaultdict

from django.conf import settings
from django.db.models import Count, Sum
from django.test.utils import override_settings

from challenges.models import Challenge, Solution
from peerhub.exceptions import DomainError
from peerhub.models import User

from . import ledger
from .models import Contribution, Earning, LedgerAccount, LedgerEntry, Offer, Order, Purse
from .services import orders as order_services
from .services import payments as payment_services
from .services import purses


def _sandbox():
    return override_settings(
        PEERHUB_MARKETPLACE={**settings.PEERHUB_MARKETPLACE, "payment_provider": "sandbox"}
    )


def purse_fund(
    *, challenge: Challenge, organiser: User, places, backers: list[tuple[User, int]]
) -> int:
    """The organiser sets up the purse (award table `places`, the default lineage share) and
    each backer contributes, paying on the sandbox checkout; the net in escrow, in cents."""
    purses.purse_configure(challenge=challenge, by=organiser, mode="places", places=list(places))
    with _sandbox():
        for backer, amount in backers:
            payment = purses.contribution_start(
                challenge=challenge, backer=backer, amount=amount, return_url="/"
            )
            payment_services.sandbox_answer(payment=payment, by=backer, outcome="succeed")
    return ledger.balance(ledger.purse(challenge, Purse.objects.get(challenge=challenge).currency))


def award_tasks() -> list:
    """The task that pays a purse once its challenge's results are published."""
    from .tasks import award_purse

    return [award_purse]


def money(*, member_ids, challenge_ids) -> dict:
    """What the purses of these challenges took in and paid out: the members' earnings by kind
    ({(member id, kind): cents}, kind "award" or "lineage"), the contributions (gross and the
    fees), what their escrow accounts still hold, and how many purses were awarded or refunded."""
    challenge_ids = list(challenge_ids)
    purse_rows = Purse.objects.filter(challenge_id__in=challenge_ids)
    earned: dict[tuple[int, str], int] = defaultdict(int)
    for member_id, kind, cents in (
        Earning.objects.filter(purse__in=purse_rows, beneficiary_id__in=list(member_ids))
        .order_by()
        .values_list("beneficiary_id", "kind")
        .annotate(cents=Sum("amount"))
    ):
        earned[(member_id, kind)] += cents
    paid = Contribution.objects.filter(purse__in=purse_rows, state=Contribution.State.PAID)
    totals = paid.aggregate(gross=Sum("amount"), fees=Sum("fee"))
    escrow = LedgerEntry.objects.filter(
        account__kind=LedgerAccount.Kind.PURSE, account__challenge_id__in=challenge_ids
    ).aggregate(s=Sum("amount"))["s"]
    states = dict(purse_rows.order_by().values_list("state").annotate(n=Count("pk")))
    return {
        "currency": purse_rows.values_list("currency", flat=True).first()
        or settings.PEERHUB_MARKETPLACE["currency"],
        "earned": dict(earned),
        "contributed": totals["gross"] or 0,
        "fees": totals["fees"] or 0,
        "escrow_left": escrow or 0,
        "purses": len(purse_rows),
        "awarded": states.get(Purse.State.AWARDED, 0),
        "refunded": states.get(Purse.State.REFUNDED, 0),
    }


# --- Wash trading (issue 23) ----------------------------------------------------------------

WASH_PRICE = 2000  # cents


def wash_offer(*, seller: User, base_solution: Solution) -> int:
    """A wash trader's listing, based on their solution. Set up directly, as the simulation's
    accounts are: selling takes trust level 3, which the wash ring is taken to have reached
    elsewhere. The trades themselves go through the services (`wash_trade`)."""
    offer = Offer.objects.create(
        seller=seller,
        title=f"Service on “{base_solution.title}”"[:160],
        description="Hand-made help with this solution.",
        price=WASH_PRICE,
        delivery_days=3,
        capacity=10,
        base_solution=base_solution,
    )
    return offer.pk


def wash_trade(*, buyer: User, offer_id: int) -> dict | None:
    """The buyer orders the offer and pays on the sandbox checkout; the seller starts and
    delivers; the buyer accepts and rates it 5 stars: every step through the order services.
    None when a service refuses (the run goes on)."""
    offer = Offer.objects.select_related("seller").get(pk=offer_id)
    seller = offer.seller
    try:
        with _sandbox():
            order = order_services.order_place(buyer=buyer, offer=offer, brief="The usual.")
            payment = order_services.order_pay(order=order, by=buyer)
            payment_services.sandbox_answer(payment=payment, by=buyer, outcome="succeed")
        order.refresh_from_db()
        order_services.order_start(order=order, by=seller)
        order_services.order_deliver(order=order, by=seller, message="Done.")
        order_services.order_accept(order=order, by=buyer)
        order_services.order_review_save(order=order, by=buyer, rating=5, text="Excellent.")
    except DomainError:
        return None
    order = Order.objects.get(pk=order.pk)
    return {
        "order": order.pk,
        "buyer": buyer.pk,
        "seller": seller.pk,
        "state": order.state,
        "price": order.price,
        "fee": order.fee,
    }


def orders_judged(*, order_ids) -> dict[int, dict]:
    """For each of these orders: whether the wash-trading rule suspects it now
    (marketplace.wash) and the reputation its review gave the seller on the ledger."""
    from reputation.models import ReputationEvent

    from .reputation_facts import order_key

    order_ids = list(order_ids)
    keys = {order_key(pk): pk for pk in order_ids}
    gained = dict(
        ReputationEvent.objects.filter(fact_key__in=list(keys))
        .order_by()
        .values("fact_key")
        .annotate(s=Sum("amount"))
        .values_list("fact_key", "s")
    )
    suspected = dict(Order.objects.filter(pk__in=order_ids).values_list("pk", "wash_suspected"))
    return {
        pk: {"suspected": suspected.get(pk, False), "reputation": gained.get(key) or 0}
        for key, pk in keys.items()
    }
