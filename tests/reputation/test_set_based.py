"""Property: the set-based full rebuild (`ledger.rebuild_set_based`, used by `sync_everything`)
appends exactly the lines the Python derivation (`ledger.sync_solutions`) appends, from any state
of facts and ledger: the same keys, sequence numbers, amounts, days, links and notes, hence the
same per-key sums and the same scores.

Facts are written straight to the tables (votes by unverified members, self-votes, votes inside
one's own lineage, serial-reversed votes; reviews, own ones too, rescored, moved to other days
(outliers far from the earlier days' reviews) and removed; forks
unpublished; unchanged copies, withdrawn ancestors and low-trust authors that lineage credit
passes or skips), and the ledger is first synced, then the facts changed, so the rebuild has
corrections to append, not only first lines: on PostgreSQL, only for the solutions its checks
name (tests/reputation/test_rebuild_check.py)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from reputation import ledger, outliers
from reputation.models import (
    MemberTrust,
    ReputationEvent,
    ReputationScore,
    Review,
    TrustSnapshot,
    Vote,
)
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.helpers import database_examples

pytestmark = pytest.mark.django_db

MEMBERS = 6
START = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)

member = st.integers(min_value=0, max_value=MEMBERS - 1)
index = st.integers(min_value=0, max_value=20)
# (voter, solution, value, hours after START, judged serial)
vote = st.tuples(member, index, st.sampled_from([1, -1]), st.integers(0, 60), st.booleans())
# (reviewer, solution, mean score): with a review weight of 2.5, 3.25 and 2.75 round on a tie.
mean = st.sampled_from(["1.00", "2.75", "3.00", "3.25", "3.50", "4.50", "5.00"])
# ... and the day it was written: a review far from the earlier days' is an outlier
# (reputation.outliers), refreshed from the reviews by every rebuild.
review = st.tuples(member, index, mean, st.integers(0, 3))
change = st.one_of(
    st.tuples(st.just("flip"), index, st.integers(0, 60)),
    st.tuples(st.just("remove"), index),
    st.tuples(st.just("serial"), index),
    st.tuples(st.just("unserial"), index),
    st.tuples(st.just("unverify"), member),
    st.tuples(st.just("verify"), member),
    st.tuples(st.just("vote"), vote),
    # A new trust snapshot in which these members are low-trust, and these in a voting ring.
    st.tuples(st.just("trust"), st.sets(member, max_size=3), st.sets(member, max_size=3)),
    # A fork's body becomes its source's again, or differs again.
    st.tuples(st.just("unchanged"), index, st.booleans()),
    # A solution withdrawn: its author earns no more lineage credit.
    st.tuples(st.just("withdrawn"), index),
    st.tuples(st.just("review"), review),
    st.tuples(st.just("rescore"), index, mean, st.integers(0, 3)),
    st.tuples(st.just("unreview"), index),
    # A fork unpublished, or published again.
    st.tuples(st.just("published"), index, st.booleans()),
)
forest = st.lists(st.tuples(st.none() | index, member), min_size=1, max_size=6)

LINE_FIELDS = (
    "fact_key", "seq", "amount", "fact_at", "beneficiary_id", "kind", "solution_id",
    "source_solution_id", "actor_id", "capped", "note",
)  # fmt: skip


def build(tree, members):
    challenge = ChallengeFactory()
    solutions = []
    for parent, author in tree:
        if parent is None or not solutions:
            solutions.append(make_solution(challenge, members[author]))
        else:
            solutions.append(make_fork(solutions[parent % len(solutions)], members[author]))
    return solutions


def add_vote(spec, members, solutions):
    voter, which, value, hours, serial = spec
    at = START + timedelta(hours=hours)
    Vote.objects.update_or_create(
        solution=solutions[which % len(solutions)],
        voter=members[voter],
        defaults={
            "value": value,
            "created_at": at,
            "updated_at": at,
            "serial_reversed_at": at if serial else None,
        },
    )


def add_review(spec, members, solutions):
    reviewer, which, score, day = spec
    at = START + timedelta(days=day)
    Review.objects.update_or_create(
        solution=solutions[which % len(solutions)],
        reviewer=members[reviewer],
        defaults={
            "mean_score": Decimal(score), "comment": "Reviewed.", "created_at": at,
            "updated_at": at,
        },
    )  # fmt: skip


def trust_snapshot(low, members, ring=()):
    """A trust snapshot (the latest from now on) in which the members `low` are low-trust and
    the members `ring` in a voting ring."""
    snapshot = TrustSnapshot.objects.create(version=TrustSnapshot.objects.count() + 1)
    MemberTrust.objects.bulk_create(
        MemberTrust(
            snapshot=snapshot,
            user=m,
            trust=0.0 if i in low else 1.0,
            low_trust=i in low,
            voting_ring=i in ring,
        )
        for i, m in enumerate(members)
    )


def apply(op, members, solutions):
    votes = list(Vote.objects.order_by("pk"))
    reviews = list(Review.objects.order_by("pk"))
    forks = [s.pk for s in solutions if s.parent_id is not None]
    kind = op[0]
    if kind == "review":
        add_review(op[1], members, solutions)
    elif kind in ("rescore", "unreview"):
        if reviews:
            target = Review.objects.filter(pk=reviews[op[1] % len(reviews)].pk)
            if kind == "rescore":
                target.update(mean_score=Decimal(op[2]), updated_at=START + timedelta(days=op[3]))
            else:
                target.delete()
    elif kind == "published":
        if forks:
            ledger.Solution.objects.filter(pk=forks[op[1] % len(forks)]).update(
                published_at=START if op[2] else None
            )
    elif kind == "trust":
        trust_snapshot(op[1], members, op[2])
    elif kind == "vote":
        add_vote(op[1], members, solutions)
    elif kind == "unchanged":
        if forks:
            ledger.Solution.objects.filter(pk=forks[op[1] % len(forks)]).update(
                unchanged_fork=op[2]
            )
    elif kind == "withdrawn":
        ledger.Solution.objects.filter(pk=solutions[op[1] % len(solutions)].pk).update(
            status=ledger.Solution.Status.WITHDRAWN
        )
    elif kind in ("unverify", "verify"):
        EmailAddress.objects.filter(user=members[op[1]]).update(verified=kind == "verify")
    elif votes:
        target = votes[op[1] % len(votes)]
        if kind == "flip":
            target.value = -target.value
            target.updated_at = START + timedelta(hours=op[2])
            target.save()
        elif kind == "remove":
            target.delete()
        else:
            target.serial_reversed_at = START if kind == "serial" else None
            target.save()


def python_rebuild():
    """The derivation as `sync_everything` did it before: every solution synced in Python,
    after the reviews' outlier verdicts are refreshed (as the rebuild refreshes them)."""
    outliers.reviews_mark_outliers(None)
    ledger.sync_solutions(ledger.Solution.objects.values_list("pk", flat=True))
    ledger.recompute_scores(None)


def snapshot():
    lines = sorted(ReputationEvent.objects.values_list(*LINE_FIELDS), key=lambda r: (r[0], r[1]))
    sums = dict(
        ReputationEvent.objects.values("fact_key")
        .annotate(total=Sum("amount"))
        .values_list("fact_key", "total")
    )
    scores = dict(ReputationScore.objects.values_list("user_id", "total"))
    return lines, sums, scores


@database_examples("REP_EXAMPLES", 20)
@given(
    tree=forest,
    votes=st.lists(vote, max_size=25),
    reviews=st.lists(review, max_size=8),
    weight=st.sampled_from(["4", "2.5"]),
    changes=st.lists(change, max_size=12),
    cap=st.sampled_from([20, 35, 200]),
    shares=st.sampled_from([["0.20", "0.04"], ["0.5"], ["0.333", "0.25", "0.1"]]),
    batch_size=st.sampled_from([1, 2, 500]),
    low=st.none() | st.sets(member, max_size=3),
    ring=st.sets(member, max_size=3),
)
def test_set_based_rebuild_appends_what_the_python_derivation_appends(
    tree, votes, reviews, weight, changes, cap, shares, batch_size, low, ring
):
    rules = {"daily_vote_cap": cap, "lineage_shares": shares, "review_weight": weight}
    with (
        override_settings(
            PEERHUB_REPUTATION=rules,
            PEERHUB_SERIAL_VOTING={"votes": 1000, "window_hours": 1},
        ),
        transaction.atomic(),
    ):
        members = UserFactory.create_batch(MEMBERS)
        solutions = build(tree, members)
        if low is not None:  # None: a fresh install, no snapshot yet
            trust_snapshot(low, members, ring)
        for spec in votes:
            add_vote(spec, members, solutions)
        for spec in reviews:
            add_review(spec, members, solutions)
        python_rebuild()
        for op in changes:
            apply(op, members, solutions)

        with transaction.atomic():
            python_rebuild()
            expected = snapshot()
            transaction.set_rollback(True)
        before = ReputationEvent.objects.count()
        appended = ledger.sync_everything(batch_size=batch_size, set_based=True)
        lines, sums, scores = snapshot()

        assert lines == expected[0]
        assert sums == expected[1]
        assert scores == expected[2]
        assert appended == len(lines) - before
        # A second rebuild finds nothing to correct.
        assert ledger.sync_everything(batch_size=batch_size, set_based=True) == 0
        transaction.set_rollback(True)


def test_set_based_rebuild_pays_no_lineage_credit_to_the_voter_or_twice_to_one_person():
    root_author, fork_author, voter = UserFactory.create_batch(3)
    root = make_solution(author=root_author)
    fork = make_fork(root, fork_author)
    grandchild = make_fork(fork, root_author)  # the root's author again, two levels up
    great = make_fork(grandchild, fork_author)
    at = START
    for solution, by in ((fork, root_author), (grandchild, voter), (great, voter)):
        Vote.objects.create(solution=solution, voter=by, value=1, created_at=at, updated_at=at)
    with transaction.atomic():
        python_rebuild()
        expected = snapshot()
        transaction.set_rollback(True)
    ledger.sync_everything(set_based=True)
    assert snapshot() == expected
    keys = set(expected[1])
    assert f"up:{fork.pk}:{root_author.pk}:L{root_author.pk}" not in keys
    assert f"up:{great.pk}:{voter.pk}:L{root_author.pk}" in keys
    assert f"up:{grandchild.pk}:{voter.pk}:L{fork_author.pk}" in keys
    assert f"up:{grandchild.pk}:{voter.pk}:L{root_author.pk}" not in keys


def test_the_partial_index_covers_exactly_the_lines_votes_do_not_give():
    """The rebuild reads the other lines apart through `event_not_from_votes`, whose condition
    must stay the complement of `ledger.VOTE_LINES` for the planner to use it."""
    [index] = [i for i in ReputationEvent._meta.indexes if i.name == "event_not_from_votes"]
    assert index.condition == ~ledger.VOTE_LINES
