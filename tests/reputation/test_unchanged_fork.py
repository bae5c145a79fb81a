"""A fork whose body is still its source's (a verbatim copy, or one with cosmetic edits) earns
nobody anything from the votes and reviews it receives: they judge the source's work, which its
author earns from on the source itself, so no lineage credit flows from a copy either, and the
parent's author is credited for the fork only once it changes. The author's history says why
("not counted: unchanged fork"); revising the fork makes the same votes count, restoring the
copied body takes them back."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from challenges import services as challenge_services
from reputation import ledger, presenters, services
from reputation.models import ReputationEvent, ReputationScore, Vote
from reputation.rules import UNCHANGED_FORK_NOTE
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution

pytestmark = pytest.mark.django_db(transaction=True)


def total(user) -> Decimal:
    score = ReputationScore.objects.filter(user=user).first()
    return score.total if score else Decimal(1)


def key_sum(key: str) -> Decimal:
    return ReputationEvent.objects.filter(fact_key=key).aggregate(s=Sum("amount"))["s"]


def regular():
    user = UserFactory()
    ReputationScore.objects.create(user=user, total=Decimal(100), trust_level=2)
    return user


def test_a_fork_copies_its_source_until_its_author_changes_the_body():
    source = make_solution()
    fork = make_fork(source, changed=False)
    assert fork.unchanged_fork
    assert make_fork(source).unchanged_fork is False  # the factory's default is a remix
    challenge_services.solution_revise(
        solution=fork, by=fork.author, title="A new title only", body=fork.current_revision.body
    )
    fork.refresh_from_db()
    assert fork.unchanged_fork  # a new title does not change the work
    assert make_solution().unchanged_fork is False  # not a fork


def test_votes_on_an_unchanged_fork_earn_nobody_anything():
    ancestor, forker, voter = UserFactory.create_batch(3)
    downvoter = regular()
    fork = make_fork(make_solution(ChallengeFactory(), ancestor), forker, changed=False)
    services.vote_cast(voter=voter, solution=fork, value=Vote.UP)
    services.vote_cast(voter=downvoter, solution=fork, value=Vote.DOWN)

    assert total(forker) == 1
    assert total(ancestor) == 1  # no "forked" line for a copy, no lineage credit from it
    assert not ReputationEvent.objects.filter(beneficiary=ancestor).exists()
    line = ReputationEvent.objects.get(fact_key=f"up:{fork.pk}:{voter.pk}")
    assert (line.amount, line.note) == (Decimal(0), UNCHANGED_FORK_NOTE)
    down = ReputationEvent.objects.get(fact_key=f"down:{fork.pk}:{downvoter.pk}")
    assert (down.amount, down.note) == (Decimal(0), UNCHANGED_FORK_NOTE)
    assert key_sum(f"downcast:{fork.pk}:{downvoter.pk}") == -1  # a downvote still costs
    [text] = [entry.text for entry in presenters.event_lines(viewer=forker, events=[line])]
    assert UNCHANGED_FORK_NOTE in text
    assert ledger.sync_everything() == 0


def test_a_review_of_an_unchanged_fork_earns_nobody_anything():
    ancestor, forker = UserFactory.create_batch(2)
    reviewer = regular()
    fork = make_fork(make_solution(ChallengeFactory(), ancestor), forker, changed=False)
    scores = {c.pk: 5 for c in fork.challenge.criteria.all()}
    services.review_save(reviewer=reviewer, solution=fork, comment="Great.", scores=scores)
    line = ReputationEvent.objects.get(fact_key=f"review:{fork.pk}:{reviewer.pk}")
    assert (line.amount, line.note) == (Decimal(0), UNCHANGED_FORK_NOTE)
    assert total(forker) == 1
    assert key_sum(f"review:{fork.pk}:{reviewer.pk}:L{ancestor.pk}") is None
    assert ledger.sync_everything() == 0


def test_revising_the_fork_makes_its_votes_count_and_restoring_the_copy_takes_them_back():
    ancestor, forker, voter = UserFactory.create_batch(3)
    fork = make_fork(make_solution(ChallengeFactory(), ancestor), forker, changed=False)
    copied = fork.current_revision.body
    services.vote_cast(voter=voter, solution=fork, value=Vote.UP)
    assert total(forker) == 1

    challenge_services.solution_revise(solution=fork, by=forker, title=fork.title, body="Mine.")
    assert total(forker) == 1 + 10
    assert total(ancestor) == 1 + 5 + 2  # forked, and the lineage credit of the upvote
    assert ledger.sync_everything() == 0

    challenge_services.solution_revise(solution=fork, by=forker, title=fork.title, body=copied)
    assert total(forker) == 1
    lines = ReputationEvent.objects.filter(fact_key=f"up:{fork.pk}:{voter.pk}").order_by("seq")
    assert [(e.amount, e.note) for e in lines] == [
        (Decimal(0), UNCHANGED_FORK_NOTE),
        (Decimal(10), ""),
        (Decimal(-10), UNCHANGED_FORK_NOTE),
    ]
    assert total(ancestor) == 1  # a copy again: no "forked" line, no lineage credit
    assert ledger.sync_everything() == 0
