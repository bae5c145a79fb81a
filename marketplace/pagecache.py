"""Which marketplace writes make which cached anonymous pages stale (peerhub.pagecache)."""

from peerhub.pagecache import after_task, on_save_and_delete

from .models import Contribution, Earning, Offer, Order, OrderReview, Purse, Subscription

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
    on_save_and_delete(Order, lambda o: _offer(o.offer))
    on_save_and_delete(OrderReview, lambda r: _offer(r.order.offer))
    on_save_and_delete(Subscription, lambda s: [f"member:{s.user.username}"])
    after_task(
        "marketplace.tasks.sync_order_reputation",
        lambda args, kwargs, retval: ["reputation", "boards"],
    )
    after_task("marketplace.tasks.auto_complete_orders", lambda args, kwargs, retval: ["offers"])
