"""Listing hand-made services."""

import re

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext, pgettext

from challenges.models import Solution
from challenges.permissions import can_view_solution
from peerhub import history, moderation
from peerhub.exceptions import DomainError, NotAllowed
from peerhub.mentions import Place, RenderedText, mentions_record, render_with_mentions
from peerhub.models import User
from peerhub.throttles import write_spend

from .. import permissions
from ..models import Offer
from ..money import AmountError, format_money, to_minor
from ..money import plain_money as money  # the edit history keeps text: one fixed form

EDITABLE_FIELDS = {
    "title", "description", "base_solution", "price", "currency", "delivery_days", "capacity",
    "is_active",
}  # fmt: skip


def _check(fields: dict, *, seller: User) -> None:
    if "price" in fields and (fields["price"] is None or int(fields["price"]) <= 0):
        raise DomainError(_("The price must be more than zero."), code="invalid_price")
    if "delivery_days" in fields and int(fields["delivery_days"]) < 1:
        raise DomainError(_("Delivery takes at least one day."), code="invalid_delivery")
    if "capacity" in fields and int(fields["capacity"]) < 1:
        raise DomainError(_("Capacity is at least one order at a time."), code="invalid_capacity")
    if "currency" in fields:
        currency = str(fields["currency"]).upper()
        if len(currency) != 3 or not currency.isalpha():
            raise DomainError(_("A currency is a three-letter ISO code."), code="invalid_currency")
        fields["currency"] = currency
    if "title" in fields:
        fields["title"] = fields["title"].strip()
        if not fields["title"]:
            raise DomainError(_("An offer needs a title."), code="invalid_title")
    solution: Solution | None = fields.get("base_solution")
    if solution is not None and not (
        solution.author_id == seller.pk and can_view_solution(seller, solution)
    ):
        raise DomainError(_("The base solution must be one of your own."), code="invalid_solution")


@transaction.atomic
def offer_create(
    *,
    seller: User,
    title: str,
    description: str,
    price: int,
    delivery_days: int,
    capacity: int = 1,
    currency: str = "",
    base_solution: Solution | None = None,
    is_active: bool = True,
) -> Offer:
    """List a service. Needs the `marketplace.add_offer` privilege (a trust level)."""
    if not permissions.can_sell(seller):
        raise NotAllowed(_("Selling services needs a higher trust level."), code="not_trusted")
    write_spend(seller, "offer")
    fields = {
        "title": title,
        "description": description,
        "price": price,
        "delivery_days": delivery_days,
        "capacity": capacity,
        "base_solution": base_solution,
        "is_active": is_active,
    }
    if currency:
        fields["currency"] = currency
    _check(fields, seller=seller)
    text = render_with_mentions(description)
    offer = Offer.objects.create(seller=seller, description_html=text.html, **fields)
    _record_mentions(offer, text)
    return offer


def _record_mentions(offer: Offer, text: RenderedText) -> None:
    """The members the description names who may see the offer are told, once per member."""
    mentions_record(
        author=offer.seller,
        item=offer,
        mentioned=text.mentioned,
        audience=permissions.viewers_of_offer(offer),
        url=offer.get_absolute_url(),
        where=Place(gettext_noop("the offer “{title}”"), {"title": offer.title}),
    )


@transaction.atomic
def offer_update(*, offer: Offer, by: User, **fields) -> Offer:
    """Edit, pause or resume an offer. Orders already placed keep their snapshot."""
    offer = Offer.objects.select_for_update().get(pk=offer.pk)
    if not permissions.can_edit_offer(by, offer):
        raise NotAllowed(_("Only the seller can change this offer."))
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise DomainError(_("Cannot edit {fields}.").format(fields=", ".join(sorted(unknown))))
    _check(fields, seller=offer.seller)
    before = offer_fields(offer)
    for name, value in fields.items():
        setattr(offer, name, value)
    text = render_with_mentions(offer.description) if "description" in fields else None
    if text is not None:
        offer.description_html = text.html
    offer.save()
    if text is not None:
        # Only the members newly named (or newly able to see it) are told.
        _record_mentions(offer, text)
    history.record_edit(
        offer,
        by=by,
        before=before,
        after=offer_fields(offer),
        first_by_id=offer.seller_id,
        first_at=offer.created_at,
    )
    moderation.item_edited(offer, by=by)  # hidden by moderators: back to review
    return offer


OFFER_LABELS = {
    "title": gettext_lazy("Title"),
    "description": gettext_lazy("Description"),
    "price": gettext_lazy("Price"),
    "delivery_days": gettext_lazy("Delivery"),
    "capacity": gettext_lazy("Orders at once"),
    "base_solution": gettext_lazy("Based on"),
    "is_active": gettext_lazy("Taking orders"),
}


def offer_fields(offer: Offer) -> dict[str, str]:
    """An offer's tracked fields as its edit history keeps them (peerhub.history): in English,
    worded in the reader's language when shown (offer_value_shown)."""
    base = offer.base_solution
    return {
        "title": offer.title,
        "description": offer.description,
        "price": money(offer.price, offer.currency),
        "delivery_days": f"{offer.delivery_days} day{'s' if offer.delivery_days != 1 else ''}",
        "capacity": str(offer.capacity),
        "base_solution": base.title if base is not None else "none",
        "is_active": "yes" if offer.is_active else "no, paused",
    }


_DAYS = re.compile(r"(\d+) days?")
_PLAIN_MONEY = re.compile(r"([\d,]+(?:\.\d+)?) ([A-Z]{3})")


def offer_value_shown(name: str, text: str) -> str:
    """An offer's kept value (offer_fields) in the reader's language; text kept in another
    form (or a seller's own words) is shown as kept."""
    if name == "is_active":
        return {
            "yes": pgettext("edit history: offer taking orders", "yes"),
            "no, paused": pgettext("edit history: offer taking orders", "no, paused"),
        }.get(text, text)
    if name == "base_solution" and text == "none":
        return pgettext("edit history: offer based on no solution", "none")
    if name == "delivery_days" and (days := _DAYS.fullmatch(text)):
        count = int(days[1])
        return ngettext("{count} day", "{count} days", count).format(count=count)
    if name == "price" and (price := _PLAIN_MONEY.fullmatch(text)):
        try:
            amount = to_minor(price[1].replace(",", ""), price[2])
        except AmountError:
            return text
        return format_money(amount, price[2])
    return text
