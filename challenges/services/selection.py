"""Selection rounds: organisers of a `selecting` challenge shortlist solutions (a written reason
each), pick winners among the shortlist (with reasons) and publish the round. A published round
is public and permanent: every write here refuses to touch it. Each write locks the round's row
first, so two organisers working at once take turns and cannot publish half a change."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from peerhub import inputs, limits
from peerhub.exceptions import Conflict, DomainError, NotAllowed
from peerhub.mentions import Place, mentions_record, render_with_mentions
from peerhub.models import User

from .. import permissions, social_events
from ..models import Challenge, SelectionEntry, SelectionRound, Solution

MAX_REASON = limits.SELECTION_REASON


def _check_runner(by: User, challenge: Challenge) -> None:
    if not (permissions.is_organiser(by, challenge) or permissions.is_staff(by)):
        raise NotAllowed(_("Only the challenge's organisers can run its selection."))
    if not permissions.can_run_selection(by, challenge):
        if challenge.status != Challenge.Status.SELECTING:
            raise Conflict(
                _("Selection rounds run while the challenge is selecting."), code="not_selecting"
            )
        raise NotAllowed(_("Verify your e-mail address before you run a selection."))


def _reason(text: str, missing: str) -> str:
    """The reason, stripped; `missing` is what to say when there is none."""
    text = (text or "").strip()
    if not text:
        raise DomainError(missing)
    if len(text) > MAX_REASON:
        raise DomainError(_("Keep the reason under {limit} characters.").format(limit=MAX_REASON))
    return text


def _locked_draft(round_: SelectionRound, by: User) -> SelectionRound:
    round_ = (
        SelectionRound.objects.select_for_update().select_related("challenge").get(pk=round_.pk)
    )
    _check_runner(by, round_.challenge)
    if round_.is_published:
        raise Conflict(_("This round is published: its results are permanent."), code="published")
    return round_


@transaction.atomic
def selection_round_open(
    *, challenge: Challenge, by: User, title: str = "", summary: str = ""
) -> SelectionRound:
    """Start the next round. One round at a time is in preparation; locks the challenge so two
    organisers starting a round at once make one. The title is cut to size; a summary over
    the limit is refused (the page posts it without a form)."""
    summary = (summary or "").strip()
    if len(summary) > limits.SELECTION_SUMMARY:
        raise DomainError(
            _("Keep the summary to {limit} characters.").format(
                limit=number_format(limits.SELECTION_SUMMARY, force_grouping=True)
            )
        )
    challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)
    _check_runner(by, challenge)
    if challenge.selection_rounds.filter(status=SelectionRound.Status.DRAFT).exists():
        raise Conflict(
            _("A round is already in preparation: publish it first."), code="draft_exists"
        )
    number = (challenge.selection_rounds.aggregate(n=Max("number"))["n"] or 0) + 1
    return SelectionRound.objects.create(
        challenge=challenge,
        number=number,
        title=inputs.strip_invisible(title).strip()[: limits.TITLE],
        summary=summary,
        summary_html=render_with_mentions(summary).html,
        created_by=by,
    )


@transaction.atomic
def selection_shortlist(
    *, round: SelectionRound, by: User, solution: Solution, reason: str
) -> SelectionEntry:
    """Put a published solution of the challenge on the round's shortlist, saying why."""
    round_ = _locked_draft(round, by)
    reason = _reason(
        reason, _("Write the reason for shortlisting it: the authors and members read it.")
    )
    if solution.challenge_id != round_.challenge_id:
        raise DomainError(_("Only solutions to this challenge can be shortlisted."), code="other")
    if solution.status != Solution.Status.PUBLISHED:
        raise Conflict(_("Only published solutions can be shortlisted."), code="not_published")
    if round_.entries.filter(solution=solution).exists():
        raise Conflict(_("This solution is already on the shortlist."), code="already_shortlisted")
    return SelectionEntry.objects.create(
        round=round_,
        solution=solution,
        reason=reason,
        reason_html=render_with_mentions(reason).html,
        shortlisted_by=by,
    )


@transaction.atomic
def selection_unshortlist(*, round: SelectionRound, by: User, solution: Solution) -> None:
    """Take a solution off the shortlist of a round still in preparation."""
    round_ = _locked_draft(round, by)
    deleted, _rows = round_.entries.filter(solution=solution).delete()
    if not deleted:
        raise DomainError(_("This solution is not on the shortlist."), code="not_shortlisted")


@transaction.atomic
def selection_select(
    *, round: SelectionRound, by: User, solution: Solution, reason: str
) -> SelectionEntry:
    """Pick a shortlisted solution as a winner of the round, saying why."""
    round_ = _locked_draft(round, by)
    reason = _reason(
        reason, _("Write the reason for selecting it: the authors and members read it.")
    )
    entry = round_.entries.filter(solution=solution).first()
    if entry is None:
        raise Conflict(_("Shortlist the solution before selecting it."), code="not_shortlisted")
    if entry.is_winner:
        raise Conflict(_("This solution is already a winner of the round."), code="already_winner")
    entry.is_winner = True
    entry.winner_reason = reason
    entry.winner_reason_html = render_with_mentions(reason).html
    entry.selected_by = by
    entry.selected_at = timezone.now()
    entry.save(
        update_fields=[
            "is_winner",
            "winner_reason",
            "winner_reason_html",
            "selected_by",
            "selected_at",
        ]
    )
    return entry


@transaction.atomic
def selection_publish(*, round: SelectionRound, by: User) -> SelectionRound:
    """Publish the round: from now on its shortlist, winners and reasons are public and never
    change. Needs at least one winner. Reputation listens for the published round (the authors'
    shortlist and win events) after commit."""
    round_ = _locked_draft(round, by)
    if not round_.entries.filter(is_winner=True).exists():
        raise Conflict(_("Select at least one winner before publishing."), code="no_winner")
    round_.status = SelectionRound.Status.PUBLISHED
    round_.published_at = timezone.now()
    round_.published_by = by
    round_.save(update_fields=["status", "published_at", "published_by"])
    Challenge.objects.filter(pk=round_.challenge_id).update(last_activity_at=round_.published_at)
    entries = list(
        round_.entries.select_related("solution__author", "shortlisted_by", "selected_by")
    )
    social_events.selection_published(
        challenge=round_.challenge,
        by=by,
        shortlisted=[entry.solution for entry in entries if not entry.is_winner],
        winners=[entry.solution for entry in entries if entry.is_winner],
    )
    _record_mentions(round_, entries)
    return round_


def _record_mentions(round_: SelectionRound, entries: list[SelectionEntry]) -> None:
    """A round in preparation is the organisers' working list: the members its summary and
    reasons name are told when it is published (like a draft solution's), once per member and
    text, if they may see the challenge. An entry's author hears of the result itself."""
    audience = permissions.viewers_of(round_.challenge)
    where = Place(
        gettext_noop("the selection results of “{title}”"), {"title": str(round_.challenge)}
    )
    url = round_.get_absolute_url()
    summary = render_with_mentions(round_.summary).mentioned if round_.summary else []
    mentions_record(
        author=round_.created_by,
        item=round_,
        mentioned=summary,
        audience=audience,
        url=url,
        where=where,
    )
    for entry in entries:
        mentioned = [
            *render_with_mentions(entry.reason).mentioned,
            *(render_with_mentions(entry.winner_reason).mentioned if entry.is_winner else []),
        ]
        mentions_record(
            author=entry.selected_by or entry.shortlisted_by,
            item=entry,
            mentioned=mentioned,
            audience=audience,
            url=url,
            where=where,
            told_already=[entry.solution.author_id],
        )
