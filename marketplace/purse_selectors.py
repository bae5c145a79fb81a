"""Reads of prize purses and lineage money: the purse page, the results' money flow, a member's
earnings, an offer's royalty preview. Bounded queries whatever the number of rows."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils.translation import gettext as _

from challenges.models import Challenge, SelectionRound, Solution

from . import ledger, money_tree, prizes
from .models import (
    Contribution,
    Earning,
    LedgerAccount,
    LedgerEntry,
    Offer,
    Purse,
    PurseRollover,
)
from .services import purses, royalties

BACKERS_SHOWN = 50


@dataclass
class PurseSummary:
    purse: Purse
    held: int  # in the escrow now (before the award) or awarded (after)
    raised: int  # what backers paid, fee included
    fees: int
    backers: int
    backer_rows: list
    fee_rate: Decimal
    min_contribution: int
    places: list[tuple[int, int]]
    frozen: bool
    rolled_in: int = 0  # what purses without winners rolled over into this one
    rollovers_in: list = None  # [PurseRollover], largest first, with their challenges
    rolled_out: PurseRollover | None = None  # this purse rolled over (to whom, how much)


# A backer's money that reached the purse (not a failed, pending or returned payment).
COUNTED = (Contribution.State.PAID, Contribution.State.REFUNDED, Contribution.State.ROLLED_OVER)


def purse_for(challenge: Challenge) -> Purse | None:
    """The challenge's purse, from the challenge's own row when challenge_get read it there (the
    `challenge_related` hook)."""
    if Challenge.purse.is_cached(challenge):
        return getattr(challenge, "purse", None)  # None: read, and there is none
    return Purse.objects.filter(challenge=challenge).select_related("rollover_to").first()


def purse_summary(purse: Purse) -> PurseSummary:
    counted = Q(state__in=COUNTED)
    totals = purse.contributions.aggregate(
        raised=Sum("amount", filter=counted),
        fees=Sum("fee", filter=counted),
        backers=Count("backer", filter=counted, distinct=True),
        # services.purses.purse_has_money, in the same query
        started=Count("pk", filter=~Q(state=Contribution.State.FAILED)),
    )
    rows = list(
        purse.contributions.filter(counted)
        .order_by("-amount", "pk")
        .values("public_name", "amount", "state", "paid_at")[:BACKERS_SHOWN]
    )
    raised, fees = totals["raised"] or 0, totals["fees"] or 0
    rollovers_in = list(
        PurseRollover.objects.filter(to_purse=purse, amount__gt=0)
        .select_related("from_purse__challenge")
        .order_by("-amount", "pk")[:BACKERS_SHOWN]
    )
    rolled_out = None
    if purse.state == Purse.State.ROLLED_OVER:
        rolled_out = (
            PurseRollover.objects.filter(from_purse=purse)
            .select_related("to_purse__challenge")
            .first()
        )
    rolled_in = sum(r.amount for r in rollovers_in)
    if len(rollovers_in) == BACKERS_SHOWN:
        rolled_in = PurseRollover.objects.filter(to_purse=purse).aggregate(t=Sum("amount"))["t"]
    return PurseSummary(
        purse=purse,
        held=raised - fees + rolled_in,
        raised=raised,
        fees=fees,
        backers=totals["backers"] or 0,
        backer_rows=rows,
        fee_rate=purses.purse_fee_rate(),
        min_contribution=purses.min_contribution(purse.currency),
        places=list(enumerate(purse.places, start=1)),
        # services.purses.purse_has_money: a contribution started, or a purse rolled in
        frozen=bool(totals["started"] or rollovers_in) or not purse.is_open,
        rolled_in=rolled_in,
        rollovers_in=rollovers_in,
        rolled_out=rolled_out,
    )


def rollover_candidates(*, user, challenge: Challenge) -> QuerySet[Challenge]:
    """The challenges `user` organises that `challenge`'s purse may roll over to: another
    challenge before its results whose purse, if any, is still open, and that does not roll
    straight back. services.purses.purse_configure checks the whole rule (longer cycles and
    the currency included)."""
    return (
        Challenge.objects.filter(organisers=user, status__in=purses.RECEIVING_STATUSES)
        .exclude(pk=challenge.pk)
        .exclude(Q(purse__isnull=False) & ~Q(purse__state=Purse.State.OPEN))
        .exclude(purse__rollover_to=challenge)
        .exclude(selection_rounds__status=SelectionRound.Status.PUBLISHED)
        .order_by("title", "pk")
    )


def purse_earnings(purse: Purse) -> QuerySet[Earning]:
    return (
        Earning.objects.filter(purse=purse)
        .select_related("beneficiary", "solution__author", "node", "transaction")
        .order_by("place", "solution_id", "generation", "pk")
    )


def money_flow(purse: Purse) -> tuple[list[Earning], object]:
    """The rows of the money flow and its drawing: every paid node, the solutions passed over
    between a winner and the ancestors paid (an unchanged copy, a withdrawn or low-trust
    author's), and what each author received."""
    rows = list(purse_earnings(purse))
    if not rows:
        return rows, None
    winners = {row.solution for row in rows}
    paid_nodes = {row.node_id: row for row in rows}
    wanted: set[int] = set()
    for winner in winners:
        chain = [*winner.ancestor_ids, winner.pk]
        paid_in_chain = [i for i, pk in enumerate(chain) if pk in paid_nodes]
        wanted.update(chain[min(paid_in_chain, default=len(chain) - 1) :])
    solutions = Solution.objects.filter(pk__in=wanted).select_related("author")
    nodes = {}
    for solution in solutions:
        earned = sum(r.amount for r in rows if r.node_id == solution.pk)
        role = "winner" if solution in winners else ("ancestor" if earned else "step")
        nodes[solution.pk] = money_tree.MoneyNode(
            id=solution.pk,
            title=solution.title,
            author=solution.author.name,
            url=solution.get_absolute_url(),
            parent_id=solution.parent_id if solution.parent_id in wanted else None,
            amount=earned,
            role=role,
        )
    label = _("Where the purse of {challenge} went").format(challenge=purse.challenge)
    svg = money_tree.money_tree_svg(nodes, currency=purse.currency, label=label)
    return rows, svg


def earnings_of(member) -> QuerySet[Earning]:
    return (
        Earning.objects.filter(beneficiary=member)
        .select_related("purse__challenge", "order", "solution__author", "node", "transaction")
        .order_by("-created_at", "-pk")
    )


def earnings_totals(member) -> dict[str, int]:
    rows = Earning.objects.filter(beneficiary=member).values("kind").annotate(total=Sum("amount"))
    return {row["kind"]: row["total"] for row in rows}


@dataclass
class RoyaltyPreview:
    rate: Decimal
    pool: int
    shares: list  # [(Payee, amount, Solution)]


def royalty_preview(offer: Offer) -> RoyaltyPreview | None:
    """What one order of this offer would pay up the lineage of its base solution, by the
    lineage rule money follows: shown on the offer page before ordering."""
    solution = offer.base_solution
    if solution is None or not solution.ancestor_ids:
        return None
    pool = min(
        prizes.percent_of(offer.price, royalties.royalty_rate()),
        offer.price - _fee(offer.price),
    )
    shares = prizes.share_up(
        pool,
        payees=purses.money_payees(solution=solution, earner_id=offer.seller_id),
        weights=purses.lineage_weights(),
    )
    if not shares:
        return None
    found = Solution.objects.select_related("author").in_bulk([s.payee.solution_id for s in shares])
    return RoyaltyPreview(
        rate=royalties.royalty_rate(),
        pool=sum(s.amount for s in shares),
        shares=[(s.payee, s.amount, found[s.payee.solution_id]) for s in shares],
    )


def _fee(price: int) -> int:
    from .services.orders import fee_for, fee_rate

    return fee_for(price, fee_rate())


def purse_held(purse: Purse) -> int:
    return ledger.balance(ledger.purse(purse.challenge, purse.currency))


def purses_money() -> dict:
    """The staff money page: what purses hold, awarded, refunded; royalties paid."""
    # What each purse's escrow holds (contributions and purses rolled over into it), from the
    # ledger in one query.
    balance = (
        LedgerEntry.objects.filter(
            account__kind=LedgerAccount.Kind.PURSE,
            account__challenge=OuterRef("challenge"),
            account__currency=OuterRef("currency"),
        )
        .values("account")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    held = (
        Purse.objects.filter(state__in=[Purse.State.OPEN, Purse.State.LOCKED])
        .annotate(net=Subquery(balance))
        .select_related("challenge")
        .order_by(F("net").desc(nulls_last=True))[:20]
    )
    by_kind = dict(
        Earning.objects.values("kind").annotate(total=Sum("amount")).values_list("kind", "total")
    )
    return {"purses": list(held), "by_kind": by_kind}
