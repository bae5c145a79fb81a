"""Reputation's queues on the staff dashboard (peerhub.staff): members awaiting trust review,
and flagged items awaiting review (issue 21)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from peerhub.staff import StaffQueue

from .models import MemberTrust, TrustSnapshot
from .moderation.selectors import review_queue_count


def low_trust_count() -> int:
    """The members the latest trust snapshot found below the threshold (one query)."""
    latest = TrustSnapshot.objects.order_by("-version").values("pk")[:1]
    return MemberTrust.objects.filter(snapshot=latest, low_trust=True).count()


def queues() -> list[StaffQueue]:
    return [
        StaffQueue(
            key="trust_review",
            title=_("Members awaiting trust review"),
            count=low_trust_count(),
            url=reverse("reputation:trust-moderation"),
            description=_(
                "Members with the least trust and the densest mutual-voting clusters: "
                "look before their votes are believed."
            ),
            position=10,
        ),
        StaffQueue(
            key="flag_review",
            title=_("Flagged items awaiting review"),
            count=review_queue_count(),
            url=reverse("reputation:review-queue"),
            description=_(
                "Flagged, hidden pending review, appealed or edited since hidden: "
                "moderators and staff decide each one."
            ),
            position=5,
        ),
    ]
