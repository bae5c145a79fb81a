"""What the reputation pages and API show: ledger lines explained in words, and the vote and
review panel of a solution. Reads only; the rules stay in services, selectors and the ledger.

Every function here answers in a fixed number of queries, whatever the number of rows."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from challenges import permissions as challenge_permissions
from challenges.models import Solution

from . import rules, selectors
from .models import ReputationEvent, Review, SolutionScore, Vote

Kind = ReputationEvent.Kind
REVIEWS_ON_SOLUTION_PAGE = 20


@dataclass(frozen=True)
class EventLine:
    """One ledger line as a member reads it: what happened, and the solution it happened to."""

    event: ReputationEvent
    text: str
    correction: bool
    solution: Solution | None  # None when the viewer may not see it

    @property
    def amount(self) -> Decimal:
        return self.event.amount

    @property
    def url(self) -> str | None:
        return self.solution.get_absolute_url() if self.solution else None


def _visible_solution_ids(viewer, events) -> set[int]:
    ids = {e.solution_id for e in events} | {e.source_solution_id for e in events}
    ids.discard(None)
    if not ids:
        return set()
    visible = challenge_permissions.solutions_visible_to(viewer).filter(pk__in=ids)
    return set(visible.values_list("pk", flat=True))


def _title(solution: Solution | None, visible: set[int]) -> str:
    if solution is None:
        return "a deleted solution"
    if solution.pk not in visible:
        return "a private solution"
    return f"“{solution.title}”"


def _describe(event: ReputationEvent, visible: set[int]) -> tuple[str, bool]:
    """(sentence, is_correction). A correction (any line after the first of its fact) undoes or
    adjusts what the first line gave, because the fact changed: a vote removed or flipped, a
    review edited."""
    correction = event.seq > 1
    actor = event.actor.name if event.actor else "A former member"
    target = _title(event.solution, visible)
    source = _title(event.source_solution, visible)
    positive = event.amount > 0
    kind = event.kind
    what = "review of" if kind == Kind.REVIEW_RECEIVED else "vote on"
    if kind == Kind.MODERATION_PENALTY:
        # fact key: moderation:<case>:<kind>:<reason>
        _prefix, _case, item, reason = [*event.fact_key.split(":"), "", "", ""][:4]
        what = f"your {item.replace('_', ' ')}" if item else "your content"
        if correction:
            return f"Correction: moderators restored {what} ({reason} no longer confirmed)", True
        return f"Moderators confirmed {reason} on {what}", False
    if event.note and correction:
        # Taken back although the fact stands, e.g. a vote judged serial.
        return f"Correction ({event.note}): {actor}'s {what} {target} no longer counts", True
    if event.note:
        # A line of 0: the fact stands but gives nothing, e.g. a low-trust member's vote.
        return f"{actor}'s {what} your solution {target}: {event.note}", False
    if kind == Kind.UPVOTE_RECEIVED:
        if correction and not positive:
            return f"Correction: vote removed — {actor}'s upvote on your solution {target}", True
        return f"{actor} upvoted your solution {target}", correction
    if kind == Kind.DOWNVOTE_RECEIVED:
        if correction and positive:
            return f"Correction: vote removed — a downvote on your solution {target}", True
        # Downvoters stay anonymous, as on most Q&A sites: no retaliation.
        return f"Someone downvoted your solution {target}", correction
    if kind == Kind.DOWNVOTE_CAST:
        if correction and positive:
            return f"Correction: you removed your downvote on {target}", True
        return f"You downvoted {target} (downvotes cost a little)", correction
    if kind == Kind.FORKED:
        if correction:
            return f"Correction: a fork of your solution {target} no longer counts", True
        return f"{actor} forked your solution {target} as {source}", False
    if kind == Kind.REVIEW_RECEIVED:
        if correction:
            return f"Correction: {actor} changed their review of your solution {target}", True
        return f"{actor} reviewed your solution {target}", False
    if kind == Kind.UPSTREAM_ACCEPTED:
        if correction:
            return f"Correction: your accepted change to {target} no longer counts", True
        return f"{actor} accepted your change from {source} into {target}", False
    if kind == Kind.MANIFESTO_SIGNED:
        return ("Correction: manifesto signature" if correction else "You signed the manifesto"), (
            correction
        )
    if kind in (Kind.SHORTLISTED, Kind.SELECTED):
        what = "shortlisted" if kind == Kind.SHORTLISTED else "selected as a winner"
        if correction:
            return f"Correction: reputation for your solution {target} {what} changed", True
        return f"The organisers {what} your solution {target}", False
    if kind == Kind.LINEAGE_CREDIT:
        how = "reviewed" if event.fact_key.startswith("review:") else "upvoted"
        if correction:
            return (
                f"Correction: lineage credit from {target}, a descendant of your {source}, changed",
                True,
            )
        return f"{source}'s descendant {target} was {how} (lineage credit)", False
    if kind == Kind.ORDER_REVIEWED:
        based = f", based on {target}" if event.solution_id else ""
        if correction:
            return f"Correction: the review of a service you delivered{based} changed", True
        return f"{actor} rated a service you delivered highly{based}", False
    return event.get_kind_display(), correction


def event_lines(*, viewer, events) -> list[EventLine]:
    """Ledger lines (from `selectors.reputation_events`) in words; one query for visibility."""
    events = list(events)
    visible = _visible_solution_ids(viewer, events)
    lines = []
    for event in events:
        text, correction = _describe(event, visible)
        link = event.solution if event.solution_id in visible else None
        if link is None and event.source_solution_id in visible:
            link = event.source_solution
        lines.append(EventLine(event=event, text=text, correction=correction, solution=link))
    return lines


def load_row_facts(solutions) -> None:
    """The vote score and the SolutionScore of each solution row on a challenge page, in one
    query for the page, kept on the rows (`reputation_votes`, `reputation_score`): the
    solution_row_figures and solution_row_sections hooks both read them."""
    missing = [s for s in solutions if not hasattr(s, "reputation_votes")]
    if not missing:
        return
    votes = (
        Vote.objects.filter(solution=OuterRef("pk"))
        .order_by()
        .values("solution")
        .annotate(total=Sum("value"))
        .values("total")
    )
    rows = {
        row.pk: row
        for row in Solution.objects.filter(pk__in=[s.pk for s in missing])
        .select_related("score")
        .only("pk", *(f"score__{f.attname}" for f in SolutionScore._meta.concrete_fields))
        .annotate(vote_total=Coalesce(Subquery(votes), 0))
    }
    for solution in missing:
        row = rows.get(solution.pk)
        solution.reputation_votes = row.vote_total if row else 0
        solution.reputation_score = getattr(row, "score", None) if row else None


# --- The solution page's panel --------------------------------------------------------------


def vote_widget_context(
    *, user, solution: Solution, message: str = "", error: bool = False, read_with: bool = False
):
    """`read_with`: use the tally solution_get read with the solution (the solution page);
    otherwise (after a vote) count again."""
    known = selectors.vote_tally_read_with(solution, user) if read_with else None
    if known is not None:
        tally, my_vote = known
    else:
        tally = selectors.vote_tally(solution)
        my_vote = selectors.votes_by(user, [solution.pk]).get(solution.pk, 0)
    authenticated = getattr(user, "is_authenticated", False)
    return {
        "solution": solution,
        "tally": tally,
        "my_vote": my_vote,
        "can_try_voting": (
            authenticated
            and solution.author_id != user.pk
            and solution.status == Solution.Status.PUBLISHED
        ),
        "own_solution": authenticated and solution.author_id == user.pk,
        "vote_message": message,
        "vote_error": error,
    }


def review_form_context(*, user, solution: Solution, criteria, mine: Review | None, data=None):
    """The review form: a radio group from 1 to 5 per criterion and a comment, pre-filled with the
    member's review (or with what they just sent, when it was refused)."""
    if data is not None:
        chosen = {c.pk: data.get(f"criterion-{c.pk}", "") for c in criteria}
        comment = data.get("comment", "")
    elif mine is not None:
        chosen = {s.criterion_id: str(s.score) for s in mine.scores.all()}
        comment = mine.comment
    else:
        chosen, comment = {}, ""
    authenticated = getattr(user, "is_authenticated", False)
    needed = rules.privileges().get("reputation.add_review")
    return {
        "solution": solution,
        "review_rows": [
            {"criterion": c, "chosen": chosen.get(c.pk, ""), "name": f"criterion-{c.pk}"}
            for c in criteria
        ],
        "review_comment": comment,
        "my_review": mine,
        "can_review": (
            authenticated
            and solution.author_id != user.pk
            and solution.status == Solution.Status.PUBLISHED
            and bool(criteria)
            and user.has_perm("reputation.add_review")
        ),
        "review_needs_level": (
            authenticated
            and solution.author_id != user.pk
            and not user.has_perm("reputation.add_review")
        ),
        "review_level": needed,
        "review_level_name": rules.LEVEL_NAMES.get(needed, ""),
        "score_choices": range(1, 6),
    }


def my_review(*, user, solution: Solution, among=(), among_is_all=False) -> Review | None:
    """The member's review of the solution; `among` (with `among_is_all` when it holds every
    review) saves the query when the page already loaded it."""
    if not getattr(user, "is_authenticated", False):
        return None
    for review in among:
        if review.reviewer_id == user.pk:
            return review
    if among_is_all:
        return None
    return (
        Review.objects.filter(solution=solution, reviewer=user).prefetch_related("scores").first()
    )


def solution_panel(*, request, solution: Solution) -> list[tuple[str, dict]]:
    """The sections the solution page shows: votes and review means, then reviews and the
    review form."""
    user = request.user
    reviews = selectors.solution_reviews_with_scores(solution)
    if getattr(user, "is_authenticated", False):
        # The member's own review first: they see it, and the form needs no query of its own.
        mine_first = Case(When(reviewer_id=user.pk, then=Value(0)), default=Value(1))
        reviews = reviews.order_by(mine_first, "-updated_at")
    reviews = list(reviews[:REVIEWS_ON_SOLUTION_PAGE])
    means = selectors.criterion_means(solution)
    criteria = [row["criterion"] for row in means]
    selectors.attach_review_scores(reviews, criteria=criteria)
    mine = my_review(
        user=user,
        solution=solution,
        among=reviews,
        among_is_all=True,
    )
    votes = vote_widget_context(user=user, solution=solution, read_with=True)
    votes["criterion_means"] = means
    votes["review_count"] = len(reviews)
    return [
        ("reputation/_solution_votes.html", votes),
        (
            "reputation/_solution_reviews.html",
            {
                "reviews": reviews,
                **review_form_context(user=user, solution=solution, criteria=criteria, mine=mine),
            },
        ),
    ]
