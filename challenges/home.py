"""What challenges adds to a signed-in member's home (peerhub.home): steps of "start here",
the member's work waiting for them, and the challenges closing soon. Each read is one bounded
query."""

import functools

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from peerhub.home import ChecklistStep, HomeTask
from peerhub.models import Follow, User
from peerhub.statements import Compiled

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


@functools.cache
def _offers(limit: int) -> Compiled:
    """The open upstream offers on the member's solutions (argument: the member's id), oldest
    first, with their author's names and the solution's title: compiled once per process and
    limit (peerhub.statements), as every signed-in visit to home asks it."""
    return Compiled(
        UpstreamProposal,
        lambda member_id: (
            UpstreamProposal.objects.filter(
                parent__author_id=member_id, status=UpstreamProposal.Status.OPEN
            )
            .order_by("created_at", "pk")
            .values_list(
                "pk", "created_at", "author__display_name", "author__username", "parent__title"
            )[:limit]
        ),
    )


@functools.cache
def _selecting(limit: int) -> Compiled:
    """The challenges the member organises that wait for a selection (argument: the member's
    id), soonest closed first: compiled once per process and limit, as `_offers`."""
    return Compiled(
        Challenge,
        lambda member_id: (
            Challenge.objects.filter(organisers__id=member_id, status=Challenge.Status.SELECTING)
            .order_by("closes_at", "pk")
            .values_list("title", "slug", "closes_at")[:limit]
        ),
    )


def tasks_for(*, user: User, limit: int) -> list[HomeTask]:
    """Upstream offers the member must decide (on their solutions), then the challenges they
    organise that wait for a selection. Two queries, each compiled once."""
    found = [
        HomeTask(
            text=gettext("{author} offered a change to your solution “{solution}”").format(
                author=display or username, solution=solution
            ),
            url=reverse("challenges:upstream-detail", kwargs={"pk": pk}),
            action=gettext("Decide"),
            when=created_at,
        )
        for pk, created_at, display, username, solution in _offers(limit).rows(user.pk)
    ]
    found += [
        HomeTask(
            text=gettext("“{challenge}” waits for its selection").format(challenge=title),
            url=reverse("challenges:selection", args=[slug]),
            action=gettext("Select"),
            when=closes_at,
        )
        for title, slug, closes_at in _selecting(limit).rows(user.pk)
    ]
    return found


def closing_soon(*, user: User, limit: int = CLOSING_SOON) -> list[Challenge]:
    """Open challenges the member may see whose deadline is still ahead, soonest first."""
    return list(
        permissions.challenges_visible_to(user)
        .filter(status=Challenge.Status.OPEN, closes_at__gt=timezone.now())
        .order_by("closes_at", "pk")[:limit]
    )
