"""Voting rings (issue 23): members who upvote each other's work both ways, each with at least
`ring_core` such partners inside the group, earn nothing from upvotes on their work while the
ring holds; the ledger says why, lineage credit still reaches honest ancestors, and the
incremental syncs and the full rebuild agree."""

from decimal import Decimal

import numpy as np
import pytest
from django.test import override_settings
from django.urls import reverse
from scipy import sparse

from reputation import fitness, ledger, rules, services, trust
from reputation.models import (
    MemberTrust,
    ReputationEvent,
    ReputationScore,
    Review,
    TrustSnapshot,
    Vote,
)
from reputation.rules import VOTING_RING_NOTE
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution

pytestmark = pytest.mark.django_db


def graph_of(n: int, upvotes: list[tuple[int, int]]) -> trust.Graph:
    rows, cols = zip(*upvotes, strict=True) if upvotes else ((), ())
    matrix = sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    return trust.Graph(user_ids=np.arange(n), adjacency=matrix + matrix.T, upvotes=matrix)


def both_ways(members) -> list[tuple[int, int]]:
    return [(a, b) for a in members for b in members if a != b]


def test_the_ring_is_the_core_of_members_who_upvote_each_other_both_ways():
    ring = list(range(6))  # each has 5 partners
    honest = [
        (10, 11), (11, 10),  # a pair who upvote each other
        (12, 13), (13, 12), (13, 14), (14, 13), (14, 15), (15, 14),  # a chain
        *[(16, k) for k in range(17, 22)],  # one who upvotes five, never upvoted back
    ]  # fmt: skip
    # A member with four partners in the ring is peeled off; one with five joins it.
    near = [(30, k) for k in range(4)] + [(k, 30) for k in range(4)]
    joins = [(31, k) for k in range(5)] + [(k, 31) for k in range(5)]
    flags = trust.voting_ring(graph_of(40, both_ways(ring) + honest + near + joins), core=5)
    assert set(np.flatnonzero(flags)) == {*ring, 31}
    # A group of five (four partners each) is not a ring at a core of 5.
    assert not trust.voting_ring(graph_of(10, both_ways(range(5))), core=5).any()
    # Peeling goes on until everyone left has enough: a ring that loses a member to the peel
    # loses the members who counted on them.
    chain = [*both_ways(range(5)), (4, 5), (5, 4)]
    assert not trust.voting_ring(graph_of(10, chain), core=5).any()


def regular():
    user = UserFactory()
    ReputationScore.objects.create(user=user, total=Decimal(100), trust_level=2)
    return type(user).objects.get(pk=user.pk)


def snapshot_with_ring(members, ring) -> TrustSnapshot:
    snapshot = TrustSnapshot.objects.create(version=TrustSnapshot.objects.count() + 1)
    MemberTrust.objects.bulk_create(
        MemberTrust(snapshot=snapshot, user=m, trust=1.0, voting_ring=m in ring) for m in members
    )
    return snapshot


def test_the_trust_step_stores_who_is_in_a_ring():
    staff = UserFactory(is_staff=True)
    challenge = ChallengeFactory()
    ring = [regular() for _ in range(6)]
    honest = [regular() for _ in range(3)]
    work = {m.pk: make_solution(challenge, m) for m in ring + honest}
    for voter in ring:
        for author in ring:
            if author != voter:
                services.vote_cast(voter=voter, solution=work[author.pk], value=Vote.UP)
    # Honest members upvote the ring and each other, and the staff seed upvotes them all.
    for voter in honest:
        for author in ring[:3] + [h for h in honest if h != voter]:
            services.vote_cast(voter=voter, solution=work[author.pk], value=Vote.UP)
    snapshot = trust.trust_compute()
    assert staff.pk not in trust.voting_ring_ids()
    assert trust.voting_ring_ids(snapshot_id=snapshot.pk) == {m.pk for m in ring}
    assert snapshot.parameters["voting_ring"] == 6 and snapshot.parameters["ring_core"] == 5
    with override_settings(PEERHUB_TRUST={"ring_core": 6}):
        assert trust.voting_ring_ids(snapshot_id=trust.trust_compute().pk) == set()


def test_upvotes_on_a_ring_members_work_earn_nothing_and_the_ledger_says_why(
    django_capture_on_commit_callbacks,
):
    honest_author = regular()
    ringed, voter = regular(), regular()
    challenge = ChallengeFactory()
    snapshot_with_ring([honest_author, ringed, voter], {ringed})
    with django_capture_on_commit_callbacks(execute=True):  # the per-fact syncs run
        original = make_solution(challenge, honest_author)
        fork = make_fork(original, ringed)
        own = make_solution(challenge, ringed)
        services.vote_cast(voter=voter, solution=own, value=Vote.UP)
        services.vote_cast(voter=voter, solution=fork, value=Vote.UP)
    line = ReputationEvent.objects.get(fact_key=f"up:{own.pk}:{voter.pk}")
    assert (line.amount, line.note, line.beneficiary_id) == (
        Decimal(0),
        VOTING_RING_NOTE,
        ringed.pk,
    )
    assert ReputationEvent.objects.get(fact_key=f"up:{fork.pk}:{voter.pk}").amount == 0
    # The honest work the ring member built on is still credited through the lineage.
    credit = ReputationEvent.objects.get(fact_key=f"up:{fork.pk}:{voter.pk}:L{honest_author.pk}")
    assert credit.amount > 0
    assert ledger.sync_everything() == 0  # the syncs and the full rebuild agree
    # Out of the ring (a new computation), the nightly rebuild counts the upvotes again.
    snapshot_with_ring([honest_author, ringed, voter], set())
    assert ledger.sync_everything() == 2
    held = ReputationEvent.objects.filter(fact_key=f"up:{own.pk}:{voter.pk}")
    assert sum(e.amount for e in held) == rules.rules().upvote_received
    assert ledger.sync_everything() == 0


@override_settings(PEERHUB_TRUST={"low_trust_fitness_weight": 0.25})
def test_a_ring_members_votes_and_reviews_weigh_less_in_rankings():
    challenge = ChallengeFactory()
    author = UserFactory()
    a, b = make_solution(challenge, author), make_solution(challenge, author)
    honest, ringed = UserFactory.create_batch(4), UserFactory.create_batch(4)
    low = UserFactory()
    snapshot = snapshot_with_ring([*honest, *ringed], set(ringed))
    MemberTrust.objects.create(snapshot=snapshot, user=low, trust=0.0, low_trust=True)
    for voter in honest:
        Vote.objects.create(voter=voter, solution=a, value=Vote.UP)
        Review.objects.create(solution=a, reviewer=voter, comment="x", mean_score=5)
    for voter in ringed:
        Vote.objects.create(voter=voter, solution=b, value=Vote.UP)
        Review.objects.create(solution=b, reviewer=voter, comment="x", mean_score=5)
    Vote.objects.create(voter=low, solution=b, value=Vote.UP)  # both flags, one weight each
    measures = {m.solution_id: m for m in fitness.measure_challenge(challenge.pk)}
    assert (measures[a.pk].ups, measures[a.pk].n_reviews) == (4, 4)
    assert (measures[b.pk].ups, measures[b.pk].n_reviews) == (1.25, 1)  # 4 x 0.25 (+ 0.25)
    assert measures[a.pk].wilson > measures[b.pk].wilson
    # Out of the ring, their votes count in full again.
    snapshot = snapshot_with_ring([*honest, *ringed], set())
    MemberTrust.objects.create(snapshot=snapshot, user=low, trust=0.0, low_trust=True)
    assert {m.solution_id: m.ups for m in fitness.measure_challenge(challenge.pk)}[b.pk] == 4.25


def test_a_backer_sends_a_large_share_of_their_judgements_to_the_ring():
    # 0-5 trade upvotes both ways (the ring). 6 gave the ring 20 of its 30 upvotes and good
    # reviews; 7 gave it 20 of 120; 8 gave it all of its 5; 9 gave it 5 of 20 (a quarter,
    # but too few).
    upvotes = both_ways(range(6)) + [(6, 0)] * 12 + [(6, 10)] * 10 + [(7, 1)] * 20
    upvotes += [(7, 10)] * 100 + [(8, 2)] * 5 + [(9, 3)] * 5 + [(9, 10)] * 15
    graph = graph_of(12, upvotes)
    reviews = sparse.coo_matrix(([8.0], ([6], [4])), shape=(12, 12)).tocsr()  # good reviews
    graph = trust.Graph(graph.user_ids, graph.adjacency, graph.upvotes, good_reviews=reviews)
    ring = trust.voting_ring(graph, 5)
    assert set(np.flatnonzero(ring)) == set(range(6))
    backers = trust.ring_backers(graph, ring, 20, 0.25)
    assert set(np.flatnonzero(backers)) == {6}
    assert set(np.flatnonzero(trust.ring_backers(graph, ring, 5, 0.25))) == {6, 8, 9}
    # Without a ring, nobody backs one.
    assert not trust.ring_backers(graph, np.zeros(12, dtype=bool), 0, 0.0).any()


def test_the_trust_step_stores_who_backs_a_ring():
    UserFactory(is_staff=True)
    challenge = ChallengeFactory()
    ring = [regular() for _ in range(6)]
    backer, honest = regular(), regular()
    work = {m.pk: make_solution(challenge, m) for m in [*ring, honest]}
    for voter in ring:
        for author in ring:
            if author != voter:
                services.vote_cast(voter=voter, solution=work[author.pk], value=Vote.UP)
    for author in ring[:3]:
        services.vote_cast(voter=backer, solution=work[author.pk], value=Vote.UP)
    services.vote_cast(voter=honest, solution=work[ring[0].pk], value=Vote.UP)
    services.vote_cast(voter=backer, solution=work[honest.pk], value=Vote.UP)
    with override_settings(PEERHUB_TRUST={"backer_min": 2, "backer_share": 0.5}):
        snapshot = trust.trust_compute()
    assert trust.ring_backer_ids(snapshot_id=snapshot.pk) == {backer.pk}  # 3 of 4; 1 is too few
    assert snapshot.parameters["ring_backers"] == 1
    assert snapshot.parameters["backer_min"] == 2 and snapshot.parameters["backer_share"] == 0.5


def test_on_a_ring_members_work_the_ring_and_its_backers_count_nothing_in_rankings():
    challenge = ChallengeFactory()
    ringed, ringed_too, honest_author = UserFactory(), UserFactory(), UserFactory()
    backer, honest = UserFactory(), UserFactory()
    theirs, mine = make_solution(challenge, ringed), make_solution(challenge, honest_author)
    snapshot = snapshot_with_ring([ringed, ringed_too, honest_author, honest], {ringed, ringed_too})
    MemberTrust.objects.create(snapshot=snapshot, user=backer, trust=1.0, ring_backer=True)
    for voter in (backer, ringed_too, honest):
        for solution in (theirs, mine):
            Vote.objects.create(voter=voter, solution=solution, value=Vote.UP)
            Review.objects.create(solution=solution, reviewer=voter, comment="x", mean_score=5)
    measures = {m.solution_id: m for m in fitness.measure_challenge(challenge.pk)}
    # The ring's work: only the honest member's judgements count.
    assert (measures[theirs.pk].ups, measures[theirs.pk].n_reviews) == (1, 1)
    # Honest work: the backer's count in full, the ring member's a quarter.
    assert (measures[mine.pk].ups, measures[mine.pk].n_reviews) == (2.25, 2.25)


def test_how_reputation_works_explains_voting_rings(client):
    page = client.get(reverse("reputation:how-it-works")).content.decode()
    assert 'id="voting-rings"' in page
    assert "at least 5 such partners" in page and "not counted: voting ring" in page
    assert 'id="ring-rankings"' in page and "count for 0.25 of a vote" in page
    assert "at least 20 upvotes and good reviews, and at least 25 % of all" in page
