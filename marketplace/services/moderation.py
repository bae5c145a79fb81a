"""Hiding offers and order messages for moderation (issue 21): reputation's review queue calls
these through the registry in peerhub.moderation. A hidden item keeps its words for the review;
its pages show a stub with `reason` instead."""

from django.db import transaction
from django.utils import timezone

from ..models import Offer, OrderMessage


@transaction.atomic
def offer_set_moderation_hidden(offer: Offer, reason: str) -> None:
    offer.hidden_at = timezone.now() if reason else None
    offer.hidden_reason = reason
    offer.save(update_fields=["hidden_at", "hidden_reason"])


@transaction.atomic
def order_message_set_moderation_hidden(message: OrderMessage, reason: str) -> None:
    message.hidden_at = timezone.now() if reason else None
    message.hidden_reason = reason
    message.save(update_fields=["hidden_at", "hidden_reason"])
