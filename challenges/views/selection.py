"""Selection rounds in the browser: everyone who sees the challenge reads the published rounds
(shortlists, winners and the reasons); its organisers prepare the next round on the same page.
Each POST runs one service through `perform`, which says what happened or why not."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from peerhub import confirm
from peerhub.hooks import collect
from peerhub.inputs import parse_id

from .. import permissions, selectors, services
from ..models import Solution
from ..pagecache import kept_challenge, visitors_value
from .base import mentions_url, perform

CANDIDATES_SHOWN = 200


def _page_url(challenge, number=None) -> str:
    url = reverse("challenges:selection", kwargs={"slug": challenge.slug})
    return f"{url}#round-{number}" if number else url


def _candidates(user, challenge, round_):
    """Published solutions not yet on the round's shortlist, best ranked first (the first
    ordering another app contributes, else newest)."""
    sorts = collect("solution_sorts")
    solutions = selectors.challenge_solutions(
        user=user, challenge=challenge, ordering=sorts[0][2] if sorts else None
    ).filter(status=Solution.Status.PUBLISHED)
    taken = {entry.solution_id for entry in round_.entries.all()}
    return [s for s in solutions[: CANDIDATES_SHOWN + len(taken)] if s.pk not in taken][
        :CANDIDATES_SHOWN
    ]


def selection_page(request, slug: str):
    challenge = kept_challenge(request, slug)
    # The published rounds, the same for every member but the organisers (and staff), who see
    # the round in preparation too: kept for the members who see what visitors see.
    rounds = visitors_value(
        request,
        [f"challenge:{slug}"],
        "selection-rounds",
        slug,
        lambda user: selectors.selection_rounds(user=user, challenge=challenge),
        alike=lambda: not permissions.can_view_draft_rounds(request.user, challenge),
    )
    draft = next((r for r in rounds if not r.is_published), None)
    can_run = permissions.can_run_selection(request.user, challenge)
    return render(
        request,
        "challenges/selection.html",
        {
            "challenge": challenge,
            "rounds": rounds,
            "draft": draft,
            "can_run": can_run,
            "candidates": _candidates(request.user, challenge, draft) if can_run and draft else [],
            "mentions_url": mentions_url(challenge) if can_run else "",
        },
    )


def _round_and_solution(request, slug: str, number: int):
    challenge = selectors.challenge_get(user=request.user, slug=slug)
    round_ = selectors.selection_round_get(user=request.user, challenge=challenge, number=number)
    solution = None
    solution_id = parse_id(request.POST.get("solution", ""))
    if solution_id is not None:
        solution = Solution.objects.filter(pk=solution_id, challenge=challenge).first()
    return challenge, round_, solution


@require_POST
@login_required
def selection_open(request, slug: str):
    challenge = selectors.challenge_get(user=request.user, slug=slug)
    return perform(
        request,
        lambda: services.selection_round_open(
            challenge=challenge,
            by=request.user,
            title=request.POST.get("title", ""),
            summary=request.POST.get("summary", ""),
        ),
        done=_("A new selection round is in preparation."),
        then=lambda round_: _page_url(challenge, round_.number),
        back=_page_url(challenge),
    )


def _solution_action(request, slug, number, service, done, *, with_reason=True):
    challenge, round_, solution = _round_and_solution(request, slug, number)
    if solution is None:
        raise Http404(_("No such solution in this challenge."))
    kwargs = {"reason": request.POST.get("reason", "")} if with_reason else {}
    return perform(
        request,
        lambda: service(round=round_, by=request.user, solution=solution, **kwargs),
        done=done.format(title=solution.title),
        then=_page_url(challenge, number),
        back=_page_url(challenge, number),
    )


@require_POST
@login_required
def selection_shortlist(request, slug: str, number: int):
    return _solution_action(
        request, slug, number, services.selection_shortlist, _("“{title}” is on the shortlist.")
    )


@require_POST
@login_required
def selection_unshortlist(request, slug: str, number: int):
    return _solution_action(
        request,
        slug,
        number,
        services.selection_unshortlist,
        _("“{title}” is off the shortlist."),
        with_reason=False,
    )


@require_POST
@login_required
def selection_select(request, slug: str, number: int):
    return _solution_action(
        request, slug, number, services.selection_select, _("“{title}” is selected as a winner.")
    )


@require_POST
@login_required
def selection_publish(request, slug: str, number: int):
    challenge, round_, _solution = _round_and_solution(request, slug, number)
    if not confirm.is_confirmed(request):
        return confirm.confirmation_page(
            request,
            question=_("Publish the results of “{title}”?").format(title=challenge.title),
            consequence=_(
                "The shortlist, the winners and your reasons become public and never "
                "change again; the authors earn reputation at once."
            ),
            button=_("Publish the results"),
            back=_page_url(challenge, number),
        )
    return perform(
        request,
        lambda: services.selection_publish(round=round_, by=request.user),
        done=_("The results are published: they are public and permanent."),
        then=_page_url(challenge, number),
        back=_page_url(challenge, number),
    )
