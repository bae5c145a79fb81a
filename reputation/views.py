"""HTML views of reputation: vote and review a solution (htmx or plain forms), a member's
reputation history, and the leaderboards. Each parses, calls one service or selector, and
answers; refusals are messages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_POST

from challenges import lineage
from challenges.pagecache import as_visitors_see, visitors_or_own_value
from challenges.selectors import challenge_get, solution_get
from peerhub.announce import announce
from peerhub.auth_backends import request_user_annotations
from peerhub.exceptions import DomainError
from peerhub.inputs import parse_id
from peerhub.models import User
from peerhub.paging import detached

from . import (
    chart,
    evolution,
    leaderboards,
    presenters,
    rankings,
    review_queue,
    rules,
    selectors,
    services,
    simulation_report,
)

EVENTS_PER_PAGE = 50
STANDINGS_PER_PAGE = 25


@require_POST
@login_required
def vote(request, pk: int):
    """value=1 or -1 votes; value=0 removes the member's vote."""
    solution = solution_get(user=request.user, pk=pk)
    try:
        value = int(request.POST.get("value", ""))
    except ValueError:
        value = None
    message, error = "", False
    try:
        if value == 0:
            removed = services.vote_remove(voter=request.user, solution=solution)
            message = _("Your vote is removed.") if removed else ""
        elif value in (1, -1):
            services.vote_cast(voter=request.user, solution=solution, value=value)
            message = (
                _("Thank you: your vote counts.") if value == 1 else _("Your downvote counts.")
            )
        else:
            raise DomainError(_("A vote is up, down, or removed."), code="invalid_vote")
    except DomainError as exc:
        message, error = exc.message, True
    if request.htmx:
        context = presenters.vote_widget_context(
            user=request.user, solution=solution, message=message, error=error
        )
        response = render(request, "reputation/_vote_widget.html", {"section": context})
        return announce(response, message, error=error)
    if message:
        (messages.error if error else messages.success)(request, message)
    return redirect(solution)


def _scores_from(data, solution) -> dict[int, int]:
    scores = {}
    for criterion in solution.challenge.criteria.all():
        score = parse_id(data.get(f"criterion-{criterion.pk}", ""))
        if score is not None:
            scores[criterion.pk] = score
    return scores


@require_POST
@login_required
def review(request, pk: int):
    solution = solution_get(user=request.user, pk=pk)
    try:
        services.review_save(
            reviewer=request.user,
            solution=solution,
            comment=request.POST.get("comment", ""),
            scores=_scores_from(request.POST, solution),
        )
    except DomainError as exc:
        if request.htmx:
            # Keep what the member wrote: answer the form again with the reason.
            criteria = list(solution.challenge.criteria.all())
            mine = presenters.my_review(user=request.user, solution=solution)
            context = presenters.review_form_context(
                user=request.user,
                solution=solution,
                criteria=criteria,
                mine=mine,
                data=request.POST,
            )
            context["review_error"] = exc.message
            response = render(request, "reputation/_review_form.html", {"section": context})
            return announce(response, exc.message, error=True)
        messages.error(request, exc.message)
        return redirect(solution)
    messages.success(request, _("Your review is saved. Thank you for helping this solution grow."))
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = solution.get_absolute_url()
        return response
    return redirect(solution)


def history(request, username: str):
    member = get_object_or_404(
        User.objects.annotate(**request_user_annotations()), username=username, is_active=True
    )
    number = request.GET.get("page")

    def ledger(reader) -> dict:
        # A count of its own: the member's lines counted on their index alone, where a count
        # carried in the page's rows would join every line of a long ledger with its solutions.
        page = Paginator(selectors.reputation_events(member), EVENTS_PER_PAGE).get_page(number)
        return {
            "summary": selectors.reputation_summary(member),
            "chart": chart.reputation_chart(
                chart.reputation_series(member),
                label=_("Reputation of {name} over time").format(name=member.name),
            ),
            "page": detached(page),
            "lines": presenters.event_lines(viewer=reader, events=page.object_list),
        }

    # Kept like the page itself: once for everyone who sees what a visitor sees, and the
    # member's own for them alone (their lines may name solutions only they may see).
    shown = visitors_or_own_value(
        request,
        [f"member:{member.username}", "reputation", "lists"],
        "reputation-history",
        (member.pk, number),
        ledger,
        own=request.user.pk == member.pk,
    )
    return render(request, "reputation/history.html", {"member": member, **shown})


def leaderboard(request):
    """All time or the last 30 days, optionally for one challenge or one value. An unknown
    period falls back to all time; an unknown (or invisible) challenge or value is 404."""
    period = request.GET.get("period", leaderboards.ALL_TIME)
    if period not in leaderboards.PERIODS:
        period = leaderboards.ALL_TIME
    challenge_slug = request.GET.get("challenge", "")
    value_slug = request.GET.get("value", "")
    challenge = (
        get_object_or_404(leaderboards.board_challenges(request.user), slug=challenge_slug)
        if challenge_slug
        else None
    )
    values = leaderboards.board_values()
    value = get_object_or_404(values, slug=value_slug) if value_slug else None

    def body(user) -> str:
        board = leaderboards.leaderboard(
            viewer=user, period=period, challenge=challenge, value=value
        )
        return render_to_string(
            "reputation/_leaderboard_body.html",
            {
                "page": Paginator(board, STANDINGS_PER_PAGE).get_page(request.GET.get("page")),
                "period": period,
                "periods": list(leaderboards.PERIODS.items()),
                "challenge": challenge,
                "value": value,
                "challenges": leaderboards.board_challenges(user),
                "values": values,
            },
            request=request,
        )

    shown = as_visitors_see(request, ["lists", "boards"], "leaderboard", body)
    return render(request, "reputation/leaderboard.html", {"body": shown})


# --- Rankings and evolution (issue 5) ---------------------------------------------------------

RANKED_PER_PAGE = 25


def rankings_page(request):
    """The platform's rankings: fittest solutions this month, or the most built-upon lines."""
    board = request.GET.get("board", "fittest")
    if board not in rankings.BOARDS:
        board = "fittest"

    def body(user) -> str:
        ranked = rankings.platform_ranking(viewer=user, board=board)
        return render_to_string(
            "reputation/_rankings_body.html",
            {
                "page": Paginator(ranked, RANKED_PER_PAGE).get_page(request.GET.get("page")),
                "board": board,
                "boards": list(rankings.BOARDS.items()),
            },
            request=request,
        )

    shown = as_visitors_see(request, ["lists", "boards"], "rankings", body)
    return render(request, "reputation/rankings.html", {"body": shown})


def evolution_page(request, slug: str):
    challenge = challenge_get(user=request.user, slug=slug)

    def body(user) -> str:
        result = evolution.evolution(user=user, challenge=challenge)
        return render_to_string(
            "reputation/_evolution_body.html",
            {
                "challenge": challenge,
                "evolution": result,
                "chart": evolution.evolution_chart(
                    result.generations,
                    label=_("Fitness per generation in {challenge}").format(
                        challenge=challenge.title
                    ),
                ),
                "lineages": evolution.lineage_drawings(result),
            },
            request=request,
        )

    # What it shows depends on the member only through what they may see.
    shown = as_visitors_see(request, [f"challenge:{challenge.slug}"], "evolution", body)
    return render(request, "reputation/evolution.html", {"challenge": challenge, "body": shown})


TO_REVIEW = 20


def _check_may_review(user) -> None:
    """A 403 that says which trust level unlocks reviewing (services.review_privilege_check)."""
    try:
        services.review_privilege_check(user)
    except DomainError as refusal:
        raise PermissionDenied(refusal.message) from refusal


@login_required
def to_review(request, slug: str):
    """Members who may review (reputation.add_review): the challenge's solutions that most need
    a review, the fewest reviews first (reputation.review_queue)."""
    challenge = challenge_get(user=request.user, slug=slug)
    _check_may_review(request.user)
    entries = review_queue.solutions_to_review(
        user=request.user, challenge=challenge, limit=TO_REVIEW
    )
    return render(
        request,
        "reputation/to_review.html",
        {"challenge": challenge, "entries": [(s, _to_review_reason(s)) for s in entries]},
    )


@login_required
def to_review_everywhere(request):
    """The same queue across every challenge the member can see (issue 23): in the community
    simulation, reviewers who took the platform's least-reviewed solutions ranked closer to
    the hidden quality than reviewers who kept to one challenge."""
    _check_may_review(request.user)
    entries = review_queue.solutions_to_review(user=request.user, limit=TO_REVIEW)
    return render(
        request,
        "reputation/to_review_everywhere.html",
        {"entries": [(s, _to_review_reason(s)) for s in entries]},
    )


def _to_review_reason(solution) -> str:
    if not solution.n_reviews:
        return _("No review yet.")
    return ngettext(
        "Only {count} review so far.", "Only {count} reviews so far.", solution.n_reviews
    ).format(count=solution.n_reviews)


@login_required
def trust_moderation(request):
    """Staff only: the members with the least trust and the densest mutual-voting clusters,
    for a human to review. Nothing here bans anyone."""
    if not request.user.is_staff:
        raise PermissionDenied
    return render(request, "reputation/trust_moderation.html", {"review": selectors.trust_review()})


def _list_separator() -> str:
    """What separates the items of a list in the active language (Arabic has its own comma)."""
    return pgettext("list separator", ", ")


def _shares_text(shares) -> str:
    """The lineage shares in words: "20 % to the parent's author, then 4 % further up"."""
    percents = [f"{float(share) * 100:g} %" for share in shares]
    if not percents:
        return _("none")
    if len(percents) == 1:
        return _("{share} to the parent's author").format(share=percents[0])
    return _("{share} to the parent's author, then {further} further up").format(
        share=percents[0], further=_list_separator().join(percents[1:])
    )


def how_it_works(request):
    """Public: the rules of reputation, trust levels, lineage credit, trust and anti-abuse in
    plain words, with the figures of the latest community simulation when one was run."""
    amounts, serial, flags = rules.rules(), rules.serial_voting(), rules.flags()
    simulation = simulation_report.latest_summary()
    return render(
        request,
        "reputation/how_it_works.html",
        {
            "rules": amounts,
            "levels": [
                (level, rules.LEVEL_NAMES[level], rules.trust_thresholds().get(level))
                for level in sorted(rules.LEVEL_NAMES)
            ],
            "privileges": [
                (rules.PRIVILEGE_LABELS.get(code, code), level)
                for code, level in sorted(rules.privileges().items(), key=lambda kv: kv[1])
            ],
            "daily_votes": sorted(rules.daily_votes().items()),
            "serial": serial,
            "serial_hours": serial.window.total_seconds() / 3600,
            "selection": rules.selection_reputation(),
            "trust": rules.trust(),
            "low_trust_note": rules.note_text(rules.LOW_TRUST_NOTE),
            "voting_ring_note": rules.note_text(rules.VOTING_RING_NOTE),
            "unchanged_fork_note": rules.note_text(rules.UNCHANGED_FORK_NOTE),
            "cosmetic_share": f"{lineage.cosmetic_share() * 100:g} %",
            "outliers": rules.review_outliers(),
            "outlier_note": rules.note_text(rules.OUTLIER_REVIEW_NOTE),
            "simulation": simulation,
            "flags": flags,
            "daily_votes_text": _list_separator().join(
                _("level {level}: {votes}").format(level=level, votes=votes)
                for level, votes in sorted(rules.daily_votes().items())
            ),
            "level_weights_text": _list_separator().join(
                _("level {level}: {weight}").format(level=level, weight=floatformat(weight, -2))
                for level, weight in flags.level_weights.items()
            ),
            "penalties_text": _list_separator().join(
                _("{reason}: {amount}").format(
                    reason=presenters.FLAG_REASON_NAMES.get(reason, reason),
                    amount=floatformat(amount, 0),
                )
                for reason, amount in flags.penalties.items()
            ),
            "serial_note": rules.note_text(rules.SERIAL_VOTING_NOTE),
            "serial_hours_count": max(1, round(serial.window.total_seconds() / 3600)),
            "wash_note": rules.note_text(rules.WASH_TRADE_NOTE),
            "wash_cleared_note": rules.note_text(rules.WASH_CLEARED_NOTE),
            "shares_text": _shares_text(amounts.lineage_shares),
            "review_level": rules.privileges()["reputation.review_flags"],
            "simulation_rows": simulation_report.figure_rows(simulation["figures"])
            if simulation
            else [],
            "adversary_tables": simulation_report.adversary_tables(simulation),
        },
    )
