from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from peerhub import confirm
from peerhub.announce import announce
from peerhub.exceptions import DomainError
from peerhub.widgets import enable_mentions

from .. import permissions, selectors, services
from ..forms import ProposalForm, ReasonForm
from ..models import ChallengeProposal
from .base import mentions_url, perform, refuse

PROPOSALS_PER_PAGE = 20


def proposal_list(request):
    status = request.GET.get("status", "open")
    if status not in {*ChallengeProposal.Status.values, ""}:
        status = "open"
    sort = "newest" if request.GET.get("sort") == "newest" else "backed"
    page = Paginator(selectors.proposal_list(status=status, sort=sort), PROPOSALS_PER_PAGE)
    page = page.get_page(request.GET.get("page"))
    return render(
        request,
        "challenges/proposal_list.html",
        {
            "page": page,
            "status": status,
            "sort": sort,
            "statuses": ChallengeProposal.Status.choices,
            "backed": selectors.proposal_backed_by(
                user=request.user, proposal_ids=[p.pk for p in page]
            ),
            "can_propose": permissions.can_propose_challenge(request.user),
        },
    )


def _proposal(pk: int) -> ChallengeProposal:
    proposal = selectors.proposal_list(status="").filter(pk=pk).first()
    if proposal is None:
        raise Http404
    return proposal


def proposal_detail(request, pk: int):
    proposal = _proposal(pk)
    return render(
        request,
        "challenges/proposal_detail.html",
        {
            "proposal": proposal,
            "has_backed": pk in selectors.proposal_backed_by(user=request.user, proposal_ids=[pk]),
            "can_back": permissions.can_back_proposal(request.user)
            and proposal.proposer_id != request.user.pk,
            "can_decide": permissions.can_decide_proposal(request.user),
            "decline_form": ReasonForm(),
        },
    )


@login_required
def proposal_create(request):
    if not permissions.can_propose_challenge(request.user):
        messages.error(request, _("Verify your e-mail address before proposing a challenge."))
        return redirect("challenges:proposal-list")
    form = ProposalForm(request.POST or None)
    for field in ("problem", "context"):
        enable_mentions(form, field, mentions_url(proposal="new"))
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.proposal_create(proposer=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Proposed. Ask others to back it."))
            return redirect(proposal)
    return render(request, "challenges/proposal_form.html", {"form": form})


@require_POST
@login_required
def proposal_back(request, pk: int):
    proposal = _proposal(pk)
    try:
        if request.POST.get("back") == "0":
            services.proposal_unback(proposal=proposal, user=request.user)
        else:
            services.proposal_back(proposal=proposal, user=request.user)
    except DomainError as error:
        return refuse(request, error, proposal)
    if request.htmx:
        proposal.refresh_from_db()
        backed = request.POST.get("back") != "0"
        response = render(
            request,
            "challenges/_proposal_backing.html",
            {"proposal": proposal, "has_backed": backed, "can_back": True},
        )
        return announce(
            response,
            _("You back this proposal.") if backed else _("You no longer back this proposal."),
        )
    return redirect(proposal)


@require_POST
@login_required
def proposal_adopt(request, pk: int):
    proposal = _proposal(pk)
    return perform(
        request,
        lambda: services.proposal_adopt(proposal=proposal, by=request.user),
        done=_("Adopted: complete the draft challenge, then open it."),
        then=lambda challenge: reverse("challenges:edit", kwargs={"slug": challenge.slug}),
        back=proposal,
    )


@require_POST
@login_required
def proposal_decline(request, pk: int):
    proposal = _proposal(pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the proposal is declined."))
        return redirect(proposal)
    if not confirm.is_confirmed(request):
        return confirm.confirmation_page(
            request,
            question=_("Decline the proposal “{title}”?").format(title=proposal.title),
            consequence=_("It is closed for good, with your reason shown to everyone."),
            button=_("Decline"),
            back=proposal.get_absolute_url(),
        )
    return perform(
        request,
        lambda: services.proposal_decline(
            proposal=proposal, by=request.user, reason=form.cleaned_data["reason"]
        ),
        done=_("Declined, with your reason shown to everyone."),
        then=proposal,
        back=proposal,
    )
