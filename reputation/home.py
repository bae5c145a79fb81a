"""What reputation adds to a signed-in member's home (peerhub.home): the "first vote" step and
the solutions rising this week."""

from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from challenges.models import Challenge, Solution
from peerhub.home import ChecklistStep
from peerhub.pagecache import Fragments

from .models import Vote

RISING_DAYS = 7
RISING = 5
# Everyone sees the same public list, so it is counted once per few minutes, not per visit:
# grouping a week of votes is the one read of the home page that grows with the community.
RISING_CACHE_SECONDS = 5 * 60
RISING_KEY = "home:rising-solution-ids"


def checklist_steps() -> list[ChecklistStep]:
    return [
        ChecklistStep(
            key="first_vote",
            label=gettext("Cast your first vote on a solution"),
            url=reverse("reputation:rankings"),
            done=Exists(Vote.objects.filter(voter=OuterRef("pk"))),
            position=40,
        )
    ]


def rising_solution_ids(*, days: int = RISING_DAYS, limit: int = RISING) -> list[int]:
    """The published solutions of public challenges with the most upvotes in the last `days`
    (serially reversed votes left out), most first: ids, cached for everyone."""
    ids = cache.get(RISING_KEY)
    if ids is None:
        since = timezone.now() - timedelta(days=days)
        ids = list(
            Vote.objects.filter(
                value=Vote.UP,
                created_at__gte=since,
                serial_reversed_at__isnull=True,
                solution__status=Solution.Status.PUBLISHED,
                solution__challenge__visibility=Challenge.Visibility.PUBLIC,
            )
            .exclude(solution__challenge__status=Challenge.Status.DRAFT)
            .values("solution_id")
            .annotate(upvotes=Count("pk"))
            .order_by("-upvotes", "-solution_id")
            .values_list("solution_id", flat=True)[:limit]
        )
        cache.set(RISING_KEY, ids, timeout=RISING_CACHE_SECONDS)
    return ids


def rising_solutions(request=None) -> list[Solution]:
    """The rising solutions with their challenge and author (one query, none when cached
    empty). With the `request`, the rows are kept for everyone by their ids under the lists'
    page versions (a solution's title, status or challenge written bumps them)."""
    ids = rising_solution_ids()
    if not ids:
        return []
    if request is not None:
        kept = Fragments(request, ["lists"])
        return kept.value("home-rising", tuple(ids), lambda: _rising_rows(ids))
    return _rising_rows(ids)


def _rising_rows(ids) -> list[Solution]:
    # Checked again on the rows: a challenge made private since the ids were cached drops out.
    found = (
        Solution.objects.select_related("challenge", "author")
        .filter(
            status=Solution.Status.PUBLISHED,
            challenge__visibility=Challenge.Visibility.PUBLIC,
        )
        .in_bulk(ids)
    )
    return [found[pk] for pk in ids if pk in found]
