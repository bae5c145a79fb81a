"""The challenges app's part in a member leaving (peerhub.deletion, issue 21).

- Blocker: a running challenge (open or selecting) whose only organiser is the member: it would
  be left without anyone to select its winners. Close it, or have staff add an organiser.
- Anonymise: solutions, revisions and comments stay under their licence, attributed to the
  anonymised member. If the member asked, their drafts that were never published are removed:
  no one else has seen them, voted on them or built on them (only published solutions can be
  forked), so removing them changes no one's reputation. Anything else pointing at a draft
  keeps it (it is then left as a draft, seen by no one)."""

from django.db import transaction
from django.db.models import Count, ProtectedError, Q

from peerhub.deletion import Blocker

from .models import Challenge, Revision, RevisionFile, Solution

RUNNING = [Challenge.Status.OPEN, Challenge.Status.SELECTING]


def deletion_blockers(*, user) -> list[Blocker]:
    organised = Challenge.objects.filter(organisers=user).values("pk")
    sole = (
        # Counted apart from the filter on the member: joined once, it would count only them.
        Challenge.objects.filter(status__in=RUNNING, pk__in=organised)
        .annotate(n_organisers=Count("organisers"))
        .filter(n_organisers=1)
        .order_by("pk")
    )
    return [
        Blocker(
            f"You are the only organiser of the running challenge “{challenge.title}”: "
            "close it, or ask staff to add an organiser.",
            challenge.get_absolute_url(),
        )
        for challenge in sole
    ]


def drafts_removable(*, user):
    return Solution.objects.filter(
        author=user,
        status=Solution.Status.DRAFT,
        published_at__isnull=True,
        parent__isnull=True,
    ).filter(~Q(forks__isnull=False))


def anonymise(*, user, remove_drafts: bool) -> list[str]:
    if not remove_drafts:
        return []
    removed = 0
    for solution_id in list(drafts_removable(user=user).values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                _remove_draft(solution_id)
        except ProtectedError:
            continue  # something points at it: it stays, a draft no one sees
        removed += 1
    return [f"{removed} draft(s) removed"] if removed else []


def _remove_draft(solution_id: int) -> None:
    # Revisions are never deleted in the application (RevisionQuerySet refuses); a draft that
    # was never published is the one exception, past the guard on purpose.
    Solution.objects.filter(pk=solution_id).update(current_revision=None, root=None)  # its own
    revisions = Revision._base_manager.filter(solution_id=solution_id)
    RevisionFile.objects.filter(revision__in=revisions).delete()
    revisions.delete()
    Solution.objects.filter(pk=solution_id).delete()
