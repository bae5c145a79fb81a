"""Royalties: a completed order of an offer based on a solution pays the authors that solution
was built on (its ancestors, by the lineage rule money follows: services.purses.money_payees)
a share of the price, taken from the seller's part, never added to the buyer's price."""

from decimal import Decimal

from django.conf import settings

from .. import ledger, prizes
from ..models import Earning, LedgerTransaction, Order
from .purses import _pay, lineage_weights, money_payees


def royalty_rate() -> Decimal:
    return Decimal(str(settings.PEERHUB_MARKETPLACE["royalty_rate"]))


def royalty_for(order: Order) -> int:
    """The royalty pool of an order: the rate of its price, rounded down, at most what the
    seller receives."""
    return min(prizes.percent_of(order.price, royalty_rate()), order.price - order.fee)


def royalties_pay(*, order: Order) -> list[Earning]:
    """Called in the transaction that completes the order, after its settlement credited the
    seller. One ledger transaction per ancestor paid (seller's balance to the author's), keyed
    by the order and the ancestor, so an order pays each node once. What no counting ancestor
    takes stays with the seller."""
    solution = order.base_solution
    if solution is None or not solution.ancestor_ids:
        return []
    pool = royalty_for(order)
    shares = prizes.share_up(
        pool,
        payees=money_payees(solution=solution, earner_id=order.seller_id),
        weights=lineage_weights(),
    )
    seller_account = ledger.payable(order.seller, order.currency)
    return [
        _pay(
            kind=LedgerTransaction.Kind.ROYALTY,
            key=f"order:{order.pk}:royalty:{share.payee.solution_id}",
            source=seller_account,
            beneficiary_id=share.payee.author_id,
            amount=share.amount,
            currency=order.currency,
            memo=f"Royalty from order #{order.pk} for {solution}, built on your work"[:200],
            earning={
                "kind": Earning.Kind.ROYALTY,
                "order": order,
                "solution": solution,
                "node_id": share.payee.solution_id,
                "generation": share.payee.generation,
            },
        )
        for share in shares
    ]
