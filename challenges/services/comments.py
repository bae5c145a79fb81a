"""Threaded discussion on challenges and solutions."""

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from peerhub import history, languages, limits, moderation
from peerhub.exceptions import Conflict, DomainError, NotAllowed
from peerhub.mentions import Place, mentions_record, render_with_mentions
from peerhub.models import User
from peerhub.selectors import user_is_verified
from peerhub.throttles import write_spend

from .. import history as edit_history
from .. import permissions, social_events
from ..models import Challenge, Comment, Solution

MAX_COMMENT_LENGTH = limits.COMMENT


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise DomainError(_("Write something first."), code="body_required")
    if len(body) > MAX_COMMENT_LENGTH:
        raise DomainError(
            _("Keep comments under {limit} characters.").format(limit=MAX_COMMENT_LENGTH)
        )
    return body


@transaction.atomic
def comment_create(
    *,
    author: User,
    target: Challenge | Solution,
    body: str,
    parent: Comment | None = None,
    language: str = "",
) -> Comment:
    if not permissions.can_comment(author, target):
        if not user_is_verified(author):
            raise NotAllowed(_("Verify your e-mail address before joining the discussion."))
        raise NotAllowed(_("This discussion is closed to you."))
    body = _clean_body(body)
    language = languages.content_language(given=language, text=body)
    write_spend(author, "comment")
    rendered = render_with_mentions(body)
    on_challenge = isinstance(target, Challenge)
    if parent is not None:
        # Locked and read afresh: a reply must not slip under a comment deleted meanwhile.
        parent = Comment.objects.select_for_update().get(pk=parent.pk)
        same_target = (
            parent.challenge_id == target.pk if on_challenge else parent.solution_id == target.pk
        )
        if not same_target:
            raise DomainError(_("A reply must stay in its thread."), code="wrong_thread")
        if parent.is_deleted or parent.is_hidden:
            raise Conflict(_("You cannot reply to a removed comment."), code="removed")
    comment = Comment.objects.create(
        author=author,
        challenge=target if on_challenge else None,
        solution=None if on_challenge else target,
        parent=parent,
        thread_id=None if parent is None else parent.thread_root_id,
        body=body,
        body_html=rendered.html,
        language=language,
    )
    type(target).objects.filter(pk=target.pk).update(comment_count=F("comment_count") + 1)
    social_events.comment_posted(comment=comment, target=target, parent=parent)
    # Whom comment_posted told already (a reply's parent author, a solution's author) is not
    # told a second time of the same comment.
    told = {parent.author_id} if parent is not None else set()
    if not on_challenge:
        told.add(target.author_id)
    _record_mentions(comment, target=target, mentioned=rendered.mentioned, told_already=told)
    return comment


def _record_mentions(
    comment: Comment, *, target: Challenge | Solution, mentioned, told_already=()
) -> None:
    mentions_record(
        author=comment.author,
        item=comment,
        mentioned=mentioned,
        audience=permissions.viewers_of(target),
        url=f"{target.get_absolute_url()}#comment-{comment.pk}",
        where=Place(gettext_noop("a comment on “{title}”"), {"title": target}),
        told_already=told_already,
    )


@transaction.atomic
def comment_edit(*, comment: Comment, by: User, body: str, language: str = "") -> Comment:
    """Authors may correct a comment during PEERHUB_COMMENT_EDIT_WINDOW after posting it."""
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if not permissions.can_edit_comment(by, comment):
        raise NotAllowed(_("Only the author can edit this comment."))
    if timezone.now() - comment.created_at > settings.PEERHUB_COMMENT_EDIT_WINDOW:
        raise Conflict(_("The time to edit this comment has passed."), code="edit_window")
    before = edit_history.comment_fields(comment)
    comment.body = _clean_body(body)
    rendered = render_with_mentions(comment.body)
    comment.body_html = rendered.html
    # Unless the author says otherwise, an edit keeps the comment's language.
    comment.language = languages.content_language(
        given=language, text=comment.body, keep=comment.language
    )
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "body_html", "language", "edited_at"])
    history.record_edit(
        comment,
        by=by,
        before=before,
        after=edit_history.comment_fields(comment),
        first_by_id=comment.author_id,
        first_at=comment.created_at,
    )
    _record_mentions(comment, target=comment.target, mentioned=rendered.mentioned)
    moderation.item_edited(comment, by=by)  # hidden by moderators: back to review
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment, by: User) -> Comment:
    """Delete a comment's words but keep its place: replies stay attached to a "[deleted]" stub."""
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.author_id != by.pk and not permissions.can_moderate_comment(by, comment):
        raise NotAllowed(_("Only the author or a moderator can delete this comment."))
    if comment.is_deleted:
        return comment
    comment.body = ""
    comment.body_html = ""
    comment.deleted_at = timezone.now()
    comment.save(update_fields=["body", "body_html", "deleted_at"])
    history.forget(comment)  # its earlier words go with it
    return comment


@transaction.atomic
def comment_set_hidden(*, comment: Comment, by: User, hidden: bool) -> Comment:
    """Organisers hide (or unhide) comments on their challenge; the text is kept for review."""
    # `of`: PostgreSQL cannot lock the nullable side of the outer join to the solution.
    comment = (
        Comment.objects.select_for_update(of=("self",))
        .select_related("solution__challenge")
        .get(pk=comment.pk)
    )
    if not permissions.can_moderate_comment(by, comment):
        raise NotAllowed(_("Only the challenge's organisers can hide comments."))
    comment.hidden_at = timezone.now() if hidden else None
    comment.hidden_by = by if hidden else None
    challenge = comment.challenge or comment.solution.challenge
    role = (
        Comment.HiddenByRole.ORGANISER
        if permissions.is_organiser(by, challenge)
        else Comment.HiddenByRole.STAFF
    )
    comment.hidden_by_role = role if hidden else ""
    comment.save(update_fields=["hidden_at", "hidden_by", "hidden_by_role"])
    return comment
