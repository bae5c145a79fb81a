"""Lineage credit (reputation) and lineage money (prizes, royalties) follow one rule,
challenges.lineage.lineage_payees: past unchanged copies to what they copied, never to a
withdrawn ancestor's author or a low-trust member, never to the earner or the actor, once per
person. A change of standing (a copy revised or restored, an ancestor withdrawn) moves the
credit of every descendant, after commit."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import given
from hypothesis import strategies as st

from challenges import services as challenge_services
from challenges.models import Solution
from marketplace.services import purses
from reputation import ledger, services
from reputation.models import MemberTrust, ReputationEvent, TrustSnapshot, Vote
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.helpers import database_examples

pytestmark = pytest.mark.django_db(transaction=True)


def credit(solution, voter) -> dict[int, Decimal]:
    """{beneficiary: lineage credit} that `voter`'s upvote on `solution` gives now."""
    rows = (
        ReputationEvent.objects.filter(
            fact_key__startswith=f"up:{solution.pk}:{voter.pk}:L", kind="lineage_credit"
        )
        .values("beneficiary_id")
        .annotate(total=Sum("amount"))
    )
    return {row["beneficiary_id"]: row["total"] for row in rows if row["total"]}


def low_trust(*members):
    snapshot = TrustSnapshot.objects.create(version=TrustSnapshot.objects.count() + 1)
    MemberTrust.objects.bulk_create(
        MemberTrust(snapshot=snapshot, user=m, trust=0.0, low_trust=True) for m in members
    )


def test_credit_passes_an_unchanged_copy_and_moves_when_the_copy_is_revised():
    ann, bob, cem, voter = UserFactory.create_batch(4)
    root = make_solution(ChallengeFactory(), ann)
    copy = make_fork(root, bob, changed=False)
    remix = make_fork(copy, cem)
    services.vote_cast(voter=voter, solution=remix, value=Vote.UP)
    # The copy added nothing: the parent's share goes to what it copied.
    assert credit(remix, voter) == {ann.pk: Decimal("2.00")}

    challenge_services.solution_revise(
        solution=copy, by=bob, title=copy.title, body="Bob's own take."
    )
    assert credit(remix, voter) == {bob.pk: Decimal("2.00"), ann.pk: Decimal("0.40")}

    challenge_services.solution_revise(
        solution=copy, by=bob, title=copy.title, body=root.current_revision.body
    )
    assert credit(remix, voter) == {ann.pk: Decimal("2.00")}


def test_a_withdrawn_ancestor_earns_no_more_credit_and_keeps_its_generation():
    ann, bob, cem, voter = UserFactory.create_batch(4)
    root = make_solution(ChallengeFactory(), ann)
    middle = make_fork(root, bob)
    leaf = make_fork(middle, cem)
    services.vote_cast(voter=voter, solution=leaf, value=Vote.UP)
    assert credit(leaf, voter) == {bob.pk: Decimal("2.00"), ann.pk: Decimal("0.40")}

    challenge_services.solution_withdraw(solution=middle, by=bob)
    # Taken back from Bob; Ann keeps the grandparent's share (nothing moves up).
    assert credit(leaf, voter) == {ann.pk: Decimal("0.40")}
    taken_back = ReputationEvent.objects.filter(
        fact_key=f"up:{leaf.pk}:{voter.pk}:L{bob.pk}", amount__lt=0
    )
    assert taken_back.count() == 1


def test_a_low_trust_ancestor_earns_no_credit():
    ann, bob, voter = UserFactory.create_batch(3)
    low_trust(ann)
    fork = make_fork(make_solution(ChallengeFactory(), ann), bob)
    services.vote_cast(voter=voter, solution=fork, value=Vote.UP)
    assert credit(fork, voter) == {}


def test_no_credit_for_the_earners_own_earlier_solutions():
    ann, bob, voter = UserFactory.create_batch(3)
    root = make_solution(ChallengeFactory(), ann)
    own = make_fork(root, bob)
    again = make_fork(own, bob)
    services.vote_cast(voter=voter, solution=again, value=Vote.UP)
    # Bob's own earlier solution is no payee and keeps its generation: Ann, the grandparent's
    # author, gets the grandparent's share.
    assert credit(again, voter) == {ann.pk: Decimal("0.40")}


# --- Reputation and money name the same payees ---------------------------------------------

MEMBERS = 5
member = st.integers(0, MEMBERS - 1)
# For each solution: None for a root or the index of an earlier one to fork, its author,
# whether it is still an unchanged copy, whether it is withdrawn.
node = st.tuples(st.none() | st.integers(0, 8), member, st.booleans(), st.booleans())


@pytest.mark.django_db  # one transaction per example, rolled back
@database_examples("REP_EXAMPLES", 15)
@given(
    tree=st.lists(node, min_size=2, max_size=7),
    low=st.sets(member, max_size=2),
    voter=st.integers(0, MEMBERS),
)
def test_reputation_credit_and_lineage_money_name_the_same_ancestors(tree, low, voter):
    with transaction.atomic():
        members = UserFactory.create_batch(MEMBERS + 1)
        low_trust(*(members[i] for i in low))
        challenge = ChallengeFactory()
        solutions: list[Solution] = []
        for parent, author, unchanged, _withdrawn in tree:
            if parent is None or not solutions:
                solutions.append(make_solution(challenge, members[author]))
            else:
                source = solutions[parent % len(solutions)]
                solutions.append(make_fork(source, members[author], changed=not unchanged))
        for solution, (*_rest, withdrawn) in zip(solutions, tree, strict=True):
            if withdrawn:
                Solution.objects.filter(pk=solution.pk).update(status=Solution.Status.WITHDRAWN)
        by = members[voter]
        for solution in solutions:
            if solution.author_id != by.pk:
                Vote.objects.get_or_create(solution=solution, voter=by, defaults={"value": 1})
        ledger.sync_everything()
        for solution in Solution.objects.filter(pk__in=[s.pk for s in solutions]):
            if solution.author_id == by.pk or voter in low:
                continue  # no self-votes; a low-trust voter mints nothing
            money = purses.money_payees(solution=solution, earner_id=solution.author_id)
            expected = {p.author_id for p in money if p.author_id != by.pk}
            if solution.unchanged_fork:
                # A copy's votes judge its source's work: they pay no lineage credit (issue
                # 23), while money the copy wins still shares with those it came from.
                expected = set()
            assert set(credit(solution, by)) == expected
        transaction.set_rollback(True)
