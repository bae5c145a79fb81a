"""Hiding solutions, revisions and comments for moderation (issue 21): reputation's review queue
calls these through the registry in peerhub.moderation (challenges never imports reputation).
A hidden item keeps its words for the review; its pages show a stub with `reason` instead."""

from django.db import models, transaction
from django.utils import timezone

from peerhub import pagecache

from ..models import Comment, Revision, Solution


def _hidden_fields(obj, reason: str) -> None:
    obj.hidden_at = timezone.now() if reason else None
    obj.hidden_reason = reason


@transaction.atomic
def solution_set_moderation_hidden(solution: Solution, reason: str) -> None:
    _hidden_fields(solution, reason)
    solution.save(update_fields=["hidden_at", "hidden_reason"])


@transaction.atomic
def revision_set_moderation_hidden(revision: Revision, reason: str) -> None:
    """Past the immutability guard on purpose: whether a revision is shown is moderation state,
    not content; its title and body stay as written."""
    _hidden_fields(revision, reason)
    models.QuerySet.update(
        Revision.objects.filter(pk=revision.pk),
        hidden_at=revision.hidden_at,
        hidden_reason=reason,
    )
    pagecache.bump(f"solution:{revision.solution_id}", "lists")


@transaction.atomic
def comment_set_moderation_hidden(comment: Comment, reason: str) -> None:
    """The organisers' hide (hidden_at) with the reason; showing it again clears both."""
    _hidden_fields(comment, reason)
    comment.hidden_by = None
    comment.save(update_fields=["hidden_at", "hidden_reason", "hidden_by"])
