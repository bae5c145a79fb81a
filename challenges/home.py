"""What challenges adds to a signed-in member's home (peerhub.home): steps of "start here",
the member's work waiting for them, and the challenges closing soon. Each read is one bounded
query."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from peerhub.home import ChecklistStep, HomeTask
from peerhub.models import Follow, User

from . import permissions
from .models import Challenge, Solution, UpstreamProposal

CLOSING_SOON = 5


def checklist_steps() -> list[ChecklistStep]:
    challenge_type = ContentType.objects.get_for_model(Challenge)
    return [
        ChecklistStep(
            key="follow_challenge",
            label=gettext("Follow a challenge"),
            url=reverse("challenges:list"),
            done=Exists(Follow.objects.filter(follower=OuterRef("pk"), target_type=challenge_type)),
            position=30,
        ),
        ChecklistStep(
            key="first_solution",
            label=gettext("Post your first solution, or fork one"),
            url=reverse("challenges:list") + "?status=open",
            done=Exists(
                Solution.objects.filter(author=OuterRef("pk"), status=Solution.Status.PUBLISHED)
            ),
            position=50,
        ),
    ]


def tasks_for(*, user: User, limit: int) -> list[HomeTask]:
    """Upstream offers the member must decide (on their solutions), then the challenges they
    organise that wait for a selection. Two queries."""
    offers = (
        UpstreamProposal.objects.filter(parent__author=user, status=UpstreamProposal.Status.OPEN)
        .select_related("author", "parent")
        .order_by("created_at", "pk")[:limit]
    )
    found = [
        HomeTask(
            text=gettext("{author} offered a change to your solution “{solution}”").format(
                author=offer.author.name, solution=offer.parent.title
            ),
            url=offer.get_absolute_url(),
            action=gettext("Decide"),
            when=offer.created_at,
        )
        for offer in offers
    ]
    selecting = Challenge.objects.filter(
        organisers=user, status=Challenge.Status.SELECTING
    ).order_by("closes_at", "pk")[:limit]
    found += [
        HomeTask(
            text=gettext("“{challenge}” waits for its selection").format(challenge=challenge.title),
            url=reverse("challenges:selection", args=[challenge.slug]),
            action=gettext("Select"),
            when=challenge.closes_at,
        )
        for challenge in selecting
    ]
    return found


def closing_soon(*, user: User, limit: int = CLOSING_SOON) -> list[Challenge]:
    """Open challenges the member may see whose deadline is still ahead, soonest first."""
    return list(
        permissions.challenges_visible_to(user)
        .filter(status=Challenge.Status.OPEN, closes_at__gt=timezone.now())
        .order_by("closes_at", "pk")[:limit]
    )
