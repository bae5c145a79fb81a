"""The double-entry ledger: the one place that writes LedgerTransaction and LedgerEntry rows.

Sign convention: an entry's amount is money moving into its account (positive) or out of it
(negative). The provider's clearing account stands for the world outside PeerHub: a captured
payment moves money out of clearing into escrow, a refund or a payout moves it back out to
clearing. So clearing is negative while the platform holds money; escrow, revenue and every
member's payable balance are never negative (audit_ledger checks it).

    capture   clearing -price         escrow +price
    release   escrow -price           seller payable +(price - fee), revenue +fee
    refund    escrow -amount          clearing +amount
    payout    seller payable -amount  clearing +amount
    subscription  clearing -price     revenue +price
    contribution  clearing -amount    purse +(amount - fee), revenue +fee
    award     purse -kept             winner payable +kept
    lineage   purse -share            ancestor's author payable +share
    royalty   seller payable -share   ancestor's author payable +share
    purse refund  purse -net          clearing +net
    rollover  purse -all              follow-up challenge's purse +all
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from peerhub.exceptions import Conflict, DomainError

from .models import LedgerAccount, LedgerEntry, LedgerTransaction
from .pagecache import members_changed

Kind = LedgerAccount.Kind


def account(kind: str, currency: str, user=None, challenge=None) -> LedgerAccount:
    """The account, created on first use (a race between two creators ends with one row)."""
    lookup = {"kind": kind, "currency": currency, "user": user, "challenge": challenge}
    found = LedgerAccount.objects.filter(**lookup).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(**lookup)
    except IntegrityError:
        return LedgerAccount.objects.get(**lookup)


def clearing(currency: str) -> LedgerAccount:
    return account(Kind.CLEARING, currency)


def escrow(currency: str) -> LedgerAccount:
    return account(Kind.ESCROW, currency)


def revenue(currency: str) -> LedgerAccount:
    return account(Kind.REVENUE, currency)


def payable(user, currency: str) -> LedgerAccount:
    return account(Kind.PAYABLE, currency, user)


@dataclass(frozen=True)
class Leg:
    account: LedgerAccount
    amount: int


def post(*, key: str, kind: str, legs: Iterable[Leg], memo: str = "", **links) -> LedgerTransaction:
    """Record one transaction. Refuses legs that do not sum to zero, mix currencies or move
    nothing; a second post with the same key (the same fact) is refused with Conflict, so a
    caller that races another one never records money twice."""
    legs = [leg for leg in legs if leg.amount]
    if not legs:
        raise DomainError("A ledger transaction must move money.", code="ledger_empty")
    if sum(leg.amount for leg in legs) != 0:
        raise DomainError("A ledger transaction must sum to zero.", code="ledger_unbalanced")
    if len({leg.account.currency for leg in legs}) != 1:
        raise DomainError("A ledger transaction is in one currency.", code="ledger_currency")
    try:
        with transaction.atomic():
            txn = LedgerTransaction.objects.create(key=key, kind=kind, memo=memo[:200], **links)
            LedgerEntry.objects.bulk_create(
                LedgerEntry(transaction=txn, account=leg.account, amount=leg.amount) for leg in legs
            )
    except IntegrityError as error:
        raise Conflict(f"Already recorded: {key}.", code="ledger_duplicate") from error
    # The balances on the members' own orders pages (entries are bulk-created: no signal).
    members_changed(leg.account.user_id for leg in legs)
    return txn


def purse(challenge, currency: str) -> LedgerAccount:
    """A challenge's prize escrow: contributions (net of the fee) in, awards, lineage shares
    and refunds out."""
    return account(Kind.PURSE, currency, challenge=challenge)


def balance(acct: LedgerAccount) -> int:
    """Always derived from the entries, never stored."""
    return LedgerEntry.objects.filter(account=acct).aggregate(total=Sum("amount"))["total"] or 0


def balances_of(user) -> dict[str, int]:
    """A member's payable balance per currency."""
    rows = (
        LedgerEntry.objects.filter(account__kind=Kind.PAYABLE, account__user=user)
        .values("account__currency")
        .annotate(total=Sum("amount"))
    )
    return {row["account__currency"]: row["total"] for row in rows}


def lock_payable(user, currency: str) -> LedgerAccount:
    """The member's payable account, locked (select_for_update) so two payout requests cannot
    both spend the same balance."""
    acct = payable(user, currency)
    return LedgerAccount.objects.select_for_update().get(pk=acct.pk)


# --- The audit --------------------------------------------------------------------------------


def audit() -> list[str]:
    """Every invariant over the whole database; an empty list means the books are right."""
    problems = []
    unbalanced = (
        LedgerEntry.objects.values("transaction_id")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .values_list("transaction_id", "total")
    )
    problems += [
        _("transaction {pk} sums to {total}, not 0").format(pk=pk, total=total)
        for pk, total in unbalanced
    ]
    empty = LedgerTransaction.objects.filter(entries__isnull=True).values_list("pk", flat=True)
    problems += [_("transaction {pk} has no entries").format(pk=pk) for pk in empty]
    for txn_id, currencies in _currencies_per_transaction():
        if len(currencies) > 1:
            problems.append(
                _("transaction {pk} mixes currencies {currencies}").format(
                    pk=txn_id, currencies=", ".join(sorted(currencies))
                )
            )
    negative = (
        LedgerEntry.objects.filter(~Q(account__kind=Kind.CLEARING))
        .values("account_id", "account__kind", "account__user__username", "account__currency")
        .annotate(total=Sum("amount"))
        .filter(total__lt=0)
    )
    problems += [
        (
            _("{kind} account {pk} of {member} is negative: {total} {currency}")
            if row["account__user__username"]
            else _("{kind} account {pk} is negative: {total} {currency}")
        ).format(
            kind=row["account__kind"],
            pk=row["account_id"],
            member=row["account__user__username"],
            total=row["total"],
            currency=row["account__currency"],
        )
        for row in negative
    ]
    problems += _order_money_checks()
    problems += _provider_checks()
    problems += _purse_checks()
    return problems


def _currencies_per_transaction():
    seen: dict[int, set[str]] = {}
    for txn_id, currency in LedgerEntry.objects.values_list(
        "transaction_id", "account__currency"
    ).distinct():
        seen.setdefault(txn_id, set()).add(currency)
    return seen.items()


def _order_money_checks() -> list[str]:
    """Each order's entries agree with its state: escrow holds exactly the price of every
    order that is paid and not yet settled, and settled orders hold nothing in escrow."""
    from .models import Order

    held = dict(
        LedgerEntry.objects.filter(account__kind=Kind.ESCROW, transaction__order__isnull=False)
        .values("transaction__order_id")
        .annotate(total=Sum("amount"))
        .values_list("transaction__order_id", "total")
    )
    problems = []
    orders = Order.objects.filter(pk__in=list(held)).values_list("pk", "state", "price")
    for pk, state, price in orders:
        expected = price if state in Order.ACTIVE_STATES else 0
        if held[pk] != expected:
            problems.append(
                _("order {pk} ({state}) holds {held} in escrow, not {expected}").format(
                    pk=pk, state=state, held=held[pk], expected=expected
                )
            )
    missing = Order.objects.filter(state__in=Order.ACTIVE_STATES).exclude(pk__in=list(held))
    problems += [_("order {pk} is {state} but holds nothing in escrow").format(pk=pk, state=state)
                 for pk, state in missing.values_list("pk", "state")]  # fmt: skip
    return problems


def _provider_checks(*, now=None) -> list[str]:
    """The outside world agrees with the books: every paid order was confirmed by its
    provider for its exact amount and currency; every cent the ledger sends out (a refund or a
    payout) has its transfer row, for the same amount; transfers finish in time; and no
    provider event is left unexplained."""
    from datetime import timedelta

    from django.conf import settings
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    from .models import Order, Payment, Payout, ProviderEvent, Refund, Transfer

    now = now or timezone.now()
    problems = []
    confirmed = ProviderEvent.objects.filter(
        state=ProviderEvent.State.APPLIED,
        reported="succeeded",
        payment__order=OuterRef("pk"),
        payment__status=Payment.Status.SUCCEEDED,
        payment__amount=OuterRef("price"),
        payment__currency=OuterRef("currency"),
    )
    unconfirmed = Order.objects.filter(paid_at__isnull=False).exclude(Exists(confirmed))
    problems += [
        _("order {pk} was paid without a provider-confirmed payment of {price} {currency}").format(
            pk=pk, price=price, currency=currency
        )
        for pk, price, currency in unconfirmed.values_list("pk", "price", "currency")
    ]
    outgoing = (
        LedgerEntry.objects.filter(account__kind=Kind.CLEARING, amount__gt=0)
        .values("transaction_id", "transaction__key", "transaction__kind", "transaction__payout_id")
        .annotate(total=Sum("amount"))
    )
    refunds = dict(Refund.objects.values_list("idempotency_key", "amount"))
    payouts = dict(Payout.objects.values_list("pk", "amount"))
    for row in outgoing:
        key, total = row["transaction__key"], row["total"]
        if row["transaction__kind"] == LedgerTransaction.Kind.PAYOUT:
            if payouts.get(row["transaction__payout_id"]) != total:
                problems.append(
                    _("transaction {key} pays out {total} without a payout of it").format(
                        key=key, total=total
                    )
                )
        elif refunds.get(key) != total:
            problems.append(
                _("transaction {key} refunds {total} without a refund of it").format(
                    key=key, total=total
                )
            )
    overdue = now - timedelta(hours=settings.PEERHUB_MARKETPLACE["overdue_hours"])
    for model, name in ((Refund, _("refund")), (Payout, _("payout"))):
        late = model.objects.filter(
            Q(state=Transfer.State.FAILED) | Q(state__in=Transfer.OPEN, created_at__lt=overdue)
        )
        problems += [
            (
                _("{name} {pk} of {amount} {currency} is {state}, not done: {error}")
                if error
                else _("{name} {pk} of {amount} {currency} is {state}, not done")
            ).format(name=name, pk=pk, amount=amount, currency=currency, state=state, error=error)
            for pk, amount, currency, state, error in late.values_list(
                "pk", "amount", "currency", "state", "last_error"
            )
        ]
    unexplained = ProviderEvent.objects.filter(
        Q(state__in=ProviderEvent.NEEDS_STAFF)
        | Q(state=ProviderEvent.State.RECEIVED, received_at__lt=overdue)
    )
    problems += [
        _("{provider} event {event} is {state}: {outcome}").format(
            provider=provider, event=event_id, state=state, outcome=outcome or _("not applied")
        )
        for provider, event_id, state, outcome in unexplained.values_list(
            "provider", "event_id", "state", "outcome"
        )
    ]
    return problems


def _purse_checks() -> list[str]:
    """Prize money (issue 20) agrees with its facts. Every cent that reached a purse (its paid
    contributions net of the fee, and purses rolled over into it) is still in its escrow, or
    left it exactly once: paid to a winner or an ancestor, refunded, or rolled over into another
    purse; a settled purse (awarded, refunded, rolled over) holds nothing. Each rollover is one
    ledger transaction of its amount; a rolled-over contribution's purse rolled over; the
    refunds contributions record are the purses' refunds; every contribution counted was
    confirmed by its provider; every award, lineage share and royalty is the one payable line of
    its transaction; and no order paid more royalty than its rate allows."""
    from django.db.models import Count, Exists, F, OuterRef

    from .models import Contribution, Earning, Order, Payment, ProviderEvent, Purse, PurseRollover
    from .services.royalties import royalty_for

    problems = []

    def per(queryset, key, total):
        return dict(queryset.values(key).annotate(t=total).values_list(key, "t"))

    held = per(LedgerEntry.objects.filter(account__kind=Kind.PURSE), "account__challenge_id",
               Sum("amount"))  # fmt: skip
    reached = (Contribution.State.PAID, Contribution.State.REFUNDED, Contribution.State.ROLLED_OVER)
    # Per purse, in one query: what its contributions brought in (net of the fee), what they
    # record as refunded, and how many say they rolled over.
    contributions = {
        row["purse_id"]: row
        for row in Contribution.objects.values("purse_id").annotate(
            net=Sum(F("amount") - F("fee"), filter=Q(state__in=reached)),
            refunded=Sum("refunded_amount", filter=Q(state=Contribution.State.REFUNDED)),
            rolled=Count("pk", filter=Q(state=Contribution.State.ROLLED_OVER)),
        )
    }
    earned = per(Earning.objects.filter(purse__isnull=False), "purse_id", Sum("amount"))
    refunded_out = per(
        LedgerEntry.objects.filter(
            account__kind=Kind.PURSE, transaction__kind=LedgerTransaction.Kind.REFUND
        ),
        "account__challenge_id",
        -Sum("amount"),
    )
    # Each rollover with what its ledger transaction moved into the follow-up's escrow.
    rollovers = list(
        PurseRollover.objects.values("pk", "from_purse_id", "to_purse_id", "amount").annotate(
            moved=Sum("transaction__entries__amount", filter=Q(transaction__entries__amount__gt=0))
        )
    )
    rolled_in, rolled_out = {}, {}
    for row in rollovers:
        rolled_in[row["to_purse_id"]] = rolled_in.get(row["to_purse_id"], 0) + row["amount"]
        rolled_out[row["from_purse_id"]] = row["amount"]
        if (row["moved"] or 0) != row["amount"]:
            problems.append(
                _("rollover {pk}'s transaction moves {moved}, not its {amount}").format(
                    pk=row["pk"], moved=row["moved"] or 0, amount=row["amount"]
                )
            )
    for pk, challenge_id, state in Purse.objects.values_list("pk", "challenge_id", "state"):
        facts = contributions.get(pk, {})
        balance = held.get(challenge_id, 0)
        received = (facts.get("net") or 0) + rolled_in.get(pk, 0)
        paid, refunded = earned.get(pk, 0), refunded_out.get(challenge_id, 0)
        gone = paid + refunded + rolled_out.get(pk, 0)
        if balance != received - gone:
            problems.append(
                _(
                    "purse {pk} ({state}) holds {balance}, not {expected}: it received"
                    " {received}, paid {paid} and refunded {refunded}, rolled over {rolled}"
                ).format(
                    pk=pk,
                    state=state,
                    balance=balance,
                    expected=received - gone,
                    received=received,
                    paid=paid,
                    refunded=refunded,
                    rolled=rolled_out.get(pk, 0),
                )
            )
        elif state in Purse.SETTLED and balance:
            problems.append(
                _("purse {pk} ({state}) still holds {balance}").format(
                    pk=pk, state=state, balance=balance
                )
            )
        if facts.get("rolled") and state != Purse.State.ROLLED_OVER:
            problems.append(
                _(
                    "purse {pk} ({state}) has rolled-over contributions but did not roll over"
                ).format(pk=pk, state=state)
            )
    refunds_recorded = sum((row["refunded"] or 0) for row in contributions.values())
    if refunds_recorded != sum(refunded_out.values()):
        problems.append(
            _("contributions record {recorded} refunded, the purses refunded {refunded}").format(
                recorded=refunds_recorded, refunded=sum(refunded_out.values())
            )
        )
    confirmed = ProviderEvent.objects.filter(
        state=ProviderEvent.State.APPLIED,
        reported="succeeded",
        payment__contribution=OuterRef("pk"),
        payment__status=Payment.Status.SUCCEEDED,
        payment__amount=OuterRef("amount"),
    )
    unconfirmed = Contribution.objects.exclude(
        state__in=[Contribution.State.PENDING, Contribution.State.FAILED]
    ).exclude(Exists(confirmed))
    problems += [_("contribution {pk} counts money no provider confirmed").format(pk=pk)
                 for pk in unconfirmed.values_list("pk", flat=True)]  # fmt: skip
    lines = (
        Earning.objects.filter(
            transaction__entries__account__kind=Kind.PAYABLE,
            transaction__entries__account__user=F("beneficiary"),
        )
        .values("pk", "amount")
        .annotate(line=Sum("transaction__entries__amount"))
    )
    matched = {row["pk"] for row in lines if row["line"] == row["amount"]}
    problems += [_("{kind} {pk} is not the payable line of its transaction")
                 .format(kind=kind, pk=pk)
                 for pk, kind in Earning.objects.exclude(pk__in=matched)
                 .values_list("pk", "kind")]  # fmt: skip
    royalties = (
        Earning.objects.filter(kind=Earning.Kind.ROYALTY)
        .values("order_id")
        .annotate(total=Sum("amount"))
    )
    orders = Order.objects.in_bulk([row["order_id"] for row in royalties])
    for row in royalties:
        order = orders[row["order_id"]]
        if row["total"] > royalty_for(order):
            problems.append(
                _("order {pk} paid {total} in royalties, over its rate").format(
                    pk=order.pk, total=row["total"]
                )
            )
    return problems
