"""Which challenge writes make which cached anonymous pages stale (peerhub.pagecache)."""

from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils.safestring import SafeString, mark_safe
from rest_framework.response import Response

from peerhub.pagecache import Fragments, after_task, on_m2m_change, on_save_and_delete

from . import permissions
from .models import (
    Challenge,
    ChallengeProposal,
    ChallengeTranslation,
    Comment,
    Criterion,
    ProposalBacking,
    Revision,
    SelectionEntry,
    SelectionRound,
    Solution,
    Tag,
    UpstreamProposal,
)

# List-wide scopes of the visitors' API lists (challenges/api/urls.py), besides "lists", which
# every solution and revision written bumps:
# every comment written: the comments list, and the comment counts on the solutions and
# challenges lists (a comment bumps its solution's count with an UPDATE, which sends no signal);
COMMENTS = "comments"
# every challenge proposal and backing written: the proposals list and pages (backing counts);
PROPOSALS = "proposals"
# every offer of changes upstream written: the upstream proposals list.
UPSTREAM = "upstream"


def challenge_scope(challenge_id: int | None) -> list[str]:
    slug = Challenge.objects.filter(pk=challenge_id).values_list("slug", flat=True).first()
    return [f"challenge:{slug}"] if slug else []


def challenge_and_solutions(challenge_id: int) -> list[str]:
    """A challenge's page and every one of its solution pages (e.g. after its ranks moved)."""
    ids = Solution.objects.filter(challenge_id=challenge_id).values_list("pk", flat=True)
    return [*challenge_scope(challenge_id), *(f"solution:{pk}" for pk in ids)]


def solution_scopes(solution_id: int | None, held: Solution | None = None) -> list[str]:
    """A solution's page, its challenge's page (its row there) and its lineage's pages. `held`
    is the row the writer already holds (a vote's solution): read from it when its challenge
    and author are loaded, so a vote asks nothing more."""
    field = Solution._meta.get_field
    if held is not None and field("challenge").is_cached(held) and field("author").is_cached(held):
        solution = held
    else:
        solution = (
            Solution.objects.filter(pk=solution_id)
            .select_related("challenge", "author")
            .only("path", "challenge__slug", "author__username")
            .first()
        )
    if solution is None:
        return [f"solution:{solution_id}"] if solution_id else []
    return [
        f"solution:{solution.pk}",
        *(f"solution:{pk}" for pk in solution.ancestor_ids),
        f"challenge:{solution.challenge.slug}",
        f"member:{solution.author.username}",
    ]


def _solution(solution: Solution) -> list[str]:
    return [
        f"solution:{solution.pk}",
        *(f"solution:{pk}" for pk in solution.ancestor_ids),
        *challenge_scope(solution.challenge_id),
        f"member:{solution.author.username}",
        "lists",  # solution counts on the lists, search
    ]


def _comment(comment: Comment) -> list[str]:
    if comment.solution_id:
        # The challenge's page shows each solution's comment count.
        if Comment._meta.get_field("solution").is_cached(comment):
            challenge_id = comment.solution.challenge_id  # the writer's row: no query
        else:  # the solution may be gone (a removed draft's comments)
            rows = Solution.objects.filter(pk=comment.solution_id)
            challenge_id = rows.values_list("challenge_id", flat=True).first()
        return [f"solution:{comment.solution_id}", *challenge_scope(challenge_id), COMMENTS]
    return [*challenge_scope(comment.challenge_id), COMMENTS]


def _upstream(proposal: UpstreamProposal) -> list[str]:
    return [f"solution:{proposal.fork_id}", f"solution:{proposal.parent_id}", UPSTREAM]


def connect() -> None:
    # A challenge's title, status and visibility show on every list, on its solutions' pages and
    # decide who may see them: any change drops every page (challenge edits are rare).
    on_save_and_delete(Challenge, lambda c: ["site"])
    on_save_and_delete(Criterion, lambda c: ["site"])
    # A translation shows on its challenge's page only (the lists show the original titles).
    on_save_and_delete(ChallengeTranslation, lambda t: challenge_scope(t.challenge_id))
    on_save_and_delete(Tag, lambda t: ["site"])
    # Organisers, tags and values are shown with the challenge everywhere; adding one saves
    # no challenge row. Invited members see a private challenge (sees_as_visitor).
    for field in ("organisers", "invited", "tags", "values"):
        on_m2m_change(getattr(Challenge, field).through, lambda c: ["site"])
    on_save_and_delete(Solution, _solution)
    on_save_and_delete(Revision, lambda r: [*solution_scopes(r.solution_id), "lists"])
    on_save_and_delete(Comment, _comment)
    on_save_and_delete(UpstreamProposal, _upstream)
    # Publishing a round moves its challenge's last activity (an UPDATE): the lists sort by it.
    on_save_and_delete(
        SelectionRound, lambda r: [*challenge_and_solutions(r.challenge_id), "lists"]
    )
    on_save_and_delete(ChallengeProposal, lambda p: [PROPOSALS])
    # A backing moves its proposal's count with an UPDATE.
    on_save_and_delete(ProposalBacking, lambda b: [PROPOSALS])
    on_save_and_delete(SelectionEntry, lambda e: solution_scopes(e.solution_id))
    # Moves due challenges to `selecting` with one UPDATE, which sends no signal.
    after_task(
        "challenges.tasks.close_challenges_past_deadline",
        lambda args, kwargs, moved: ["site"] if moved else [],
    )


def _alike(request, kept: Fragments, alike) -> bool:
    """Whether this member may share what is kept for visitors (`as_visitors_see`)."""
    return kept.on and sees_as_visitor(request) and (alike is None or alike())


def sees_as_visitor(request) -> bool:
    """permissions.sees_as_visitor for the request's member, its answer kept under the versions
    of "site" and of the member's page, which everything it reads bumps: a challenge's
    visibility, status, organisers and invited members ("site"), the member's own solutions and
    staff status ("member:<username>"). A stale answer could only show a member less than they
    may see, never more: what is shared is what visitors see."""
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return True
    known = getattr(user, "_peerhub_sees_as_visitor", None)
    if known is None:
        kept = Fragments(request, [f"member:{user.username}"])
        known = kept.value("sees-as-visitor", user.pk, lambda: permissions.sees_as_visitor(user))
        user._peerhub_sees_as_visitor = known
    return known


def as_visitors_see(request, scopes: list[str], name: str, body, *, alike=None) -> SafeString:
    """A page's part that depends on the member only through what they may see: `body(user)`
    (HTML) rendered for a visitor and kept under the visitors' page versions of `scopes`, as
    one copy per query string, for every member who sees what a visitor sees
    (permissions.sees_as_visitor) and, when given, for whom `alike()` holds (nothing else sets
    them apart, such as their own paused offers); rendered for the member themselves otherwise,
    or with the cache off."""
    kept = Fragments(request, scopes)
    if _alike(request, kept, alike):
        return kept.get(name, request.GET.urlencode(), lambda: body(AnonymousUser()))
    return mark_safe(body(request.user))  # noqa: S308  (rendered by a template)


def visitors_value(request, scopes: list[str], name: str, variant, compute, *, alike=None):
    """`as_visitors_see` for data (several parts of one page, say): `compute(user)`'s answer,
    which must pickle, computed for a visitor and kept under the visitors' page versions of
    `scopes` by `variant` for every member who may share it, or computed for the member."""
    kept = Fragments(request, scopes)
    if _alike(request, kept, alike):
        return kept.value(name, variant, lambda: compute(AnonymousUser()))
    return compute(request.user)


def visitors_or_own_value(request, scopes: list[str], name: str, variant, compute, *, own: bool):
    """`visitors_value` on a page about someone else; on a member's page about themselves
    (`own`: their profile), their own copy of `compute(member)`, kept the same way under the
    page's versions, which their own writes bump, for them alone."""
    if own and request.user.is_authenticated:
        kept = Fragments(request, scopes)
        return kept.value(name, (variant, "own", request.user.pk), lambda: compute(request.user))
    return visitors_value(request, scopes, name, variant, compute)


def visitors_row(request, scopes: list[str], name: str, key, fetch):
    """A page's own row (a challenge, a solution) as a visitor reads it, kept like
    `visitors_value` for every member who may share it: `fetch(user)` reads it or raises
    Http404. What a visitor may not see is read for the member, who may see it or gets the
    404; whatever a visitor sees, every member sees too."""

    def read(user):
        try:
            return fetch(user)
        except Http404:
            return None

    row = visitors_value(request, scopes, name, key, read)
    return row if row is not None else fetch(request.user)


def kept_challenge(request, slug: str) -> Challenge:
    """A challenge's row as a visitor reads it in the reader's language
    (`selectors.challenge_get`, which raises Http404 when the member may not see it), kept for
    every member who sees what a visitor sees under its page's versions: its page's and its
    selection page's. The follow button's figures are read for a member alone."""
    from peerhub import languages

    from . import selectors

    language = languages.reader_language()
    return visitors_row(
        request,
        [f"challenge:{slug}"],
        "challenge-row",
        slug,
        lambda user: selectors.challenge_get(
            user=user, slug=slug, language=language, follow_tally=user.is_authenticated
        ),
    )


def kept_solution(request, pk: int, *, figures: bool = True) -> Solution:
    """A solution's row as a visitor reads it (`selectors.solution_get`, which raises Http404
    when the member may not see it), kept for every member who sees what a visitor sees under
    its page's versions; without the figures other apps add for the pages that show none (its
    history, diffs, lineage and reviews)."""
    from . import selectors

    return visitors_row(
        request,
        [f"solution:{pk}"],
        "solution-row" if figures else "solution-row-bare",
        pk,
        lambda user: selectors.solution_get(user=user, pk=pk, figures=figures),
    )


def api_as_visitors_see(request, scopes: list[str], name: str, answer, *, alike=None) -> Response:
    """`as_visitors_see` for an API answer: `answer(user)` (a Response) as a visitor would get
    it, its data kept, one copy per host and query string (its links are absolute)."""
    kept = Fragments(request, scopes)
    if _alike(request, kept, alike):
        variant = (request.get_host(), request.GET.urlencode())
        return Response(kept.value(name, variant, lambda: answer(AnonymousUser()).data))
    return answer(request.user)
