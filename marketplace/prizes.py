"""The arithmetic of prize money, in whole cents, with no database: how a purse is split among
winners, and how an award or a royalty is shared up the lineage. Every function returns amounts
that sum exactly to what it was given (tests/marketplace/test_prizes_property.py).

The written rules (also on the purse page, templates marketplace/_purse_rules.html):

- Places. Winners take places in the order the organisers selected them; winners selected at
  the same moment tie. Tied winners share equally the percentages of the places they occupy
  together (two tied for first under 60/30/10 get 45 each). In "equal shares" mode every winner
  ties for first.
- Fewer winners than places: the purse is still paid out in full, split in proportion to the
  percentages of the places that were filled (one winner under 60/30/10 takes everything; two
  take 60/90 and 30/90). More winners than places: those beyond the last place win no money.
- Cents. Each share is rounded down; the cents left over go one each to the largest remainders,
  ties to the better place, then to the earlier selected winner. So the shares sum to the purse.
- Lineage. Of each award, `lineage_share` (rounded down to the cent) is the lineage pool; each
  ancestor that counts (challenges.lineage.lineage_payees) gets the pool times its generation's
  weight over the sum of all the weights (reputation's lineage shares: 20 and 4, so the parent
  gets 20/24 and the grandparent 4/24), rounded down. What a generation that does not count
  would have had, and the rounding cents, stay with the winner.
- Royalties. The same, with the royalty (the royalty rate of the price, rounded down, at most
  the seller's part) as the pool and the seller in the winner's place."""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from challenges.lineage import Payee


def percent_of(amount: int, rate: Decimal) -> int:
    """`amount` times `rate`, rounded down to the cent."""
    return int((Decimal(amount) * rate).quantize(Decimal(1), rounding=ROUND_DOWN))


def places_of(moments: Sequence) -> list[int]:
    """Competition ranking ("1, 1, 3") of winners by the moment each was selected."""
    ordered = sorted(moments)
    return [ordered.index(moment) + 1 for moment in moments]


def _weights(percents: Sequence[int], places: Sequence[int], equal: bool) -> list[int]:
    """Each winner's weight: tied winners share the percentages of the places they occupy
    together, in equal parts."""
    if equal:
        return [1] * len(places)
    weights = []
    for place in places:
        tied = places.count(place)
        occupied = sum(
            percents[p - 1] for p in range(place, place + tied) if 0 < p <= len(percents)
        )
        weights.append(Decimal(occupied) / tied)
    return weights


def largest_remainder(total: int, weights: Sequence, order: Sequence[Hashable]) -> list[int]:
    """Split `total` cents in proportion to `weights` exactly: floors, then one cent each to the
    largest remainders, ties broken by `order` (smaller first). All-zero weights split nothing."""
    weight_sum = sum(weights)
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    exact = [Decimal(total) * Decimal(w) / Decimal(weight_sum) for w in weights]
    floors = [int(value.to_integral_value(rounding=ROUND_DOWN)) for value in exact]
    left = total - sum(floors)
    ranking = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), order[i]))
    for i in ranking[:left]:
        floors[i] += 1
    return floors


def split_purse(
    total: int, *, percents: Sequence[int], places: Sequence[int], equal: bool
) -> list[int]:
    """Each winner's award, for winners at `places` (competition ranking, in selection order)."""
    if not places:
        return []
    weights = _weights(percents, places, equal)
    order = [(place, index) for index, place in enumerate(places)]
    return largest_remainder(total, weights, order)


@dataclass(frozen=True)
class ShareOut:
    payee: Payee
    amount: int


def share_up(pool: int, *, payees: Sequence[Payee], weights: Sequence[Decimal]) -> list[ShareOut]:
    """The lineage pool shared among the ancestors that count, by their generation's weight
    over the sum of all the weights, rounded down; the rest stays with the earner."""
    weight_sum = sum(weights)
    if pool <= 0 or weight_sum <= 0:
        return []
    shares = []
    for payee in payees:
        weight = weights[payee.generation - 1]
        amount = int((Decimal(pool) * weight / weight_sum).to_integral_value(ROUND_DOWN))
        if amount > 0:
            shares.append(ShareOut(payee, amount))
    return shares
