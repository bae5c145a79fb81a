"""The rules against lineage farming and review bombing (issue 23).

- A cosmetic copy (challenges.lineage.is_copy): a fork whose words differ from its source's by
  less than `cosmetic_share` counts as an unchanged fork: its votes and reviews earn nobody
  anything, its parent's author is not credited for it, and it may still offer its fix
  upstream.
- An outlier review (reputation.outliers): a review `gap` points or more from the median of the
  counted reviews of earlier days counts nothing, in fitness and on the ledger, where its line
  of 0 says why."""

from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.db.models import Sum
from django.test import override_settings

from challenges import lineage
from challenges import services as challenge_services
from reputation import fitness, ledger, outliers, presenters, services
from reputation.models import ReputationEvent, ReputationScore, Review, SolutionScore, Vote
from reputation.rules import OUTLIER_REVIEW_NOTE, UNCHANGED_FORK_NOTE
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution

pytestmark = pytest.mark.django_db

PAGE = " ".join(f"word{i}" for i in range(100))


def total(user) -> Decimal:
    score = ReputationScore.objects.filter(user=user).first()
    return score.total if score else Decimal(1)


def reviewer():
    user = UserFactory()
    ReputationScore.objects.create(user=user, total=Decimal(100), trust_level=2)
    return user


# --- Cosmetic copies ----------------------------------------------------------------------


def test_the_changed_share_counts_words_in_order():
    assert lineage.changed_share("a b c d", "a b c d") == 0
    assert lineage.changed_share("a b", "c d") == 1
    assert lineage.changed_share("a b c", "a b c d") == pytest.approx(1 - 6 / 7)


def test_a_few_words_on_a_page_are_cosmetic_a_rewrite_is_not():
    assert lineage.is_copy(PAGE, PAGE)
    assert lineage.is_copy(PAGE, PAGE + "\n\nWording tidied.")
    assert not lineage.is_copy(PAGE, PAGE + " " + " ".join(["more"] * 20))
    assert not lineage.is_copy(PAGE, "A different approach altogether.")
    with override_settings(PEERHUB_LINEAGE={"cosmetic_share": 0}):
        assert not lineage.is_copy(PAGE, PAGE + "\n\nWording tidied.")  # verbatim only


def test_a_cosmetic_edit_leaves_a_fork_a_copy_that_may_still_go_upstream():
    source = make_solution(body=PAGE)
    fork = challenge_services.solution_fork(source=source, by=UserFactory())
    challenge_services.solution_revise(
        solution=fork, by=fork.author, title=fork.title, body=PAGE + "\n\nWording tidied."
    )
    fork.refresh_from_db()
    assert fork.unchanged_fork
    assert fork.has_changes_to_offer()  # the small fix belongs upstream
    challenge_services.solution_revise(
        solution=fork, by=fork.author, title=fork.title, body="My own approach, rewritten."
    )
    fork.refresh_from_db()
    assert not fork.unchanged_fork


def test_a_verbatim_copy_has_nothing_to_offer_upstream():
    fork = make_fork(make_solution(body=PAGE), changed=False)
    assert not fork.has_changes_to_offer()


@pytest.mark.django_db(transaction=True)
def test_a_farm_of_cosmetic_copies_earns_its_master_and_puppets_nothing():
    master = UserFactory()
    source = make_solution(ChallengeFactory(), master, body=PAGE)
    puppets = UserFactory.create_batch(3)
    forks = []
    for puppet in puppets:
        fork = challenge_services.solution_fork(source=source, by=puppet)
        challenge_services.solution_revise(
            solution=fork, by=puppet, title=fork.title, body=PAGE + "\n\nWording tidied."
        )
        forks.append(fork)
    for puppet in puppets:
        for fork in forks:
            if fork.author_id != puppet.pk:
                services.vote_cast(voter=puppet, solution=fork, value=Vote.UP)
    assert total(master) == 1  # no "forked" lines, no lineage credit
    assert all(total(puppet) == 1 for puppet in puppets)
    line = ReputationEvent.objects.filter(kind=ReputationEvent.Kind.UPVOTE_RECEIVED).first()
    assert (line.amount, line.note) == (Decimal(0), UNCHANGED_FORK_NOTE)
    assert ledger.sync_everything() == 0


@pytest.mark.django_db(transaction=True)
def test_the_parent_is_credited_for_a_fork_once_it_changes():
    master = UserFactory()
    source = make_solution(ChallengeFactory(), master, body=PAGE)
    fork = make_fork(source, changed=False)
    assert total(master) == 1
    challenge_services.solution_revise(
        solution=fork, by=fork.author, title=fork.title, body="Rewritten from scratch."
    )
    assert total(master) == 1 + 5
    assert ReputationEvent.objects.get(fact_key=f"forked:{fork.pk}").amount == 5
    assert ledger.sync_everything() == 0


# --- Outlier reviews ----------------------------------------------------------------------


def at(day: int) -> datetime:
    return datetime(2026, 3, 2 + day, 12, tzinfo=UTC)


def test_a_review_far_from_the_earlier_days_is_an_outlier():
    reviews = [(1, at(0), Decimal("4.5")), (2, at(1), Decimal("1")), (3, at(1), Decimal("4"))]
    assert outliers.outlier_ids(reviews) == {2}


def test_reviews_of_one_day_never_judge_each_other():
    assert outliers.outlier_ids([(1, at(0), Decimal("5")), (2, at(0), Decimal("1"))]) == set()


def test_an_outlier_never_joins_the_consensus_that_judges_the_next_days():
    reviews = [(1, at(0), Decimal("4.5")), (2, at(1), Decimal("1")), (3, at(2), Decimal("1"))]
    reviews += [(4, at(3), Decimal("1"))]
    assert outliers.outlier_ids(reviews) == {2, 3, 4}


def test_a_close_disagreement_counts():
    reviews = [(1, at(0), Decimal("4")), (2, at(1), Decimal("2.5"))]
    assert outliers.outlier_ids(reviews) == set()  # 1.5 points from 4: a disagreement
    with override_settings(PEERHUB_REVIEW_OUTLIERS={"gap": 1.5}):
        assert outliers.outlier_ids(reviews) == {2}


def _review_on(day: int, member, solution, score: int):
    scores = {c.pk: score for c in solution.challenge.criteria.all()}
    with mock.patch("django.utils.timezone.now", return_value=at(day)):
        return services.review_save(
            reviewer=member, solution=solution, comment="Reviewed.", scores=scores
        )


@pytest.mark.django_db(transaction=True)
def test_a_bombing_counts_nothing_on_the_ledger_and_in_fitness():
    challenge = ChallengeFactory()
    victim, rival = make_solution(challenge), make_solution(challenge)
    honest = reviewer()
    _review_on(0, honest, victim, 5)
    _review_on(0, honest, rival, 4)
    bombers = [reviewer() for _ in range(3)]
    for bomber in bombers:
        _review_on(1, bomber, victim, 1)
    flagged = set(Review.objects.filter(outlier=True).values_list("reviewer_id", flat=True))
    assert flagged == {b.pk for b in bombers}
    line = ReputationEvent.objects.get(fact_key=f"review:{victim.pk}:{bombers[0].pk}")
    assert (line.amount, line.note) == (Decimal(0), OUTLIER_REVIEW_NOTE)
    [text] = [entry.text for entry in presenters.event_lines(viewer=victim.author, events=[line])]
    assert OUTLIER_REVIEW_NOTE in text
    received = ReputationEvent.objects.filter(beneficiary=victim.author).aggregate(s=Sum("amount"))
    assert received["s"] == 8  # the honest 5s alone
    fitness.recompute_challenge(challenge.pk)
    assert SolutionScore.objects.get(solution=victim).rank == 1
    assert SolutionScore.objects.get(solution=victim).components["reviews"]["count"] == 1
    assert ledger.sync_everything() == 0


@pytest.mark.django_db(transaction=True)
def test_an_edit_back_towards_the_consensus_counts_again():
    solution = make_solution()
    _review_on(0, reviewer(), solution, 5)
    bomber = reviewer()
    _review_on(1, bomber, solution, 1)
    assert Review.objects.get(reviewer=bomber).outlier
    _review_on(2, bomber, solution, 4)
    assert not Review.objects.get(reviewer=bomber).outlier
    assert ReputationEvent.objects.filter(fact_key=f"review:{solution.pk}:{bomber.pk}").aggregate(
        s=Sum("amount")
    )["s"] == Decimal(4)
    assert ledger.sync_everything() == 0


def test_the_rebuild_refreshes_a_verdict_changed_behind_the_services_back():
    solution = make_solution()
    first, second = reviewer(), reviewer()
    _review_on(0, first, solution, 5)
    _review_on(1, second, solution, 1)
    Review.objects.filter(reviewer=second).update(outlier=False)
    ledger.sync_everything()
    assert Review.objects.get(reviewer=second).outlier
    assert ledger.sync_everything() == 0


# --- Without earlier reviews, the voters judge (issue 23, third step) -----------------------


def votes_before(day: int, ups: int, downs: int = 0):
    return [(at(day - 1).date(), ups, ups + downs)]


def test_a_bombing_of_a_solution_nobody_reviewed_is_judged_by_its_voters():
    bombing = [(k, at(3), Decimal("1"), 100 + k) for k in range(3)]
    # 9 of 10 earlier votes up: the voters' consensus is 1 + 4 x 0.9 = 4.6.
    assert outliers.outlier_ids(bombing, votes_before(3, 9, 1)) == {0, 1, 2}


def test_an_honest_critical_first_review_counts():
    review = [(1, at(3), Decimal("3"), 100)]
    assert outliers.outlier_ids(review, votes_before(3, 9, 1)) == set()  # 1.6 from 4.6
    assert outliers.outlier_ids(review, votes_before(3, 2, 8)) == set()  # 1.4 from 1.8
    # Votes are coarse: a 2 on a solution every voter upvoted is a critique, not a bombing.
    assert outliers.outlier_ids([(1, at(3), Decimal("2"), 100)], votes_before(3, 9)) == set()
    assert outliers.outlier_ids([(1, at(3), Decimal("1.5"), 100)], votes_before(3, 9)) == {1}


def test_the_voters_judge_only_with_enough_votes_from_before_the_day():
    bombing = [(1, at(3), Decimal("1"), 100)]
    assert outliers.outlier_ids(bombing, votes_before(3, 4)) == set()  # 4 votes: too few
    assert outliers.outlier_ids(bombing, [(at(3).date(), 9, 9)]) == set()  # the same day
    assert outliers.outlier_ids(bombing, votes_before(3, 5)) == {1}


def test_the_reviewers_own_vote_does_not_judge_their_review():
    bombing = [(1, at(3), Decimal("5"), 100)]
    own = {100: (-1, at(1).date())}
    # 5 downvotes, one of them the reviewer's: 4 others, too few to judge.
    assert outliers.outlier_ids(bombing, votes_before(3, 0, 5), own) == set()
    assert outliers.outlier_ids(bombing, votes_before(3, 0, 5)) == {1}


def test_earlier_reviews_judge_before_the_voters_do():
    reviews = [(1, at(0), Decimal("1"), 100), (2, at(1), Decimal("1"), 101)]
    # The first review is judged by the voters (4.6): an outlier; the second by the voters
    # too, since no counted review came before it.
    assert outliers.outlier_ids(reviews, votes_before(0, 9, 1)) == {1, 2}
    # Once a review counts, the reviews judge: 3 is 1.6 from the voters' 4.6 but 2 from 5.
    honest = [(1, at(0), Decimal("5"), 100), (2, at(1), Decimal("3"), 101)]
    assert outliers.outlier_ids(honest, votes_before(0, 9, 1)) == {2}


def _vote_on(day: int, member, solution, value: int):
    with mock.patch("django.utils.timezone.now", return_value=at(day)):
        return services.vote_cast(voter=member, solution=solution, value=value)


@pytest.mark.django_db(transaction=True)
def test_a_bombing_on_a_fresh_well_voted_solution_counts_nothing_and_a_withdrawn_vote_refreshes():
    solution = make_solution()
    voters = [reviewer() for _ in range(5)]
    for voter in voters:
        _vote_on(0, voter, solution, 1)
    bombers = [reviewer() for _ in range(3)]
    for bomber in bombers:
        _review_on(1, bomber, solution, 1)
    assert Review.objects.filter(outlier=True).count() == 3
    line = ReputationEvent.objects.get(fact_key=f"review:{solution.pk}:{bombers[0].pk}")
    assert (line.amount, line.note) == (Decimal(0), OUTLIER_REVIEW_NOTE)
    assert ledger.sync_everything() == 0
    # A voter changes their mind on a later day: 4 votes from before are too few to judge.
    _vote_on(2, voters[0], solution, -1)
    assert not Review.objects.filter(outlier=True).exists()
    assert outliers.reviews_mark_outliers(None) == set()  # the services kept it up to date
    assert ledger.sync_everything() == 0
    _vote_on(3, voters[0], solution, 1)
    with mock.patch("django.utils.timezone.now", return_value=at(3)):
        services.vote_remove(voter=voters[1], solution=solution)
    assert outliers.reviews_mark_outliers(None) == set()
    assert ledger.sync_everything() == 0


def test_a_review_save_reads_the_votes_as_the_full_pass_does():
    """The save's one grouped read of its solutions' votes (a row per day and value, one per
    reviewer's vote) gives what the full pass's two grouped reads give, a reviewer's vote on
    another of the solutions counted there like any other."""
    challenge = ChallengeFactory()
    first, second = make_solution(challenge=challenge), make_solution(challenge=challenge)
    members = [reviewer() for _ in range(6)]
    for k, member in enumerate(members):
        _vote_on(k % 3, member, first, 1 if k % 4 else -1)
        if k % 2:
            _vote_on(2 + k % 2, member, second, -1 if k == 3 else 1)
    _review_on(1, members[0], first, 4)
    _review_on(4, members[1], second, 2)
    _review_on(4, members[3], first, 3)
    ids = [first.pk, second.pk]
    reviewers = {
        solution_id: set(
            Review.objects.filter(solution_id=solution_id).values_list("reviewer_id", flat=True)
        )
        for solution_id in ids
    }
    per_day, own = outliers._votes_of(ids, reviewers)
    full_per_day, full_own = outliers._votes_of(None)
    assert {k: sorted(v) for k, v in per_day.items()} == {
        k: sorted(v) for k, v in full_per_day.items()
    }
    assert own == full_own and own[first.pk].keys() == {members[0].pk, members[3].pk}
    assert own[second.pk].keys() == {members[1].pk}


def test_every_solutions_verdicts_read_only_the_votes_they_ask_for(postgres):
    """The full pass on PostgreSQL reads the votes before each solution's first review day, then
    a later day only for a solution whose verdicts ask for it (every review of the days before
    was an outlier, so its voters judge again): the verdicts are those of every vote read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bombed, plain, quiet = make_solution(), make_solution(), make_solution()
    voters = [reviewer() for _ in range(6)]
    for k, voter in enumerate(voters):
        _vote_on(0, voter, bombed, 1)
        _vote_on(k % 2, voter, plain, 1 if k % 3 else -1)
    bombers = [reviewer() for _ in range(3)]
    day_one = _review_on(1, bombers[0], bombed, 1)  # 4 from the voters' 5: an outlier
    day_two = _review_on(2, bombers[1], bombed, 1)  # still judged by the voters
    _review_on(3, voters[0], bombed, 4)  # the voters judge it, less its author's own vote
    day_four = _review_on(4, bombers[2], bombed, 1)  # 3 from the 4 before it
    _review_on(1, voters[1], plain, 3)
    _review_on(2, bombers[0], plain, 2)
    _review_on(2, bombers[1], quiet, 5)
    Review.objects.update(outlier=False)  # as if changed behind the services' back
    per_day, own = outliers._votes_of(None)  # every vote, per day
    reference = set()
    for solution_id in (bombed.pk, plain.pk, quiet.pk):
        rows = Review.objects.filter(solution_id=solution_id).order_by("pk")
        reference |= outliers.outlier_ids(
            rows.values_list("pk", "updated_at", "mean_score", "reviewer_id"),
            per_day.get(solution_id, ()),
            own.get(solution_id),
        )
    assert reference == {day_one.pk, day_two.pk, day_four.pk}
    with CaptureQueriesContext(connection) as queries:
        outliers.reviews_mark_outliers(None)
    assert set(Review.objects.filter(outlier=True).values_list("pk", flat=True)) == reference
    reads = [q["sql"] for q in queries.captured_queries if "unnest" in q["sql"]]
    assert len(reads) == 3  # first days; day 2 of the bombed one; then its day 3
    # A partition's many solutions are read the same way.
    Review.objects.update(outlier=False)
    with mock.patch.object(outliers, "_FEW", 1):
        outliers.reviews_mark_outliers([bombed.pk, plain.pk, quiet.pk])
    assert set(Review.objects.filter(outlier=True).values_list("pk", flat=True)) == reference


def test_how_reputation_works_explains_both_rules(client):
    from django.urls import reverse

    page = client.get(reverse("reputation:how-it-works")).content.decode()
    assert 'id="cosmetic-copies"' in page and "less than 5 %" in page
    assert 'id="outlier-reviews"' in page and OUTLIER_REVIEW_NOTE in page
