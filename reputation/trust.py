"""Trust from the endorsement graph, in the style of SybilRank (issue 8).

Members endorse each other by upvoting a solution, reviewing it well, forking it, and completing a
service order (the marketplace answers the `trust_endorsements` hook). Those facts form a
weighted undirected graph. Trust starts on the seeds (staff, members whose level staff pinned,
members at the top trust level) and spreads along the edges for about log2(N) steps of a random
walk, each member passing its trust to its neighbours in proportion to the edge weights. The
walk stops early on purpose: within that many steps it has spread evenly over the well-knit
honest community, while a ring that honest members rarely endorse (few "attack edges") has
received almost nothing, however densely its members vote for each other. Each member's trust is
what they hold divided by their degree, scaled so that 1.0 is the even spread.

Reading the graph is a handful of aggregate queries; the walk is sparse matrix products
(SciPy); nothing loops over edges or members in Python. For a fixed graph the result is the
same to the last bit (fixed order, no randomness)."""

import math
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from challenges.models import Solution
from peerhub import hooks
from peerhub.models import User

from . import rules as rules_module
from .models import MemberTrust, ReputationScore, Review, TrustSnapshot, Vote

TOP_LEVEL = max(rules_module.LEVEL_NAMES)
# The share of its trust a member keeps at each step of the walk (a lazy random walk).
LAZINESS = 0.5


def low_trust_verdict(
    trust: np.ndarray, degree: np.ndarray, seeds: np.ndarray, config: rules_module.Trust
) -> tuple[np.ndarray, float]:
    """Who is low-trust, and the cut: members with at least one endorsement whose trust is below
    `config.relative_threshold` times the median trust of the members with any endorsement (or
    below `config.low_threshold` if that is higher); never the seeds. The cut is relative
    because the walk's absolute values depend on how far it has mixed: a ring that honest
    members endorse now and then reaches half the honest trust, above any fixed threshold that
    spares honest newcomers, yet well below the honest bulk. The median is taken over everyone
    connected, without knowing who is honest: a ring is a small minority and cannot move it."""
    connected = degree > 0
    if not connected.any():
        return np.zeros(len(trust), dtype=bool), config.low_threshold
    cut = max(config.low_threshold, config.relative_threshold * float(np.median(trust[connected])))
    low = connected & (trust < cut)
    low[seeds] = False
    return low, cut


@dataclass
class Graph:
    """Members (sorted ids), the symmetric weighted adjacency among them, and the directed
    matrices of upvotes (voter → author), which the cluster and ring finders read, and of good
    reviews (reviewer → author), which the backers' verdict reads with the upvotes."""

    user_ids: np.ndarray
    adjacency: sparse.csr_matrix
    upvotes: sparse.csr_matrix
    good_reviews: sparse.csr_matrix | None = None


def _pairs(rows) -> np.ndarray:
    """Rows (endorser, endorsed, weight) from one aggregate query as an (n, 3) array."""
    array = np.array(list(rows), dtype=np.int64)
    return array.reshape(-1, 3)


def _pair_counts(facts, endorser: str, endorsed: str) -> np.ndarray:
    """How many of `facts` each member (`endorser`) gave another (`endorsed`), self-endorsement
    aside: one aggregate query."""
    return _pairs(
        facts.exclude(**{endorser: F(endorsed)})
        .values(endorser, endorsed)
        .annotate(n=Count("pk"))
        .values_list(endorser, endorsed, "n")
        .order_by()
    )


def endorsements() -> dict[str, np.ndarray]:
    """Per kind of endorsement, (endorser, endorsed, how many) rows, one query each."""
    good_mean = rules_module.trust().review_good_mean
    upvotes = Vote.objects.filter(value=Vote.UP, serial_reversed_at__isnull=True)
    good_reviews = Review.objects.filter(mean_score__gte=good_mean)
    forks = Solution.objects.filter(parent__isnull=False, published_at__isnull=False)
    found = {
        "votes": _pair_counts(upvotes, "voter_id", "solution__author_id"),
        "reviews": _pair_counts(good_reviews, "reviewer_id", "solution__author_id"),
        "forks": _pair_counts(forks, "author_id", "parent__author_id"),
    }
    # Apps that reputation may not import (the marketplace's completed orders) add theirs.
    found["other"] = _pairs(hooks.collect("trust_endorsements"))
    return found


def _matrix(pairs: np.ndarray, user_ids: np.ndarray, weights: np.ndarray) -> sparse.csr_matrix:
    """The directed member-by-member matrix of `pairs` (endorser, endorsed, …) with these
    weights, rows and columns in the order of `user_ids`; pairs naming others are dropped."""
    known = np.isin(pairs[:, 0], user_ids) & np.isin(pairs[:, 1], user_ids)
    rows = np.searchsorted(user_ids, pairs[known, 0])
    cols = np.searchsorted(user_ids, pairs[known, 1])
    n = len(user_ids)
    return sparse.coo_matrix((weights[known], (rows, cols)), shape=(n, n)).tocsr()


def load_graph() -> Graph:
    user_ids = np.array(User.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
    found = endorsements()
    everything = np.concatenate(list(found.values()))
    directed = _matrix(everything, user_ids, everything[:, 2].astype(np.float64))
    adjacency = (directed + directed.T).tocsr()
    adjacency.sum_duplicates()
    votes = found["votes"]
    upvotes = _matrix(votes, user_ids, votes[:, 2].astype(np.float64))
    reviews = found["reviews"]
    good_reviews = _matrix(reviews, user_ids, reviews[:, 2].astype(np.float64))
    return Graph(user_ids=user_ids, adjacency=adjacency, upvotes=upvotes, good_reviews=good_reviews)


def seed_ids() -> set[int]:
    """Staff, members with a pinned level, members at the top trust level (active ones)."""
    staff = User.objects.filter(Q(is_staff=True) | Q(is_superuser=True), is_active=True)
    scored = ReputationScore.objects.filter(
        Q(pinned_level__isnull=False) | Q(trust_level__gte=TOP_LEVEL), user__is_active=True
    )
    return set(staff.values_list("pk", flat=True)) | set(scored.values_list("user_id", flat=True))


def walk_steps(members: int) -> int:
    """About log2(N) steps: enough to spread evenly over a well-knit community, too few to
    leak much through a ring's few attack edges."""
    return max(1, math.ceil(math.log2(max(members, 2))))


def walk(adjacency: sparse.csr_matrix, seeds: np.ndarray, steps: int | None = None) -> np.ndarray:
    """The early-terminated, degree-normalised random walk: trust per member (1.0 = the even
    spread over the seeds' part of the graph). `seeds` are indices into the matrix."""
    n = adjacency.shape[0]
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    trust = np.zeros(n)
    if n == 0 or len(seeds) == 0:
        return trust
    steps = steps if steps is not None else walk_steps(n)
    mass = np.zeros(n)
    mass[seeds] = n / len(seeds)
    connected = degree > 0
    inverse = np.zeros(n)
    inverse[connected] = 1.0 / degree[connected]
    for _ in range(steps):
        # A lazy walk: each member keeps half its trust and hands the other half out along its
        # edges, in proportion to their weights; an isolated member keeps what it has. Without
        # the laziness the walk oscillates on a graph that is nearly bipartite (voters endorse
        # authors): after an even number of steps the authors hold too little, after an odd
        # number the voters, and a ring sits above honest authors or below them by parity.
        handed = adjacency @ (mass * inverse) + np.where(connected, 0.0, mass)
        mass = LAZINESS * mass + (1 - LAZINESS) * handed
    # The even spread: all the trust over the volume (total degree) of the seeds' components.
    _count, labels = connected_components(adjacency, directed=False)
    reached = np.isin(labels, np.unique(labels[seeds]))
    volume = degree[reached].sum()
    if volume == 0:
        return trust
    trust[connected] = mass[connected] / degree[connected] * volume / n
    return trust


def mutual_clusters(graph: Graph, trust: np.ndarray, limit: int) -> list[dict]:
    """Groups of members who upvote each other (both ways), densest first: for each connected
    group of three or more in the mutual-upvote graph, its size, how many of its pairs vote
    for each other (density) and its members' mean trust."""
    votes = graph.upvotes.copy()
    votes.data[:] = 1.0
    mutual = votes.multiply(votes.T).tocsr()
    if mutual.nnz == 0:
        return []
    _count, labels = connected_components(mutual, directed=False)
    sizes = np.bincount(labels)
    upper = sparse.triu(mutual, k=1).tocoo()
    pairs = np.bincount(labels[upper.row], minlength=len(sizes))
    candidates = np.flatnonzero(sizes >= 3)
    density = pairs[candidates] / (sizes[candidates] * (sizes[candidates] - 1) / 2)
    # Densest first, then largest, then by label (deterministic).
    order = np.lexsort((candidates, -sizes[candidates], -density))[:limit]
    clusters = []
    for position in order:
        label = candidates[position]
        members = np.flatnonzero(labels == label)
        clusters.append(
            {
                "size": int(sizes[label]),
                "mutual_pairs": int(pairs[label]),
                "density": round(float(density[position]), 4),
                "mean_trust": round(float(trust[members].mean()), 4),
                "user_ids": [int(pk) for pk in graph.user_ids[members][:100]],
            }
        )
    return clusters


def voting_ring(graph: Graph, core: int) -> np.ndarray:
    """Who is in a voting ring (issue 23): the members of the `core`-core of the mutual-upvote
    graph, where two members are linked when each has upvoted the other's work (counted
    upvotes, serial ones aside). Members with fewer than `core` such partners are peeled off
    in turn, until each one left has `core` or more among those left. Honest members who
    happen to upvote each other have a partner or two; a ring that trades votes has dozens.
    Camouflage (upvoting honest work too) and bribed upvotes from outside change nothing here:
    only the votes traded both ways count."""
    votes = graph.upvotes.copy()
    votes.data[:] = 1.0
    mutual = votes.multiply(votes.T).tocsr()
    mutual.setdiag(0)
    mutual.eliminate_zeros()
    alive = np.asarray(mutual.sum(axis=1)).ravel() >= core
    while True:
        partners = mutual @ alive.astype(np.float64)
        drop = alive & (partners < core)
        if not drop.any():
            return alive
        alive &= ~drop


def ring_backers(graph: Graph, ring: np.ndarray, least: int, share: float) -> np.ndarray:
    """Who backs a voting ring (issue 23): members outside it who gave its members' work at
    least `least` upvotes and good reviews, and at least `share` of all the upvotes and good
    reviews they gave. Bought support looks like this: a paid member keeps judging honestly
    but sends a large part of their judgements to one group, which honest members, who judge
    what the rankings show them, rarely do."""
    judged = graph.upvotes
    if graph.good_reviews is not None:
        judged = judged + graph.good_reviews
    given = np.asarray(judged.sum(axis=1)).ravel()
    to_ring = judged @ ring.astype(np.float64)
    return ~ring & (to_ring >= least) & (to_ring >= share * given) & (to_ring > 0)


@transaction.atomic
def trust_compute(*, now=None) -> TrustSnapshot | None:
    """A new snapshot of every member's trust; None (and nothing written) without any seed,
    since a walk from nowhere would call everyone untrusted. Members with no endorsement at all
    hold no evidence either way and are never low-trust; neither are the seeds."""
    config = rules_module.trust()
    seeds = seed_ids()
    if not seeds:
        return None
    graph = load_graph()
    seed_index = np.flatnonzero(np.isin(graph.user_ids, list(seeds)))
    steps = walk_steps(len(graph.user_ids))
    trust = walk(graph.adjacency, seed_index, steps)
    degree = np.asarray(graph.adjacency.sum(axis=1)).ravel()
    low, cut = low_trust_verdict(trust, degree, seed_index, config)
    ring = voting_ring(graph, config.ring_core)
    backers = ring_backers(graph, ring, config.backer_min, config.backer_share)
    version = (
        TrustSnapshot.objects.order_by("-version").values_list("version", flat=True).first() or 0
    ) + 1
    snapshot = TrustSnapshot.objects.create(
        version=version,
        computed_at=now or timezone.now(),
        parameters={
            "members": len(graph.user_ids),
            "edges": int(graph.adjacency.nnz // 2),
            "seeds": len(seed_index),
            "steps": steps,
            "low_threshold": config.low_threshold,
            "relative_threshold": config.relative_threshold,
            "cut": round(cut, 6),
            "laziness": LAZINESS,
            "low_trust": int(low.sum()),
            "ring_core": config.ring_core,
            "voting_ring": int(ring.sum()),
            "backer_min": config.backer_min,
            "backer_share": config.backer_share,
            "ring_backers": int(backers.sum()),
        },
        clusters=mutual_clusters(graph, trust, config.clusters_shown),
    )
    MemberTrust.objects.bulk_create(
        [
            MemberTrust(
                snapshot=snapshot,
                user_id=int(pk),
                trust=float(value),
                low_trust=bool(flag),
                voting_ring=bool(in_ring),
                ring_backer=bool(backer),
            )
            for pk, value, flag, in_ring, backer in zip(
                graph.user_ids, trust, low, ring, backers, strict=True
            )
        ],
        batch_size=5000,
    )
    stale = TrustSnapshot.objects.order_by("-version").values_list("pk", flat=True)[
        config.keep_snapshots :
    ]
    TrustSnapshot.objects.filter(pk__in=list(stale)).delete()
    return snapshot


def _flag_sql(flags: tuple[str, ...], member: str, snapshot: str) -> str:
    """SQL: whether the member in column `member` carries any of the MemberTrust flags `flags`
    in the snapshot that the SQL `snapshot` names (an id, a subquery, or NULL for nobody)."""
    table = MemberTrust._meta.db_table
    carries = " OR ".join(f"t.{flag}" for flag in flags)
    # Built from a table name, field names and the caller's column and snapshot SQL, never
    # from input.
    return (
        f"EXISTS (SELECT 1 FROM {table} t WHERE t.snapshot_id = {snapshot} "  # noqa: S608
        f"AND t.user_id = {member} AND ({carries}))"
    )


def low_trust_sql(member: str, snapshot: str) -> str:
    """SQL: whether the member in column `member` is low-trust in the snapshot `snapshot`. The
    ledger's rebuild and the fitness measure both ask it this way."""
    return _flag_sql(("low_trust",), member, snapshot)


def voting_ring_sql(member: str, snapshot: str) -> str:
    """SQL: whether the member in column `member` was in a voting ring in the snapshot
    `snapshot`."""
    return _flag_sql(("voting_ring",), member, snapshot)


def weighed_down_sql(member: str, snapshot: str) -> str:
    """SQL: whether the votes and reviews of the member in column `member` weigh less in
    rankings (reputation.fitness): low-trust, or in a voting ring, in the snapshot `snapshot`.
    One lookup for both flags."""
    return _flag_sql(("low_trust", "voting_ring"), member, snapshot)


def judges_ring_sql(member: str, snapshot: str) -> str:
    """SQL: whether the judgements of the member in column `member` on a voting ring's work
    count nothing in rankings (reputation.fitness): in a voting ring, or backing one, in the
    snapshot `snapshot`."""
    return _flag_sql(("voting_ring", "ring_backer"), member, snapshot)


def latest_snapshot_id() -> int | None:
    return TrustSnapshot.objects.order_by("-version").values_list("pk", flat=True).first()


def _flagged_ids(flag: str, user_ids, snapshot_id: int | None) -> set[int]:
    """The members the latest snapshot (or the given one) gave the flag `flag`, among
    `user_ids` (everyone when None). Without any snapshot, nobody."""
    snapshot_id = snapshot_id or latest_snapshot_id()
    if snapshot_id is None:
        return set()
    rows = MemberTrust.objects.filter(snapshot_id=snapshot_id, **{flag: True})
    if user_ids is not None:
        rows = rows.filter(user_id__in=list(user_ids))
    return set(rows.values_list("user_id", flat=True))


def low_trust_ids(user_ids=None, *, snapshot_id: int | None = None) -> set[int]:
    """The members found low-trust (`_flagged_ids`)."""
    return _flagged_ids("low_trust", user_ids, snapshot_id)


def ring_backer_ids(user_ids=None, *, snapshot_id: int | None = None) -> set[int]:
    """The members found backing a voting ring (`_flagged_ids`)."""
    return _flagged_ids("ring_backer", user_ids, snapshot_id)


def voting_ring_ids(user_ids=None, *, snapshot_id: int | None = None) -> set[int]:
    """The members found in a voting ring (`_flagged_ids`)."""
    return _flagged_ids("voting_ring", user_ids, snapshot_id)
