"""Who hears about what happens in challenges: the notifications and feed activities of each
event, in one place. Services call these inside their transaction; peerhub delivers after
commit, so a rolled-back action notifies no one."""

from peerhub.following import activity_record, followers_of
from peerhub.models import User
from peerhub.notifications import notify

from . import permissions
from .models import Challenge, Comment, Solution, UpstreamProposal


def _public(challenge: Challenge) -> bool:
    """Only what every member may read goes to the feed (it is shown to all followers)."""
    return (
        challenge.visibility == Challenge.Visibility.PUBLIC
        and challenge.status != Challenge.Status.DRAFT
    )


def solution_published(solution: Solution) -> None:
    challenge = solution.challenge
    if _public(challenge):
        activity_record(
            "solution_posted",
            actor=solution.author,
            target=solution,
            subjects=[solution.author, challenge],
            context={
                "actor": solution.author.name,
                "target": solution.title,
                "challenge": challenge.title,
            },
        )


def solution_forked(*, fork: Solution, source: Solution, by: User) -> None:
    # A fork into a private challenge the source's author cannot see stays unannounced to them.
    if permissions.can_view_solution(source.author, fork):
        notify(
            "solution_forked",
            [source.author],
            actor=by,
            target=fork,
            context={"parent": source.title},
        )
    if _public(fork.challenge) and _public(source.challenge):
        activity_record(
            "solution_forked",
            actor=by,
            target=fork,
            subjects=[by, source, fork.challenge],
            context={
                "actor": by.name,
                "source": source.title,
                "source_author": source.author.name,
                "target": fork.title,
            },
        )


def upstream_event(kind: str, *, proposal: UpstreamProposal, by: User) -> None:
    """upstream_proposed goes to the parent's author; accepted/declined to the fork's."""
    recipient = proposal.parent.author if kind == "upstream_proposed" else proposal.author
    notify(
        kind,
        [recipient],
        actor=by,
        target=proposal,
        context={
            "fork": proposal.fork.title,
            "parent": proposal.parent.title,
            "reason": proposal.decline_reason[:120],
        },
    )


def comment_posted(
    *, comment: Comment, target: Challenge | Solution, parent: Comment | None
) -> None:
    """A reply tells the parent comment's author; a comment on a solution tells its author,
    unless the reply already did."""
    url = f"{target.get_absolute_url()}#comment-{comment.pk}"
    context = {"on": str(target)}
    replied_to = None
    if parent is not None:
        replied_to = parent.author_id
        notify(
            "comment_reply", [replied_to], actor=comment.author, target=comment, url=url,
            context=context,
        )  # fmt: skip
    if isinstance(target, Solution) and target.author_id != replied_to:
        notify(
            "solution_comment", [target.author_id], actor=comment.author, target=comment, url=url,
            context=context,
        )  # fmt: skip


def challenge_status_changed(challenge: Challenge, *, by: User | None) -> None:
    kind = {
        Challenge.Status.OPEN: "challenge_opened",
        Challenge.Status.SELECTING: "challenge_selecting",
    }.get(challenge.status)
    if kind is None:
        return
    # Followers who may no longer see it (a private challenge's uninvited) are not told.
    followers = followers_of(challenge)
    if not _public(challenge):
        followers = [m for m in followers if permissions.can_view_challenge(m, challenge)]
    notify(kind, followers, actor=by, target=challenge)
    if kind == "challenge_opened" and _public(challenge):
        organisers = list(challenge.organisers.all())
        activity_record(
            "challenge_opened",
            actor=by,
            target=challenge,
            subjects=[*organisers, challenge],
            context={"target": challenge.title},
        )


def selection_published(
    *,
    challenge: Challenge,
    by: User | None,
    shortlisted: list[Solution] = (),
    winners: list[Solution] = (),
) -> None:
    """For the selection rounds: call once when organisers publish a shortlist or the winners.
    Authors of shortlisted and winning solutions hear at once (important kinds); followers of
    the challenge hear that results are out (when winners are published); followers of the
    challenge, the solution or its author see each winner in their feed."""
    for solution in shortlisted:
        notify(
            "solution_shortlisted",
            [solution.author_id],
            actor=by,
            target=solution,
            context={"challenge": challenge.title},
        )
    for solution in winners:
        notify(
            "solution_won",
            [solution.author_id],
            actor=by,
            target=solution,
            context={"challenge": challenge.title},
        )
        if _public(challenge):
            activity_record(
                "solution_selected",
                actor=by,
                target=solution,
                subjects=[solution.author, solution, challenge],
                context={
                    "target": solution.title,
                    "author": solution.author.name,
                    "challenge": challenge.title,
                },
            )
    if winners:
        followers = followers_of(challenge)
        if not _public(challenge):
            followers = [m for m in followers if permissions.can_view_challenge(m, challenge)]
        notify("challenge_results_published", followers, actor=by, target=challenge)
