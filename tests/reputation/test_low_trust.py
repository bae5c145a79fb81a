"""Low-trust members (the latest trust snapshot) still vote, but their votes and reviews mint
no reputation; the author's ledger shows "not counted: low trust"; a new snapshot is applied by
the nightly rebuild, which appends the corrections."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from reputation import fitness, ledger, presenters, services, tasks
from reputation.models import MemberTrust, ReputationEvent, ReputationScore, TrustSnapshot, Vote
from reputation.rules import LOW_TRUST_NOTE
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution

pytestmark = pytest.mark.django_db(transaction=True)


def snapshot_with(low, others=()):
    snapshot = TrustSnapshot.objects.create(version=TrustSnapshot.objects.count() + 1)
    MemberTrust.objects.bulk_create(
        [MemberTrust(snapshot=snapshot, user=m, trust=0.01, low_trust=True) for m in low]
        + [MemberTrust(snapshot=snapshot, user=m, trust=1.0) for m in others]
    )
    return snapshot


def total(user) -> Decimal:
    return ReputationScore.objects.get(user=user).total


def key_sum(key) -> Decimal:
    return ReputationEvent.objects.filter(fact_key=key).aggregate(s=Sum("amount"))["s"]


def test_a_low_trust_vote_counts_as_a_vote_but_mints_nothing_and_says_why():
    ancestor, author, sock, honest = UserFactory.create_batch(4)
    snapshot_with([sock], [ancestor, author, honest])
    solution = make_fork(make_solution(ChallengeFactory(), ancestor), author)
    services.vote_cast(voter=sock, solution=solution, value=Vote.UP)
    services.vote_cast(voter=honest, solution=solution, value=Vote.UP)

    assert Vote.objects.filter(solution=solution).count() == 2
    assert total(author) == 1 + 10  # the honest vote only
    assert total(ancestor) == 1 + 5 + 2  # forked, and lineage credit from the honest vote only
    line = ReputationEvent.objects.get(fact_key=f"up:{solution.pk}:{sock.pk}")
    assert (line.amount, line.note) == (Decimal(0), LOW_TRUST_NOTE)
    [text] = [entry.text for entry in presenters.event_lines(viewer=author, events=[line])]
    assert "not counted: low trust" in text
    # The full rebuild with the same snapshot finds nothing to correct.
    assert ledger.sync_everything() == 0


def test_a_low_trust_review_mints_nothing():
    author, reviewer = UserFactory.create_batch(2)
    ReputationScore.objects.create(user=reviewer, trust_level=2, pinned_level=2)
    snapshot_with([reviewer])
    solution = make_solution(ChallengeFactory(), author)
    criteria = {c.pk: 5 for c in solution.challenge.criteria.all()}
    services.review_save(reviewer=reviewer, solution=solution, comment="Great.", scores=criteria)
    line = ReputationEvent.objects.get(fact_key=f"review:{solution.pk}:{reviewer.pk}")
    assert (line.amount, line.note) == (Decimal(0), LOW_TRUST_NOTE)
    assert ReputationScore.objects.get(user=author).total == 1
    assert ledger.sync_everything() == 0


def test_a_new_snapshot_is_applied_by_the_nightly_rebuild_with_noted_corrections():
    ancestor, author, voter = UserFactory.create_batch(3)
    solution = make_fork(make_solution(ChallengeFactory(), ancestor), author)
    services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    assert total(author) == 11  # no snapshot yet: nobody is low-trust

    snapshot_with([voter])
    assert tasks.recompute_reputation.delay().get() == 2  # the vote and its lineage credit
    assert total(author) == 1 and total(ancestor) == 1 + 5  # what the fork gave stays
    key = f"up:{solution.pk}:{voter.pk}"
    assert key_sum(key) == 0
    assert set(
        ReputationEvent.objects.filter(fact_key__startswith=key, seq=2).values_list(
            "note", flat=True
        )
    ) == {LOW_TRUST_NOTE}

    snapshot_with([], [voter])  # trusted again
    assert ledger.sync_everything() == 2
    assert total(author) == 11 and total(ancestor) == 1 + 5 + 2


def test_low_trust_votes_weigh_less_in_fitness(settings):
    settings.PEERHUB_TRUST = {"low_trust_fitness_weight": 0.25}
    challenge = ChallengeFactory()
    author = UserFactory()
    a, b = make_solution(challenge, author), make_solution(challenge, author)
    trusted, low = UserFactory.create_batch(4), UserFactory.create_batch(4)
    snapshot_with(low, trusted)
    for voter in trusted:
        Vote.objects.create(voter=voter, solution=a, value=Vote.UP)
    for voter in low:
        Vote.objects.create(voter=voter, solution=b, value=Vote.UP)
    measures = {m.solution_id: m for m in fitness.measure_challenge(challenge.pk)}
    assert measures[a.pk].ups == 4
    assert measures[b.pk].ups == 1  # 4 x 0.25
    assert measures[a.pk].wilson > measures[b.pk].wilson
