"""Writes for reputation: votes, reviews, and pinning a member's trust level. Every fact change
queues a ledger sync for its solution after commit (reputation.tasks)."""

from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from challenges import permissions as challenge_permissions
from challenges.models import Solution
from peerhub import limits, outbox
from peerhub.exceptions import Conflict, DomainError, NotAllowed, RateLimited
from peerhub.mentions import Place, mentions_record, render_with_mentions
from peerhub.models import User
from peerhub.notifications import notify
from peerhub.selectors import user_is_verified
from peerhub.statements import CompiledObjects, Upsert
from peerhub.throttles import write_spend

from . import outliers, rules, tasks
from .ledger import recompute_scores
from .models import ReputationScore, Review, ReviewScore, Vote
from .selectors import trust_level_of


def _judge_messages(what: str) -> dict[str, str]:
    """The refusals of `_check_can_judge`, whole sentences in the active language."""
    if what == "review":
        return {
            "hidden": _("You cannot review this solution."),
            "unverified": _("Verify your e-mail address before you review."),
            "not_published": _("Only published solutions can be reviewed."),
            "own_solution": _("You cannot review your own solution."),
            "own_lineage": _("This solution builds on yours: you cannot review it."),
        }
    return {
        "hidden": _("You cannot vote on this solution."),
        "unverified": _("Verify your e-mail address before you vote."),
        "not_published": _("Only published solutions can be voted on."),
        "own_solution": _("You cannot vote on your own solution."),
        "own_lineage": _("This solution builds on yours: you cannot vote on it."),
    }


def _check_can_judge(user: User, solution: Solution, *, what: str) -> None:
    """No votes or reviews on your own solution or on one built on yours (whose earnings would
    flow back to you as lineage credit), and only on published solutions you can see. `what`:
    "vote on" or "review"."""
    if not challenge_permissions.can_view_solution(user, solution):
        raise NotAllowed(_judge_messages(what)["hidden"])
    if not user_is_verified(user):
        raise NotAllowed(_judge_messages(what)["unverified"])
    if solution.status != Solution.Status.PUBLISHED:
        raise Conflict(_judge_messages(what)["not_published"], code="not_published")
    if solution.author_id == user.pk:
        raise DomainError(_judge_messages(what)["own_solution"], code="own_solution")
    if user.pk in solution.ancestor_author_ids:
        raise DomainError(_judge_messages(what)["own_lineage"], code="own_lineage")


# A vote's and a review's insert-or-update, compiled once (peerhub.statements).
_VOTE_UPSERT = Upsert(
    Vote, unique_fields=["solution", "voter"], update_fields=["value", "updated_at"]
)
_REVIEW_UPSERT = Upsert(
    Review,
    unique_fields=["solution", "reviewer"],
    update_fields=["comment", "comment_html", "mean_score", "updated_at"],
)


def _upsert(row, *, upsert: Upsert):
    """Insert a member's vote or review in one statement, or, when a double click inserted it
    first (there was no row to lock yet), update that one: the unique constraint settles it.
    A savepoint around a plain insert would take three statements. Sends `post_save`, which
    the upsert does not and the rankings' trigger listens to."""
    model = type(row)
    upsert.save(row)
    post_save.send(
        sender=model, instance=row, created=True, update_fields=None, raw=False,
        using=row._state.db,
    )  # fmt: skip
    return row


def _sync_after_commit(solution_id: int) -> None:
    outbox.enqueue(tasks.sync_solution_reputation, solution_id)


def _sync_vote_after_commit(solution_id: int, voter_id: int) -> None:
    outbox.enqueue(tasks.sync_vote_reputation, solution_id, voter_id)


# The vote's locking read, compiled once (peerhub.statements): every vote asks it.
_MY_VOTES = CompiledObjects(
    Vote,
    lambda solution_id, voter_id, today: (
        Vote.objects.select_for_update()
        .filter(Q(solution_id=solution_id) | Q(created_at__gte=today), voter_id=voter_id)
        .order_by()
    ),
    write=True,
)


def _votes_locked(solution_id: int, voter_id: int, today) -> list[Vote]:
    """The member's vote on the solution and their votes since `today`, locked."""
    return _MY_VOTES.objects(solution_id, voter_id, today)


@transaction.atomic
def vote_cast(*, voter: User, solution: Solution, value: int) -> Vote:
    """Vote a solution up (+1) or down (-1); voting again changes the vote. Daily limits by
    trust level. One locking read finds both the member's vote on this solution and their votes
    of the day (which the limit counts): locked, so that double clicks make one vote and the
    member's concurrent votes take turns."""
    if value not in (Vote.UP, Vote.DOWN):
        raise DomainError(_("A vote is +1 or -1."), code="invalid_vote")
    _check_can_judge(voter, solution, what="vote on")
    perm = "reputation.vote_up" if value == Vote.UP else "reputation.vote_down"
    if not voter.has_perm(perm):
        needed = rules.privileges()[perm]
        message = (
            _("Voting up unlocks at trust level {level} ({name}).")
            if value > 0
            else _("Voting down unlocks at trust level {level} ({name}).")
        )
        raise NotAllowed(message.format(level=needed, name=rules.LEVEL_NAMES[needed]))
    now = timezone.now()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    mine = _votes_locked(solution.pk, voter.pk, today)
    vote = next((vote for vote in mine if vote.solution_id == solution.pk), None)
    if vote is None:
        # Without a vote on this solution, every row read is one of today's votes.
        limit = rules.daily_votes().get(trust_level_of(voter), 0)
        if len(mine) >= limit:
            raise RateLimited(
                _("You have used your {limit} votes for today; more tomorrow (UTC).").format(
                    limit=limit
                )
            )
        # A double click may have inserted it first: `_upsert` makes this its change.
        vote = _upsert(
            Vote(solution=solution, voter=voter, value=value, created_at=now, updated_at=now),
            upsert=_VOTE_UPSERT,
        )
    elif vote.value != value:
        vote.value = value
        vote.updated_at = now
        vote.save(update_fields=["value", "updated_at"])
        _outliers_after_vote_change(solution.pk)
    _sync_vote_after_commit(solution.pk, voter.pk)
    return vote


def _outliers_after_vote_change(solution_id: int) -> None:
    """A vote changed or withdrawn no longer judges the solution's reviews of later days as it
    did (reputation.outliers): refresh their verdicts, and their lines if one moved. A new vote
    is of today and judges no review written yet."""
    reviewed = Review.objects.filter(solution_id=solution_id).exists()
    if reviewed and outliers.reviews_mark_outliers([solution_id]):
        _sync_after_commit(solution_id)


@transaction.atomic
def vote_remove(*, voter: User, solution: Solution) -> bool:
    deleted, _kinds = Vote.objects.filter(solution=solution, voter=voter).delete()
    if deleted:
        _outliers_after_vote_change(solution.pk)
        _sync_vote_after_commit(solution.pk, voter.pk)
    return bool(deleted)


def review_privilege_check(user: User) -> None:
    """Reviewing is a privilege of trust (`reputation.add_review`): NotAllowed, saying the level
    that unlocks it, for a member below it. The review form and both review queue pages ask
    here."""
    if not user.has_perm("reputation.add_review"):
        needed = rules.privileges()["reputation.add_review"]
        raise NotAllowed(
            _("Reviewing unlocks at trust level {level} ({name}).").format(
                level=needed, name=rules.LEVEL_NAMES[needed]
            )
        )


# The review's locking read, compiled once: every review asks it.
_MY_REVIEW = CompiledObjects(
    Review,
    lambda solution_id, reviewer_id: (
        Review.objects.select_for_update()
        .filter(solution_id=solution_id, reviewer_id=reviewer_id)
        .order_by()
    ),
    write=True,
)


def _review_locked(solution_id: int, reviewer_id: int) -> Review | None:
    """The member's review of the solution (one at most: a constraint), locked."""
    found = _MY_REVIEW.objects(solution_id, reviewer_id)
    return found[0] if found else None


@transaction.atomic
def review_save(
    *, reviewer: User, solution: Solution, comment: str, scores: dict[int, int]
) -> Review:
    """Create or edit the member's review: a score from 1 to 5 for every criterion of the
    challenge, and a comment."""
    _check_can_judge(reviewer, solution, what="review")
    review_privilege_check(reviewer)
    criteria = list(solution.challenge.criteria.all())
    if not criteria:
        raise Conflict(_("This challenge has no criteria to review against."), code="no_criteria")
    wanted = {c.pk for c in criteria}
    if set(scores) != wanted:
        raise DomainError(_("Score every criterion of the challenge."), code="scores_incomplete")
    if any(not 1 <= int(score) <= 5 for score in scores.values()):
        raise DomainError(_("Scores go from 1 to 5."), code="score_range")
    if not comment.strip():
        raise DomainError(_("Say what works and what would make it better."), code="comment")
    if len(comment.strip()) > limits.REVIEW:  # the page posts it without a form
        raise DomainError(
            _("Keep the review to {limit} characters.").format(
                limit=number_format(limits.REVIEW, force_grouping=True)
            ),
            code="comment",
        )
    write_spend(reviewer, "review")
    text = render_with_mentions(comment.strip())
    mean = (Decimal(sum(scores.values())) / len(scores)).quantize(Decimal("0.01"))
    now = timezone.now()
    # The member's review, locked: two saves of it take turns.
    review = _review_locked(solution.pk, reviewer.pk)
    if review is None:
        # A double submit may have inserted it first: `_upsert` makes this its edit.
        review = _upsert(
            Review(
                solution=solution, reviewer=reviewer, comment=comment.strip(),
                comment_html=text.html, mean_score=mean, created_at=now, updated_at=now,
            ),
            upsert=_REVIEW_UPSERT,
        )  # fmt: skip
    else:
        review.comment = comment.strip()
        review.comment_html = text.html
        review.mean_score = mean
        review.updated_at = now
        review.save(update_fields=["comment", "comment_html", "mean_score", "updated_at"])
    # Every criterion is scored (checked above), so writing each score replaces the old one.
    ReviewScore.objects.bulk_create(
        [
            ReviewScore(review=review, criterion_id=criterion_id, score=int(score))
            for criterion_id, score in scores.items()
        ],
        update_conflicts=True,
        unique_fields=["review", "criterion"],
        update_fields=["score"],
    )
    # Whether it, or another review of the solution, lies far from the reviews before it.
    outliers.reviews_mark_outliers([solution.pk])
    _sync_after_commit(solution.pk)
    # Once per review: editing it later does not notify again (notify dedupes on the target).
    notify(
        "solution_reviewed", [solution.author_id], actor=reviewer, target=review,
        url=solution.get_absolute_url(), context={"solution": solution.title},
    )  # fmt: skip
    # Those it names who may see the solution, once per member (the author is told above).
    mentions_record(
        author=reviewer,
        item=review,
        mentioned=text.mentioned,
        audience=challenge_permissions.viewers_of(solution),
        url=f"{solution.get_absolute_url()}#reviews",
        where=Place(gettext_noop("a review of “{title}”"), {"title": solution.title}),
        told_already=[solution.author_id],
    )
    return review


@transaction.atomic
def trust_level_pin(*, member: User, by: User, level: int | None) -> ReputationScore:
    """Staff pin a member's trust level (or unpin it with None)."""
    if not by.is_staff:
        raise NotAllowed(_("Only staff can pin trust levels."))
    if level is not None and level not in rules.LEVEL_NAMES:
        raise DomainError(_("Trust levels go from 0 to 4."), code="invalid_level")
    score, _created = ReputationScore.objects.select_for_update().get_or_create(user=member)
    score.pinned_level = level
    score.save(update_fields=["pinned_level"])
    recompute_scores({member.pk})
    score.refresh_from_db()
    return score
