"""Solutions, their immutable revisions, forks, withdrawal and upstream proposals."""

from collections.abc import Sequence

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from peerhub import languages, moderation
from peerhub.exceptions import Conflict, DomainError, NotAllowed
from peerhub.mentions import Place, mentions_record, render_with_mentions
from peerhub.models import User
from peerhub.selectors import user_is_verified
from peerhub.throttles import write_spend

from .. import files, lineage, permissions, social_events
from ..models import Blob, Challenge, Revision, Solution, UpstreamProposal

# The messages PeerHub writes on a revision: stored in English, shown in the reader's language.
from ..revision_messages import ACCEPTED_FROM_FORK, FIRST_VERSION, FORKED_FROM
from ..uploads import Attachment, merge_files, uploads_claim

Status = Solution.Status


def _add_revision(
    solution: Solution,
    *,
    author: User,
    title: str,
    body: str,
    message: str,
    credited_solution: Solution | None = None,
    notify_mentions: bool = True,
    manifest: dict[str, Blob] | None = None,
    language: str = "",
) -> Revision:
    """Append the next revision, with its manifest of files (path -> blob), and point the
    solution at it. The caller holds the row lock."""
    manifest = manifest or {}
    number = solution.revision_count + 1
    refs = files.file_refs(solution_id=solution.pk, number=number, manifest=manifest)
    rendered = render_with_mentions(body, files=refs)
    language = languages.content_language(given=language, text=f"{title}\n\n{body}")
    revision = Revision.objects.create(
        solution=solution,
        number=number,
        title=title,
        body=body,
        body_html=rendered.html,
        language=language,
        message=message.strip()[:300],
        author=author,
        credited_solution=credited_solution,
    )
    files.manifest_write(revision, manifest)
    solution.title = title
    solution.current_revision = revision
    solution.revision_count = revision.number
    solution.updated_at = revision.created_at
    solution.language = revision.language
    fields = ["title", "current_revision", "revision_count", "updated_at", "language"]
    if solution.forked_from_revision_id is not None:
        # Still a verbatim copy of the source, text and files (a restored first revision is one
        # again)? Saved only when it changes: the reputation ledger listens for it.
        source = solution.forked_from_revision
        # A cosmetic edit (challenges.lineage.is_copy) leaves it a copy.
        unchanged = lineage.is_copy(source.body, body) and files.same_manifest(
            manifest, files.manifest_of(source)
        )
        if unchanged != solution.unchanged_fork:
            solution.unchanged_fork = unchanged
            fields.append("unchanged_fork")
    solution.save(update_fields=fields)
    _record_mentions(solution, author=author, mentioned=rendered.mentioned, notify=notify_mentions)
    return revision


def _record_mentions(solution: Solution, *, author: User, mentioned, notify: bool = True) -> None:
    """Mentions belong to the solution, not to one revision: a new revision that keeps them does
    not notify again. A draft's only viewer is its author, so its mentions wait for publishing."""
    mentions_record(
        author=author,
        item=solution,
        mentioned=mentioned,
        audience=permissions.viewers_of(solution),
        url=solution.get_absolute_url(),
        where=Place(gettext_noop("the solution “{title}”"), {"title": solution.title}),
        notify_new=notify,
    )


def _validate_content(title: str, body: str) -> tuple[str, str]:
    title = (title or "").strip()
    if not title:
        raise DomainError(gettext("A solution needs a title."), code="title_required")
    if len(title) > 160:
        raise DomainError(gettext("Keep the title under 160 characters."), code="title_too_long")
    if not (body or "").strip():
        raise DomainError(gettext("A solution needs a body."), code="body_required")
    return title, body


def _refusal(user: User, action: str) -> NotAllowed:
    """Tell an unverified member what unlocks the action ("post" or "fork"); anyone else only
    that it is refused (never why, so that private challenges do not reveal themselves)."""
    if not user_is_verified(user):
        if action == "fork":
            return NotAllowed(gettext("Verify your e-mail address before forking."))
        return NotAllowed(gettext("Verify your e-mail address before posting solutions."))
    return NotAllowed(gettext("You may not do this here."))


def _touch_challenge(challenge_id: int, *, solutions: int = 0) -> None:
    Challenge.objects.filter(pk=challenge_id).update(
        solution_count=F("solution_count") + solutions, last_activity_at=timezone.now()
    )


def _set_lineage_path(solution: Solution, parent: Solution | None) -> None:
    solution.root_id = parent.root_id if parent else solution.pk
    solution.path = f"{parent.path if parent else '/'}{solution.pk}/"
    solution.save(update_fields=["root", "path"])


def solution_post_refusal(*, author: User, challenge: Challenge) -> DomainError | None:
    """Why `author` may not post to `challenge` now, or None. The service raises it; the form
    page shows it before the member writes anything."""
    if permissions.can_post_solution(author, challenge):
        return None
    if challenge.status != Challenge.Status.OPEN:
        return Conflict(
            gettext("This challenge is not open for solutions."), code="challenge_closed"
        )
    return _refusal(author, "post")


def solution_create(
    *,
    challenge: Challenge,
    author: User,
    title: str,
    body: str,
    publish: bool = True,
    message: str = "",
    uploads: Sequence = (),
    attachments: Sequence[Attachment] = (),
    language: str = "",
) -> Solution:
    """Post a solution to an open challenge, as a draft or published; its first revision holds
    the content, the files sent with it (`uploads`) and the member's earlier API uploads named
    by id (`attachments`, challenges.uploads)."""
    prepared = files.prepare_uploads(uploads, user=author) if uploads else []
    with files.removed_on_failure() as written, transaction.atomic():
        return _solution_create(
            challenge=challenge,
            author=author,
            title=title,
            body=body,
            publish=publish,
            message=message,
            prepared=prepared,
            attachments=attachments,
            written=written,
            language=language,
        )


def _solution_create(
    *, challenge, author, title, body, publish, message, prepared, attachments, written, language
) -> Solution:
    challenge = Challenge.objects.select_for_update(no_key=True).get(pk=challenge.pk)
    refusal = solution_post_refusal(author=author, challenge=challenge)
    if refusal is not None:
        raise refusal
    title, body = _validate_content(title, body)
    write_spend(author, "solution")
    now = timezone.now()
    solution = Solution.objects.create(
        challenge=challenge,
        author=author,
        title=title,
        status=Status.PUBLISHED if publish else Status.DRAFT,
        published_at=now if publish else None,
        created_at=now,
        updated_at=now,
    )
    _set_lineage_path(solution, None)
    claimed = uploads_claim(user=author, attachments=attachments)
    manifest = merge_files(files.store_blobs(prepared, user=author, written=written), claimed)
    _add_revision(
        solution,
        author=author,
        title=title,
        body=body,
        message=message or FIRST_VERSION,
        manifest=manifest,
        language=language,
    )
    if publish:
        _touch_challenge(challenge.pk, solutions=1)
        social_events.solution_published(solution)
    return solution


def _locked(solution: Solution) -> Solution:
    """The solution's row, locked; its challenge is read but not locked.

    Rows here are locked FOR NO KEY UPDATE (keys never change), which PostgreSQL's foreign key
    checks do not wait for: two forks crossing between the same two challenges in opposite
    directions at once would otherwise deadlock."""
    locked = Solution.objects.select_for_update(no_key=True, of=("self",))
    return locked.select_related("challenge").get(pk=solution.pk)


def solution_revise(
    *,
    solution: Solution,
    by: User,
    title: str,
    body: str,
    message: str = "",
    uploads: Sequence = (),
    remove_files: Sequence[str] = (),
    attachments: Sequence[Attachment] = (),
    language: str = "",
) -> Revision:
    """Edit a solution: a new immutable revision; nothing earlier is overwritten. Its files are
    the current revision's (the same blobs, no bytes copied) less `remove_files`, plus the
    uploads and the attached API uploads (a name already there replaces that file)."""
    prepared = files.prepare_uploads(uploads, user=by) if uploads else []
    with files.removed_on_failure() as written, transaction.atomic():
        solution = _locked(solution)
        if not permissions.can_edit_solution(by, solution):
            raise NotAllowed(gettext("Only the author can edit this solution."))
        title, body = _validate_content(title, body)
        current = solution.current_revision
        before = files.manifest_of(current)
        # Checked before any byte is stored: an unknown name is the member's mistake.
        files.manifest_change(before, added={}, removed=remove_files)
        claimed = uploads_claim(user=by, attachments=attachments)
        added = merge_files(files.store_blobs(prepared, user=by, written=written), claimed)
        manifest = files.manifest_change(before, added=added, removed=remove_files)
        # Unless the author says otherwise, a revision keeps the language of the one before.
        language = languages.content_language(
            given=language, text=body, keep=current.language if current else None
        )
        if (
            current
            and current.title == title
            and current.body == body
            and current.language == language
            and files.same_manifest(before, manifest)
        ):
            raise DomainError(
                gettext("Nothing changed: edit the title, the body or the files first."),
                code="unchanged",
            )
        write_spend(by, "revision")
        revision = _add_revision(
            solution,
            author=by,
            title=title,
            body=body,
            message=message,
            manifest=manifest,
            language=language,
        )
        moderation.item_edited(solution, by=by)  # hidden by moderators: back to review
        return revision


@transaction.atomic
def solution_publish(*, solution: Solution, by: User) -> Solution:
    solution = _locked(solution)
    if not permissions.can_edit_solution(by, solution):
        raise NotAllowed(gettext("Only the author can publish this solution."))
    if solution.status != Status.DRAFT:
        raise Conflict(gettext("Only a draft can be published."), code="not_draft")
    if solution.challenge.status != Challenge.Status.OPEN:
        raise Conflict(
            gettext("This challenge is not open for solutions."), code="challenge_closed"
        )
    solution.status = Status.PUBLISHED
    solution.published_at = timezone.now()
    solution.save(update_fields=["status", "published_at"])
    _touch_challenge(solution.challenge_id, solutions=1)
    social_events.solution_published(solution)
    # Whom the draft named learn of it now that they can see it.
    mentioned = render_with_mentions(solution.current_revision.body).mentioned
    _record_mentions(solution, author=by, mentioned=mentioned)
    return solution


@transaction.atomic
def solution_withdraw(*, solution: Solution, by: User) -> Solution:
    """Withdraw a solution: it leaves rankings but keeps its place in every lineage, so its
    forks stay valid and link back. Solutions are never deleted."""
    solution = _locked(solution)
    if not permissions.can_withdraw_solution(by, solution):
        raise NotAllowed(gettext("Only the author can withdraw this solution."))
    was_published = solution.status == Status.PUBLISHED
    solution.status = Status.WITHDRAWN
    solution.withdrawn_at = timezone.now()
    solution.save(update_fields=["status", "withdrawn_at"])
    if was_published:
        _touch_challenge(solution.challenge_id, solutions=-1)
    return solution


@transaction.atomic
def solution_fork(
    *, source: Solution, by: User, challenge: Challenge | None = None, title: str = ""
) -> Solution:
    """Fork a published solution into the same or another open challenge. The fork's first
    revision copies the source's current revision; parent, source revision, root, generation and
    path record the lineage. Every ancestor's descendant count grows by one, in one UPDATE."""
    source = _locked(source)
    if not permissions.can_fork_solution(by, source):
        if source.status != Status.PUBLISHED:
            raise Conflict(gettext("Only published solutions can be forked."), code="not_published")
        raise _refusal(by, "fork")
    # Locked like in solution_create: the caller's copy of the target may predate its closing.
    target_id = (challenge or source.challenge).pk
    target = Challenge.objects.select_for_update(no_key=True).get(pk=target_id)
    if not permissions.can_post_solution(by, target):
        if not permissions.can_view_challenge(by, target):
            raise _refusal(by, "post")
        raise Conflict(
            gettext("“{title}” is not open for solutions.").format(title=target.title),
            code="challenge_closed",
        )
    write_spend(by, "fork")
    revision = source.current_revision
    now = timezone.now()
    fork = Solution.objects.create(
        challenge=target,
        author=by,
        title=(title or revision.title).strip()[:160],
        status=Status.PUBLISHED,
        parent=source,
        forked_from_revision=revision,
        unchanged_fork=True,  # its first revision copies the source's
        generation=source.generation + 1,
        published_at=now,
        created_at=now,
        updated_at=now,
    )
    _set_lineage_path(fork, source)
    _add_revision(
        fork,
        author=by,
        title=fork.title,
        body=revision.body,
        # The members the source names are not mentioned anew by the one who forked it.
        notify_mentions=False,
        manifest=files.manifest_of(revision),  # the same blobs: a fork copies no bytes
        language=revision.language,
        message=FORKED_FROM.format(
            title=source.title, number=revision.number, author=source.author.name
        ),
    )
    Solution.objects.filter(pk=source.pk).update(fork_count=F("fork_count") + 1)
    Solution.objects.filter(pk__in=[*source.ancestor_ids, source.pk]).update(
        descendant_count=F("descendant_count") + 1
    )
    _touch_challenge(target.pk, solutions=1)
    social_events.solution_forked(fork=fork, source=source, by=by)
    return fork


# --- Upstream proposals ----------------------------------------------------------------------


@transaction.atomic
def upstream_propose(*, fork: Solution, by: User, message: str) -> UpstreamProposal:
    """Offer the fork's current revision back to its parent."""
    fork = _locked(fork)
    if not permissions.can_propose_upstream(by, fork):
        raise NotAllowed(
            gettext("Only the author of a published fork can offer its changes upstream.")
        )
    if not message.strip():
        raise DomainError(gettext("Say what the change does and why."), code="message_required")
    parent = fork.parent
    if parent.status == Status.WITHDRAWN:
        raise Conflict(gettext("The parent solution was withdrawn."), code="parent_withdrawn")
    if not fork.has_changes_to_offer():
        raise DomainError(gettext("Your fork has no changes to offer."), code="no_changes")
    if fork.upstream_proposals_sent.filter(status=UpstreamProposal.Status.OPEN).exists():
        raise Conflict(
            gettext("This fork already has an open proposal upstream."), code="already_open"
        )
    text = render_with_mentions(message.strip())
    proposal = UpstreamProposal.objects.create(
        fork=fork,
        parent=parent,
        fork_revision=fork.current_revision,
        base_revision=parent.current_revision,
        author=by,
        message=message.strip(),
        message_html=text.html,
    )
    social_events.upstream_event("upstream_proposed", proposal=proposal, by=by)
    # Those it names who may see both solutions; the parent's author is told of it above.
    mentions_record(
        author=by,
        item=proposal,
        mentioned=text.mentioned,
        audience=permissions.viewers_of_upstream(fork, parent),
        url=proposal.get_absolute_url(),
        where=Place(gettext_noop("an offer of changes to “{title}”"), {"title": parent.title}),
        told_already=[parent.author_id],
    )
    return proposal


def _locked_open_upstream(proposal: UpstreamProposal) -> UpstreamProposal:
    proposal = (
        UpstreamProposal.objects.select_for_update(of=("self",))
        .select_related("fork__author", "parent", "fork_revision")
        .get(pk=proposal.pk)
    )
    if proposal.status != UpstreamProposal.Status.OPEN:
        raise Conflict(
            gettext("This proposal was already decided ({status}).").format(
                status=str(proposal.get_status_display()).lower()
            ),
            code="decided",
        )
    return proposal


@transaction.atomic
def upstream_accept(*, proposal: UpstreamProposal, by: User) -> Revision:
    """The parent's author takes the fork's offered text as a new parent revision whose message
    credits the fork and its author. When the parent moved on after the offer, the page shows
    that diff first; accepting takes the fork's text as offered."""
    proposal = _locked_open_upstream(proposal)
    parent = _locked(proposal.parent)
    if not permissions.can_decide_upstream(by, parent):
        raise NotAllowed(gettext("Only the parent solution's author can accept this proposal."))
    if parent.status == Status.WITHDRAWN:
        raise Conflict(
            gettext("A withdrawn solution cannot take changes."), code="parent_withdrawn"
        )
    offered = proposal.fork_revision
    fork = proposal.fork
    revision = _add_revision(
        parent,
        author=by,
        title=parent.title,
        body=offered.body,
        manifest=files.manifest_of(offered),
        language=parent.language,
        message=ACCEPTED_FROM_FORK.format(
            title=fork.title, author=fork.author.name, number=offered.number
        ),
        credited_solution=fork,
    )
    proposal.status = UpstreamProposal.Status.ACCEPTED
    proposal.resulting_revision = revision
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "resulting_revision", "decided_at"])
    social_events.upstream_event("upstream_accepted", proposal=proposal, by=by)
    return revision


@transaction.atomic
def upstream_decline(*, proposal: UpstreamProposal, by: User, reason: str) -> UpstreamProposal:
    proposal = _locked_open_upstream(proposal)
    if not permissions.can_decide_upstream(by, proposal.parent):
        raise NotAllowed(gettext("Only the parent solution's author can decline this proposal."))
    if not reason.strip():
        raise DomainError(gettext("Say why you decline the change."), code="reason_required")
    proposal.status = UpstreamProposal.Status.DECLINED
    proposal.decline_reason = reason.strip()
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "decline_reason", "decided_at"])
    social_events.upstream_event("upstream_declined", proposal=proposal, by=by)
    return proposal


@transaction.atomic
def upstream_withdraw(*, proposal: UpstreamProposal, by: User) -> UpstreamProposal:
    proposal = _locked_open_upstream(proposal)
    if proposal.author_id != by.pk:
        raise NotAllowed(gettext("Only the proposal's author can withdraw it."))
    proposal.status = UpstreamProposal.Status.WITHDRAWN
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "decided_at"])
    return proposal
