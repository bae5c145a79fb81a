"""What the marketplace adds to a signed-in member's home (peerhub.home): orders waiting for
them, as buyer or as seller. One query, compiled once (peerhub.statements)."""

import functools
from datetime import timedelta

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from peerhub.home import HomeTask
from peerhub.models import User
from peerhub.statements import Compiled

from .models import Order

# A completed order asks for its review on the home page this long; then it stops nagging.
REVIEW_ASKED_FOR = timedelta(days=30)

# (state, the member's side, what waits, the button) for every state where the next step is
# the member's.
_STEPS = {
    (Order.State.PENDING_PAYMENT, "buyer"): (
        _("Pay for “{title}” to send it to {other}"),
        _("Pay"),
    ),
    (Order.State.PAID, "seller"): (_("{other} paid for “{title}”: start the work"), _("Start")),
    (Order.State.IN_PROGRESS, "seller"): (_("Deliver “{title}” to {other}"), _("Deliver")),
    (Order.State.DELIVERED, "buyer"): (
        _("{other} delivered “{title}”: accept it or open a dispute"),
        _("Review delivery"),
    ),
    (Order.State.COMPLETED, "buyer"): (
        _("How was “{title}” by {other}? Leave a review"),
        _("Review"),
    ),
}


@functools.cache
def _waiting(limit: int) -> Compiled:
    """The orders whose next step is the member's (argument: the member's id, and the moment
    before which a completed order no longer asks for its review), oldest first, with the other
    party's names: compiled once per process and limit (peerhub.statements), as every signed-in
    visit to home asks it."""

    def build(member_id, review_since):
        waiting = (
            Q(buyer_id=member_id, state=Order.State.PENDING_PAYMENT)
            | Q(seller_id=member_id, state__in=[Order.State.PAID, Order.State.IN_PROGRESS])
            | Q(buyer_id=member_id, state=Order.State.DELIVERED)
            | Q(
                buyer_id=member_id,
                state=Order.State.COMPLETED,
                review__isnull=True,
                updated_at__gte=review_since,
            )
        )
        return (
            Order.objects.filter(waiting)
            .order_by("updated_at", "pk")
            .values_list(*_COLUMNS)[:limit]
        )

    return Compiled(Order, build)


_COLUMNS = (
    "pk", "state", "title", "updated_at", "buyer_id", "buyer__display_name", "buyer__username",
    "seller__display_name", "seller__username",
)  # fmt: skip


def tasks_for(*, user: User, limit: int) -> list[HomeTask]:
    rows = _waiting(limit).rows(user.pk, timezone.now() - REVIEW_ASKED_FOR)
    found = []
    for pk, state, title, updated_at, buyer_id, *names in rows:
        side = "buyer" if buyer_id == user.pk else "seller"
        step = _STEPS.get((state, side))
        if step is None:
            continue
        display, username = names[2:] if side == "buyer" else names[:2]
        text, action = step
        found.append(
            HomeTask(
                text=str(text).format(title=title, other=display or username),
                url=reverse("marketplace:order-detail", kwargs={"pk": pk}),
                action=str(action),
                when=updated_at,
            )
        )
    return found
