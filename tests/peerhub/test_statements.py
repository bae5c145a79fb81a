"""A compiled read (peerhub.statements) gives what its queryset gives, for every shape it is
called with, and keeps the SQL a fresh compile makes."""

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from challenges.models import Solution
from peerhub.statements import Compiled, Upsert
from reputation import outliers, services
from reputation.models import ReputationScore, Review, Vote
from tests.factories import ChallengeFactory, UserFactory, make_solution

pytestmark = pytest.mark.django_db


def _voter():
    user = UserFactory()
    ReputationScore.objects.create(user=user, trust_level=2, pinned_level=2)
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def votes():
    """Votes on two solutions over three UTC days, up and down, and one review."""
    challenge = ChallengeFactory()
    solutions = [make_solution(challenge=challenge) for _ in range(2)]
    members = [_voter() for _ in range(5)]
    for k, member in enumerate(members):
        for solution in solutions[: 1 + k % 2]:
            moment = datetime(2026, 3, 2 + k % 3, 23, 30, tzinfo=UTC)
            with mock.patch("django.utils.timezone.now", return_value=moment):
                services.vote_cast(voter=member, solution=solution, value=1 if k % 3 else -1)
    scores = {c.pk: 4 for c in challenge.criteria.all()}
    services.review_save(reviewer=members[1], solution=solutions[0], comment="Good.", scores=scores)
    return [s.pk for s in solutions], [m.pk for m in members]


def _grouped(ids):
    return (
        Vote.objects.filter(solution_id__in=ids)
        .annotate(day=TruncDate("updated_at", tzinfo=UTC))
        .values("solution_id", "day")
        .annotate(ups=Count("pk", filter=Q(value=Vote.UP)), n=Count("pk"))
        .values_list("n", "solution_id", "day", "ups")
        .order_by("solution_id", "day")
    )


def test_rows_are_those_of_the_queryset_in_every_shape(votes):
    ids, _members = votes
    compiled = Compiled(Vote, _grouped)
    for shape in (ids[:1], ids, [ids[1], ids[0], ids[1]]):
        assert compiled.rows(shape) == list(_grouped(shape))
    # The fields in the order asked, each converted as the ORM converts it (a date here).
    _n, solution_id, day, _ups = compiled.rows(ids)[0]
    assert isinstance(day, type(datetime(2026, 3, 2).date())) and solution_id == min(ids)
    assert compiled.rows([]) == []
    # One statement per database and shape (list lengths): three lengths, three statements.
    assert len(compiled._statements) == 3


def test_scalars_flat_lists_and_stored_values_convert_alike(votes):
    ids, members = votes
    flat = Compiled(
        Vote,
        lambda voter: (
            Vote.objects.filter(voter_id=voter)
            .values_list("solution_id", flat=True)
            .order_by("solution_id")
        ),
    )
    for member in members:
        assert flat.rows(member) == list(flat.build(member))
    reviews = Compiled(Review, outliers._REVIEWS_OF.build)
    assert reviews.rows(ids) == list(outliers._REVIEWS_OF.build(ids))
    assert reviews.rows(ids)[0][3] == Review.objects.get().mean_score  # a Decimal, as stored


def test_a_locking_read_is_compiled_and_run_in_a_transaction(votes):
    ids, _members = votes
    lock = Compiled(
        Solution,
        lambda pks: (
            Solution.objects.select_for_update()
            .filter(pk__in=pks)
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
        write=True,
    )
    with transaction.atomic():
        assert lock.rows(ids) == sorted(ids)
    (statement,) = lock._statements.values()
    assert ("FOR UPDATE" in statement.sql) == connection.features.has_select_for_update


def test_the_kept_statement_is_a_fresh_compile(votes):
    """The parameters the call fills are exactly the sentinels' places: compiling the query
    with the call's own ids gives the same SQL and parameters."""
    ids, members = votes
    compiled = outliers._VOTES_BY_DAY
    compiled.rows(ids, members[:2])
    statement = compiled.statement(connection.alias, (2, 2))
    params = list(statement.params)
    args = (ids, members[:2])
    for arg, k, position in statement.slots:
        params[position] = args[arg][k]
    fresh_sql, fresh_params = compiled.build(*args).query.get_compiler(connection.alias).as_sql()
    assert statement.sql == fresh_sql and params == list(fresh_params)
    assert compiled.rows(*args) == list(compiled.build(*args))


def test_an_argument_the_query_does_not_use_is_refused():
    compiled = Compiled(Vote, lambda pk: Vote.objects.filter(pk=1).values_list("pk"))
    with pytest.raises(ValueError, match="argument 0"):
        compiled.rows(5)


def test_a_datetime_argument_is_filled_as_the_orm_fills_it(votes):
    """A moment takes its sentinel's place as the database's adapter gives it: the votes since
    each day of the fixture, as the queryset itself finds them, and the same SQL."""
    _ids, members = votes
    since = Compiled(
        Vote,
        lambda voter, moment: (
            Vote.objects.filter(voter_id=voter, created_at__gte=moment)
            .order_by("pk")
            .values_list("pk", "created_at")
        ),
    )
    for member in members:
        for day in (1, 2, 3, 4, 5):
            moment = datetime(2026, 3, day, tzinfo=UTC)
            assert since.rows(member, moment) == list(since.build(member, moment))
    found = [row for m in members for row in since.rows(m, datetime(2026, 3, 3, tzinfo=UTC))]
    assert found and all(created >= datetime(2026, 3, 3, tzinfo=UTC) for _pk, created in found)
    assert len(since._statements) == 1


def test_the_votes_read_of_a_vote_is_the_querysets(votes):
    """`vote_cast`'s locking read gives the rows the ORM would, as Vote rows."""
    ids, members = votes
    today = datetime(2026, 3, 3, tzinfo=UTC)
    with transaction.atomic():
        for member in members:
            got = services._votes_locked(ids[0], member, today)
            expected = list(
                Vote.objects.filter(Q(solution_id=ids[0]) | Q(created_at__gte=today))
                .filter(voter_id=member)
                .order_by()
            )
            assert sorted((v.pk, v.solution_id, v.value, v.created_at) for v in got) == sorted(
                (v.pk, v.solution_id, v.value, v.created_at) for v in expected
            )


def test_the_review_read_of_a_review_is_the_querysets(votes):
    """`review_save`'s locking read gives the member's review as the ORM would, or None."""
    ids, members = votes
    review = Review.objects.get()
    with transaction.atomic():
        got = services._review_locked(review.solution_id, review.reviewer_id)
        assert (got.pk, got.comment, got.mean_score, got.updated_at) == (
            review.pk, review.comment, review.mean_score, review.updated_at,
        )  # fmt: skip
        assert services._review_locked(ids[1], members[0]) is None


def test_an_upsert_inserts_then_updates_the_row_its_unique_fields_name(votes):
    """A new row is inserted and gets its primary key; a second row for the same unique
    fields updates the first (the double click), keeping its id and creation time."""
    ids, _members = votes
    upsert = Upsert(
        Vote, unique_fields=["solution", "voter"], update_fields=["value", "updated_at"]
    )
    first_moment, later = datetime(2026, 3, 9, 10, tzinfo=UTC), datetime(2026, 3, 9, 11, tzinfo=UTC)
    voter = _voter()
    row = upsert.save(
        Vote(solution_id=ids[0], voter_id=voter.pk, value=1, created_at=first_moment,
             updated_at=first_moment)
    )  # fmt: skip
    stored = Vote.objects.get(solution_id=ids[0], voter_id=voter.pk)
    assert row.pk == stored.pk and not row._state.adding and stored.value == 1
    again = upsert.save(
        Vote(solution_id=ids[0], voter_id=voter.pk, value=-1, created_at=later, updated_at=later)
    )
    stored.refresh_from_db()
    assert Vote.objects.filter(solution_id=ids[0], voter_id=voter.pk).count() == 1
    assert (stored.value, stored.updated_at, stored.created_at) == (-1, later, first_moment)
    if connection.features.can_return_rows_from_bulk_insert:
        assert again.pk == stored.pk


def test_the_kept_upsert_is_the_orms_statement(votes):
    """The kept statement is what bulk_create's compiler makes for the row, and its
    parameters are the row's values as the fields prepare them for saving."""
    ids, _members = votes
    upsert = Upsert(
        Vote, unique_fields=["solution", "voter"], update_fields=["value", "updated_at"]
    )
    moment = datetime(2026, 3, 9, 10, tzinfo=UTC)
    rows = [
        Vote(solution_id=ids[1], voter_id=_voter().pk, value=v, created_at=moment,
             updated_at=moment)
        for v in (1, -1)
    ]  # fmt: skip
    upsert.save(rows[0])
    text, fields, _returning = upsert._statement(connection.alias, rows[1])
    fresh_text, fresh_params = upsert.compile(connection.alias, rows[1])
    assert text == fresh_text
    prepared = [f.get_db_prep_save(f.pre_save(rows[1], add=True), connection) for f in fields]
    assert prepared == fresh_params
    assert "serial_reversed_at" in text and '"id"' not in text.split("VALUES")[0]


def test_an_upsert_takes_only_new_rows():
    vote = Vote(pk=5, solution_id=1, voter_id=1, value=1)
    with pytest.raises(ValueError, match="without a primary key"):
        Upsert(Vote, unique_fields=["solution", "voter"], update_fields=["value"]).save(vote)


def test_a_long_list_of_ids_is_compiled_each_time_and_not_kept(votes):
    from peerhub.statements import MAX_KEPT_LENGTH

    ids, _members = votes
    many = ids + list(range(10**9, 10**9 + MAX_KEPT_LENGTH))  # ids no row has
    compiled = Compiled(Vote, _grouped)
    assert compiled.rows(many) == list(_grouped(ids))
    assert compiled._statements == {}  # a rebuild's thousands of ids keep no statement
    assert compiled.rows(ids) == list(_grouped(ids)) and len(compiled._statements) == 1
