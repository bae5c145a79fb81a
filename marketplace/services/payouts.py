"""Sellers take their available balance out."""

import uuid

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from peerhub.exceptions import DomainError, NotAllowed
from peerhub.mfa import require_mfa
from peerhub.models import User
from peerhub.selectors import user_is_verified

from .. import ledger
from ..models import LedgerTransaction, Payout
from ..money import plain_money
from . import transfers


@transaction.atomic
def payout_request(*, seller: User, amount: int | None = None, currency: str = "") -> Payout:
    """Pay out `amount` (default: everything available) of the member's payable balance.
        Locks the member's payable account (select_for_update), so two requests at once cannot
        both spend the same money and the balance never goes negative. The money leaves the balance
    now; the provider is asked after commit (services.transfers), and retried until it answers."""
    require_mfa(seller, for_what="payouts")
    if not user_is_verified(seller):
        raise NotAllowed(_("Verify your e-mail address first."), code="unverified")
    currency = (currency or settings.PEERHUB_MARKETPLACE["currency"]).upper()
    account = ledger.lock_payable(seller, currency)
    available = ledger.balance(account)
    amount = available if amount is None else int(amount)
    if amount <= 0:
        raise DomainError(_("There is nothing to pay out."), code="nothing_to_pay_out")
    if amount > available:
        raise DomainError(
            _("Only {amount} is available.").format(amount=plain_money(available, currency)),
            code="insufficient_funds",
        )
    payout = transfers.payout_create(
        seller=seller, amount=amount, currency=currency, key=f"payout-{uuid.uuid4().hex}"
    )
    ledger.post(
        key=f"payout:{payout.pk}",
        kind=LedgerTransaction.Kind.PAYOUT,
        legs=[ledger.Leg(account, -amount), ledger.Leg(ledger.clearing(currency), amount)],
        memo=f"Payout to {seller}",
        payout=payout,
    )
    return payout
