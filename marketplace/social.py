"""The marketplace's notification kinds (found by peerhub's AppConfig). Who hears about which
event is decided in marketplace.social_events. Orders, money and subscription problems are
important: e-mailed at once by default."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from peerhub.notifications import DatedKind, Kind, register_kind

# Kinds that issue 7 declared render from the actor and the target alone (other code may notify
# them without context); the kinds added since take the context social_events always gives.
KINDS = {
    "order_placed": (
        _("A new order for your offer"),
        _("{actor} placed “{target}”: waiting for payment"),
    ),
    "order_paid": (
        _("An order was paid"),
        _("“{target}” is paid: the money is held in escrow"),
    ),
    "order_started": (
        _("Work on an order started"),
        _("{actor} started work on “{target}”"),
    ),
    "order_delivered": (
        _("An order was delivered"),
        _("{actor} delivered “{target}”: accept it or open a dispute"),
    ),
    "order_completed": (
        _("An order was completed"),
        _("“{target}” is completed: the money is released to the seller"),
    ),
    "order_review_requested": (
        _("Review a completed order"),
        _("“{target}” is completed: how was it? Leave a review"),
    ),
    "order_cancelled": (
        _("An order was cancelled"),
        _("{actor} cancelled “{target}”"),
    ),
    "order_start_reminder": (
        _("Start a paid order in time"),
        _("Start “{target}” by {deadline}: after that the buyer may cancel it for a full refund"),
    ),
    "order_cancelled_unstarted": (
        _("An unstarted order was cancelled"),
        _(
            "{actor} cancelled “{target}”: it was not started by {deadline}, so the full price "
            "went back to the buyer"
        ),
    ),
    "order_declined": (
        _("An order was declined"),
        _("{actor} declined “{target}”: the full price is refunded"),
    ),
    "order_disputed": (
        _("An order was disputed"),
        _("{actor} disputed “{target}”"),
    ),
    "order_resolved": (
        _("A dispute was resolved"),
        _("The dispute on “{target}” is resolved"),
    ),
    "order_refunded": (
        _("An order was refunded"),
        _("Your payment for “{target}” is refunded"),
    ),
    "order_message": (
        _("A message about an order"),
        _("{actor} wrote about “{target}”"),
    ),
    "order_reviewed": (
        _("A buyer reviewed your work"),
        _("{actor} reviewed “{target}”: {rating}/5"),
    ),
    "payment_failed": (
        _("A payment failed"),
        _("Your payment for {what} failed: nothing was charged"),
    ),
    "payout_sent": (
        _("A payout was sent"),
        _("Your payout of {amount} is on its way"),
    ),
    "transfer_failed": (
        _("Money could not be sent"),
        _("{what} of {amount} failed after every attempt: {error}"),
    ),
    "provider_event_flagged": (
        _("A provider event needs a look"),
        _("{provider} event {event} was not applied: {outcome}"),
    ),
    "subscription_active": (
        _("Premium started"),
        _("Premium is active until {until}: thank you!"),
    ),
    "subscription_renewed": (
        _("Premium renewed"),
        _("Premium is renewed until {until}"),
    ),
    "subscription_past_due": (
        _("Premium renewal failed"),
        _("Renewing Premium failed: pay by {grace} to keep it"),
    ),
    "subscription_lapsed": (
        _("Premium lapsed"),
        _("Premium lapsed after a failed renewal: subscribe again any time"),
    ),
    "subscription_cancel_requested": (
        _("Premium cancelled"),
        _("Premium is cancelled: it stays on until {until}"),
    ),
}

# The icon beside each on the notifications page: orders a parcel, money a coin, problems a
# warning, Premium a star.
ICONS = {
    "order_message": "comment",
    "order_reviewed": "star",
    "order_review_requested": "star",
    "order_disputed": "alert",
    "order_resolved": "check",
    "payment_failed": "alert",
    "transfer_failed": "alert",
    "provider_event_flagged": "alert",
    "payout_sent": "money",
    "order_refunded": "money",
    "order_paid": "money",
}
MANY = {
    "order_message": ngettext_lazy(
        "{count} new message about an order", "{count} new messages about an order", "count"
    )
}

for name, (label, text) in KINDS.items():
    icon = ICONS.get(name, "star" if name.startswith("subscription_") else "package")
    register_kind(
        name,
        label=label,
        text=text,
        important=True,
        icon=icon,
        many=MANY.get(name, ""),
        # Premium's notifications say until when: the day worded in the reader's language
        kind_class=DatedKind if name.startswith("subscription_") else Kind,
    )


# --- What members may flag (issue 21, peerhub.moderation) --------------------------------------


def _register_flaggables() -> None:
    from django.http import Http404

    from peerhub.moderation import register_flaggable

    from . import permissions, selectors
    from .models import Offer, OrderMessage
    from .services import moderation

    def offer_visible(user, offer) -> bool:
        try:
            selectors.offer_get(user=user, pk=offer.pk)
        except Http404:
            return False
        return True

    register_flaggable(
        "offer",
        label=pgettext_lazy("flagged item", "an offer"),
        noun=pgettext_lazy("flagged item", "offer"),
        flag_label=_("Flag this offer"),
        model=Offer,
        author_id=lambda o: o.seller_id,
        can_view=offer_visible,
        excerpt=lambda o: f"{o.title}\n\n{o.description}",
        url=lambda o: o.get_absolute_url(),
        set_hidden=moderation.offer_set_moderation_hidden,
    )
    register_flaggable(
        "order_message",
        label=pgettext_lazy("flagged item", "an order message"),
        noun=pgettext_lazy("flagged item", "order message"),
        flag_label=_("Flag this order message"),
        model=OrderMessage,
        author_id=lambda m: m.author_id,
        can_view=lambda user, m: permissions.can_view_order(user, m.order),
        excerpt=lambda m: m.body,
        url=lambda m: m.order.get_absolute_url() + f"#message-{m.pk}",
        set_hidden=moderation.order_message_set_moderation_hidden,
    )


_register_flaggables()
