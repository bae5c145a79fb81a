from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from peerhub import confirm, languages
from peerhub.exceptions import DomainError
from peerhub.hooks import collect, collect_by_key
from peerhub.models import User, Value
from peerhub.pagecache import Fragments
from peerhub.paging import CountedPaginator, detached
from peerhub.templatetags.peerhub import relative

from .. import history, permissions, selectors, services, translations
from ..forms import ChallengeForm
from ..lineage_svg import lineage_list, lineage_svg
from ..models import Challenge, Tag
from ..pagecache import kept_challenge, visitors_value
from .base import refuse
from .comments import discussion_html

CHALLENGES_PER_PAGE = 12
SOLUTIONS_PER_PAGE = 25
LINEAGES_ON_CHALLENGE_PAGE = 6
SOLUTION_SORTS = [
    ("newest", _("Newest")),
    ("forked", _("Most built upon")),
    ("discussed", _("Most discussed")),
    ("updated", _("Recently updated")),
]


def challenge_list(request):
    filters = {
        "status": request.GET.get("status", ""),
        "tag": request.GET.get("tag", ""),
        "value": request.GET.get("value", ""),
        "q": request.GET.get("q", "").strip(),
        "sort": request.GET.get("sort", "newest"),
    }
    if filters["status"] not in Challenge.Status.values:
        filters["status"] = ""
    number = request.GET.get("page")

    def listed(user) -> dict:
        challenges = selectors.challenge_list(user=user, **filters)
        return {
            "page": detached(CountedPaginator(challenges, CHALLENGES_PER_PAGE).get_page(number)),
            "values": list(Value.objects.all()),
            "tags": list(Tag.objects.filter(challenges__isnull=False).distinct()[:30]),
        }

    # What the list shows is what the member may see: a member who sees what a visitor sees
    # shares the visitors' copy, kept under the visitors' page's versions (issue 17).
    variant = (tuple(sorted(filters.items())), (number or "")[:12])
    shown = visitors_value(request, ["lists"], "challenge-list", variant, listed)
    return render(
        request,
        "challenges/challenge_list.html",
        {
            **shown,
            "filters": filters,
            "statuses": Challenge.Status.choices,
            "sorts": [
                ("newest", _("Newest")),
                ("closing", _("Closing soon")),
                ("active", _("Most active")),
                ("solutions", _("Most solutions")),
            ],
            "can_create": permissions.can_create_challenge(request.user),
            "querystring": _querystring(request, exclude="page"),
        },
    )


def _querystring(request, *, exclude: str) -> str:
    params = request.GET.copy()
    params.pop(exclude, None)
    return params.urlencode()


def _attach_row_figures(request, page) -> None:
    """Figures other apps add to the solution rows (reputation: the vote score), through the
    `solution_row_figures(request=, solutions=)` hook, which answers {solution id: [(label,
    value)]} for the whole page at once: one query per app, not one per row. What they answer
    must be the same for every reader: the rows are kept for all members (_solution_rows)."""
    rows = list(page)
    figures = (
        collect_by_key("solution_row_figures", request=request, solutions=rows) if rows else {}
    )
    sections = (
        collect_by_key("solution_row_sections", request=request, solutions=rows) if rows else {}
    )
    for solution in rows:
        solution.row_figures = figures.get(solution.pk, [])
        solution.row_sections = sections.get(solution.pk, [])


def _solution_rows(request, fragments: Fragments, page, sort: str):
    """The page's solution rows. Every member who sees the same rows sees them alike (the row
    hooks answer for the solutions, not the reader), so they are kept under the challenge's
    page-cache versions, by the rows' ids and the relative times they print."""
    variant = (sort, page.number, tuple((s.pk, relative(s.updated_at)) for s in page))

    def render():
        _attach_row_figures(request, page)
        return render_to_string("challenges/_solution_rows.html", {"page": page})

    return fragments.get("solution-rows", variant, render)


def _solution_sorts() -> tuple[list[tuple[str, str]], dict]:
    """The sorts of the solution list: other apps' orderings (through the `solution_sorts` hook;
    reputation's rank comes first and is the default) and this app's own."""
    contributed = collect("solution_sorts")
    orderings = {key: ordering for key, _label, ordering in contributed}
    labels = [(key, label) for key, label, _ordering in contributed]
    return labels + [item for item in SOLUTION_SORTS if item[0] not in orderings], orderings


def challenge_detail(request, slug: str):
    language = languages.reader_language()
    # Read as a visitor reads it, for members who share it (the follow button then asks for
    # its own figures, which the kept row does not carry); with them, for anyone else.
    challenge = kept_challenge(request, slug)
    brief = translations.brief_for(
        challenge, language=language, original=request.GET.get("original") == "1"
    )
    sorts, orderings = _solution_sorts()
    sort = request.GET.get("sort", sorts[0][0])
    if sort not in dict(sorts):
        sort = sorts[0][0]
    scopes = [f"challenge:{challenge.slug}"]
    can_edit = permissions.can_edit_challenge(request.user, challenge)
    can_run_selection = permissions.can_run_selection(request.user, challenge)
    can_post = permissions.can_post_solution(request.user, challenge)
    # What every member who sees what a visitor sees gets alike (its organisers get their own).
    parts = visitors_value(
        request,
        scopes,
        "challenge-page",
        (sort, request.GET.get("page"), request.GET.get("original") == "1", can_post),
        lambda user: _challenge_parts(
            request, user, challenge, brief, sort, sorts, orderings, can_post=can_post
        ),
        alike=lambda: not (can_edit or can_run_selection),
    )
    return render(
        request,
        "challenges/challenge_detail.html",
        {
            "challenge": challenge,
            "brief": brief,
            # Rendered by templates, which escape.
            "main_html": mark_safe(parts["main"]),  # noqa: S308
            "round_html": mark_safe(parts["round"]),  # noqa: S308
            "facts_html": mark_safe(parts["facts"]),  # noqa: S308
            "challenge_links": collect("challenge_links", request=request, challenge=challenge),
            "challenge_sections": collect(
                "challenge_sections", request=request, challenge=challenge
            ),
            "can_run_selection": can_run_selection,
            # Whether the page may describe itself to the world (OpenGraph, its feed).
            "is_public": permissions.is_public(challenge),
            "can_edit": can_edit,
            "can_post": can_post,
            "next_status": services.TRANSITIONS.get(challenge.status),
            "discussion_html": discussion_html(request, challenge, scopes=scopes),
        },
    )


def _challenge_parts(
    request, user, challenge, brief, sort, sorts, orderings, *, can_post: bool
) -> dict[str, str]:
    """The parts of a challenge's page that depend on the member only through what they may
    see (and, for an empty list's invitation, whether they may post): its brief, one page of
    its solutions, its lineages, its latest round, its criteria and facts, rendered for
    `user`."""
    solutions = selectors.challenge_solutions(
        user=user, challenge=challenge, sort=sort, ordering=orderings.get(sort)
    )
    page = CountedPaginator(solutions, SOLUTIONS_PER_PAGE).get_page(request.GET.get("page"))
    rounds = [
        r for r in selectors.selection_rounds(user=user, challenge=challenge) if r.is_published
    ]
    # Only lines that branched are worth drawing; lone solutions are already in the list.
    forest, more_lineages = selectors.challenge_lineage_overview(
        user=user, challenge=challenge, trees=LINEAGES_ON_CHALLENGE_PAGE
    )
    main = {
        "challenge": challenge,
        "brief": brief,
        "page": page,
        "solution_rows": _solution_rows(
            request, Fragments(request, [f"challenge:{challenge.slug}"]), page, sort
        ),
        "sort": sort,
        "solution_sorts": sorts,
        "can_post": can_post,
        "lineages": [
            (
                lineage,
                lineage_svg(
                    lineage, label=gettext("Lineage of %(title)s") % {"title": lineage.root.title}
                ),
                lineage_list(lineage),
            )
            for lineage in forest
        ],
        "more_lineages": more_lineages,
    }
    facts = {
        "challenge": challenge,
        "brief": brief,
        "can_edit": permissions.can_edit_challenge(user, challenge),
    }
    return {
        "main": render_to_string("challenges/_challenge_main_body.html", main).strip(),
        "round": render_to_string(
            "challenges/_challenge_round.html", {"latest_round": rounds[-1] if rounds else None}
        ).strip(),
        "facts": render_to_string("challenges/_challenge_facts.html", facts).strip(),
    }


def _field_of(error: DomainError) -> str | None:
    """The form field a refusal is about, so the error shows next to it."""
    return "visibility" if error.code == "premium_required" else None


@login_required
def challenge_create(request):
    if not permissions.can_create_challenge(request.user):
        messages.error(
            request, gettext("Only organisers can frame challenges. Propose one instead.")
        )
        return redirect("challenges:proposal-create")
    form = ChallengeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            challenge = services.challenge_create(organiser=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(_field_of(error), error.message)
        else:
            messages.success(
                request, gettext("Your challenge is saved as a draft. Open it when ready.")
            )
            return redirect(challenge)
    return render(request, "challenges/challenge_form.html", {"form": form, "challenge": None})


@login_required
def challenge_edit(request, slug: str):
    challenge = selectors.challenge_get(user=request.user, slug=slug)
    if not permissions.can_edit_challenge(request.user, challenge):
        raise Http404
    form = ChallengeForm(
        request.POST or None, initial=ChallengeForm.initial_for(challenge), user=request.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.challenge_update(challenge=challenge, by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(_field_of(error), error.message)
        else:
            messages.success(request, gettext("Challenge saved."))
            return redirect(challenge)
    return render(request, "challenges/challenge_form.html", {"form": form, "challenge": challenge})


@require_POST
@login_required
def challenge_transition(request, slug: str):
    challenge = selectors.challenge_get(user=request.user, slug=slug)
    to = request.POST.get("to", "")
    if to in TRANSITION_BUTTONS and not confirm.is_confirmed(request):
        return confirm.confirmation_page(
            request,
            question=gettext("{action}: “{title}”?").format(
                action=TRANSITION_BUTTONS[to], title=challenge.title
            ),
            consequence=gettext(
                "A challenge only moves forward (draft, open, selecting, closed, "
                "archived): this step cannot be taken back."
            ),
            button=TRANSITION_BUTTONS[to],
            back=challenge.get_absolute_url(),
        )
    try:
        challenge = services.challenge_transition(
            challenge=challenge, by=request.user, to=request.POST.get("to", "")
        )
    except DomainError as error:
        return refuse(request, error, challenge)
    messages.success(
        request,
        gettext("The challenge is now {status}.").format(
            status=str(challenge.get_status_display()).lower()
        ),
    )
    return redirect(challenge)


TRANSITION_BUTTONS = {
    "open": _("Open for solutions"),
    "selecting": _("Close submissions and start selection"),
    "closed": _("Close the challenge"),
    "archived": _("Archive"),
}

MEMBER_ACTIONS = {
    "invite": (services.challenge_invite, _("{name} is invited.")),
    "uninvite": (services.challenge_uninvite, _("{name} is no longer invited.")),
    "organiser": (services.challenge_add_organiser, _("{name} now co-organises this challenge.")),
}


@require_POST
@login_required
def challenge_members(request, slug: str):
    """Organisers invite members (to private challenges) and add co-organisers, by username."""
    challenge = selectors.challenge_get(user=request.user, slug=slug)
    action = MEMBER_ACTIONS.get(request.POST.get("action", ""))
    username = request.POST.get("username", "").strip().lstrip("@")
    member = User.objects.filter(username__iexact=username, is_active=True).first()
    if action is None:
        messages.error(request, gettext("Unknown action."))
    elif member is None:
        messages.error(
            request, gettext("No member is called “{username}”.").format(username=username)
        )
    else:
        service, done = action
        try:
            service(challenge=challenge, by=request.user, member=member)
        except DomainError as error:
            return refuse(request, error, challenge)
        messages.success(request, done.format(name=member.name))
    return redirect(challenge.get_absolute_url() + "#people")


def challenge_history(request, slug: str):
    """Every edit of the challenge's brief, criteria and deadline, for whoever may see it."""
    challenge = selectors.challenge_get(user=request.user, slug=slug)
    context = history.history_context(
        challenge, history.CHALLENGE_LABELS, history.challenge_value_shown
    )
    context.update(item_title=challenge.title, back_url=challenge.get_absolute_url())
    return render(request, "history.html", context)
