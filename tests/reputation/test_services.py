"""Every reputation rule through the real services, with syncs running on commit."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from challenges import services as challenge_services
from challenges.models import Challenge, UpstreamProposal
from peerhub import outbox
from peerhub.exceptions import Conflict, DomainError, NotAllowed, RateLimited
from peerhub.models import OutboxTask, User
from peerhub.services import manifesto_sign
from reputation import ledger, rules, services, tasks
from reputation.models import ReputationEvent, ReputationScore, Review, Vote
from tests.factories import (
    ChallengeFactory,
    ManifestoVersionFactory,
    UserFactory,
    make_fork,
    make_solution,
)

pytestmark = pytest.mark.django_db(transaction=True)

Kind = ReputationEvent.Kind


def score(user) -> Decimal:
    row = ReputationScore.objects.filter(user=user).first()
    return row.total if row else Decimal(1)


def at_level(level: int, **kwargs) -> User:
    """A verified member pinned at a trust level (a pin survives their own recomputations)."""
    user = UserFactory(**kwargs)
    ReputationScore.objects.create(user=user, trust_level=level, pinned_level=level)
    return User.objects.get(pk=user.pk)


def key_sums() -> dict[str, Decimal]:
    rows = ReputationEvent.objects.values("fact_key").annotate(total=Sum("amount"))
    return {row["fact_key"]: row["total"] for row in rows}


def all_scores(solution) -> dict[int, int]:
    return {c.pk: 5 for c in solution.challenge.criteria.all()}


def review(reviewer, solution, *values: int) -> Review:
    criteria = list(solution.challenge.criteria.order_by("position"))
    return services.review_save(
        reviewer=reviewer,
        solution=solution,
        comment="Works well; could be cheaper.",
        scores={c.pk: v for c, v in zip(criteria, values, strict=True)},
    )


# --- Votes -----------------------------------------------------------------------------------


def test_upvote_gives_ten_and_a_line_linking_the_fact():
    solution = make_solution()
    voter = UserFactory()
    services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    assert score(solution.author) == 11
    line = ReputationEvent.objects.get()
    assert (line.kind, line.beneficiary, line.actor, line.solution) == (
        Kind.UPVOTE_RECEIVED,
        solution.author,
        voter,
        solution,
    )
    assert line.capped


def test_voting_the_same_way_twice_changes_nothing():
    solution = make_solution()
    voter = UserFactory()
    services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    assert Vote.objects.count() == 1
    assert ReputationEvent.objects.count() == 1


def test_downvote_costs_the_author_two_and_the_voter_one():
    solution = make_solution()
    for voter in UserFactory.create_batch(3):
        services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    voter = at_level(2)
    services.vote_cast(voter=voter, solution=solution, value=Vote.DOWN)
    assert score(solution.author) == 1 + 30 - 2
    assert key_sums()[f"downcast:{solution.pk}:{voter.pk}"] == -1
    assert score(voter) == 1  # -1 on a fresh member: never below 1


def test_flipping_a_vote_appends_corrections_and_the_sums_follow():
    solution = make_solution()
    author = solution.author
    services.vote_cast(voter=UserFactory(), solution=solution, value=Vote.UP)  # 11
    voter = at_level(2)
    services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    assert score(author) == 21
    services.vote_cast(voter=voter, solution=solution, value=Vote.DOWN)
    assert score(author) == 9
    up, down, cast = (f"{k}:{solution.pk}:{voter.pk}" for k in ("up", "down", "downcast"))
    assert list(
        ReputationEvent.objects.filter(fact_key=up).order_by("seq").values_list("seq", "amount")
    ) == [(1, Decimal(10)), (2, Decimal(-10))]
    assert (key_sums()[down], key_sums()[cast]) == (-2, -1)
    services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    assert score(author) == 21
    sums = key_sums()
    assert (sums[up], sums[down], sums[cast]) == (10, 0, 0)
    assert ReputationEvent.objects.filter(fact_key=up).count() == 3
    assert ledger.sync_everything() == 0


def test_removing_a_downvote_gives_both_sides_back():
    solution = make_solution()
    services.vote_cast(voter=UserFactory(), solution=solution, value=Vote.UP)
    voter = at_level(2)
    services.vote_cast(voter=voter, solution=solution, value=Vote.DOWN)
    assert score(solution.author) == 9
    assert services.vote_remove(voter=voter, solution=solution) is True
    assert score(solution.author) == 11
    assert key_sums()[f"downcast:{solution.pk}:{voter.pk}"] == 0
    assert services.vote_remove(voter=voter, solution=solution) is False


def test_unverified_voters_and_reviewers_give_nothing():
    solution = make_solution()
    ghost = UserFactory(verified=False)
    with pytest.raises(NotAllowed):
        services.vote_cast(voter=ghost, solution=solution, value=Vote.UP)
    # Facts recorded some other way (or before an address was unverified) still weigh nothing.
    Vote.objects.create(solution=solution, voter=ghost, value=Vote.UP)
    Review.objects.create(solution=solution, reviewer=ghost, comment="x", mean_score=5)
    ledger.sync_solutions([solution.pk])
    assert ReputationEvent.objects.count() == 0
    assert score(solution.author) == 1


def test_reputation_never_shows_below_one():
    solution = make_solution()
    for _ in range(3):
        services.vote_cast(voter=at_level(2), solution=solution, value=Vote.DOWN)
    assert ReputationEvent.objects.filter(beneficiary=solution.author).aggregate(s=Sum("amount"))[
        "s"
    ] == Decimal(-6)
    assert score(solution.author) == 1


# --- Forks, reviews, upstream, manifesto ------------------------------------------------------


def test_being_forked_gives_five_but_not_forking_yourself():
    root = make_solution()
    make_fork(root)
    make_fork(root)
    assert score(root.author) == 1 + 10
    make_fork(root, author=root.author)
    assert score(root.author) == 11
    assert ReputationEvent.objects.filter(kind=Kind.FORKED).count() == 2


def test_review_gives_the_mean_minus_three_times_four_and_an_edit_corrects():
    solution = make_solution()
    reviewer = at_level(2)
    review(reviewer, solution, 5, 4)  # mean 4.5: +6
    assert score(solution.author) == 7
    key = f"review:{solution.pk}:{reviewer.pk}"
    review(reviewer, solution, 1, 2)  # mean 1.5: -6
    assert key_sums()[key] == -6
    assert score(solution.author) == 1
    review(reviewer, solution, 3, 3)  # mean 3: nothing
    assert key_sums()[key] == 0
    assert Review.objects.count() == 1
    assert ReputationEvent.objects.filter(fact_key=key).count() == 3
    review(reviewer, solution, 5, 5)
    assert score(solution.author) == 1 + 8


def test_reviews_need_every_criterion_and_scores_from_one_to_five():
    solution = make_solution()
    reviewer = at_level(2)
    first = solution.challenge.criteria.order_by("position").first()
    with pytest.raises(DomainError, match="every criterion"):
        services.review_save(
            reviewer=reviewer, solution=solution, comment="ok", scores={first.pk: 4}
        )
    with pytest.raises(DomainError, match="1 to 5"):
        review(reviewer, solution, 6, 4)
    with pytest.raises(DomainError, match="better"):
        services.review_save(
            reviewer=reviewer, solution=solution, comment="  ", scores=all_scores(solution)
        )
    assert Review.objects.count() == 0


def test_upstream_accepted_gives_the_forks_author_fifteen():
    root = make_solution()
    fork = make_fork(root)
    challenge_services.solution_revise(solution=fork, by=fork.author, title="Better", body="v2")
    proposal = challenge_services.upstream_propose(fork=fork, by=fork.author, message="Take it")
    before = score(fork.author)
    challenge_services.upstream_accept(proposal=proposal, by=root.author)
    assert score(fork.author) - before == 15
    line = ReputationEvent.objects.get(kind=Kind.UPSTREAM_ACCEPTED)
    assert (line.beneficiary, line.actor, line.source_solution) == (
        fork.author,
        root.author,
        fork,
    )
    assert UpstreamProposal.objects.get().status == UpstreamProposal.Status.ACCEPTED
    assert ledger.sync_everything() == 0


def test_declined_upstream_gives_nothing():
    root = make_solution()
    fork = make_fork(root)
    challenge_services.solution_revise(solution=fork, by=fork.author, title="Better", body="v2")
    proposal = challenge_services.upstream_propose(fork=fork, by=fork.author, message="Take it")
    challenge_services.upstream_decline(proposal=proposal, by=root.author, reason="Not now")
    assert not ReputationEvent.objects.filter(kind=Kind.UPSTREAM_ACCEPTED).exists()


def test_manifesto_gives_one_once_across_versions():
    member = UserFactory()
    first, second = ManifestoVersionFactory(), ManifestoVersionFactory()
    manifesto_sign(user=member, version=first)
    assert score(member) == 2
    manifesto_sign(user=member, version=second)
    manifesto_sign(user=member, version=second)
    assert score(member) == 2
    assert ReputationEvent.objects.filter(kind=Kind.MANIFESTO_SIGNED).count() == 1
    assert ledger.sync_everything() == 0


# --- The daily cap ---------------------------------------------------------------------------


def votes_at(solution, when: datetime, count: int) -> list[Vote]:
    return [
        Vote.objects.create(
            solution=solution, voter=voter, value=Vote.UP, created_at=when, updated_at=when
        )
        for voter in UserFactory.create_batch(count)
    ]


def test_twenty_five_upvotes_on_one_day_give_two_hundred():
    solution = make_solution()
    votes_at(solution, timezone.now(), 25)
    ledger.sync_solutions([solution.pk])
    assert score(solution.author) == 1 + 200
    assert ReputationEvent.objects.filter(kind=Kind.UPVOTE_RECEIVED).count() == 25


def test_the_cap_counts_per_utc_day():
    solution = make_solution()
    day_one = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    votes_at(solution, day_one, 25)
    votes_at(solution, day_one + timedelta(minutes=2), 12)  # just after midnight UTC
    ledger.sync_solutions([solution.pk])
    assert score(solution.author) == 1 + 200 + 120


def test_reversing_a_vote_frees_room_under_the_cap():
    solution = make_solution()
    votes = votes_at(solution, timezone.now(), 21)
    ledger.sync_solutions([solution.pk])
    assert score(solution.author) == 201
    voter = at_level(2)
    services.vote_cast(voter=voter, solution=solution, value=Vote.DOWN)
    assert score(solution.author) == 199  # the downvote counts in full
    for vote in votes[:3]:
        services.vote_remove(voter=vote.voter, solution=solution)
    assert score(solution.author) == 1 + 180 - 2
    assert ledger.sync_everything() == 0


def test_lineage_credit_from_votes_counts_under_the_beneficiarys_cap():
    root = make_solution()
    fork = make_fork(root)
    votes_at(root, timezone.now(), 20)  # root's author: 200, the day is full
    votes_at(fork, timezone.now(), 5)  # would add 5 x 2.00 of lineage credit
    ledger.sync_solutions([root.pk, fork.pk])
    assert score(root.author) == 1 + 200 + 5  # the fork counts in full, the credit is capped
    assert ReputationEvent.objects.filter(
        kind=Kind.LINEAGE_CREDIT, beneficiary=root.author
    ).aggregate(s=Sum("amount"))["s"] == Decimal(10)


def test_review_reputation_is_not_capped():
    solution = make_solution()
    votes_at(solution, timezone.now(), 25)
    ledger.sync_solutions([solution.pk])
    review(at_level(2), solution, 5, 5)
    assert score(solution.author) == 1 + 200 + 8


# --- Lineage credit --------------------------------------------------------------------------


def test_lineage_credit_through_three_generations():
    challenge = ChallengeFactory()
    a, b, c, d = UserFactory.create_batch(4)
    root = make_solution(challenge, author=a)
    child = make_fork(root, author=b)
    grandchild = make_fork(child, author=c)
    great = make_fork(grandchild, author=d)
    services.vote_cast(voter=UserFactory(), solution=great, value=Vote.UP)
    credit = dict(
        ReputationEvent.objects.filter(kind=Kind.LINEAGE_CREDIT).values_list(
            "beneficiary_id", "amount"
        )
    )
    assert credit == {c.pk: Decimal("2.00"), b.pk: Decimal("0.40")}
    line = ReputationEvent.objects.get(kind=Kind.LINEAGE_CREDIT, beneficiary=c)
    assert (line.solution, line.source_solution) == (great, grandchild)


def test_lineage_credit_from_a_good_review_and_none_from_a_bad_one():
    root = make_solution()
    fork = make_fork(root)
    review(at_level(2), fork, 5, 5)  # +8, 20 % of it upstream
    assert ReputationEvent.objects.get(
        beneficiary=root.author, kind=Kind.LINEAGE_CREDIT
    ).amount == (Decimal("1.60"))
    review(at_level(2), fork, 1, 1)  # -8: no negative credit
    assert ReputationEvent.objects.filter(kind=Kind.LINEAGE_CREDIT).count() == 1


def test_one_person_authoring_parent_and_grandparent_gets_only_the_first_share():
    challenge = ChallengeFactory()
    a, b = UserFactory.create_batch(2)
    root = make_solution(challenge, author=a)
    child = make_fork(root, author=a)
    leaf = make_fork(child, author=b)
    services.vote_cast(voter=UserFactory(), solution=leaf, value=Vote.UP)
    credit = list(
        ReputationEvent.objects.filter(kind=Kind.LINEAGE_CREDIT).values_list(
            "beneficiary_id", "amount"
        )
    )
    assert credit == [(a.pk, Decimal("2.00"))]


def test_no_lineage_credit_to_the_earner():
    challenge = ChallengeFactory()
    a, b = UserFactory.create_batch(2)
    root = make_solution(challenge, author=b)
    child = make_fork(root, author=a)
    leaf = make_fork(child, author=a)  # a forks their own fork
    services.vote_cast(voter=UserFactory(), solution=leaf, value=Vote.UP)
    credit = list(
        ReputationEvent.objects.filter(kind=Kind.LINEAGE_CREDIT).values_list(
            "beneficiary_id", "amount"
        )
    )
    assert credit == [(b.pk, Decimal("0.40"))]  # the grandparent's share, never a's own


def test_no_lineage_credit_for_downvotes():
    root = make_solution()
    fork = make_fork(root)
    services.vote_cast(voter=at_level(2), solution=fork, value=Vote.DOWN)
    assert not ReputationEvent.objects.filter(kind=Kind.LINEAGE_CREDIT).exists()
    assert score(root.author) == 1 + 5


def test_flipping_a_vote_withdraws_its_lineage_credit():
    root = make_solution()
    fork = make_fork(root)
    voter = at_level(2)
    services.vote_cast(voter=voter, solution=fork, value=Vote.UP)
    assert score(root.author) == 1 + 5 + 2
    services.vote_cast(voter=voter, solution=fork, value=Vote.DOWN)
    assert score(root.author) == 1 + 5
    assert ledger.sync_everything() == 0


# --- Anti-abuse ------------------------------------------------------------------------------


def test_no_vote_or_review_on_your_own_work_or_what_builds_on_it():
    author = at_level(2)
    root = make_solution(author=author)
    fork = make_fork(make_fork(root))
    for target in (root, fork):
        with pytest.raises(DomainError, match=r"your own solution|builds on yours"):
            services.vote_cast(voter=author, solution=target, value=Vote.UP)
        with pytest.raises(DomainError, match=r"your own solution|builds on yours"):
            review(author, target, 5, 5)
    assert not Vote.objects.exists() and not Review.objects.exists()


def test_level_one_cannot_downvote_or_review():
    solution = make_solution()
    member = UserFactory()
    with pytest.raises(NotAllowed, match="trust level 2"):
        services.vote_cast(voter=member, solution=solution, value=Vote.DOWN)
    with pytest.raises(NotAllowed, match="trust level 2"):
        review(member, solution, 4, 4)


def test_a_vote_is_up_or_down():
    with pytest.raises(DomainError, match=r"\+1 or -1"):
        services.vote_cast(voter=UserFactory(), solution=make_solution(), value=2)


def test_invisible_and_unpublished_solutions_are_refused():
    private = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    hidden = make_solution(private, author=private.created_by)
    draft = make_solution(publish=False)
    voter = at_level(2)
    with pytest.raises(NotAllowed):
        services.vote_cast(voter=voter, solution=hidden, value=Vote.UP)
    with pytest.raises(NotAllowed):
        services.vote_cast(voter=voter, solution=draft, value=Vote.UP)
    with pytest.raises(NotAllowed):
        review(voter, hidden, 4, 4)
    withdrawn = make_solution()
    challenge_services.solution_withdraw(solution=withdrawn, by=withdrawn.author)
    withdrawn.refresh_from_db()
    with pytest.raises(Conflict):
        services.vote_cast(voter=voter, solution=withdrawn, value=Vote.UP)


def test_daily_vote_limit_by_trust_level(settings):
    settings.PEERHUB_DAILY_VOTES = {1: 3, 2: 4}
    solutions = [make_solution() for _ in range(5)]
    member = UserFactory()
    for solution in solutions[:3]:
        services.vote_cast(voter=member, solution=solution, value=Vote.UP)
    with pytest.raises(RateLimited) as refused:
        services.vote_cast(voter=member, solution=solutions[3], value=Vote.UP)
    assert refused.value.status_code == 429
    # Changing or repeating an existing vote does not count again.
    services.vote_cast(voter=member, solution=solutions[0], value=Vote.UP)
    regular = at_level(2)
    for solution in solutions[:4]:
        services.vote_cast(voter=regular, solution=solution, value=Vote.UP)
    services.vote_cast(voter=regular, solution=solutions[0], value=Vote.DOWN)
    services.vote_cast(voter=regular, solution=solutions[0], value=Vote.UP)
    with pytest.raises(RateLimited):
        services.vote_cast(voter=regular, solution=solutions[4], value=Vote.UP)


def test_yesterdays_votes_do_not_count_against_today():
    settings_limit = 20
    solution = make_solution()
    member = UserFactory()
    yesterday = timezone.now() - timedelta(days=1)
    for other in [make_solution() for _ in range(settings_limit)]:
        Vote.objects.create(solution=other, voter=member, value=Vote.UP, created_at=yesterday)
    services.vote_cast(voter=member, solution=solution, value=Vote.UP)
    assert Vote.objects.filter(voter=member).count() == settings_limit + 1


# --- Idempotency and after-commit -------------------------------------------------------------


def test_syncing_twice_appends_nothing():
    root = make_solution()
    fork = make_fork(root)
    votes_at(fork, timezone.now(), 3)
    review(at_level(2), fork, 4, 5)
    ledger.sync_solutions([root.pk, fork.pk])
    count = ReputationEvent.objects.count()
    assert ledger.sync_solutions([root.pk, fork.pk]) == set()
    assert ReputationEvent.objects.count() == count
    assert ledger.sync_everything() == 0


def test_the_sync_task_run_twice_converges():
    solution = make_solution()
    votes_at(solution, timezone.now(), 2)
    assert tasks.sync_solution_reputation(solution.pk) == 1
    assert tasks.sync_solution_reputation(solution.pk) == 0
    assert score(solution.author) == 21
    assert tasks.recompute_reputation() == 0


def test_a_rolled_back_vote_queues_no_sync_and_changes_no_score():
    solution = make_solution()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.vote_cast(voter=UserFactory(), solution=solution, value=Vote.UP)
        raise RuntimeError("the request failed after the vote")
    assert not Vote.objects.exists()
    assert not ReputationEvent.objects.exists()
    assert score(solution.author) == 1


def test_a_vote_cast_again_on_a_later_day_counts_on_that_day():
    """The score must equal what a ledger rebuilt from scratch gives: a vote removed on a full
    day and cast again days later is a new fact of that later day, not of the first one."""
    solution = make_solution()
    first_day = timezone.now() - timedelta(days=3)
    votes_at(solution, first_day, 20)
    again = votes_at(solution, first_day, 1)[0]
    ledger.sync_solutions([solution.pk])
    assert score(solution.author) == 1 + 200
    again.delete()
    ledger.sync_solutions([solution.pk])
    assert score(solution.author) == 1 + 200
    services.vote_cast(voter=again.voter, solution=solution, value=Vote.UP)
    assert score(solution.author) == 1 + 200 + 10
    assert ledger.sync_everything() == 0
    assert score(solution.author) == 1 + 200 + 10


def test_a_double_click_racing_the_first_vote_makes_one_vote():
    """Two first votes at once: there is no row to lock yet, so the second insert hits the
    unique constraint. It must turn into a change of the vote, not an error."""
    solution = make_solution()
    voter = at_level(2)

    limits = rules.daily_votes()

    def other_request_wins():
        # Runs between this request's empty lock and its insert.
        Vote.objects.bulk_create([Vote(solution=solution, voter=voter, value=Vote.UP)])
        return limits

    with mock.patch.object(rules, "daily_votes", other_request_wins):
        vote = services.vote_cast(voter=voter, solution=solution, value=Vote.DOWN)
    assert Vote.objects.get().value == vote.value == Vote.DOWN
    assert score(solution.author) == 1
    assert key_sums()[f"downcast:{solution.pk}:{voter.pk}"] == -1


def test_a_double_submit_racing_the_first_review_makes_one_review():
    """Two first reviews at once: the second insert meets the first's row, and becomes its
    edit (this request's comment and scores), not an error."""
    solution = make_solution()
    reviewer = at_level(2)
    criteria = list(solution.challenge.criteria.order_by("position"))
    upsert = services._upsert

    def other_request_wins(row, **kwargs):
        # Runs between this request's empty lock and its insert.
        first = Review.objects.create(
            solution=solution, reviewer=reviewer, comment="First.", mean_score=Decimal("1.00")
        )
        first.scores.create(criterion=criteria[0], score=1)
        first.scores.create(criterion=criteria[1], score=1)
        return upsert(row, **kwargs)

    with mock.patch.object(services, "_upsert", other_request_wins):
        review(reviewer, solution, 5, 4)
    stored = Review.objects.get()
    assert (stored.comment, stored.mean_score) == ("Works well; could be cheaper.", Decimal("4.50"))
    assert sorted(stored.scores.values_list("score", flat=True)) == [4, 5]
    assert key_sums()[f"review:{solution.pk}:{reviewer.pk}"] == 6


def test_a_vote_makes_two_statements_and_one_more_on_a_fork():
    """The budget of a vote by a member whose level and verification the request already read:
    one locking read (their vote on the solution and today's votes, which the limit counts),
    and the insert (an upsert, for a double click); on a fork, one more asks whether it builds
    on the voter's work. Then the two promises it makes, in the same transaction: the ledger
    sync and the rankings' recompute (outbox rows, run after commit on a worker). (BEGIN and
    COMMIT aside, which SQLite logs and PostgreSQL does not.)"""
    root = make_solution()
    fork = make_fork(root)
    # The page holds the solution, its challenge and author (challenges.selectors.solution_get).
    fork.challenge, fork.author  # noqa: B018
    voter = UserFactory()

    def statements(captured) -> list[str]:
        return [q["sql"] for q in captured if not q["sql"].startswith(("BEGIN", "COMMIT"))]

    with mock.patch.object(outbox, "publish"):
        services.vote_cast(voter=voter, solution=make_solution(), value=Vote.UP)
        with CaptureQueriesContext(connection) as on_root:
            services.vote_cast(voter=voter, solution=root, value=Vote.UP)
        with CaptureQueriesContext(connection) as on_fork:
            services.vote_cast(voter=voter, solution=fork, value=Vote.UP)
    assert len(statements(on_root)) == 4, statements(on_root)
    assert len(statements(on_fork)) == 5, statements(on_fork)
    promised = [sql for sql in statements(on_root) if '"peerhub_outboxtask"' in sql]
    assert len(promised) == 2 and all(sql.startswith("INSERT") for sql in promised)
    assert Vote.objects.filter(voter=voter).count() == 3


def test_a_second_vote_on_the_same_fork_row_does_not_ask_for_its_lineage_again():
    """The authors of a fork's ancestors are read once per row (they are fixed at the fork):
    a page that holds the row asks once, whoever votes."""
    fork = make_fork(make_solution())
    # The page holds the solution, its challenge and author (challenges.selectors.solution_get).
    fork.challenge, fork.author  # noqa: B018
    first, second = UserFactory(), UserFactory()
    with mock.patch.object(outbox, "publish"):
        # The second voter's request has read their level and verification already.
        services.vote_cast(voter=second, solution=make_solution(), value=Vote.UP)
        services.vote_cast(voter=first, solution=fork, value=Vote.UP)
        with CaptureQueriesContext(connection) as captured:
            services.vote_cast(voter=second, solution=fork, value=Vote.UP)
    statements = [q["sql"] for q in captured if not q["sql"].startswith(("BEGIN", "COMMIT"))]
    assert len(statements) == 4, statements  # the read, the upsert, and the two promises
    assert "challenges_solution" not in " ".join(statements)


def test_a_new_review_is_one_read_and_two_inserts_and_an_edit_replaces_its_scores():
    """A first review: the locking read of the member's review, the review's insert (an
    upsert, for a double submit), its solution's review count kept (two statements), one insert
    of its scores, and one read of the solution's reviews and one of its votes for their outlier
    verdicts (reputation.outliers); the rankings' trigger still hears of it. An edit keeps the
    review's first time and replaces every score."""
    solution = make_solution()
    reviewer = at_level(2)
    with (
        mock.patch.object(outbox, "publish"),
        CaptureQueriesContext(connection) as captured,
    ):
        first = review(reviewer, solution, 4, 2)
    assert OutboxTask.objects.filter(task=tasks.rankings_after_change.name).count() == 1
    review_sql = [q["sql"] for q in captured if '"reputation_review' in q["sql"]]
    # Then the count on its score row (reputation.review_counts): the row locked (or inserted,
    # its reviews counted), then its count set from the reviews.
    wanted = ["SELECT", "INSERT", "INSERT", "UPDATE", "INSERT", "SELECT"]
    assert [sql.split()[0] for sql in review_sql] == wanted, review_sql
    vote_sql = [q["sql"] for q in captured if '"reputation_vote"' in q["sql"]]
    assert len(vote_sql) == 1 and "GROUP BY" in vote_sql[0], vote_sql
    assert '"reputation_solutionscore"' in review_sql[2] and "review_count" in review_sql[3]
    assert "FOR UPDATE" in review_sql[0] or connection.vendor == "sqlite"
    assert not [q["sql"] for q in captured if q["sql"].startswith("SAVEPOINT")]
    later = review(reviewer, solution, 1, 5)
    stored = Review.objects.get()
    assert stored.pk == first.pk == later.pk
    assert stored.created_at == first.created_at and stored.updated_at >= first.created_at
    assert sorted(stored.scores.values_list("score", flat=True)) == [1, 5]
    assert stored.mean_score == Decimal("3.00")


def test_a_review_links_its_mentions_and_tells_those_who_may_see_the_solution_once():
    from peerhub.models import Mention, Notification
    from tests.factories import ChallengeFactory, UserFactory, make_solution

    reviewer = UserFactory()
    ReputationScore.objects.create(user=reviewer, trust_level=2, pinned_level=2)
    reviewer = type(reviewer).objects.get(pk=reviewer.pk)
    mentioned = UserFactory(username="kofi")
    challenge = ChallengeFactory()
    solution = make_solution(challenge)
    scores = {c.pk: 4 for c in challenge.criteria.all()}
    text = "Good: @kofi measured the flow. Ask @nobody-here too."
    review = services.review_save(reviewer=reviewer, solution=solution, comment=text, scores=scores)
    assert 'href="/u/kofi/"' in review.comment_html and "@nobody-here" in review.comment_html
    assert Mention.objects.filter(mentioned=mentioned).count() == 1
    services.review_save(
        reviewer=reviewer, solution=solution, comment=text + " Edited.", scores=scores
    )
    told = Notification.objects.filter(recipient=mentioned, kind="mentioned")
    assert told.count() == 1
