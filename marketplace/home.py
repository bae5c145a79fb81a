"""What the marketplace adds to a signed-in member's home (peerhub.home): orders waiting for
them, as buyer or as seller. One query."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from peerhub.home import HomeTask
from peerhub.models import User

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


def tasks_for(*, user: User, limit: int) -> list[HomeTask]:
    waiting = (
        Q(buyer=user, state=Order.State.PENDING_PAYMENT)
        | Q(seller=user, state__in=[Order.State.PAID, Order.State.IN_PROGRESS])
        | Q(buyer=user, state=Order.State.DELIVERED)
        | Q(
            buyer=user,
            state=Order.State.COMPLETED,
            review__isnull=True,
            updated_at__gte=timezone.now() - REVIEW_ASKED_FOR,
        )
    )
    orders = (
        Order.objects.filter(waiting)
        .select_related("buyer", "seller")
        .order_by("updated_at", "pk")[:limit]
    )
    found = []
    for order in orders:
        side = "buyer" if order.buyer_id == user.pk else "seller"
        step = _STEPS.get((order.state, side))
        if step is None:
            continue
        other = order.seller if side == "buyer" else order.buyer
        text, action = step
        found.append(
            HomeTask(
                text=str(text).format(title=order.title, other=other.name),
                url=order.get_absolute_url(),
                action=str(action),
                when=order.updated_at,
            )
        )
    return found
