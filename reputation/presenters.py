"""What the reputation pages and API show: ledger lines explained in words, and the vote and
review panel of a solution. Reads only; the rules stay in services, selectors and the ledger.

Every function here answers in a fixed number of queries, whatever the number of rows."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

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
        return _("a deleted solution")
    if solution.pk not in visible:
        return _("a private solution")
    return _("“{title}”").format(title=solution.title)


# What a moderation line names: "your <item>" (the kind in its fact key), worded whole so that
# each language agrees the possessive with the noun.
_YOUR_ITEM = {
    "solution": pgettext_lazy("flagged item", "your solution"),
    "revision": pgettext_lazy("flagged item", "your revision"),
    "comment": pgettext_lazy("flagged item", "your comment"),
    "offer": pgettext_lazy("flagged item", "your offer"),
    "order_message": pgettext_lazy("flagged item", "your order message"),
    "profile": pgettext_lazy("flagged item", "your profile"),
}
FLAG_REASON_NAMES = {
    "spam": pgettext_lazy("confirmed flag reason", "spam"),
    "abusive": pgettext_lazy("confirmed flag reason", "abuse"),
    "plagiarism": pgettext_lazy("confirmed flag reason", "plagiarism"),
    "off_topic": pgettext_lazy("confirmed flag reason", "off-topic content"),
    "other": pgettext_lazy("confirmed flag reason", "a problem"),
}


def _moderation_line(event: ReputationEvent, correction: bool) -> tuple[str, bool]:
    # fact key: moderation:<case>:<kind>:<reason>
    _prefix, _case, item, reason = [*event.fact_key.split(":"), "", "", ""][:4]
    what = _YOUR_ITEM.get(item)
    if what is None:
        what = _("your {item}").format(item=item.replace("_", " ")) if item else _("your content")
    why = FLAG_REASON_NAMES.get(reason, reason)
    if correction:
        return _("Correction: moderators restored {item} ({reason} no longer confirmed)").format(
            item=what, reason=why
        ), True
    return _("Moderators confirmed {reason} on {item}").format(reason=why, item=what), False


# The kinds worded alike: the first line of a fact, and the sentence of its corrections.
# Placeholders: {actor}, {target} (the solution), {source} (the fork or change it came from).
_FIRST_AND_CORRECTION = {
    Kind.FORKED: (
        gettext_lazy("{actor} forked your solution {target} as {source}"),
        gettext_lazy("Correction: a fork of your solution {target} no longer counts"),
    ),
    Kind.REVIEW_RECEIVED: (
        gettext_lazy("{actor} reviewed your solution {target}"),
        gettext_lazy("Correction: {actor} changed their review of your solution {target}"),
    ),
    Kind.UPSTREAM_ACCEPTED: (
        gettext_lazy("{actor} accepted your change from {source} into {target}"),
        gettext_lazy("Correction: your accepted change to {target} no longer counts"),
    ),
    Kind.MANIFESTO_SIGNED: (
        gettext_lazy("You signed the manifesto"),
        gettext_lazy("Correction: manifesto signature"),
    ),
    Kind.SHORTLISTED: (
        gettext_lazy("The organisers shortlisted your solution {target}"),
        gettext_lazy("Correction: reputation for your solution {target} being shortlisted changed"),
    ),
    Kind.SELECTED: (
        gettext_lazy("The organisers selected your solution {target} as a winner"),
        gettext_lazy(
            "Correction: reputation for your solution {target} selected as a winner changed"
        ),
    ),
}


def _describe(event: ReputationEvent, visible: set[int]) -> tuple[str, bool]:
    """(sentence, is_correction), in the active language. A correction (any line after the
    first of its fact) undoes or adjusts what the first line gave, because the fact changed: a
    vote removed or flipped, a review edited. Stored lines keep their reason as the rules'
    English note (`ReputationEvent.note`): it is worded here, from its kind and note, for each
    reader."""
    correction = event.seq > 1
    actor = event.actor.name if event.actor else _("A former member")
    target = _title(event.solution, visible)
    source = _title(event.source_solution, visible)
    positive = event.amount > 0
    kind = event.kind
    review = kind == Kind.REVIEW_RECEIVED
    if kind == Kind.MODERATION_PENALTY:
        return _moderation_line(event, correction)
    if event.note and kind == Kind.ORDER_REVIEWED:
        # Not counted as a suspected wash trade, or counted again once staff cleared it.
        return _("{actor}'s review of a service you delivered: {note}").format(
            actor=actor, note=rules.note_text(event.note)
        ), correction
    if event.note:
        note = rules.note_text(event.note)
        if correction:
            # Taken back although the fact stands, e.g. a vote judged serial.
            text = (
                _("Correction ({note}): {actor}'s review of {target} no longer counts")
                if review
                else _("Correction ({note}): {actor}'s vote on {target} no longer counts")
            )
            return text.format(note=note, actor=actor, target=target), True
        # A line of 0: the fact stands but gives nothing, e.g. a low-trust member's vote.
        text = (
            _("{actor}'s review of your solution {target}: {note}")
            if review
            else _("{actor}'s vote on your solution {target}: {note}")
        )
        return text.format(actor=actor, target=target, note=note), False
    if kind == Kind.UPVOTE_RECEIVED:
        if correction and not positive:
            return _(
                "Correction: vote removed — {actor}'s upvote on your solution {target}"
            ).format(actor=actor, target=target), True
        return _("{actor} upvoted your solution {target}").format(
            actor=actor, target=target
        ), correction
    if kind == Kind.DOWNVOTE_RECEIVED:
        if correction and positive:
            return _("Correction: vote removed — a downvote on your solution {target}").format(
                target=target
            ), True
        # Downvoters stay anonymous, as on most Q&A sites: no retaliation.
        return _("Someone downvoted your solution {target}").format(target=target), correction
    if kind == Kind.DOWNVOTE_CAST:
        if correction and positive:
            return _("Correction: you removed your downvote on {target}").format(
                target=target
            ), True
        return _("You downvoted {target} (downvotes cost a little)").format(
            target=target
        ), correction
    if kind in _FIRST_AND_CORRECTION:
        first, again = _FIRST_AND_CORRECTION[kind]
        text = again if correction else first
        return str(text).format(actor=actor, target=target, source=source), correction
    if kind == Kind.LINEAGE_CREDIT:
        if correction:
            return _(
                "Correction: lineage credit from {target}, a descendant of your {source}, changed"
            ).format(target=target, source=source), True
        text = (
            _("{source}'s descendant {target} was reviewed (lineage credit)")
            if event.fact_key.startswith("review:")
            else _("{source}'s descendant {target} was upvoted (lineage credit)")
        )
        return text.format(source=source, target=target), False
    if kind == Kind.ORDER_REVIEWED:
        if event.solution_id:
            if correction:
                return _(
                    "Correction: the review of a service you delivered, based on {target}, changed"
                ).format(target=target), True
            return _("{actor} rated a service you delivered highly, based on {target}").format(
                actor=actor, target=target
            ), False
        if correction:
            return _("Correction: the review of a service you delivered changed"), True
        return _("{actor} rated a service you delivered highly").format(actor=actor), False
    return str(event.get_kind_display()), correction


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


def _reviews_and_means(reader, solution: Solution) -> tuple[list[Review], list[dict], int]:
    """A solution's latest reviews as `reader` sees them (their own first, in the same query),
    their scores in place, its means per criterion, and whom they were read for."""
    reviews = selectors.solution_reviews_with_scores(solution)
    if getattr(reader, "is_authenticated", False):
        mine_first = Case(When(reviewer_id=reader.pk, then=Value(0)), default=Value(1))
        reviews = reviews.order_by(mine_first, "-updated_at")
    reviews = list(reviews[:REVIEWS_ON_SOLUTION_PAGE])
    means = selectors.criterion_means(solution)
    selectors.attach_review_scores(reviews, criteria=[row["criterion"] for row in means])
    return reviews, means, reader.pk


def solution_panel(*, request, solution: Solution) -> list[tuple[str, dict]]:
    """The sections the solution page shows: votes and review means, then reviews and the
    review form."""
    from challenges.pagecache import visitors_value

    user = request.user
    # The latest reviews and the means as a visitor reads them, kept for every member who sees
    # what a visitor sees (with the solution's page: reviews bump it); read for anyone else.
    latest, means, read_for = visitors_value(
        request,
        [f"solution:{solution.pk}"],
        "solution-reviews",
        solution.pk,
        lambda reader: _reviews_and_means(reader, solution),
    )
    criteria = [row["criterion"] for row in means]
    authenticated = getattr(user, "is_authenticated", False)
    # The member's own review comes first: they see it, and the form reads it.
    mine = my_review(user=user, solution=solution, among=latest, among_is_all=True)
    if authenticated and mine is None and read_for != user.pk:  # read as a visitor reads them
        mine = selectors.solution_reviews_with_scores(solution).filter(reviewer=user).first()
        if mine is not None:
            selectors.attach_review_scores([mine], criteria=criteria)
    reviews = latest
    if mine is not None:
        others = [review for review in latest if review.pk != mine.pk]
        reviews = [mine, *others][:REVIEWS_ON_SOLUTION_PAGE]
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
