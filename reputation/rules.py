"""The numbers of the feedback loops, read from settings (PEERHUB_REPUTATION, PEERHUB_TRUST_LEVELS,
PEERHUB_PRIVILEGES, PEERHUB_DAILY_VOTES, PEERHUB_SERIAL_VOTING), with the defaults documented in
README.md."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

DEFAULTS = {
    "upvote_received": 10,
    "downvote_received": -2,
    "downvote_cast": -1,
    "forked": 5,
    # A review gives (mean score - 3) x review_weight: from -8 for all 1s to +8 for all 5s.
    "review_weight": 4,
    "upstream_accepted": 15,
    "manifesto_signed": 1,
    # Reputation from votes (received, and lineage credit from votes) per member per UTC day.
    "daily_vote_cap": 200,
    # A completed service order (marketplace) that its buyer rated 4 or 5 gives the seller
    # (rating - 3) x this: +10 or +20; lower ratings give nothing. Not under the daily cap.
    "order_review_weight": 10,
    # Share of a solution's earnings from votes and reviews for the authors of its parent,
    # grandparent, …; the list ends where the credit stops.
    "lineage_shares": ["0.20", "0.04"],
}

# Worded in the reader's language when shown (lazy); compare levels by number, never by name.
LEVEL_NAMES = {
    0: pgettext_lazy("trust level", "new"),
    1: pgettext_lazy("trust level", "member"),
    2: pgettext_lazy("trust level", "regular"),
    3: pgettext_lazy("trust level", "trusted"),
    4: pgettext_lazy("trust level", "leader"),
}
# Minimum reputation for levels 2-4; level 1 needs a verified e-mail address only.
DEFAULT_TRUST_LEVELS = {2: 50, 3: 500, 4: 2000}
DEFAULT_PRIVILEGES = {
    "reputation.vote_up": 1,
    "reputation.add_flag": 1,
    "challenges.add_challengeproposal": 1,
    "reputation.vote_down": 2,
    "reputation.add_review": 2,
    "challenges.more_file_space": 2,
    "marketplace.add_offer": 3,
    "challenges.moderate": 4,
    "reputation.review_flags": 4,
    "challenges.add_challenge": 4,
}
PRIVILEGE_LABELS = {
    "reputation.vote_up": _("vote solutions up"),
    "reputation.add_flag": _("flag spam, abuse and plagiarism"),
    "challenges.add_challengeproposal": _("propose challenges"),
    "reputation.vote_down": _("vote solutions down"),
    "reputation.add_review": _("review solutions against the criteria"),
    "challenges.more_file_space": _("attach larger files, with more space for them"),
    "marketplace.add_offer": _("sell hand-made services"),
    "challenges.moderate": _("moderate discussions"),
    "reputation.review_flags": _("review flagged content in the review queue"),
    "challenges.add_challenge": _("frame and run challenges (organiser)"),
}
DEFAULT_DAILY_VOTES = {1: 20, 2: 40, 3: 60, 4: 100}
# Serial voting: this many upvotes from one voter to one author's solutions within the window.
DEFAULT_SERIAL_VOTING = {"votes": 5, "window_hours": 24}
SERIAL_VOTING_NOTE = "reversed: serial voting"


@dataclass(frozen=True)
class Rules:
    upvote_received: Decimal
    downvote_received: Decimal
    downvote_cast: Decimal
    forked: Decimal
    review_weight: Decimal
    upstream_accepted: Decimal
    manifesto_signed: Decimal
    order_review_weight: Decimal
    daily_vote_cap: Decimal
    lineage_shares: tuple[Decimal, ...]


def rules() -> Rules:
    values = {**DEFAULTS, **getattr(settings, "PEERHUB_REPUTATION", {})}
    shares = tuple(Decimal(str(share)) for share in values.pop("lineage_shares"))
    return Rules(**{k: Decimal(str(v)) for k, v in values.items()}, lineage_shares=shares)


def trust_thresholds() -> dict[int, int]:
    return {**DEFAULT_TRUST_LEVELS, **getattr(settings, "PEERHUB_TRUST_LEVELS", {})}


def privileges() -> dict[str, int]:
    return {**DEFAULT_PRIVILEGES, **getattr(settings, "PEERHUB_PRIVILEGES", {})}


def daily_votes() -> dict[int, int]:
    return {**DEFAULT_DAILY_VOTES, **getattr(settings, "PEERHUB_DAILY_VOTES", {})}


@dataclass(frozen=True)
class SerialVoting:
    votes: int
    window: timedelta


def serial_voting() -> SerialVoting:
    values = {**DEFAULT_SERIAL_VOTING, **getattr(settings, "PEERHUB_SERIAL_VOTING", {})}
    return SerialVoting(
        votes=int(values["votes"]), window=timedelta(hours=float(values["window_hours"]))
    )


def level_for(*, total: Decimal, verified: bool) -> int:
    if not verified:
        return 0
    level = 1
    for candidate, minimum in sorted(trust_thresholds().items()):
        if total >= minimum:
            level = candidate
    return level


def level_sql(total: str, verified: str) -> tuple[str, list]:
    """`level_for` as an SQL expression over the given total and verified expressions, for the
    full fold of every score in one statement (reputation.ledger); tests prove they agree."""
    whens = "".join(
        f" WHEN {total} >= %s THEN {level}"
        for level, _minimum in sorted(trust_thresholds().items(), reverse=True)
    )
    params = [minimum for _level, minimum in sorted(trust_thresholds().items(), reverse=True)]
    return f"CASE WHEN NOT ({verified}) THEN 0{whens} ELSE 1 END", params


# --- Selection and fitness (issue 5) ---------------------------------------------------------

# Reputation for the author when a published selection round shortlists or selects a solution;
# not counted towards the daily vote cap. Override with PEERHUB_SELECTION_REPUTATION.
DEFAULT_SELECTION_REPUTATION = {"shortlisted": 20, "selected": 100}


def selection_reputation() -> dict[str, Decimal]:
    values = {
        **DEFAULT_SELECTION_REPUTATION,
        **getattr(settings, "PEERHUB_SELECTION_REPUTATION", {}),
    }
    return {key: Decimal(str(value)) for key, value in values.items()}


# The fitness blend (reputation.fitness, README "Rankings"). Each component is a value from 0
# to 1; fitness = 100 x the weighted sum, so with weights summing to 1 it runs from 0 to 100.
# Override any key with PEERHUB_FITNESS. Reviews carry the rank: graded against the
# challenge's criteria by members at level 2 or more, they follow quality far more closely than
# one-click votes, which follow exposure, or being built upon, which follows age (each alone
# against hidden quality at 5,000 members: reviews τ 0.84, votes 0.39, descendants 0.09;
# `manage.py simulate`, README "Trust and the community simulation"). Votes, descendants and
# adoption break near ties (votes before descendants: in a young challenge with few reviews the
# most liked, not the most copied, comes first); the organisers' selection is their published
# verdict.
DEFAULT_FITNESS = {
    "weights": {
        "votes": 0.01,
        "reviews": 0.785,
        "descendants": 0.005,
        "adoption": 0.05,
        "selection": 0.15,
    },
    # Wilson score lower bound at 95 % confidence.
    "wilson_z": 1.96,
    # Bayesian mean of review scores: the challenge's mean counts as this many reviews.
    "review_prior_weight": 2,
    # The prior when the challenge has no review yet: the middle of the 1-5 scale.
    "review_default_prior": 3,
    # A descendant counts (1 + its quality) / 2, times this per generation below the first.
    "descendant_decay": 0.5,
    # The descendants component is raw / (raw + this): half way at this many fit children.
    "descendant_half": 2,
    # Adoption (marketplace): completed orders based on the solution, plus this much per active
    # offer based on it; the component is raw / (raw + adoption_half).
    "adoption_offer_value": 0.5,
    "adoption_half": 2,
    # Organiser selection in a published round: a winner 1, a shortlisted solution this.
    "shortlist_value": 0.5,
    # How often the beat schedule recomputes every challenge, and how long the debounce waits.
    "debounce_seconds": 5,
}


@dataclass(frozen=True)
class Fitness:
    weights: dict[str, float]
    wilson_z: float
    review_prior_weight: float
    review_default_prior: float
    descendant_decay: float
    descendant_half: float
    adoption_offer_value: float
    adoption_half: float
    shortlist_value: float
    debounce_seconds: float


def fitness() -> Fitness:
    values = {**DEFAULT_FITNESS, **getattr(settings, "PEERHUB_FITNESS", {})}
    weights = {**DEFAULT_FITNESS["weights"], **values.pop("weights")}
    return Fitness(
        weights={key: float(value) for key, value in weights.items()},
        **{key: float(value) for key, value in values.items()},
    )


# --- Trust (issue 8, reputation.trust) --------------------------------------------------------

LOW_TRUST_NOTE = "not counted: low trust"
# Review bombing (issue 23, reputation.outliers): a review whose mean score lies `gap` points or
# more from the consensus of the solution's earlier reviews (the median of those written on
# earlier UTC days that counted, at least `min_earlier` of them) is an outlier: it counts
# neither in fitness nor on the ledger. Without such reviews, the solution's voters stand in:
# with at least `min_votes` votes last cast before the review's day by others than its
# reviewer, the consensus is 1 + 4 x their share of upvotes, and a review `vote_gap` points or
# more from it is an outlier. Votes are a coarse signal (members upvote what they like and
# mostly leave the rest: an honest 2 or 3 on a solution all its voters upvoted is common), so
# the voters judge only the extremes: the lowest marks on what nearly all voters liked.
# Override any key with PEERHUB_REVIEW_OUTLIERS.
OUTLIER_REVIEW_NOTE = "not counted: far from the earlier reviews or votes"
DEFAULT_REVIEW_OUTLIERS = {"gap": 2, "min_earlier": 1, "min_votes": 5, "vote_gap": 3.5}


@dataclass(frozen=True)
class ReviewOutliers:
    gap: Decimal
    min_earlier: int
    min_votes: int
    vote_gap: Decimal


def review_outliers() -> ReviewOutliers:
    values = {**DEFAULT_REVIEW_OUTLIERS, **getattr(settings, "PEERHUB_REVIEW_OUTLIERS", {})}
    return ReviewOutliers(
        gap=Decimal(str(values["gap"])),
        min_earlier=int(values["min_earlier"]),
        min_votes=int(values["min_votes"]),
        vote_gap=Decimal(str(values["vote_gap"])),
    )


# Votes and reviews on a fork whose body is still its source's judge the source's work: they
# earn the fork's author nothing, and lineage credit still flows to the ancestors.
UNCHANGED_FORK_NOTE = "not counted: unchanged fork"
VOTING_RING_NOTE = "not counted: voting ring"
# Trust is measured so that 1.0 is what a well-connected honest member receives from the walk;
# members below `relative_threshold` times the median trust of the members with any
# endorsement, or below `low_threshold` if that is higher, are low-trust: their votes and
# reviews count as votes but mint no reputation, and weigh `low_trust_fitness_weight` of a vote
# in fitness. `keep_snapshots` old snapshots stay for the record. A member with `ring_core` or
# more partners who upvote them and whom they upvote, each of those partners with as many inside
# the group (the group's k-core), is in a voting ring: upvotes on their work earn them nothing
# while it holds, and their own votes and reviews weigh `low_trust_fitness_weight` in fitness,
# as a low-trust member's do (issue 23). A member outside the ring who gave its members'
# work at least `backer_min` upvotes and good reviews, and at least `backer_share` of all
# their upvotes and good reviews, backs the ring (bribery, issue 23): on a ring member's work,
# the votes and reviews of the ring and of its backers count nothing in fitness. Override any
# key with PEERHUB_TRUST.
DEFAULT_TRUST = {
    "low_threshold": 0.2,
    "relative_threshold": 0.5,
    "low_trust_fitness_weight": 0.25,
    "review_good_mean": 3.5,
    "keep_snapshots": 5,
    "clusters_shown": 20,
    "ring_core": 5,
    "backer_min": 20,
    "backer_share": 0.25,
}


@dataclass(frozen=True)
class Trust:
    low_threshold: float
    relative_threshold: float
    low_trust_fitness_weight: float
    review_good_mean: float
    keep_snapshots: int
    clusters_shown: int
    ring_core: int
    backer_min: int
    backer_share: float


def trust() -> Trust:
    values = {**DEFAULT_TRUST, **getattr(settings, "PEERHUB_TRUST", {})}
    return Trust(
        low_threshold=float(values["low_threshold"]),
        relative_threshold=float(values["relative_threshold"]),
        low_trust_fitness_weight=float(values["low_trust_fitness_weight"]),
        review_good_mean=float(values["review_good_mean"]),
        keep_snapshots=int(values["keep_snapshots"]),
        clusters_shown=int(values["clusters_shown"]),
        ring_core=int(values["ring_core"]),
        backer_min=int(values["backer_min"]),
        backer_share=float(values["backer_share"]),
    )


# --- Flags and the review queue (issue 21, reputation.moderation) ------------------------------

# A flag weighs `level_weights[trust level]` times the flagger's accuracy factor (see
# `flag_weight`); an item whose pending flags weigh `hide_threshold` or more is hidden pending
# review. Staff flags weigh the threshold: one hides. Confirmed spam or abuse costs its author
# `penalties[reason]` reputation (Stack Overflow: -100). A spam decision also suspends the
# author's account when it is new: at most trust level `new_account_max_level` and joined
# fewer than `new_account_days` days ago. Override any key with PEERHUB_FLAGS.
DEFAULT_FLAGS = {
    "hide_threshold": 3,
    "level_weights": {1: 1, 2: 1.5, 3: 2, 4: 3},
    "penalties": {"spam": -100, "abusive": -100},
    "new_account_max_level": 1,
    "new_account_days": 30,
}


@dataclass(frozen=True)
class Flags:
    hide_threshold: Decimal
    level_weights: dict[int, Decimal]
    penalties: dict[str, Decimal]
    new_account_max_level: int
    new_account_days: int


def flags() -> Flags:
    values = {**DEFAULT_FLAGS, **getattr(settings, "PEERHUB_FLAGS", {})}
    return Flags(
        hide_threshold=Decimal(str(values["hide_threshold"])),
        level_weights={int(k): Decimal(str(v)) for k, v in values["level_weights"].items()},
        penalties={str(k): Decimal(str(v)) for k, v in values["penalties"].items()},
        new_account_max_level=int(values["new_account_max_level"]),
        new_account_days=int(values["new_account_days"]),
    )


def flag_weight(*, level: int, helpful: int, declined: int, staff: bool = False) -> Decimal:
    """How much one flag weighs: the flagger's trust level sets the base (level 0 carries no
    weight), and their record scales it by (helpful + 1) / (helpful + declined + 2) x 2, so a
    flagger without a record counts 1x, one whose flags were all upheld approaches 2x, and one
    whose flags were all declined sinks towards 0. Staff flags weigh the hide threshold."""
    config = flags()
    if staff:
        return config.hide_threshold
    base = config.level_weights.get(level)
    if base is None:
        base = config.level_weights[max(config.level_weights)] if level > 0 else Decimal(0)
    accuracy = Decimal(2 * (helpful + 1)) / Decimal(helpful + declined + 2)
    return (base * accuracy).quantize(Decimal("0.01"))


# --- Notes on ledger lines, in words ------------------------------------------------------------

# A ledger line keeps its note as the English constant above (stable: the ledger's SQL compares
# them); pages word it in the reader's language. The marketplace's wash-trading notes
# (marketplace.wash.NOTE and CLEARED_NOTE) are stored the same way.
WASH_TRADE_NOTE = "Not counted: buyer and seller trade mostly with each other."
WASH_CLEARED_NOTE = "Counted: staff cleared this order of wash trading."
NOTE_TEXTS = {
    SERIAL_VOTING_NOTE: _("reversed: serial voting"),
    LOW_TRUST_NOTE: _("not counted: low trust"),
    OUTLIER_REVIEW_NOTE: _("not counted: far from the earlier reviews or votes"),
    UNCHANGED_FORK_NOTE: _("not counted: unchanged fork"),
    VOTING_RING_NOTE: _("not counted: voting ring"),
    WASH_TRADE_NOTE: _("Not counted: buyer and seller trade mostly with each other."),
    WASH_CLEARED_NOTE: _("Counted: staff cleared this order of wash trading."),
}


def note_text(note: str) -> str:
    """A stored note in the active language (an unknown one as it was stored)."""
    text = NOTE_TEXTS.get(note)
    return str(text) if text is not None else note
