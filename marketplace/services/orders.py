"""Orders: the guarded state machine, escrow and settlement.

    pending_payment → paid → in_progress → delivered → completed
    pending_payment → cancelled            paid / in_progress → refunded (seller declines)
    paid → refunded (buyer cancels: the seller did not start by `start_by`)
    in_progress / delivered → disputed → resolved (staff: refund, release or split)

Every transition locks the order row (select_for_update), checks who acts (NotAllowed, 403)
then the state (Conflict, 409), writes a timeline line, and records money through
marketplace.ledger. Settlement uses one ledger key per order, so an order is paid out once."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from challenges import files
from challenges.uploads import Attachment, merge_files, uploads_claim
from peerhub import locales, relations
from peerhub.exceptions import Conflict, DomainError, NotAllowed
from peerhub.markdown import render_markdown
from peerhub.mentions import Place, RenderedText, mentions_record, render_with_mentions
from peerhub.models import User
from peerhub.selectors import user_is_verified
from peerhub.throttles import write_spend

from .. import ledger, permissions, social_events
from ..models import (
    LedgerTransaction,
    Offer,
    Order,
    OrderEvent,
    OrderMessage,
    OrderMessageFile,
    OrderReview,
    Payment,
)
from . import tallies, transfers

State = Order.State
MAX_LINKS = 10
# How long a checkout stays open, and the reservation with it (Stripe's shortest session).
CHECKOUT_MINUTES = 30


def fee_rate() -> Decimal:
    return Decimal(str(settings.PEERHUB_MARKETPLACE["fee_rate"]))


def fee_for(price: int, rate: Decimal) -> int:
    """The platform fee in minor units, rounded half up: never a fraction of a cent."""
    return int((Decimal(price) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().select_related("offer").get(pk=order.pk)


def _record(order: Order, *, to: str, actor: User | None, note: str = "") -> None:
    OrderEvent.objects.create(
        order=order, from_state=order.state, to_state=to, actor=actor, note=note[:300]
    )
    order.state = to


def _refuse_state(order: Order, action: str) -> Conflict:
    """`action` is one of the past participles below: each refusal is a whole sentence, so
    that every language can word it."""
    refusals = {
        "paid": _("An order that is {state} cannot be paid."),
        "started": _("An order that is {state} cannot be started."),
        "declined": _("An order that is {state} cannot be declined."),
        "delivered": _("An order that is {state} cannot be delivered."),
        "accepted": _("An order that is {state} cannot be accepted."),
        "disputed": _("An order that is {state} cannot be disputed."),
        "cancelled": _("An order that is {state} cannot be cancelled."),
        "resolved": _("An order that is {state} cannot be resolved."),
        "reviewed": _("An order that is {state} cannot be reviewed."),
    }
    return Conflict(
        refusals[action].format(state=order.get_state_display().lower()),
        code="invalid_transition",
    )


def _must_be_buyer(order: Order, by: User, action: str) -> None:
    if by.pk != order.buyer_id:
        refusals = {
            "pay": _("Only the buyer can pay this order."),
            "accept": _("Only the buyer can accept this order."),
            "dispute": _("Only the buyer can dispute this order."),
            "review": _("Only the buyer can review this order."),
        }
        raise NotAllowed(refusals[action])


def _must_be_seller(order: Order, by: User, action: str) -> None:
    if by.pk != order.seller_id:
        refusals = {
            "start": _("Only the seller can start this order."),
            "decline": _("Only the seller can decline this order."),
            "deliver": _("Only the seller can deliver this order."),
        }
        raise NotAllowed(refusals[action])


def reservation_minutes() -> int:
    return settings.PEERHUB_MARKETPLACE["reservation_minutes"]


def slot_holders(offer: Offer) -> QuerySet[Order]:
    """The orders holding one of the offer's slots (Order.holds_slot)."""
    return Order.objects.filter(Order.holds_slot(), offer=offer)


def has_free_slot(offer: Offer, *, besides: Order | None = None) -> bool:
    """Whether one more order (or `besides`, not counting its own reservation) fits."""
    holders = slot_holders(offer)
    if besides is not None:
        holders = holders.exclude(pk=besides.pk)
    return holders.count() < offer.capacity


def _lock_offer(offer_id: int) -> Offer:
    """The offer row, locked: two payments racing for its last slot are served one at a time."""
    return Offer.objects.select_for_update().get(pk=offer_id)


# --- Placing and paying ----------------------------------------------------------------------


BRIEF_FILES_BODY = "Files for the brief."


def order_place(
    *,
    buyer: User,
    offer: Offer,
    brief: str = "",
    uploads: Sequence = (),
    attachments: Sequence[Attachment] = (),
) -> Order:
    """An order waiting for payment, with the price and the fee snapshotted, holding one of
    the offer's slots for `reservation_minutes`. The offer row is locked while its slots are
    counted (select_for_update): of fifty buyers racing for the last slot one gets it and the
    others are told it is sold out before anyone is charged.

    Files for the brief (`uploads`, and the buyer's API uploads named by id, `attachments`)
    are checked by challenges.files (context order) and go on the thread's first message,
    marked `is_brief`: like every order file, only the buyer, the seller and staff fetch them.
    A refusal places no order and stores nothing."""
    prepared = files.prepare_uploads(uploads, user=buyer, context="order") if uploads else []
    with files.removed_on_failure() as written, transaction.atomic():
        order = _order_place(buyer=buyer, offer=offer, brief=brief)
        if prepared or attachments:
            claimed = uploads_claim(user=buyer, attachments=attachments, context="order")
            blobs = merge_files(files.store_blobs(prepared, user=buyer, written=written), claimed)
            limit = files.config()["files_per_revision"]
            if len(blobs) > limit:
                raise DomainError(
                    ngettext(
                        "A brief holds at most {limit} file.",
                        "A brief holds at most {limit} files.",
                        limit,
                    ).format(limit=limit),
                    code="too_many_files",
                )
            message = OrderMessage.objects.create(
                order=order,
                author=buyer,
                body=BRIEF_FILES_BODY,
                body_html=render_markdown(BRIEF_FILES_BODY),
                is_brief=True,
            )
            OrderMessageFile.objects.bulk_create(
                OrderMessageFile(message=message, path=path, blob=blob)
                for path, blob in sorted(blobs.items())
            )
        return order


def _order_place(*, buyer: User, offer: Offer, brief: str) -> Order:
    if not user_is_verified(buyer):
        raise NotAllowed(_("Verify your e-mail address before ordering."), code="unverified")
    if offer.seller_id == buyer.pk:
        raise NotAllowed(_("You cannot buy your own offer."), code="own_offer")
    if not brief.strip():
        raise DomainError(
            _("Tell the seller what you need: the brief is required."), code="no_brief"
        )
    # A block either way refuses new orders only: one placed before stays finishable.
    relations.interaction_check(actor=buyer, other=offer.seller_id, action="order from")
    write_spend(buyer, "order")
    offer = _lock_offer(offer.pk)
    if not offer.is_active:
        raise Conflict(_("This offer is paused."), code="offer_paused")
    if offer.hidden_at is not None:
        raise Conflict(_("This offer is hidden by moderation."), code="offer_hidden")
    if not has_free_slot(offer):
        raise Conflict(_("This offer is sold out right now: every slot is taken."), code="sold_out")
    rate = fee_rate()
    order = Order(
        offer=offer,
        buyer=buyer,
        seller_id=offer.seller_id,
        brief=brief.strip(),
        base_solution_id=offer.base_solution_id,
        title=offer.title,
        price=offer.price,
        currency=offer.currency,
        fee_rate=rate,
        fee=fee_for(offer.price, rate),
        reserved_until=timezone.now() + timedelta(minutes=reservation_minutes()),
    )
    brief_text = _render_for(order, order.brief)
    order.brief_html = brief_text.html
    order.save()
    OrderEvent.objects.create(order=order, to_state=State.PENDING_PAYMENT, actor=buyer)
    social_events.order_placed(order)
    _record_mentions(
        order, author=buyer, item=order, text=brief_text, url=order.get_absolute_url(),
        where=Place(gettext_noop("the brief of order #{number}"), {"number": order.pk}),
        told_already=[order.seller_id],
    )  # fmt: skip
    return order


# --- Mentions in an order's words --------------------------------------------------------------
# Only the buyer, the seller and staff may see an order: only they are linked and told. Anyone
# else named stays plain text and hears nothing, so the order is never shown to a stranger.


def _render_for(order: Order, text: str) -> RenderedText:
    return render_with_mentions(text, audience=permissions.viewers_of_order(order))


def _record_mentions(
    order: Order, *, author: User, item, text: RenderedText, url: str, where: Place, told_already
) -> None:
    mentions_record(
        author=author,
        item=item,
        mentioned=text.mentioned,
        audience=permissions.viewers_of_order(order),
        url=url,
        where=where,
        told_already=told_already,
    )


def _message_create(*, order: Order, by: User, body: str, told_already, **fields) -> OrderMessage:
    """An order message, rendered, its mentions recorded; whom the caller's own notice tells
    (`told_already`) is not told twice."""
    text = _render_for(order, body)
    message = OrderMessage.objects.create(
        order=order, author=by, body=body, body_html=text.html, **fields
    )
    _record_mentions(
        order, author=by, item=message, text=text,
        url=f"{order.get_absolute_url()}#message-{message.pk}",
        where=Place(gettext_noop("a message on order #{number}"), {"number": order.pk}),
        told_already=told_already,
    )  # fmt: skip
    return message


@transaction.atomic
def order_pay(*, order: Order, by: User) -> Payment:
    """Start paying: one payment through the provider, whose checkout the buyer then visits.

    Locks the order: a double click finds the first click's pending payment and gets it back,
    so there is never more than one payment in flight. The order must hold its slot: a
    reservation that expired is taken again if a slot is free (the offer locked), and refused
    as sold out otherwise, before any charge. The reservation then lasts while the checkout
    is open."""
    order = _lock(order)
    _must_be_buyer(order, by, "pay")
    if order.state != State.PENDING_PAYMENT:
        raise _refuse_state(order, "paid")
    now = timezone.now()
    pending = order.payments.filter(status=Payment.Status.PENDING).first()
    if pending is not None and order.reserved_until and order.reserved_until > now:
        return pending
    offer = _lock_offer(order.offer_id)
    if not offer.is_active:
        raise Conflict(_("This offer is paused."), code="offer_paused")
    if not (order.reserved_until and order.reserved_until > now) and not has_free_slot(
        offer, besides=order
    ):
        raise Conflict(
            _("Your reservation expired and every slot is taken now: nothing was charged."),
            code="sold_out",
        )
    if pending is not None:  # its checkout outlived the reservation: a fresh one
        pending.status = Payment.Status.CANCELLED
        pending.save(update_fields=["status", "updated_at"])
    order.reserved_until = now + timedelta(minutes=max(reservation_minutes(), CHECKOUT_MINUTES))
    order.save(update_fields=["reserved_until", "updated_at"])
    from .payments import payment_start

    return payment_start(
        payer=by,
        order=order,
        amount=order.price,
        currency=order.currency,
        title=order.title,
        return_url=order.get_absolute_url(),
        expires_at=order.reserved_until,
    )


def order_payment_captured(*, payment: Payment) -> str:
    """The provider took the buyer's money (called with the payment locked, in a transaction).

    The money goes into escrow. When the order can no longer take it — cancelled meanwhile,
    already paid, or the offer's last slot went to a faster buyer — it goes back at once."""
    order = _lock(payment.order)
    ledger.post(
        key=f"payment:{payment.pk}:capture",
        kind=LedgerTransaction.Kind.CAPTURE,
        legs=[
            ledger.Leg(ledger.clearing(payment.currency), -payment.amount),
            ledger.Leg(ledger.escrow(payment.currency), payment.amount),
        ],
        memo=f"Order #{order.pk} paid",
        order=order,
        payment=payment,
    )
    _lock_offer(order.offer_id)
    if order.state == State.PENDING_PAYMENT and has_free_slot(order.offer, besides=order):
        _record(order, to=State.PAID, actor=payment.payer, note="Payment received into escrow.")
        order.paid_at = timezone.now()
        order.start_by = order.paid_at + timedelta(days=order.offer.delivery_days)
        order.reserved_until = None
        order.save(update_fields=["state", "paid_at", "start_by", "reserved_until", "updated_at"])
        social_events.order_paid(order)
        return "paid"
    reason = "no free slot was left" if order.state == State.PENDING_PAYMENT else "not payable"
    _refund(order, payment=payment, amount=payment.amount, key=f"payment:{payment.pk}:refund")
    if order.state == State.PENDING_PAYMENT:
        _record(order, to=State.REFUNDED, actor=None, note=f"Refunded at once: {reason}.")
        order.refunded_amount = order.price
        order.save(update_fields=["state", "refunded_amount", "updated_at"])
    social_events.order_refunded_at_once(order, payment=payment)
    return f"refunded: {reason}"


def _refund(order: Order, *, payment: Payment, amount: int, key: str, memo: str = "") -> None:
    ledger.post(
        key=key,
        kind=LedgerTransaction.Kind.REFUND,
        legs=[
            ledger.Leg(ledger.escrow(order.currency), -amount),
            ledger.Leg(ledger.clearing(order.currency), amount),
        ],
        memo=memo or f"Order #{order.pk} refunded",
        order=order,
        payment=payment,
    )
    transfers.refund_create(payment=payment, amount=amount, key=key, order=order)


def _captured_payment(order: Order) -> Payment:
    """The payment that paid the order: succeeded and not refunded at once (a late duplicate
    payment is refunded when it arrives and must not be refunded again)."""
    refunded_at_once = Q(
        transactions__key__startswith="payment:", transactions__key__endswith=":refund"
    )
    return (
        order.payments.filter(status=Payment.Status.SUCCEEDED)
        .exclude(refunded_at_once)
        .order_by("pk")
        .first()
    )


def settlement_key(order: Order) -> str:
    """The key of the one ledger transaction that empties an order's escrow; its refund (the
    buyer's part) is sent under the same key, so the order page can tell it apart."""
    return f"order:{order.pk}:settle"


def _settle(order: Order, *, to_buyer: int, memo: str) -> None:
    """Empty the order's escrow: `to_buyer` back to the buyer, the rest to the seller minus the
    platform fee on that rest. One transaction, keyed by the order: settled once."""
    to_seller_gross = order.price - to_buyer
    fee = (order.fee * to_seller_gross) // order.price if to_seller_gross else 0
    legs = [
        ledger.Leg(ledger.escrow(order.currency), -order.price),
        ledger.Leg(ledger.clearing(order.currency), to_buyer),
        ledger.Leg(ledger.payable(order.seller, order.currency), to_seller_gross - fee),
        ledger.Leg(ledger.revenue(order.currency), fee),
    ]
    payment = _captured_payment(order)
    kind = LedgerTransaction.Kind.RELEASE if to_seller_gross else LedgerTransaction.Kind.REFUND
    ledger.post(
        key=settlement_key(order),
        kind=kind,
        legs=legs,
        memo=memo,
        order=order,
        payment=payment,
    )
    if to_buyer:
        transfers.refund_create(
            payment=payment, amount=to_buyer, key=settlement_key(order), order=order
        )
    order.refunded_amount = to_buyer
    order.released_amount = to_seller_gross - fee
    order.fee_collected = fee


# --- The seller's steps ----------------------------------------------------------------------


@transaction.atomic
def order_start(*, order: Order, by: User) -> Order:
    order = _lock(order)
    _must_be_seller(order, by, "start")
    if order.state != State.PAID:
        raise _refuse_state(order, "started")
    _record(order, to=State.IN_PROGRESS, actor=by)
    order.save(update_fields=["state", "updated_at"])
    social_events.order_started(order, by=by)
    return order


@transaction.atomic
def order_decline(*, order: Order, by: User, reason: str = "") -> Order:
    """The seller turns a paid order down: the buyer gets everything back."""
    order = _lock(order)
    _must_be_seller(order, by, "decline")
    if order.state not in (State.PAID, State.IN_PROGRESS):
        raise _refuse_state(order, "declined")
    _settle(order, to_buyer=order.price, memo=f"Order #{order.pk} declined by the seller")
    _record(order, to=State.REFUNDED, actor=by, note=reason or "Declined by the seller.")
    order.save()
    social_events.order_declined(order, by=by)
    return order


def _links(links) -> list[str]:
    cleaned = [str(link).strip() for link in links or [] if str(link).strip()]
    if len(cleaned) > MAX_LINKS:
        raise DomainError(
            _("At most {limit} links.").format(limit=MAX_LINKS), code="too_many_links"
        )
    for link in cleaned:
        if not link.startswith(("https://", "http://")):
            raise DomainError(_("Links must start with https:// or http://."), code="invalid_link")
    return cleaned


def _attach(message: OrderMessage, prepared, *, by: User, written: list[str]) -> None:
    blobs = files.store_blobs(prepared, user=by, written=written)
    OrderMessageFile.objects.bulk_create(
        OrderMessageFile(message=message, path=path, blob=blob) for path, blob in blobs.items()
    )


def order_deliver(*, order: Order, by: User, message: str, links=(), uploads=()) -> Order:
    """The delivery is a message with text, links and files; the order then completes by
    itself after PEERHUB_MARKETPLACE["auto_complete_days"] unless the buyer accepts or disputes
    first. Files are checked by challenges.files before anything is stored."""
    prepared = files.prepare_uploads(uploads, user=by, context="order") if uploads else []
    with files.removed_on_failure() as written, transaction.atomic():
        return _order_deliver(
            order=order, by=by, message=message, links=links, prepared=prepared, written=written
        )


def _order_deliver(*, order, by, message, links, prepared, written) -> Order:
    order = _lock(order)
    _must_be_seller(order, by, "deliver")
    if order.state != State.IN_PROGRESS:
        raise _refuse_state(order, "delivered")
    if not message.strip():
        raise DomainError(_("Say what you deliver."), code="empty_delivery")
    delivery = _message_create(
        order=order, by=by, body=message.strip(), links=_links(links), is_delivery=True,
        told_already=[order.buyer_id],
    )  # fmt: skip
    _attach(delivery, prepared, by=by, written=written)
    now = timezone.now()
    _record(order, to=State.DELIVERED, actor=by)
    order.delivered_at = now
    days = settings.PEERHUB_MARKETPLACE["auto_complete_days"]
    order.auto_complete_at = now + timedelta(days=days)
    order.save(update_fields=["state", "delivered_at", "auto_complete_at", "updated_at"])
    social_events.order_delivered(order, by=by)
    return order


# --- The buyer's steps -----------------------------------------------------------------------


def _complete(order: Order, *, actor: User | None, note: str = "") -> None:
    _settle(order, to_buyer=0, memo=f"Order #{order.pk} completed")
    from .royalties import royalties_pay

    royalties_pay(order=order)
    _record(order, to=State.COMPLETED, actor=actor, note=note)
    order.completed_at = timezone.now()
    order.save()
    tallies.offer_order_completed(order=order)
    # The wash-trading rule reads completed orders: this one may change its pair's verdict
    # and those of the pairs its buyer and seller belong to.
    from ..wash import wash_refresh_after

    wash_refresh_after(order)
    social_events.order_completed(order, by=actor)


@transaction.atomic
def order_accept(*, order: Order, by: User) -> Order:
    order = _lock(order)
    _must_be_buyer(order, by, "accept")
    if order.state != State.DELIVERED:
        raise _refuse_state(order, "accepted")
    _complete(order, actor=by, note="Accepted by the buyer.")
    return order


@transaction.atomic
def order_dispute(*, order: Order, by: User, reason: str) -> Order:
    order = _lock(order)
    _must_be_buyer(order, by, "dispute")
    if order.state not in (State.IN_PROGRESS, State.DELIVERED):
        raise _refuse_state(order, "disputed")
    if not reason.strip():
        raise DomainError(_("Say what went wrong."), code="empty_reason")
    # The seller and staff hear of the dispute itself (social_events.order_disputed).
    staff = User.objects.filter(is_staff=True).values_list("pk", flat=True)
    _message_create(
        order=order, by=by, body=OrderMessage.DISPUTE_PREFIX + reason.strip(),
        told_already=[order.seller_id, *staff],
    )  # fmt: skip
    _record(order, to=State.DISPUTED, actor=by, note=reason.strip())
    order.auto_complete_at = None
    order.save(update_fields=["state", "auto_complete_at", "updated_at"])
    social_events.order_disputed(order, by=by)
    return order


def late_cancel_opens_at(order: Order) -> datetime | None:
    """From when the buyer may cancel a paid order the seller has not started, with a full
    refund: its start deadline. None while the rule does not apply (not paid, or started)."""
    return order.start_by if order.state == State.PAID else None


def _moment(moment: datetime) -> str:
    return locales.format_moment(moment)


@transaction.atomic
def order_cancel(*, order: Order, by: User) -> Order:
    """Either side may cancel before payment; a payment still in flight is cancelled too (if
    its money arrives later anyway, it is refunded at once). Once paid, only the buyer may
    cancel, and only when the seller has not started by the order's `start_by`: the whole
    price goes back (a seller who cannot do the work declines it instead)."""
    order = _lock(order)
    if by.pk not in (order.buyer_id, order.seller_id):
        raise NotAllowed(_("Only the buyer or the seller can cancel this order."))
    if order.state == State.PAID:
        return _cancel_unstarted(order, by=by)
    if order.state != State.PENDING_PAYMENT:
        raise _refuse_state(order, "cancelled")
    order.payments.filter(status=Payment.Status.PENDING).update(status=Payment.Status.CANCELLED)
    _record(order, to=State.CANCELLED, actor=by)
    order.reserved_until = None
    order.save(update_fields=["state", "reserved_until", "updated_at"])
    social_events.order_cancelled(order, by=by)
    return order


def _cancel_unstarted(order: Order, *, by: User) -> Order:
    """The buyer takes their money back from a paid order the seller left unstarted (the
    order is locked by the caller)."""
    if by.pk != order.buyer_id:  # a party, in the wrong state for their side: 409, not 403
        raise Conflict(
            _("A paid order cannot be cancelled by the seller: decline it to refund the buyer."),
            code="invalid_transition",
        )
    opens_at = late_cancel_opens_at(order)
    if opens_at is None:
        raise Conflict(_("This order has no start deadline to miss."), code="no_start_deadline")
    if timezone.now() < opens_at:
        raise Conflict(
            _(
                "The seller has until {deadline} to start. If they have not started by then, "
                "you can cancel the order and get the full price back."
            ).format(deadline=_moment(opens_at)),
            code="not_late_yet",
        )
    deadline = _moment(opens_at)
    _settle(
        order,
        to_buyer=order.price,
        memo=f"Order #{order.pk} cancelled by the buyer: not started by {deadline}",
    )
    _record(
        order,
        to=State.REFUNDED,
        actor=by,
        note=f"Cancelled by the buyer: the seller had not started by {deadline}. "
        "The full price is refunded.",
    )
    order.reserved_until = None
    order.save()
    social_events.order_cancelled_unstarted(order, by=by, deadline=deadline)
    return order


# --- Staff -----------------------------------------------------------------------------------


@transaction.atomic
def order_resolve(
    *, order: Order, by: User, resolution: str, buyer_amount: int | None = None, note: str = ""
) -> Order:
    """Staff settle a dispute: refund the buyer, release to the seller, or split (the buyer
    gets `buyer_amount`, the seller the rest minus the fee on that rest)."""
    order = _lock(order)
    if not permissions.is_staff(by):
        raise NotAllowed(_("Only staff can resolve disputes."))
    if order.state != State.DISPUTED:
        raise _refuse_state(order, "resolved")
    if resolution == Order.Resolution.REFUND:
        to_buyer = order.price
    elif resolution == Order.Resolution.RELEASE:
        to_buyer = 0
    elif resolution == Order.Resolution.SPLIT:
        if buyer_amount is None or not 0 < int(buyer_amount) < order.price:
            raise DomainError(
                _("A split gives the buyer more than nothing and less than the price."),
                code="invalid_split",
            )
        to_buyer = int(buyer_amount)
    else:
        raise DomainError(_("Resolve with refund, release or split."), code="invalid_resolution")
    _settle(order, to_buyer=to_buyer, memo=f"Order #{order.pk} dispute resolved: {resolution}")
    order.resolution = resolution
    _record(order, to=State.RESOLVED, actor=by, note=note or f"Resolved: {resolution}.")
    order.completed_at = timezone.now()
    order.save()
    social_events.order_resolved(order, by=by)
    return order


# --- Background work -------------------------------------------------------------------------


def orders_auto_complete(*, now: datetime | None = None) -> int:
    """Complete every delivered order whose time to object has passed. Each order is locked
    and its state checked again, so two runs (or two workers) complete it once."""
    now = now or timezone.now()
    due = Order.objects.filter(state=State.DELIVERED, auto_complete_at__lte=now)
    done = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            order = Order.objects.select_for_update().filter(pk=pk, state=State.DELIVERED).first()
            if order is None or order.auto_complete_at is None or order.auto_complete_at > now:
                continue
            days = settings.PEERHUB_MARKETPLACE["auto_complete_days"]
            _complete(order, actor=None, note=f"Completed automatically after {days} days.")
            done += 1
    return done


def start_reminder_hours() -> int:
    return settings.PEERHUB_MARKETPLACE["start_reminder_hours"]


def orders_remind_unstarted(*, now: datetime | None = None) -> int:
    """Remind each seller of a paid order whose start deadline is less than
    `start_reminder_hours` away, once. Each order is claimed with a conditional UPDATE of
    `start_reminded_at` in the transaction that queues the reminder, so two runs (or two
    workers) remind once and a rolled-back run reminds no one."""
    now = now or timezone.now()
    due = Order.objects.filter(
        state=State.PAID,
        start_reminded_at__isnull=True,
        start_by__gt=now,
        start_by__lte=now + timedelta(hours=start_reminder_hours()),
    )
    reminded = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            claimed = Order.objects.filter(
                pk=pk, state=State.PAID, start_reminded_at__isnull=True
            ).update(start_reminded_at=now)
            if not claimed:
                continue
            order = Order.objects.select_related("seller").get(pk=pk)
            social_events.order_start_reminder(order, deadline=_moment(order.start_by))
            reminded += 1
    return reminded


# --- Conversation and review -----------------------------------------------------------------


def order_message_post(*, order: Order, by: User, body: str, uploads=()) -> OrderMessage:
    """A message in the order's thread, with files (a brief's attachments, drafts) that only
    the buyer, the seller and staff may fetch."""
    if not permissions.can_view_order(by, order):
        raise NotAllowed(_("Only the buyer, the seller and staff can write here."))
    prepared = files.prepare_uploads(uploads, user=by, context="order") if uploads else []
    with files.removed_on_failure() as written, transaction.atomic():
        return _order_message_post(
            order=order, by=by, body=body, prepared=prepared, written=written
        )


def _order_message_post(*, order, by, body, prepared, written) -> OrderMessage:
    if not body.strip():
        raise DomainError(_("Write a message."), code="empty_message")
    write_spend(by, "order_message")
    # Both parties hear of the message itself (social_events.order_message).
    message = _message_create(
        order=order, by=by, body=body.strip(), told_already=[order.buyer_id, order.seller_id]
    )
    _attach(message, prepared, by=by, written=written)
    social_events.order_message(message)
    return message


@transaction.atomic
def order_review_save(*, order: Order, by: User, rating: int | None, text: str = "") -> OrderReview:
    """The buyer's review of a completed order, once."""
    order = _lock(order)
    _must_be_buyer(order, by, "review")
    if order.state != State.COMPLETED:
        raise _refuse_state(order, "reviewed")
    if rating is None or rating == "":
        raise DomainError(_("Choose a rating from 1 to 5 stars."), code="no_rating")
    if not 1 <= int(rating) <= 5:
        raise DomainError(_("Rate from 1 to 5."), code="invalid_rating")
    if OrderReview.objects.filter(order=order).exists():
        raise Conflict(_("You already reviewed this order."), code="already_reviewed")
    review = OrderReview.objects.create(order=order, rating=int(rating), text=text.strip())
    tallies.offer_review_added(review=review)
    from peerhub import outbox

    from ..tasks import sync_order_reputation

    outbox.enqueue(sync_order_reputation, order.pk)
    social_events.order_reviewed(review)
    return review
