"""Solution fitness and rank within a challenge (DESIGN.md, idea 6; README "Rankings").

fitness = 100 x (w_votes x votes + w_reviews x reviews + w_descendants x descendants
                 + w_adoption x adoption + w_selection x selection)

with every component a value from 0 to 1 and the weights in settings (`rules.fitness()`):

- votes: the Wilson score lower bound (95 %) of the counted up and down votes; 0 without votes.
  A vote counts as it does for reputation: verified voters only, never the author's own, not
  once the serial-voting job reversed it.
- reviews: the Bayesian mean of the counted review scores (not an outlier far from the
  solution's earlier reviews, reputation.outliers), where the challenge's mean review
  counts as `review_prior_weight` reviews (the middle of the scale when it has none yet),
  mapped from 1-5 onto 0-1.
- descendants: how much the solution is built upon. Each published descendant by another
  member (the author's own forks earn nothing, so self-forking farms gain nothing; nor does a
  fork whose author never changed what they copied: a copy builds nothing) counts
  (1 + its quality) / 2, where quality is its own votes and reviews blended with their weights
  (its reviews shrunk towards the neutral prior, not its challenge's mean, so that a descendant's
  quality depends on its own facts only and the debounced triggers stay complete);
  a child counts in full, a grandchild half, and so on (`descendant_decay`); the sum `raw` gives
  raw / (raw + `descendant_half`). Descendants in other challenges count too.
- adoption: what the market does with the solution — completed service orders based on it, plus
  `adoption_offer_value` per active offer based on it; the sum `raw` gives
  raw / (raw + `adoption_half`). The marketplace answers the `solution_adoption` hook (reputation
  may not import it); without it the component is 0.
- selection: 1 for a winner, `shortlist_value` for a shortlisted solution, in a published
  selection round of the challenge (the best outcome over all rounds).

Each component's points are 100 x weight x value rounded to 4 decimals, and the fitness is the
sum of the rounded points, so the explanation adds up exactly. Rank: published solutions by
fitness, ties to the earlier published; withdrawn solutions and copies (forks still
`unchanged_fork`: their source is the work, and is ranked) keep a score but have no rank.

A batch of challenges (one for the debounced recompute, up to `BATCH_CHALLENGES` for the nightly
one) is measured by one SQL statement (CTEs over the lineage reached by the root index and the
materialised path, indexed lookups of votes and reviews; no query per solution or per
challenge); the weighting, rounding and ranking fold over those rows in Python, and one upsert
writes the scores whose figures changed, leaving the others (and their `computed_at`, the time
the figures were computed) as they were. The result is a pure function of the facts, so a
full recompute equals any sequence of incremental ones."""

# The SQL is built from table names (model meta), column names and numbers read from settings as
# floats; challenge ids and scores are query parameters.
# ruff: noqa: S608

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from allauth.account.models import EmailAddress
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from challenges.models import Challenge, SelectionEntry, SelectionRound, Solution
from peerhub import hooks

from . import review_counts, trust
from . import rules as rules_module
from .models import Review, SolutionScore, TrustSnapshot, Vote

POINTS = Decimal("0.0001")
COMPONENTS = ("votes", "reviews", "descendants", "adoption", "selection")
PUBLISHED, WITHDRAWN = Solution.Status.PUBLISHED.value, Solution.Status.WITHDRAWN.value
# Challenges that recompute_all measures in one statement and writes in one transaction: few
# statements a night, while one batch's rows and locks stay small.
BATCH_CHALLENGES = 100
# Score rows per INSERT statement (well under both databases' limits on parameters).
UPSERT_ROWS = 1000


def scored_solutions_q(prefix: str = "") -> Q:
    """Solutions that get a score: published ones, and withdrawn ones that were published."""
    p = prefix
    return Q(**{f"{p}status": PUBLISHED}) | Q(
        **{f"{p}status": WITHDRAWN, f"{p}published_at__isnull": False}
    )


def _num(value: float) -> str:
    """A number from settings as an SQL literal (never text from a request)."""
    return repr(float(value))


def _supports_materialized() -> bool:
    """`WITH x AS MATERIALIZED`: PostgreSQL 12+ and SQLite 3.35+."""
    if connection.vendor == "postgresql":
        return True
    return connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 35)


def _measure_sql(config: rules_module.Fitness, n_challenges: int) -> str:
    """The measuring statement for `n_challenges` challenges; its parameters are their ids,
    three times over (`_measure_params`)."""
    sol, vote, review = Solution._meta.db_table, Vote._meta.db_table, Review._meta.db_table
    email = EmailAddress._meta.db_table
    entry, round_ = SelectionEntry._meta.db_table, SelectionRound._meta.db_table
    z = float(config.wilson_z)
    w_votes, w_reviews = config.weights.get("votes", 0), config.weights.get("reviews", 0)
    quality_total = w_votes + w_reviews
    vote_share, review_share = (
        (w_votes / quality_total, w_reviews / quality_total) if quality_total else (0, 0)
    )
    voter_ok = f"EXISTS (SELECT 1 FROM {email} e WHERE e.user_id = v.voter_id AND e.verified)"
    reviewer_ok = f"EXISTS (SELECT 1 FROM {email} e WHERE e.user_id = r.reviewer_id AND e.verified)"
    counted_vote = (
        f"v.solution_id = p.id AND v.voter_id <> p.author_id AND v.serial_reversed_at IS NULL "
        f"AND {voter_ok}"
    )
    # A review far from the solution's earlier reviews (`Review.outlier`, reputation.outliers)
    # counts nothing, in the solution's mean as in its challenge's.
    counted_review = (
        f"r.solution_id = p.id AND r.reviewer_id <> p.author_id AND NOT r.outlier AND {reviewer_ok}"
    )
    prior_weight = _num(config.review_prior_weight)
    # The votes and reviews of low-trust members and of voting rings' members (in the latest
    # trust snapshot, found by an uncorrelated subquery that both databases evaluate once)
    # weigh less.
    latest = (
        f"(SELECT ts.id FROM {TrustSnapshot._meta.db_table} ts ORDER BY ts.version DESC LIMIT 1)"
    )
    low_weight = _num(rules_module.trust().low_trust_fitness_weight)

    def weight(member: str) -> str:
        # On a voting ring's work (p.ringed), the ring's and its backers' judgements count
        # nothing; elsewhere theirs count in full, a ring member's and a low-trust member's
        # low_weight.
        return (
            f"CASE WHEN p.ringed AND {trust.judges_ring_sql(member, latest)} THEN 0.0 "
            f"WHEN {trust.weighed_down_sql(member, latest)} THEN {low_weight} ELSE 1.0 END"
        )

    vote_weight, review_weight = weight("v.voter_id"), weight("r.reviewer_id")
    # Computed once: PostgreSQL would otherwise inline it and run the lookups once per use.
    materialized = "MATERIALIZED " if _supports_materialized() else ""
    batch = ", ".join(["%s"] * n_challenges)
    # Plans stay index-driven whatever the size of the tables: the lineage is reached through
    # the root index, descendant pairs through the materialised path, and each solution's votes
    # and reviews through correlated lookups on the (solution, member) unique indexes. Each
    # challenge's prior is its members' (a descendant from a challenge outside the batch needs
    # only its neutral mean, which no prior enters).
    return f"""
    WITH
    members AS (
        SELECT s.id, s.challenge_id, s.author_id, s.root_id, s.path, s.generation FROM {sol} s
        WHERE s.challenge_id IN ({batch}) AND (s.status = '{PUBLISHED}'
              OR (s.status = '{WITHDRAWN}' AND s.published_at IS NOT NULL))
    ),
    lineage AS (
        SELECT d.id, d.challenge_id, d.author_id, d.root_id, d.path, d.generation FROM {sol} d
        WHERE d.status = '{PUBLISHED}' AND d.parent_id IS NOT NULL AND NOT d.unchanged_fork
          AND d.root_id IN (SELECT root_id FROM members)
    ),
    built AS (
        SELECT m.id AS ancestor_id, d.id AS descendant_id,
               POWER({_num(config.descendant_decay)}, d.generation - m.generation - 1) AS weight
        FROM members m JOIN lineage d ON d.root_id = m.root_id
        WHERE d.generation > m.generation AND d.path LIKE m.path || '%%'
          AND d.author_id <> m.author_id
    ),
    pool AS (
        SELECT u.id, u.challenge_id, u.author_id,
               {trust.voting_ring_sql("u.author_id", latest)} AS ringed
        FROM (
            SELECT id, challenge_id, author_id FROM members
            UNION SELECT id, challenge_id, author_id FROM lineage
            WHERE id IN (SELECT descendant_id FROM built)
        ) u
    ),
    priors AS (
        SELECT cs.challenge_id, AVG(r.mean_score) AS prior
        FROM {sol} cs JOIN {review} r ON r.solution_id = cs.id
        WHERE cs.challenge_id IN ({batch}) AND cs.status = '{PUBLISHED}'
          AND r.reviewer_id <> cs.author_id AND NOT r.outlier AND {reviewer_ok}
        GROUP BY cs.challenge_id
    ),
    base AS {materialized}(
        SELECT p.id,
            (SELECT COALESCE(SUM({vote_weight}), 0) FROM {vote} v
                WHERE {counted_vote} AND v.value = 1) AS ups,
            (SELECT COALESCE(SUM({vote_weight}), 0) FROM {vote} v
                WHERE {counted_vote} AND v.value = -1) AS downs,
            (SELECT COALESCE(SUM({review_weight}), 0) FROM {review} r
                WHERE {counted_review}) AS n_reviews,
            (SELECT COALESCE(SUM({review_weight} * r.mean_score), 0) FROM {review} r
                WHERE {counted_review}) AS review_total,
            COALESCE(pr.prior, {_num(config.review_default_prior)}) AS prior
        FROM pool p LEFT JOIN priors pr ON pr.challenge_id = p.challenge_id
    ),
    quality AS (
        SELECT id, ups, downs, n_reviews, review_total, prior,
            CASE WHEN ups + downs = 0 THEN 0.0 ELSE
                (ups * 1.0 / (ups + downs) + {z * z / 2} / (ups + downs)
                 - {z} * SQRT((ups * 1.0 / (ups + downs)) * (downs * 1.0 / (ups + downs))
                               / (ups + downs) + {z * z / 4} / ((ups + downs) * (ups + downs))))
                / (1 + {z * z} / (ups + downs))
            END AS wilson,
            (({prior_weight} * prior + review_total) / ({prior_weight} + n_reviews)) AS bayesian,
            (({prior_weight} * {_num(config.review_default_prior)} + review_total)
             / ({prior_weight} + n_reviews)) AS bayesian_neutral
        FROM base
    ),
    vital AS (
        SELECT b.ancestor_id, COUNT(*) AS n,
               SUM(b.weight * (1 + {_num(vote_share)} * q.wilson
                               + {_num(review_share)} * (q.bayesian_neutral - 1) / 4) / 2)
                   AS raw
        FROM built b JOIN quality q ON q.id = b.descendant_id
        GROUP BY b.ancestor_id
    ),
    chosen AS (
        SELECT r.challenge_id, e.solution_id,
               MAX(CASE WHEN e.is_winner THEN 2 ELSE 1 END) AS outcome,
               MAX(r.number) AS round_number
        FROM {entry} e JOIN {round_} r ON r.id = e.round_id
        WHERE r.challenge_id IN ({batch}) AND r.status = 'published'
        GROUP BY r.challenge_id, e.solution_id
    )
    SELECT m.id, m.challenge_id, s.status, s.published_at, q.ups, q.downs, q.wilson, q.n_reviews,
           q.review_total, q.prior, q.bayesian, COALESCE(vital.n, 0), COALESCE(vital.raw, 0),
           COALESCE(chosen.outcome, 0), chosen.round_number, s.parent_id IS NULL,
           s.unchanged_fork
    FROM members m JOIN {sol} s ON s.id = m.id
    JOIN quality q ON q.id = m.id
    LEFT JOIN vital ON vital.ancestor_id = m.id
    LEFT JOIN chosen ON chosen.solution_id = m.id AND chosen.challenge_id = m.challenge_id
    """


def _measure_params(challenge_ids: list[int]) -> list[int]:
    """The ids of the batch for the members, priors and chosen CTEs, in that order."""
    return [*challenge_ids, *challenge_ids, *challenge_ids]


@dataclass(frozen=True)
class Measure:
    """What one row of the measuring query says about a solution."""

    solution_id: int
    status: str
    published_at: object
    ups: float  # weighted: a low-trust or ring member's vote counts low_trust_fitness_weight
    downs: float
    wilson: float
    n_reviews: float
    review_total: float
    prior: float
    bayesian: float
    built_upon: int
    vitality_raw: float
    outcome: int  # 0 none, 1 shortlisted, 2 winner
    round_number: int | None
    offers: int = 0  # active marketplace offers based on the solution
    orders: int = 0  # completed orders of those offers
    challenge_id: int = 0
    is_root: bool = False  # no parent: the solution starts a lineage
    copy: bool = False  # a fork still a copy of its source (Solution.unchanged_fork): no rank


def measure_challenge(challenge_id: int) -> list[Measure]:
    """The raw figures of every scored solution of the challenge (`measure_challenges`)."""
    return measure_challenges([challenge_id])


def measure_challenges(challenge_ids: list[int]) -> list[Measure]:
    """One query: the raw figures of every scored solution of these challenges; and the apps
    that know about adoption (the marketplace) answer `solution_adoption` with queries of their
    own, for the whole batch: {solution id: [(active offers, completed orders)]}."""
    challenge_ids = list(challenge_ids)
    if not challenge_ids:
        return []
    config = rules_module.fitness()
    with connection.cursor() as cursor:
        cursor.execute(_measure_sql(config, len(challenge_ids)), _measure_params(challenge_ids))
        rows = cursor.fetchall()
    adoption = hooks.collect_by_key("solution_adoption", challenge_ids=challenge_ids)
    return _measures(rows, adoption)


def _count(value) -> float:
    """A weighted count: whole when every vote in it weighed 1, else to two decimals."""
    number = float(value)
    return int(number) if number.is_integer() else round(number, 2)


def _moment(value) -> datetime | None:
    """A timestamp read by raw SQL, aware: SQLite hands back UTC without its zone."""
    if value is not None and timezone.is_naive(value):
        return value.replace(tzinfo=UTC)
    return value


def _measures(rows, adoption: dict) -> list[Measure]:
    measures = []
    for row in rows:
        market = adoption.get(row[0], ())
        measures.append(
            Measure(
                solution_id=row[0],
                challenge_id=row[1],
                status=row[2],
                published_at=_moment(row[3]),
                ups=_count(row[4]),
                downs=_count(row[5]),
                wilson=float(row[6]),
                n_reviews=_count(row[7]),
                review_total=float(row[8]),
                prior=float(row[9]),
                bayesian=float(row[10]),
                built_upon=int(row[11]),
                vitality_raw=float(row[12]),
                outcome=int(row[13]),
                round_number=row[14],
                is_root=bool(row[15]),
                copy=bool(row[16]),
                offers=sum(offers for offers, _orders in market),
                orders=sum(orders for _offers, orders in market),
            )
        )
    return measures


def _points(weight: float, value: float) -> Decimal:
    return Decimal(100 * weight * value).quantize(POINTS, rounding=ROUND_HALF_UP)


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def explain(measure: Measure, config: rules_module.Fitness) -> tuple[Decimal, dict]:
    """The components of one solution's fitness and their sum."""
    weights = config.weights
    review_mean = measure.review_total / measure.n_reviews if measure.n_reviews else None
    adoption_raw = measure.orders + config.adoption_offer_value * measure.offers
    values = {
        "votes": _clamp(measure.wilson),
        "reviews": _clamp((measure.bayesian - 1) / 4),
        "descendants": _clamp(
            measure.vitality_raw / (measure.vitality_raw + config.descendant_half)
            if measure.vitality_raw > 0
            else 0.0
        ),
        "adoption": _clamp(adoption_raw / (adoption_raw + config.adoption_half))
        if adoption_raw > 0
        else 0.0,
        "selection": {0: 0.0, 1: config.shortlist_value, 2: 1.0}[measure.outcome],
    }
    details = {
        "votes": {"up": measure.ups, "down": measure.downs},
        "reviews": {
            "count": measure.n_reviews,
            "mean": round(review_mean, 4) if review_mean is not None else None,
            "prior": round(measure.prior, 4),
            "bayesian_mean": round(measure.bayesian, 4),
        },
        "descendants": {"count": measure.built_upon, "raw": round(measure.vitality_raw, 4)},
        "adoption": {"offers": measure.offers, "orders": measure.orders},
        "selection": {
            "outcome": {0: None, 1: "shortlisted", 2: "winner"}[measure.outcome],
            "round": measure.round_number,
        },
    }
    components, fitness = {}, Decimal(0)
    for name in COMPONENTS:
        weight = float(weights.get(name, 0))
        points = _points(weight, values[name])
        fitness += points
        components[name] = {
            "weight": weight,
            "value": round(values[name], 6),
            "points": float(points),
            **details[name],
        }
    return fitness, components


def _ranked(measures: list[Measure], config) -> list[SolutionScore]:
    """Each measure weighed into a score, ranked within its own challenge: published solutions
    by fitness, ties to the earlier published. A copy (a fork whose author has not changed what
    it copied, or changed it only cosmetically) is scored but not ranked: it is its source's
    work, which is ranked."""
    now = timezone.now()
    scores = []
    for measure in measures:
        fitness, components = explain(measure, config)
        scores.append(
            SolutionScore(
                solution_id=measure.solution_id,
                challenge_id=measure.challenge_id,
                fitness=fitness,
                built_upon=measure.built_upon,
                published_at=measure.published_at,
                is_root=measure.is_root,
                is_copy=measure.copy,
                components=components,
                computed_at=now,
            )
        )
    published = sorted(
        (
            (measure.challenge_id, -score.fitness, measure.published_at, measure.solution_id, score)
            for measure, score in zip(measures, scores, strict=True)
            if measure.status == PUBLISHED and not measure.copy
        ),
        key=lambda item: item[:4],
    )
    challenge_id, rank = None, 0
    for item in published:
        if item[0] != challenge_id:
            challenge_id, rank = item[0], 0
        rank += 1
        item[4].rank = rank
    return scores


# The columns a recompute writes, and those of them that are the figures: a stored row whose
# figures are all the same is left as it was, `computed_at` (when they were computed) included.
SCORE_FIGURES = (
    "challenge",
    "fitness",
    "rank",
    "built_upon",
    "published_at",
    "is_root",
    "is_copy",
    "components",
)
SCORE_FIELDS = ("solution", *SCORE_FIGURES, "computed_at")


def _upsert_sql(n_rows: int) -> str:
    """INSERT of `n_rows` scores; on a solution's existing row, an UPDATE where a figure
    differs (null-safe), and nothing where none does."""
    qn = connection.ops.quote_name
    table = qn(SolutionScore._meta.db_table)

    def column(name: str) -> str:
        return qn(SolutionScore._meta.get_field(name).column)

    distinct = "IS NOT" if connection.vendor == "sqlite" else "IS DISTINCT FROM"
    # A row inserted counts its solution's reviews (its last parameter); an existing row keeps
    # the count reputation.review_counts keeps.
    row = "(" + ", ".join(["%s"] * len(SCORE_FIELDS) + [review_counts.count_sql("%s")]) + ")"
    return (
        f"INSERT INTO {table} "
        f"({', '.join(column(name) for name in (*SCORE_FIELDS, 'review_count'))}) "
        f"VALUES {', '.join([row] * n_rows)} "
        f"ON CONFLICT ({column('solution')}) DO UPDATE SET "
        + ", ".join(f"{column(name)} = EXCLUDED.{column(name)}" for name in SCORE_FIELDS[1:])
        + " WHERE "
        + " OR ".join(
            f"{table}.{column(name)} {distinct} EXCLUDED.{column(name)}" for name in SCORE_FIGURES
        )
    )


def _changed(challenge_ids, scores: list[SolutionScore]) -> list[SolutionScore]:
    """The scores whose figures differ from their stored row's, or that have none: one read of
    the batch's rows, so that a night when little moved sends the database little (the upsert
    still writes only a row that differs)."""
    # The components hold floats, ints, strings and None only (`explain`), which JSON gives
    # back as they went in: the stored dict equals the new one when nothing moved.
    names = [SolutionScore._meta.get_field(name).attname for name in SCORE_FIGURES]
    stored = {
        row[0]: row[1:]
        for row in SolutionScore.objects.filter(challenge_id__in=sorted(challenge_ids))
        .order_by()
        .values_list("solution_id", *names)
    }
    return [
        score
        for score in scores
        if stored.get(score.solution_id) != tuple(getattr(score, name) for name in names)
    ]


def _store(challenge_ids: list[int], scores: list[SolutionScore]) -> int:
    """Write the scores of a batch of challenges, their rows locked (in id order) meanwhile so
    that two workers recomputing a challenge take turns; a challenge deleted since it was
    measured gets nothing. Drops the scores of solutions no longer scored (drafts again,
    withdrawn unpublished) and upserts the rest: only the rows whose figures changed are sent
    and written. Returns how many scores the batch's challenges hold."""
    fields = [SolutionScore._meta.get_field(name) for name in SCORE_FIELDS]
    with transaction.atomic():
        present = set(
            Challenge.objects.select_for_update()
            .filter(pk__in=challenge_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not present:
            return 0
        SolutionScore.objects.filter(challenge_id__in=sorted(present)).exclude(
            scored_solutions_q("solution__")
        ).delete()
        kept = [score for score in scores if score.challenge_id in present]
        changed = _changed(present, kept)
        with connection.cursor() as cursor:
            for start in range(0, len(changed), UPSERT_ROWS):
                chunk = changed[start : start + UPSERT_ROWS]
                cursor.execute(
                    _upsert_sql(len(chunk)),
                    [
                        value
                        for score in chunk
                        for value in (
                            *(
                                field.get_db_prep_save(getattr(score, field.attname), connection)
                                for field in fields
                            ),
                            score.solution_id,
                        )
                    ],
                )
    return len(kept)


def _recompute(challenge_ids: list[int]) -> int:
    """Measure, weigh, rank and store the scores of these challenges (one batch)."""
    config = rules_module.fitness()
    return _store(challenge_ids, _ranked(measure_challenges(challenge_ids), config))


def recompute_challenge(challenge_id: int) -> int:
    """Measure, weigh, rank and store the scores of one challenge; returns how many it holds
    (0 for a challenge that no longer exists). Locks the challenge's row while writing, so two
    workers recomputing it take turns."""
    return _recompute([challenge_id])


def recompute_all(*, progress=None) -> int:
    """Every challenge, `BATCH_CHALLENGES` at a time (each batch one measuring statement and one
    transaction, which locks the batch's challenges while it writes); the same scores as
    `recompute_challenge` of each in turn."""
    ids = list(Challenge.objects.order_by("pk").values_list("pk", flat=True))
    written = 0
    for start in range(0, len(ids), BATCH_CHALLENGES):
        batch = ids[start : start + BATCH_CHALLENGES]
        written += _recompute(batch)
        if progress is not None:
            progress(start + len(batch), len(ids))
    return written


def challenges_affected_by(solution_ids) -> set[int]:
    """The challenges whose scores a change to these solutions can move: their own, and those
    of their ancestors (a descendant's quality feeds its ancestors' descendants component)."""
    rows = list(
        Solution.objects.filter(pk__in=list(solution_ids)).values_list("challenge_id", "path")
    )
    ancestor_ids = {
        int(part) for _challenge, path in rows for part in path.strip("/").split("/") if part
    }
    challenge_ids = {challenge_id for challenge_id, _path in rows}
    if ancestor_ids:
        challenge_ids |= set(
            Solution.objects.filter(pk__in=ancestor_ids)
            .values_list("challenge_id", flat=True)
            .distinct()
        )
    return challenge_ids
