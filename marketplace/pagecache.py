"""Which marketplace writes make which cached pages stale (peerhub.pagecache): the visitors'
pages, and each member's own orders (`orders_scope`)."""

from peerhub.pagecache import after_task, bump, enabled, on_save_and_delete

from .models import (
    Contribution,
    Earning,
    Offer,
    Order,
    OrderEvent,
    OrderMessage,
    OrderMessageFile,
    OrderReview,
    Payout,
    Purse,
    Refund,
    Subscription,
)

# The offer list's scopes (its page, and the part members share, views.offer_list): each offer
# row shows its seller's trust level, which the reputation syncs move ("reputation"), and
# leaves the list when its base solution is hidden ("lists": any solution written).
OFFER_LIST_SCOPES = ["offers", "reputation", "lists"]


def _offer(offer: Offer) -> list[str]:
    return [
        "offers",
        f"member:{offer.seller.username}",
        *([f"solution:{offer.base_solution_id}"] if offer.base_solution_id else []),
    ]


def orders_scope(user_id) -> str:
    """The scope of what a member's orders page and orders API list keep of theirs
    (views.order_list, api.views.OrderViewSet): their orders with their timelines, refunds and
    brief files, their balance, payouts and plan. Every write to one of those bumps the scope
    of each member it shows to: the signals below for rows saved or deleted, and the
    statements that update rows in place (`orders_changed`, `members_changed`)."""
    return f"orders:{int(user_id)}"


def order_scopes(order: Order) -> list[str]:
    return [orders_scope(order.buyer_id), orders_scope(order.seller_id)]


def members_changed(user_ids) -> None:
    """These members' own orders pages are stale (a write that sent no signal)."""
    if enabled():
        bump(*(orders_scope(pk) for pk in set(user_ids) if pk is not None))


def orders_changed(order_ids) -> None:
    """These orders changed in place (an UPDATE, which sends no signal): their parties' pages
    are stale. One query, and none while the page cache is off."""
    if enabled():
        parties = Order.objects.filter(pk__in=list(order_ids)).values_list("buyer_id", "seller_id")
        members_changed(pk for pair in parties for pk in pair)


def transfer_changed(transfer) -> None:
    """A refund or a payout changed state in place: the order's parties, or the seller."""
    if isinstance(transfer, Refund):
        if transfer.order_id is not None:
            orders_changed([transfer.order_id])
    else:
        members_changed([transfer.seller_id])


def _purse(purse: Purse) -> list[str]:
    """The challenge's page shows its purse; the purse page shares its scope."""
    from challenges.pagecache import challenge_scope

    return challenge_scope(purse.challenge_id)


def connect() -> None:
    on_save_and_delete(Purse, _purse)
    on_save_and_delete(Contribution, lambda c: _purse(c.purse))
    on_save_and_delete(Earning, lambda e: _purse(e.purse) if e.purse_id else [])
    on_save_and_delete(Offer, _offer)
    # Orders fill an offer's capacity; reviews make its rating.
    on_save_and_delete(Order, lambda o: [*_offer(o.offer), *order_scopes(o)])
    on_save_and_delete(OrderReview, lambda r: _offer(r.order.offer))
    on_save_and_delete(
        Subscription, lambda s: [f"member:{s.user.username}", orders_scope(s.user_id)]
    )
    # What the members' own orders pages show of an order beside its row.
    on_save_and_delete(OrderEvent, lambda e: order_scopes(e.order))
    on_save_and_delete(OrderMessage, lambda m: order_scopes(m.order))
    on_save_and_delete(OrderMessageFile, lambda f: order_scopes(f.message.order))
    on_save_and_delete(Refund, lambda r: order_scopes(r.order) if r.order_id else [])
    on_save_and_delete(Payout, lambda p: [orders_scope(p.seller_id)])
    after_task(
        "marketplace.tasks.sync_order_reputation",
        lambda args, kwargs, retval: ["reputation", "boards"],
    )
    after_task("marketplace.tasks.auto_complete_orders", lambda args, kwargs, retval: ["offers"])
