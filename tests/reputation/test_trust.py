"""The trust step (reputation.trust): on crafted graphs, a vote ring that honest members rarely
endorse ends below every honest member; an honest newcomer endorsed once by a seed is not
pushed below the threshold; the walk is deterministic. Then the step end to end: endorsements
read from the database, the snapshot, the seeds and the moderation clusters."""

import numpy as np
import pytest
from scipy import sparse

from marketplace.models import Order
from reputation import rules, trust
from reputation.models import MemberTrust, ReputationScore, Review, TrustSnapshot, Vote
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution

HONEST, RING = 120, 20


def honest_community(n: int, seed: int = 7) -> list[tuple[int, int, float]]:
    """A small-world community: everyone endorses their next three neighbours on a circle, and
    a few random others."""
    rng = np.random.default_rng(seed)
    edges = [(i, (i + k) % n, 1.0) for i in range(n) for k in (1, 2, 3)]
    edges += [(int(a), int(b), 1.0) for a, b in rng.integers(0, n, size=(2 * n, 2)) if a != b]
    return edges


def matrix(edges, n) -> sparse.csr_matrix:
    rows, cols, weights = zip(*edges, strict=True)
    directed = sparse.coo_matrix((weights, (rows, cols)), shape=(n, n)).tocsr()
    return (directed + directed.T).tocsr()


def with_ring(attack_edges: int):
    """The honest community, then a ring of RING members who all upvote each other many times
    over, and `attack_edges` honest members who upvoted one ring member each."""
    edges = honest_community(HONEST)
    ring = range(HONEST, HONEST + RING)
    edges += [(a, b, 5.0) for a in ring for b in ring if a != b]
    edges += [(k * 13 % HONEST, HONEST + k, 1.0) for k in range(attack_edges)]
    return matrix(edges, HONEST + RING)


@pytest.mark.parametrize("attack_edges", [1, 3, 5])
def test_an_isolated_ring_with_few_attack_edges_ends_below_every_honest_member(attack_edges):
    adjacency = with_ring(attack_edges)
    scores = trust.walk(adjacency, np.array([0, 40, 80]))
    honest, ring = scores[:HONEST], scores[HONEST:]
    assert ring.max() < honest.min()
    assert ring.max() < rules.trust().low_threshold <= honest.min()


def test_an_honest_newcomer_endorsed_once_by_a_seed_is_not_pushed_below_the_threshold():
    newcomer = HONEST
    edges = [*honest_community(HONEST), (0, newcomer, 1.0)]
    scores = trust.walk(matrix(edges, HONEST + 1), np.array([0, 40, 80]))
    assert scores[newcomer] >= rules.trust().low_threshold


def test_the_walk_is_deterministic_for_a_fixed_graph():
    adjacency = with_ring(3)
    first = trust.walk(adjacency, np.array([0, 40, 80]))
    second = trust.walk(adjacency.copy(), np.array([0, 40, 80]))
    assert np.array_equal(first, second)


def test_without_seeds_nobody_receives_trust():
    assert not trust.walk(with_ring(1), np.array([], dtype=int)).any()


# --- End to end, from the database ---------------------------------------------------------


@pytest.mark.django_db
def test_without_any_seed_no_snapshot_is_made_and_nobody_is_low_trust():
    UserFactory.create_batch(3)
    assert trust.trust_compute() is None
    assert TrustSnapshot.objects.count() == 0
    assert trust.low_trust_ids() == set()


@pytest.mark.django_db
def test_the_snapshot_reads_votes_reviews_forks_and_orders_and_finds_the_ring():
    staff = UserFactory(is_staff=True)
    honest = UserFactory.create_batch(12)
    ring = UserFactory.create_batch(5)
    challenge = ChallengeFactory()
    posts = {m.pk: make_solution(challenge, m) for m in [staff, *honest, *ring]}
    # The honest members upvote their neighbours and staff upvotes a few of them.
    for i, member in enumerate(honest):
        for k in (1, 2, 3):
            Vote.objects.create(voter=member, solution=posts[honest[(i + k) % 12].pk], value=1)
    for member in honest[:4]:
        Vote.objects.create(voter=staff, solution=posts[member.pk], value=1)
    # A review and a fork tie staff in more; a completed order is an endorsement too.
    Review.objects.create(
        reviewer=honest[5], solution=posts[staff.pk], comment="Good.", mean_score=5
    )
    make_fork(posts[honest[6].pk], honest[7])
    # The ring upvotes itself, with one honest upvote into it.
    for a in ring:
        for b in ring:
            if a != b:
                Vote.objects.create(voter=a, solution=posts[b.pk], value=1)
    Vote.objects.create(voter=honest[0], solution=posts[ring[0].pk], value=1)

    found = trust.endorsements()
    assert len(found["reviews"]) == 1 and len(found["forks"]) == 1
    snapshot = trust.trust_compute()
    values = dict(MemberTrust.objects.filter(snapshot=snapshot).values_list("user_id", "trust"))
    assert max(values[m.pk] for m in ring) < min(values[m.pk] for m in honest)
    # The ring member the honest upvote reached sits at the entrance; the rest are low-trust.
    assert {m.pk for m in ring[1:]} <= trust.low_trust_ids()
    assert not trust.low_trust_ids() & {m.pk for m in [staff, *honest]}
    assert snapshot.parameters["seeds"] == 1
    ring_cluster = snapshot.clusters[0]
    assert set(ring_cluster["user_ids"]) == {m.pk for m in ring}
    assert ring_cluster["density"] == 1.0


@pytest.mark.django_db
def test_seeds_are_staff_pinned_and_top_level_members():
    staff, pinned, leader, other = UserFactory.create_batch(4)
    staff.is_staff = True
    staff.save()
    ReputationScore.objects.create(user=pinned, pinned_level=2, trust_level=2)
    ReputationScore.objects.create(user=leader, trust_level=trust.TOP_LEVEL)
    ReputationScore.objects.create(user=other, trust_level=3)
    assert trust.seed_ids() == {staff.pk, pinned.pk, leader.pk}


@pytest.mark.django_db
def test_completed_orders_between_distinct_members_are_endorsements():
    from marketplace import services as marketplace_services
    from tests.marketplace.factories import delivered_order

    unfinished = delivered_order()
    order = delivered_order()
    marketplace_services.order_accept(order=order, by=order.buyer)
    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    assert trust.endorsements()["other"].tolist() == [[order.buyer_id, order.seller_id, 1]]
    assert unfinished.buyer_id != order.buyer_id


@pytest.mark.django_db
def test_old_snapshots_are_pruned_and_versions_increase(settings):
    settings.PEERHUB_TRUST = {"keep_snapshots": 2}
    UserFactory(is_staff=True)
    versions = [trust.trust_compute().version for _ in range(3)]
    assert versions == [1, 2, 3]
    assert list(TrustSnapshot.objects.values_list("version", flat=True)) == [3, 2]


def test_the_verdict_is_relative_to_the_median_and_spares_the_seeds_and_the_unendorsed():
    """A ring the honest members endorse now and then (ten attack edges) may sit above the
    absolute threshold, yet below half the median: the relative cut finds all of it and no
    honest member; members without any endorsement and the seeds are never low-trust."""
    adjacency = with_ring(10)
    seeds = np.array([0, 40, 80])
    scores = trust.walk(adjacency, seeds)
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    low, cut = trust.low_trust_verdict(scores, degree, seeds, rules.trust())
    assert cut >= rules.trust().low_threshold
    assert low[HONEST:].all() and not low[:HONEST].any()
    # A member with no endorsement is no evidence either way; a seed is never low-trust.
    lonely = np.append(scores, 0.0)
    flags, _cut = trust.low_trust_verdict(lonely, np.append(degree, 0.0), seeds, rules.trust())
    assert not flags[-1]
    flags, _cut = trust.low_trust_verdict(scores, degree, np.array([HONEST]), rules.trust())
    assert not flags[HONEST]


def test_the_walk_does_not_flip_with_the_parity_of_its_steps():
    """Voters endorse authors: a nearly bipartite graph, on which a plain walk hands the authors
    nothing after an even number of steps (and the voters nothing after an odd one). The lazy
    walk gives the authors, as a group, about what the voters hold, whatever the steps."""
    voters, authors = 60, 30
    rng = np.random.default_rng(3)
    picks = rng.integers(0, authors, size=(voters, 3))
    edges = [(v, voters + int(a), 1.0) for v in range(voters) for a in picks[v]]
    adjacency = matrix(edges, voters + authors)
    seeds = np.arange(0, voters, 10)
    for steps in (6, 7, 8):
        scores = trust.walk(adjacency, seeds, steps)
        assert np.median(scores[voters:]) > 0.75 * np.median(scores[:voters])
        assert np.median(scores[:voters]) > 0.75 * np.median(scores[voters:])
