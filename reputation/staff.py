"""Reputation's queue on the staff dashboard (peerhub.staff): members awaiting trust review."""

from django.urls import reverse

from peerhub.staff import StaffQueue

from .models import MemberTrust, TrustSnapshot


def low_trust_count() -> int:
    """The members the latest trust snapshot found below the threshold (one query)."""
    latest = TrustSnapshot.objects.order_by("-version").values("pk")[:1]
    return MemberTrust.objects.filter(snapshot=latest, low_trust=True).count()


def queues() -> list[StaffQueue]:
    return [
        StaffQueue(
            key="trust_review",
            title="Members awaiting trust review",
            count=low_trust_count(),
            url=reverse("reputation:trust-moderation"),
            description="Members with the least trust and the densest mutual-voting clusters: "
            "look before their votes are believed.",
            position=10,
        )
    ]
