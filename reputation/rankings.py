"""Reads of fitness and rank: a challenge's ranking, one solution's score explained in words,
the platform's rankings (fittest this month, most built-upon lines), and the orderings that the
challenge page offers through the `solution_sorts` hook. Every function answers in a fixed
number of queries, whatever the number of rows."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import F, FilteredRelation, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from challenges import permissions as challenge_permissions
from challenges.models import Challenge, Solution

from .models import SolutionScore

FITTEST_WINDOW_DAYS = 30
BOARDS = {"fittest": _("Fittest this month"), "built-upon": _("Most built-upon lines")}

COMPONENT_LABELS = {
    "votes": pgettext_lazy("fitness component", "Votes"),
    "reviews": pgettext_lazy("fitness component", "Reviews"),
    "descendants": pgettext_lazy("fitness component", "Built upon"),
    "adoption": pgettext_lazy("fitness component", "Adoption"),
    "selection": pgettext_lazy("fitness component", "Organiser selection"),
}


# --- Orderings for the challenge page (hook `solution_sorts`) --------------------------------


def order_by_rank(solutions: QuerySet[Solution]) -> QuerySet[Solution]:
    """Ranked solutions first, by rank; those not ranked yet (just published, not recomputed)
    after them, newest first."""
    # The join names the challenge too, so the database reads only that challenge's scores
    # (index score_challenge_rank) instead of hashing every score on the platform.
    return solutions.annotate(
        challenge_score=FilteredRelation(
            "score", condition=Q(score__challenge_id=F("challenge_id"))
        )
    ).order_by(F("challenge_score__rank").asc(nulls_last=True), "-published_at", "-pk")


def order_by_reviews(solutions: QuerySet[Solution]) -> QuerySet[Solution]:
    """The most reviewed first (every review, outliers included: the count kept on the score
    row, reputation.review_counts), then the newest. Read through the same join as the rank,
    instead of counting every solution's reviews."""
    return solutions.annotate(
        challenge_score=FilteredRelation(
            "score", condition=Q(score__challenge_id=F("challenge_id"))
        ),
        review_total=Coalesce(F("challenge_score__review_count"), 0),
    ).order_by("-review_total", "-published_at", "-pk")


# --- Explanations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentLine:
    name: str
    label: str
    detail: str
    weight: float
    value: float
    points: Decimal

    @property
    def weight_percent(self) -> str:
        return f"{self.weight * 100:g} %"


def _fmt(number) -> str:
    """Up to two decimals, as the reader's language writes them ("0.09", "0,09")."""
    return number_format(Decimal(f"{float(number):.2f}".rstrip("0").rstrip(".")))


def _detail(name: str, part: dict) -> str:
    """What a component measured, in words, in the active language."""
    if name == "votes":
        up, down = part.get("up", 0), part.get("down", 0)
        if up + down == 0:
            return gettext("No counted votes yet.")
        return gettext(
            "{up} up, {down} down: the Wilson lower bound (95 %) of the share of upvotes is "
            "{value}."
        ).format(up=up, down=down, value=_fmt(part["value"]))
    if name == "reviews":
        prior = _fmt(part.get("prior", 3))
        if not part.get("count"):
            return gettext(
                "No reviews yet: the challenge's mean review ({prior} of 5) stands in until "
                "reviews arrive."
            ).format(prior=prior)
        count = part["count"]
        return ngettext(
            "{count} review, mean {mean} of 5; with the challenge's mean ({prior}) as prior, "
            "{bayesian} of 5.",
            "{count} reviews, mean {mean} of 5; with the challenge's mean ({prior}) as prior, "
            "{bayesian} of 5.",
            count,
        ).format(
            count=count,
            mean=_fmt(part["mean"]),
            prior=prior,
            bayesian=_fmt(part["bayesian_mean"]),
        )
    if name == "descendants":
        count = part.get("count", 0)
        if not count:
            return gettext(
                "Not built upon by other members yet (the author's own forks and unchanged "
                "copies do not count)."
            )
        return ngettext(
            "Built upon by {count} published solution of other members, each weighted by its "
            "own votes and reviews, halving per generation (the author's own forks and "
            "unchanged copies do not count).",
            "Built upon by {count} published solutions of other members, each weighted by its "
            "own votes and reviews, halving per generation (the author's own forks and "
            "unchanged copies do not count).",
            count,
        ).format(count=count)
    if name == "adoption":
        offers, orders = part.get("offers", 0), part.get("orders", 0)
        if not offers and not orders:
            return gettext("No marketplace service is based on this solution yet.")
        completed = ngettext(
            "{count} completed service order", "{count} completed service orders", orders
        ).format(count=orders)
        active = ngettext("{count} active offer", "{count} active offers", offers).format(
            count=offers
        )
        return gettext(
            "{orders} and {offers} in the marketplace are based on this solution."
        ).format(orders=completed, offers=active)
    if name == "selection":
        outcome, number = part.get("outcome"), part.get("round")
        if outcome == "winner":
            return gettext(
                "Selected as a winner by the organisers in selection round {number}."
            ).format(number=number)
        if outcome == "shortlisted":
            return gettext("Shortlisted by the organisers in selection round {number}.").format(
                number=number
            )
        return gettext("Not shortlisted in a published selection round.")
    return ""


def explanation(score: SolutionScore) -> list[ComponentLine]:
    """The components of a score as lines a member reads; their points add up to the fitness."""
    lines = []
    for name, label in COMPONENT_LABELS.items():
        part = score.components.get(name)
        if part is None:
            continue
        lines.append(
            ComponentLine(
                name=name,
                label=label,
                detail=_detail(name, part),
                weight=float(part["weight"]),
                value=float(part["value"]),
                points=Decimal(str(part["points"])),
            )
        )
    return lines


def score_context(
    score: SolutionScore | None, *, withdrawn: bool = False, copy: bool = False
) -> dict:
    """What a solution row shows of its score; `copy`: a published fork still a copy of its
    source, scored but not ranked (reputation.fitness)."""
    # A row without components was made for the review queue before the solution's first
    # recompute (reputation.review_counts): not ranked yet.
    if score is not None and not score.components:
        score = None
    return {
        "score": score,
        "lines": explanation(score) if score else [],
        "withdrawn": withdrawn,
        "copy": copy and not withdrawn,
    }


# --- Rankings --------------------------------------------------------------------------------


def challenge_ranking(challenge: Challenge) -> QuerySet[SolutionScore]:
    """The ranked (published) solutions of a challenge, best first. The caller has checked that
    the member may see the challenge; ranked solutions are published, so visible with it."""
    return (
        SolutionScore.objects.filter(challenge=challenge, rank__isnull=False)
        .select_related("solution__author")
        .order_by("rank")
    )


def platform_ranking(*, viewer, board: str = "fittest") -> QuerySet[SolutionScore]:
    """Across every challenge the viewer may see: the fittest solutions published in the last
    30 days, or the lineage roots most built upon by others (all time). Each board reads the
    scores alone, through its own partial index (a score carries its solution's publication
    time and whether it starts a lineage); only the page's rows meet their solutions."""
    scores = SolutionScore.objects.filter(
        rank__isnull=False,
        challenge__in=challenge_permissions.challenges_visible_to(viewer).values("pk"),
    ).select_related("solution__author", "challenge")
    if board == "built-upon":
        return scores.filter(is_root=True, built_upon__gt=0).order_by(
            "-built_upon", "-fitness", "solution_id"
        )
    since = timezone.now() - timedelta(days=FITTEST_WINDOW_DAYS)
    return scores.filter(published_at__gte=since).order_by("-fitness", "solution_id")
