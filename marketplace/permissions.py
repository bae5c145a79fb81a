"""Who may see and do what in the marketplace (used by services, HTML views and the API)."""

from django.db.models import Exists, OuterRef, Q

from peerhub.selectors import user_is_verified

from .models import Offer, Order, Subscription

SELL_PERMISSION = "marketplace.add_offer"


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_staff(user) -> bool:
    return _authenticated(user) and user.is_staff


def can_sell(user) -> bool:
    """A trust-level privilege: reputation's backend answers has_perm."""
    return user_is_verified(user) and user.has_perm(SELL_PERMISSION)


def can_edit_offer(user, offer: Offer) -> bool:
    return user_is_verified(user) and (offer.seller_id == user.pk or is_staff(user))


def can_read_offer_words(user, offer: Offer) -> bool:
    """Whether `user`, who reaches the offer's page, reads its words (and their edit history):
    while moderation hides it, its seller and those who review flags only."""
    from peerhub.moderation import can_see_hidden

    return not offer.hidden_reason or can_see_hidden(user, offer.seller_id)


def can_view_order(user, order: Order) -> bool:
    return _authenticated(user) and (user.pk in (order.buyer_id, order.seller_id) or user.is_staff)


def _premium_subscriptions():
    return Subscription.objects.filter(status__in=Subscription.LIVE, plan__is_premium=True)


def request_user_annotations() -> dict:
    """`is_premium`'s answer for the request's user, loaded with them in one query."""
    return {"_peerhub_premium": Exists(_premium_subscriptions().filter(user=OuterRef("pk")))}


def is_premium(user) -> bool:
    """A live Premium subscription: active, or past due but still in its grace period."""
    if not _authenticated(user):
        return False
    cached = getattr(user, "_peerhub_premium", None)
    if cached is None:
        cached = _premium_subscriptions().filter(user=user).exists()
        user._peerhub_premium = cached
    return cached


# --- Who may see a thing (mentions) ----------------------------------------------------------


def viewers_of_order(order: Order):
    """The active members who may see `order` (can_view_order as a queryset): its buyer, its
    seller and staff. Only they are linked and told when an order's words mention them."""
    from peerhub.models import User

    return User.objects.filter(is_active=True).filter(
        Q(pk__in=(order.buyer_id, order.seller_id)) | Q(is_staff=True)
    )


def viewers_of_offer(offer: Offer):
    """The active members who may see `offer` (selectors.offer_get as a queryset): everyone
    while it is listed, on a base solution they may see; a paused or hidden one only its seller,
    staff and the members who ordered it."""
    from challenges.permissions import viewers_of
    from peerhub.models import User

    members = User.objects.filter(is_active=True)
    insiders = Q(pk=offer.seller_id) | Q(is_staff=True) | Q(pk__in=offer.orders.values("buyer_id"))
    if not offer.is_active or offer.hidden_at is not None:
        return members.filter(insiders)
    if offer.base_solution_id is not None:
        return members.filter(insiders | Q(pk__in=viewers_of(offer.base_solution).values("pk")))
    return members
