"""Prize purses: the organiser's award table and lineage share, contributions through the
provider into the challenge's prize escrow, the awards when results publish, and the refunds
when a challenge is archived without winners. The arithmetic is marketplace.prizes; who up
the lineage counts is challenges.lineage (the rule reputation's lineage credit uses).

    open ──results published (same transaction: row locked)──▶ locked ──award task──▶ awarded
      └──challenge archived without published winners──▶ locked ─┬─▶ rolled over (a follow-up
                                                                  │   named and still open)
                                                                  └─▶ refunded (otherwise)

Every write locks the purse row (select_for_update): a contribution started while the purse is
open is checked under the lock, so one racing the publication is refused before any charge, or
else its payment, if it lands after the lock, is returned in full at once."""

import logging
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from challenges import permissions as challenge_permissions
from challenges.lineage import Link, Payee, chain_of, lineage_payees, links_by_id
from challenges.models import Challenge, SelectionEntry, SelectionRound, Solution
from peerhub.exceptions import Conflict, DomainError, NotAllowed
from peerhub.models import User
from peerhub.selectors import user_is_verified

from .. import ledger, prizes
from ..models import Contribution, Earning, LedgerTransaction, Payment, Purse, PurseRollover
from ..money import format_money, minor_digits
from . import transfers
from .orders import fee_for

logger = logging.getLogger(__name__)
MAX_PLACES = 10
# Contributions are taken until the results publish: while the challenge is open, and while
# its organisers select.
CONTRIBUTING_STATUSES = (Challenge.Status.OPEN, Challenge.Status.SELECTING)
# A purse can be set up, and can receive a rolled-over purse, until the results are out: the
# contributing statuses and a draft that will open later.
RECEIVING_STATUSES = (Challenge.Status.DRAFT, *CONTRIBUTING_STATUSES)
# The award table of a purse created by a rollover (the settings form's default too).
DEFAULT_PLACES = [60, 30, 10]


def _money() -> dict:
    return settings.PEERHUB_MARKETPLACE


def purse_fee_rate() -> Decimal:
    return Decimal(str(_money()["purse_fee_rate"]))


def min_contribution(currency: str | None = None) -> int:
    """The smallest contribution, in minor units of `currency` (the purses' default if None).
    The setting counts hundredths (500 is 5.00 EUR): a currency with three decimals asks as
    much in its own units (5.000 KWD, not 0.500), one without decimals as many of its units
    (¥500, not ¥5: such a unit is worth about a hundredth of the others' major unit)."""
    currency = currency or Purse._meta.get_field("currency").get_default()
    hundredths = int(_money()["purse_min_contribution"])
    return hundredths * 10 ** max(0, minor_digits(currency) - 2)


def default_lineage_share() -> Decimal:
    return Decimal(str(_money()["lineage_share_default"]))


def max_lineage_share() -> Decimal:
    return Decimal(str(_money()["lineage_share_max"]))


def lineage_weights() -> tuple[Decimal, ...]:
    """The weight of each generation up the lineage: reputation's lineage shares (20 %, 4 %),
    so money and credit reach the same generations in the same proportion."""
    from reputation.rules import rules

    return rules().lineage_shares


# --- The award table ---------------------------------------------------------------------------


def _clean_places(mode: str, places) -> list[int]:
    if mode == Purse.Mode.EQUAL:
        return []
    if mode != Purse.Mode.PLACES:
        raise DomainError(_("Choose a percentage per place or equal shares."), code="invalid_mode")
    try:
        cleaned = [int(p) for p in places or []]
    except (TypeError, ValueError) as error:
        raise DomainError(_("Each place's share is a whole percentage."), code="invalid") from error
    if not 1 <= len(cleaned) <= MAX_PLACES:
        raise DomainError(
            _("Give 1 to {limit} places.").format(limit=MAX_PLACES), code="invalid_places"
        )
    if any(p <= 0 for p in cleaned) or sum(cleaned) != 100:
        raise DomainError(
            _("Each place gets more than 0 % and the places add up to 100 %."),
            code="invalid_places",
        )
    if cleaned != sorted(cleaned, reverse=True):
        raise DomainError(
            _("A better place never gets less than a worse one."), code="invalid_places"
        )
    return cleaned


def _clean_share(value) -> Decimal:
    try:
        share = Decimal(str(value)).quantize(Decimal("0.001"))
    except (InvalidOperation, ValueError) as error:
        raise DomainError(_("The lineage share is a percentage."), code="invalid_share") from error
    if not Decimal(0) <= share <= max_lineage_share():
        raise DomainError(
            _("The lineage share runs from 0 to {limit} %.").format(
                limit=f"{max_lineage_share() * 100:g}"
            ),
            code="invalid_share",
        )
    return share


def _lock(challenge: Challenge) -> Purse | None:
    return Purse.objects.select_for_update().filter(challenge=challenge).first()


def purse_has_money(purse: Purse) -> bool:
    """Money is in, or on its way, once any contribution started and did not fail (its backer
    saw the rules before paying), or once another purse rolled over into it."""
    return (
        purse.contributions.exclude(state=Contribution.State.FAILED).exists()
        or purse.rollovers_in.exists()
    )


def results_published(challenge: Challenge) -> bool:
    return SelectionRound.objects.filter(
        challenge=challenge, status=SelectionRound.Status.PUBLISHED
    ).exists()


def _can_receive(challenge: Challenge, purse: Purse | None, *, currency: str) -> bool:
    """Whether a follow-up can take a rolled-over purse now: its results are not out (a draft,
    open or selecting challenge without a published round, whose purse, if any, is still open)
    and it counts in the same currency."""
    if challenge.status not in RECEIVING_STATUSES or results_published(challenge):
        return False
    if purse is None:
        return Purse._meta.get_field("currency").get_default() == currency
    return purse.is_open and purse.currency == currency


def _clean_rollover(
    *, purse: Purse, challenge: Challenge, by: User, rollover_to: Challenge | None
) -> Challenge | None:
    """The follow-up a purse may roll over to (the purse row locked by the caller): another
    challenge its organiser also edits, still before its results, in the same currency, and
    not one whose own chain of follow-ups leads back here."""
    if rollover_to is None:
        return None
    if rollover_to.pk == challenge.pk:
        raise DomainError(
            _("A purse cannot roll over to its own challenge: name a follow-up challenge."),
            code="rollover_self",
        )
    if not challenge_permissions.can_edit_challenge(by, rollover_to):
        raise NotAllowed(
            _("The purse can only roll over to a challenge you organise."),
            code="rollover_not_yours",
        )
    target = Challenge.objects.get(pk=rollover_to.pk)
    target_purse = Purse.objects.filter(challenge=target).first()
    if (
        target.status not in RECEIVING_STATUSES
        or (target_purse and not target_purse.is_open)
        or results_published(target)
    ):
        raise Conflict(
            _(
                "{challenge} no longer takes prize money: its results are out or it is closed."
            ).format(challenge=target),
            code="rollover_closed",
        )
    if not _can_receive(target, target_purse, currency=purse.currency):
        raise DomainError(
            _("The purse of {challenge} counts in another currency.").format(challenge=target),
            code="rollover_currency",
        )
    # Follow the follow-ups' own rollovers: none may lead back to this challenge. (Two
    # organisers racing to name each other could still both pass; a purse that has rolled
    # over is no longer open, so such a cycle never moves money twice: the second challenge
    # archived finds its follow-up closed and refunds.)
    seen, step = {challenge.pk}, target.pk
    while step is not None:
        if step in seen:
            raise Conflict(
                _(
                    "{challenge} already rolls over, directly or through others, to this challenge."
                ).format(challenge=target),
                code="rollover_cycle",
            )
        seen.add(step)
        step = Purse.objects.filter(challenge_id=step).values_list("rollover_to", flat=True).first()
    return target


@transaction.atomic
def purse_configure(
    *,
    challenge: Challenge,
    by: User,
    mode: str,
    places: Sequence = (),
    lineage_share=None,
    rollover_to: Challenge | None = None,
) -> Purse:
    """Set (or create) a challenge's award table, lineage share and follow-up (`rollover_to`,
    where the purse goes if the challenge is archived without winners; None: refunds): its
    organisers only, and only until money is in. Locks the purse row, so a contribution
    landing meanwhile either comes before (and the change is refused) or after."""
    if not challenge_permissions.can_edit_challenge(by, challenge):
        raise NotAllowed(_("Only the challenge's organisers can set its prize rules."))
    cleaned = _clean_places(mode, places)
    share = default_lineage_share() if lineage_share in (None, "") else _clean_share(lineage_share)
    purse = _lock(challenge)
    if purse is None:  # the challenge row serialises two organisers creating it at once
        Challenge.objects.select_for_update().get(pk=challenge.pk)
        purse = _lock(challenge)
    if purse is None:
        if challenge.status not in (Challenge.Status.DRAFT, *CONTRIBUTING_STATUSES):
            raise Conflict(_("The results are out: too late for a purse."), code="too_late")
        purse = Purse(challenge=challenge)
    elif not purse.is_open or purse_has_money(purse):
        raise Conflict(
            _("Money is in: the award table and the lineage share are frozen."), code="frozen"
        )
    purse.rollover_to = _clean_rollover(
        purse=purse, challenge=challenge, by=by, rollover_to=rollover_to
    )
    purse.mode, purse.places, purse.lineage_share = mode, cleaned, share
    purse.save()
    return purse


# --- Contributions -----------------------------------------------------------------------------


def contribution_fee(amount: int) -> int:
    """The platform fee on a contribution (shown before paying)."""
    return fee_for(amount, purse_fee_rate())


@transaction.atomic
def contribution_start(
    *, challenge: Challenge, backer: User, amount, public_name: str = "", return_url: str
) -> Payment:
    """A contribution waiting for payment, and the provider's checkout for it. Locks the purse
    row (select_for_update) and checks it still takes money: a contribution racing the
    publication of the results is refused here, before anything is charged."""
    if not user_is_verified(backer):
        raise NotAllowed(_("Verify your e-mail address before backing a purse."), code="unverified")
    if not challenge_permissions.can_view_challenge(backer, challenge):
        raise NotAllowed(_("This challenge is private."))
    try:
        amount = int(amount)
    except (TypeError, ValueError) as error:
        raise DomainError(
            _("Give the amount in whole minor units of the purse's currency."),
            code="invalid_amount",
        ) from error
    currency = (
        Purse.objects.filter(challenge=challenge).values_list("currency", flat=True).first()
        or Purse._meta.get_field("currency").get_default()
    )
    if amount < min_contribution(currency):
        raise DomainError(
            _("The smallest contribution is {amount}.").format(
                amount=format_money(min_contribution(currency), currency)
            ),
            code="too_small",
        )
    if amount > 10_000_000:
        raise DomainError(_("That is more than one contribution may be."), code="too_large")
    purse = _lock(challenge)
    if purse is None:
        raise Conflict(_("This challenge has no prize purse."), code="no_purse")
    challenge = Challenge.objects.get(pk=challenge.pk)
    if not purse.is_open or challenge.status not in CONTRIBUTING_STATUSES:
        raise Conflict(
            _("This purse no longer takes contributions: nothing was charged."),
            code="purse_closed",
        )
    rate = purse_fee_rate()
    contribution = Contribution.objects.create(
        purse=purse,
        backer=backer,
        amount=amount,
        currency=purse.currency,
        fee_rate=rate,
        fee=fee_for(amount, rate),
        public_name=(public_name or "").strip()[:60],
    )
    from .payments import payment_start

    return payment_start(
        payer=backer,
        contribution=contribution,
        amount=amount,
        currency=purse.currency,
        title=f"Prize purse: {challenge.title}"[:120],
        return_url=return_url,
    )


def contribution_payment_captured(*, payment: Payment) -> str:
    """The backer's money arrived (payment locked by the caller, in a transaction). Into the
    purse, net of the fee, while the purse is open; otherwise (the results published or the
    purse refunded meanwhile) it goes back in full at once."""
    contribution = Contribution.objects.select_for_update().get(pk=payment.contribution_id)
    purse = (
        Purse.objects.select_for_update(of=("self",))
        .select_related("challenge")
        .get(pk=contribution.purse_id)
    )
    currency = payment.currency
    if purse.is_open and contribution.state in (
        Contribution.State.PENDING,
        Contribution.State.FAILED,
    ):
        ledger.post(
            key=f"payment:{payment.pk}:capture",
            kind=LedgerTransaction.Kind.CONTRIBUTION,
            legs=[
                ledger.Leg(ledger.clearing(currency), -payment.amount),
                ledger.Leg(ledger.purse(purse.challenge, currency), contribution.net),
                ledger.Leg(ledger.revenue(currency), contribution.fee),
            ],
            memo=f"Contribution by {payment.payer} to the purse of {purse.challenge}",
            payment=payment,
        )
        contribution.state = Contribution.State.PAID
        contribution.paid_at = timezone.now()
        contribution.save(update_fields=["state", "paid_at"])
        return "paid"
    ledger.post(
        key=f"payment:{payment.pk}:capture",
        kind=LedgerTransaction.Kind.CAPTURE,
        legs=[
            ledger.Leg(ledger.clearing(currency), -payment.amount),
            ledger.Leg(ledger.escrow(currency), payment.amount),
        ],
        memo=f"Contribution to the purse of {purse.challenge} after it closed",
        payment=payment,
    )
    key = f"payment:{payment.pk}:refund"
    ledger.post(
        key=key,
        kind=LedgerTransaction.Kind.REFUND,
        legs=[
            ledger.Leg(ledger.escrow(currency), -payment.amount),
            ledger.Leg(ledger.clearing(currency), payment.amount),
        ],
        memo=f"Returned: the purse of {purse.challenge} had closed",
        payment=payment,
    )
    transfers.refund_create(payment=payment, amount=payment.amount, key=key)
    if contribution.state in (Contribution.State.PENDING, Contribution.State.FAILED):
        contribution.state = Contribution.State.RETURNED
        contribution.refunded_amount = contribution.amount
        contribution.save(update_fields=["state", "refunded_amount"])
    return "returned: the purse had closed"


def contribution_payment_failed(*, payment: Payment) -> None:
    Contribution.objects.filter(
        pk=payment.contribution_id, state=Contribution.State.PENDING
    ).update(state=Contribution.State.FAILED)


# --- Results: lock, then award ----------------------------------------------------------------


def purse_lock_for_results(*, selection_round: SelectionRound) -> bool:
    """Called in the transaction that publishes a round (marketplace.signals): the purse locks
    at once (no contribution gets in after), and its award is promised through the outbox.
    The first published round pays the purse; later rounds change nothing."""
    purse = _lock(selection_round.challenge_id)
    if purse is None or not purse.is_open:
        return False
    purse.state = Purse.State.LOCKED
    purse.locked_at = timezone.now()
    purse.selection_round = selection_round
    purse.save(update_fields=["state", "locked_at", "selection_round", "updated_at"])
    from peerhub import outbox

    from ..tasks import award_purse

    outbox.enqueue(award_purse, purse.pk)
    return True


def lineage_chain(solution: Solution) -> list[Link]:
    """The solution's ancestors, nearest first, with what the rule needs to know of each."""
    return chain_of(solution, links_by_id(solution.ancestor_ids))


def money_payees(*, solution: Solution, earner_id: int) -> list[Payee]:
    """Who up `solution`'s lineage is paid lineage money when `earner_id` earns from it: the
    shared rule (challenges.lineage), the same as reputation's lineage credit: unchanged
    copies pass the share on to what they copied; withdrawn ancestors and low-trust authors
    are not paid; never the earner (self-ancestry, the earner's own earlier solutions) and
    never anyone twice."""
    from reputation.trust import low_trust_ids

    chain = lineage_chain(solution)
    authors = {link.author_id for link in chain if link.author_id}
    return lineage_payees(
        chain=chain,
        generations=len(lineage_weights()),
        earner_id=earner_id,
        barred_author_ids=low_trust_ids(authors) if authors else (),
    )


def _pay(
    *,
    kind: str,
    key: str,
    source,
    beneficiary_id: int,
    amount: int,
    currency: str,
    memo: str,
    earning: dict,
) -> Earning:
    beneficiary = User.objects.get(pk=beneficiary_id)
    txn = ledger.post(
        key=key,
        kind=kind,
        legs=[
            ledger.Leg(source, -amount),
            ledger.Leg(ledger.payable(beneficiary, currency), amount),
        ],
        memo=memo,
        **({"order": earning["order"]} if earning.get("order") else {}),
    )
    return Earning.objects.create(
        beneficiary=beneficiary, amount=amount, currency=currency, transaction=txn, **earning
    )


def _winners(purse: Purse) -> list[SelectionEntry]:
    return list(
        SelectionEntry.objects.filter(round=purse.selection_round, is_winner=True)
        .select_related("solution__author")
        .order_by("selected_at", "pk")
    )


@transaction.atomic
def purse_award(*, purse_id: int) -> str:
    """Split a locked purse among the published round's winners (marketplace.prizes for the
    rules), each award's lineage share up the lineage, one ledger transaction per cent's
    destination, each with its reason. Safe to run twice: the purse row is locked and must
    still be `locked`."""
    purse = (
        Purse.objects.select_for_update(of=("self",))
        .select_related("challenge")
        .filter(pk=purse_id, state=Purse.State.LOCKED)
        .first()
    )
    if purse is None:
        return "not due"
    account = ledger.purse(purse.challenge, purse.currency)
    total = ledger.balance(account)
    entries = _winners(purse)
    places = prizes.places_of([entry.selected_at or entry.shortlisted_at for entry in entries])
    awards = prizes.split_purse(
        total, percents=purse.places, places=places, equal=purse.mode == Purse.Mode.EQUAL
    )
    weights = lineage_weights()
    for entry, place, award in zip(entries, places, awards, strict=True):
        if award <= 0:
            continue
        solution = entry.solution
        winner = solution.author
        pool = prizes.percent_of(award, purse.lineage_share)
        shares = prizes.share_up(
            pool, payees=money_payees(solution=solution, earner_id=winner.pk), weights=weights
        )
        for share in shares:
            node = share.payee
            _pay(
                kind=LedgerTransaction.Kind.LINEAGE,
                key=f"purse:{purse.pk}:lineage:{solution.pk}:{node.solution_id}",
                source=account,
                beneficiary_id=node.author_id,
                amount=share.amount,
                currency=purse.currency,
                memo=f"Lineage share of the award to {winner} for {solution}"[:200],
                earning={
                    "kind": Earning.Kind.LINEAGE,
                    "purse": purse,
                    "solution": solution,
                    "node_id": node.solution_id,
                    "generation": node.generation,
                    "place": place,
                },
            )
        kept = award - sum(share.amount for share in shares)
        _pay(
            kind=LedgerTransaction.Kind.AWARD,
            key=f"purse:{purse.pk}:award:{solution.pk}",
            source=account,
            beneficiary_id=winner.pk,
            amount=kept,
            currency=purse.currency,
            memo=f"Award to {winner} for {solution} (place {place})"[:200],
            earning={
                "kind": Earning.Kind.AWARD,
                "purse": purse,
                "solution": solution,
                "node": solution,
                "generation": 0,
                "place": place,
                "award_gross": award,
            },
        )
    purse.state = Purse.State.AWARDED
    purse.settled_at = timezone.now()
    purse.save(update_fields=["state", "settled_at", "updated_at"])
    logger.info("purse %s awarded: %s among %s winners", purse.pk, total, len(entries))
    return "awarded"


# --- No winner: rolled over to the follow-up, or every backer refunded -------------------------


def purse_archived(*, challenge_id: int) -> bool:
    """Called in the transaction that archives a challenge (marketplace.signals): a purse still
    open (no results were published) locks, and its settlement without winners (rollover or
    refund) is promised through the outbox."""
    purse = _lock(challenge_id)
    if purse is None or not purse.is_open:
        return False
    purse.state = Purse.State.LOCKED
    purse.locked_at = timezone.now()
    purse.save(update_fields=["state", "locked_at", "updated_at"])
    from peerhub import outbox

    from ..tasks import settle_purse_without_winners

    outbox.enqueue(settle_purse_without_winners, purse.pk)
    return True


def _locked_without_winners(purse_id: int) -> Purse | None:
    return (
        Purse.objects.select_for_update(of=("self",))
        .select_related("challenge")
        .filter(pk=purse_id, state=Purse.State.LOCKED, selection_round__isnull=True)
        .first()
    )


@transaction.atomic
def purse_settle_without_winners(*, purse_id: int) -> str:
    """A purse whose challenge was archived without published winners. The written rule: if
    the organisers named a follow-up before funding and it can still receive money now (a
    draft, open or selecting challenge whose purse, if any, is still open, in the same
    currency), the whole purse rolls over into the follow-up's purse; otherwise (no follow-up,
    or its results are out, or it was archived) every backer is refunded pro rata. Safe to run
    twice: the purse row is locked and must still be locked without a round."""
    purse = _locked_without_winners(purse_id)
    if purse is None:
        return "not due"
    if purse.rollover_to_id is not None:
        # Lock order: the follow-up's challenge row, then its purse row (as its archiving does).
        target = Challenge.objects.select_for_update().get(pk=purse.rollover_to_id)
        target_purse = _lock(target)
        if _can_receive(target, target_purse, currency=purse.currency):
            return _roll_over(purse, target, target_purse)
        logger.info("purse %s: follow-up %s cannot receive, refunding", purse.pk, target.pk)
    return _refund(purse)


def _roll_over(purse: Purse, target: Challenge, target_purse: Purse | None) -> str:
    """Move the whole escrow balance into the follow-up's purse escrow in one balanced ledger
    transaction, creating that purse with the default rules if it had none (money being in, its
    rules freeze). The purse's contributions are rolled over, not refunded."""
    if target_purse is None:
        target_purse = Purse.objects.create(
            challenge=target,
            currency=purse.currency,
            mode=Purse.Mode.PLACES,
            places=list(DEFAULT_PLACES),
            lineage_share=default_lineage_share(),
        )
    source = ledger.purse(purse.challenge, purse.currency)
    total = ledger.balance(source)
    txn = None
    if total > 0:
        txn = ledger.post(
            key=f"purse:{purse.pk}:rollover",
            kind=LedgerTransaction.Kind.ROLLOVER,
            legs=[
                ledger.Leg(source, -total),
                ledger.Leg(ledger.purse(target, purse.currency), total),
            ],
            memo=f"Rolled over from {purse.challenge}: archived without winners"[:200],
        )
    PurseRollover.objects.create(
        from_purse=purse, to_purse=target_purse, amount=total, currency=purse.currency,
        transaction=txn,
    )  # fmt: skip
    purse.contributions.filter(state=Contribution.State.PAID).update(
        state=Contribution.State.ROLLED_OVER
    )
    purse.state = Purse.State.ROLLED_OVER
    purse.settled_at = timezone.now()
    purse.save(update_fields=["state", "settled_at", "updated_at"])
    logger.info("purse %s rolled over %s to purse %s", purse.pk, total, target_purse.pk)
    return "rolled over"


def backing_contributions(purse: Purse):
    """The contributions whose money is in this purse: its own paid ones, and those of every
    purse that rolled over into it, directly or through others."""
    upstream, frontier = [], [purse.pk]
    while frontier:
        frontier = list(
            PurseRollover.objects.filter(to_purse_id__in=frontier).values_list(
                "from_purse_id", flat=True
            )
        )
        upstream += frontier
    return Contribution.objects.filter(
        Q(purse=purse, state=Contribution.State.PAID)
        | Q(purse_id__in=upstream, state=Contribution.State.ROLLED_OVER)
    )


@transaction.atomic
def purse_refund(*, purse_id: int) -> str:
    """Refund a purse without winners (see purse_settle_without_winners, which decides
    between this and the rollover). Safe to run twice."""
    purse = _locked_without_winners(purse_id)
    if purse is None:
        return "not due"
    return _refund(purse)


def _refund(purse: Purse) -> str:
    """Give a purse without winners back to the backers whose money is in it (its own, and
    those of purses that rolled over into it), pro rata to what each put in (their
    contribution net of the fee), through stored refunds against their payments: the purse's
    balance split by marketplace.prizes.largest_remainder so the cents sum exactly."""
    account = ledger.purse(purse.challenge, purse.currency)
    total = ledger.balance(account)
    paid = list(backing_contributions(purse).select_for_update().order_by("pk"))
    amounts = prizes.largest_remainder(total, [c.net for c in paid], [c.pk for c in paid])
    for contribution, amount in zip(paid, amounts, strict=True):
        if amount <= 0:
            continue
        payment = contribution.payments.filter(status=Payment.Status.SUCCEEDED).order_by("pk")[0]
        key = f"contribution:{contribution.pk}:refund"
        ledger.post(
            key=key,
            kind=LedgerTransaction.Kind.REFUND,
            legs=[
                ledger.Leg(account, -amount),
                ledger.Leg(ledger.clearing(purse.currency), amount),
            ],
            memo=f"Refund: {purse.challenge} was archived without winners",
            payment=payment,
        )
        transfers.refund_create(payment=payment, amount=amount, key=key)
        contribution.state = Contribution.State.REFUNDED
        contribution.refunded_amount = amount
        contribution.save(update_fields=["state", "refunded_amount"])
    purse.state = Purse.State.REFUNDED
    purse.settled_at = timezone.now()
    purse.save(update_fields=["state", "settled_at", "updated_at"])
    return "refunded"
