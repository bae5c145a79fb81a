"""Property: whatever members do, in whatever order, the incrementally kept ledger equals what
the facts give, a full rebuild appends nothing, and every score is the capped, floored sum of
the facts' lines, computed here independently in plain Python.

Each example runs inside a transaction rolled back at its end, so examples cannot see each
other; the syncs queued on commit run when each service call's captured callbacks execute,
exactly as they would after a real commit. A fake clock moves across UTC midnights so that the
daily cap meets votes cast, reversed and cast again on different days.

More examples while hunting: REP_EXAMPLES=500 pytest tests/reputation/test_properties.py
--hypothesis-show-statistics"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.db.models import Sum
from django.test import TestCase, override_settings
from hypothesis import event, given
from hypothesis import strategies as st

from challenges import services as challenge_services
from challenges.models import Solution
from peerhub.exceptions import DomainError
from peerhub.models import User
from reputation import ledger, services
from reputation.models import (
    MemberTrust,
    ModerationCase,
    ReputationEvent,
    ReputationScore,
    TrustSnapshot,
)
from reputation.moderation import facts as moderation_facts
from reputation.moderation import services as moderation
from tests.factories import ChallengeFactory, UserFactory
from tests.helpers import database_examples

pytestmark = pytest.mark.django_db

MEMBERS = 5
REGULARS = 3  # the first three hold trust level 2 (may vote down and review)

index = st.integers(min_value=0, max_value=50)
member = st.integers(min_value=0, max_value=MEMBERS - 1)
vote = st.tuples(st.just("vote"), member, index, st.sampled_from([1, -1]))
# A member flags a solution and a staff reviewer decides (issue 21): confirmed spam or abuse
# costs its author reputation; an appeal that restores it gives the reputation back.
moderate = st.tuples(
    st.just("moderate"),
    member,
    index,
    st.sampled_from(["spam", "abusive", "off_topic"]),
    st.sampled_from(["hide", "remove", "restore", "defer"]),
)
operation = st.one_of(
    vote,
    vote,
    vote,
    st.tuples(st.just("flip"), member, index, st.sampled_from([1, -1])),
    st.tuples(st.just("remove"), member, index),
    st.tuples(st.just("remove"), member, index),
    st.tuples(st.just("fork"), member, index),
    st.tuples(
        st.just("review"),
        member,
        index,
        st.tuples(st.integers(1, 5), st.integers(1, 5)),
    ),
    st.tuples(st.just("upstream"), index),
    # Its author withdraws a solution: no more lineage credit to them from its descendants.
    st.tuples(st.just("withdraw"), index),
    moderate,
    moderate,
    st.tuples(st.just("appeal"), index),
    st.tuples(st.just("tick"), st.sampled_from([1, 9, 30])),
)
# A forest: for each solution, None for a root or the index of an earlier one to fork, and
# its author.
forest = st.lists(st.tuples(st.none() | index, member), min_size=2, max_size=5)


class Clock:
    """Time moves only when an operation says so, across UTC midnights now and then."""

    def __init__(self) -> None:
        self.at = datetime(2026, 5, 1, 22, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, *, hours: int) -> None:
        self.at += timedelta(hours=hours)


def run(action) -> None:
    """One service call as a request would make it: refused calls are part of the game."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        try:
            with transaction.atomic():
                action()
        except DomainError as error:
            event(f"refused: {error.code}")


def expected_totals(lines: dict[str, ledger.Line], cap: Decimal) -> dict[int, Decimal]:
    full: dict[int, Decimal] = defaultdict(Decimal)
    capped: dict[tuple[int, object], Decimal] = defaultdict(Decimal)
    for line in lines.values():
        if line.capped and line.amount > 0:
            capped[(line.beneficiary_id, line.fact_at.date())] += line.amount
        else:
            full[line.beneficiary_id] += line.amount
    for (user_id, _day), gained in capped.items():
        full[user_id] += min(cap, gained)
    return {user_id: max(Decimal(1), 1 + amount) for user_id, amount in full.items()}


def build(tree, members) -> list[Solution]:
    challenge = ChallengeFactory()
    solutions: list[Solution] = []
    for parent, author in tree:
        by = members[author]
        if parent is None or not solutions:
            run(
                lambda by=by: solutions.append(
                    challenge_services.solution_create(
                        challenge=challenge, author=by, title="Root", body="An idea."
                    )
                )
            )
        else:
            source = solutions[parent % len(solutions)]
            run(
                lambda source=source, by=by: solutions.append(
                    challenge_services.solution_fork(source=source, by=by)
                )
            )
    return solutions


def moderation_step(op, members, solutions, reviewer) -> None:
    if op[0] == "appeal":
        solution = solutions[op[1] % len(solutions)]
        case = ModerationCase.objects.filter(object_id=solution.pk, kind="solution").first()
        if case is not None:
            author = User.objects.get(pk=case.author_id)
            run(lambda: moderation.case_appeal(case=case, by=author, text="Please look again."))
            run(lambda: moderation.case_decide(case=case, by=reviewer, outcome="restore"))
        return
    who, solution = members[op[1]], solutions[op[2] % len(solutions)]
    run(
        lambda: moderation.flag_create(
            flagger=who, kind="solution", object_id=solution.pk, reason=op[3]
        )
    )
    case = ModerationCase.objects.filter(object_id=solution.pk, kind="solution").first()
    if case is not None:
        run(lambda: moderation.case_decide(case=case, by=reviewer, outcome=op[4]))


def apply(op, members, solutions, counter, clock, reviewer=None) -> None:
    kind = op[0]
    if kind in ("moderate", "appeal"):
        moderation_step(op, members, solutions, reviewer)
        return
    if kind == "tick":
        clock.advance(hours=op[1])
        return
    if kind == "upstream":
        fork = solutions[op[1] % len(solutions)]
        if fork.parent_id is None:
            return
        parent = Solution.objects.get(pk=fork.parent_id)
        author = members_by_pk(members)[fork.author_id]

        def offer_and_accept():
            challenge_services.solution_revise(
                solution=fork, by=author, title=fork.title, body=f"Better, take {counter}."
            )
            proposal = challenge_services.upstream_propose(fork=fork, by=author, message="Take")
            challenge_services.upstream_accept(
                proposal=proposal, by=members_by_pk(members)[parent.author_id]
            )

        run(offer_and_accept)
        return
    if kind == "withdraw":
        solution = solutions[op[1] % len(solutions)]
        author = members_by_pk(members)[solution.author_id]
        run(lambda: challenge_services.solution_withdraw(solution=solution, by=author))
        return
    who, solution = members[op[1]], solutions[op[2] % len(solutions)]
    if kind == "vote":
        run(lambda: services.vote_cast(voter=who, solution=solution, value=op[3]))
    elif kind == "flip":
        run(lambda: services.vote_cast(voter=who, solution=solution, value=op[3]))
        run(lambda: services.vote_cast(voter=who, solution=solution, value=-op[3]))
    elif kind == "remove":
        run(lambda: services.vote_remove(voter=who, solution=solution))
    elif kind == "fork":
        run(lambda: solutions.append(challenge_services.solution_fork(source=solution, by=who)))
    elif kind == "review":
        criteria = list(solution.challenge.criteria.order_by("position"))
        scores = {c.pk: value for c, value in zip(criteria, op[3], strict=True)}
        run(
            lambda: services.review_save(
                reviewer=who, solution=solution, comment="Reviewed.", scores=scores
            )
        )


def members_by_pk(members) -> dict[int, User]:
    return {m.pk: m for m in members}


@database_examples("REP_EXAMPLES", 25)
@given(
    tree=forest,
    ops=st.lists(operation, min_size=4, max_size=18),
    cap=st.sampled_from([20, 35, 200]),
    low=st.none() | st.sets(member, max_size=2),
)
def test_incremental_ledger_equals_the_facts_and_scores_equal_an_independent_sum(
    tree, ops, cap, low
):
    clock = Clock()
    with (
        override_settings(PEERHUB_REPUTATION={"daily_vote_cap": cap}),
        mock.patch("django.utils.timezone.now", clock.now),
        transaction.atomic(),
    ):
        members = UserFactory.create_batch(MEMBERS)
        for regular in members[:REGULARS]:
            ReputationScore.objects.create(user=regular, trust_level=2, pinned_level=2)
        members = [User.objects.get(pk=m.pk) for m in members]
        if low is not None:
            # A trust snapshot in which these members are low-trust: their votes and reviews
            # mint nothing, on the incremental path as in the full rebuild.
            snapshot = TrustSnapshot.objects.create(version=1)
            MemberTrust.objects.bulk_create(
                MemberTrust(
                    snapshot=snapshot, user=m, trust=float(i not in low), low_trust=i in low
                )
                for i, m in enumerate(members)
            )
        solutions = build(tree, members)
        reviewer = UserFactory(is_staff=True)
        for counter, op in enumerate(ops):
            apply(op, members, solutions, counter, clock, reviewer)

        # (b) per key, the ledger holds exactly what the facts give.
        all_ids = Solution.objects.values_list("pk", flat=True)
        desired = {
            **ledger.desired_for_solutions(all_ids),
            **ledger.desired_for_manifesto(),
            **moderation_facts.desired_for_moderation(),
        }
        held = dict(
            ReputationEvent.objects.values("fact_key")
            .annotate(total=Sum("amount"))
            .values_list("fact_key", "total")
        )
        for key in desired.keys() | held.keys():
            want = desired[key].amount if key in desired else Decimal(0)
            assert held.get(key, Decimal(0)) == want, key

        # (c) scores equal an independent computation from the desired lines.
        expected = expected_totals(desired, Decimal(cap))
        stored = dict(ReputationScore.objects.values_list("user_id", "total"))
        for user in User.objects.all():
            assert stored.get(user.pk, Decimal(1)) == expected.get(user.pk, Decimal(1)), user

        event(f"ledger lines: {min(ReputationEvent.objects.count() // 5 * 5, 20)}+")
        event(f"corrections: {bool(ReputationEvent.objects.filter(seq__gt=1).exists())}")
        event(f"low-trust lines: {ReputationEvent.objects.exclude(note='').exists()}")
        for kind in ReputationEvent.objects.values_list("kind", flat=True).distinct():
            event(f"kind: {kind}")
        # (a) the full rebuild finds nothing to correct, and its fold of every score (one SQL
        # statement on PostgreSQL) equals the scores the syncs moved step by step.
        assert ledger.sync_everything() == 0
        folded = dict(ReputationScore.objects.values_list("user_id", "total"))
        assert {pk: stored.get(pk, Decimal(1)) for pk in folded} == folded
        transaction.set_rollback(True)
