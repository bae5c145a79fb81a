"""Member-proposed challenges: propose, back, and an organiser's adoption or decline."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from peerhub.exceptions import Conflict, DomainError, NotAllowed
from peerhub.mentions import Place, mentions_record, render_with_mentions
from peerhub.models import User
from peerhub.throttles import write_spend

from .. import permissions
from ..models import Challenge, ChallengeProposal, ProposalBacking
from .challenges import challenge_create


@transaction.atomic
def proposal_create(
    *, proposer: User, title: str, summary: str, problem: str, context: str = ""
) -> ChallengeProposal:
    if not permissions.can_propose_challenge(proposer):
        raise NotAllowed(_("Verify your e-mail address before proposing a challenge."))
    if not title.strip() or not problem.strip():
        raise DomainError(_("A proposal needs a title and a problem."))
    write_spend(proposer, "proposal")
    problem_text, context_text = render_with_mentions(problem), render_with_mentions(context)
    proposal = ChallengeProposal.objects.create(
        proposer=proposer,
        title=title.strip(),
        summary=summary.strip(),
        problem=problem,
        problem_html=problem_text.html,
        context=context,
        context_html=context_text.html,
    )
    mentions_record(
        author=proposer,
        item=proposal,
        mentioned=[*problem_text.mentioned, *context_text.mentioned],
        audience=permissions.viewers_of_proposal(),
        url=proposal.get_absolute_url(),
        where=Place(gettext_noop("the challenge proposal “{title}”"), {"title": proposal.title}),
    )
    return proposal


def _locked_open(proposal: ChallengeProposal) -> ChallengeProposal:
    proposal = ChallengeProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != ChallengeProposal.Status.OPEN:
        if proposal.status == ChallengeProposal.Status.ADOPTED:
            raise Conflict(_("This proposal was already adopted."))
        raise Conflict(_("This proposal was already declined."))
    return proposal


@transaction.atomic
def proposal_back(*, proposal: ChallengeProposal, user: User) -> bool:
    """Back a proposal; one backing per member. Returns False when already backed."""
    if not permissions.can_back_proposal(user):
        raise NotAllowed(_("Verify your e-mail address before backing proposals."))
    proposal = _locked_open(proposal)
    if proposal.proposer_id == user.pk:
        raise DomainError(_("You cannot back your own proposal."), code="own_proposal")
    try:
        with transaction.atomic():
            ProposalBacking.objects.create(proposal=proposal, user=user)
    except IntegrityError:
        return False
    ChallengeProposal.objects.filter(pk=proposal.pk).update(backing_count=F("backing_count") + 1)
    return True


@transaction.atomic
def proposal_unback(*, proposal: ChallengeProposal, user: User) -> bool:
    proposal = _locked_open(proposal)
    deleted, _rows = ProposalBacking.objects.filter(proposal=proposal, user=user).delete()
    if deleted:
        ChallengeProposal.objects.filter(pk=proposal.pk).update(
            backing_count=F("backing_count") - 1
        )
    return bool(deleted)


@transaction.atomic
def proposal_adopt(*, proposal: ChallengeProposal, by: User) -> Challenge:
    """An organiser adopts a proposal: a draft challenge is framed from it, crediting the
    proposer on its page; the organiser then completes it (criteria, values) and opens it."""
    if not permissions.can_decide_proposal(by):
        raise NotAllowed(_("Only organisers can adopt proposals."))
    proposal = _locked_open(proposal)
    challenge = challenge_create(
        organiser=by,
        title=proposal.title,
        summary=proposal.summary or proposal.title,
        problem=proposal.problem,
        context=proposal.context,
        proposal=proposal,
    )
    proposal.status = ChallengeProposal.Status.ADOPTED
    proposal.decided_by = by
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    return challenge


@transaction.atomic
def proposal_decline(*, proposal: ChallengeProposal, by: User, reason: str) -> ChallengeProposal:
    if not permissions.can_decide_proposal(by):
        raise NotAllowed(_("Only organisers can decline proposals."))
    if not reason.strip():
        raise DomainError(_("Say why the proposal is declined."), code="reason_required")
    proposal = _locked_open(proposal)
    proposal.status = ChallengeProposal.Status.DECLINED
    proposal.decline_reason = reason.strip()
    proposal.decided_by = by
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "decline_reason", "decided_by", "decided_at"])
    return proposal
