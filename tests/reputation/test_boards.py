"""The leaderboards' read model (reputation.boards): kept exact by the ledger's appends (in bulk
with the hook, one by one through the signal, with corrections that move a key's day), rebuilt
whole or by member range to the same rows, and read into the same boards as the old fold over
the ledger (tests/reputation/board_oracle.py), private challenges, inactive members and the
daily cap included. Query counts do not grow with the ledger."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from challenges.models import Challenge
from reputation import boards, leaderboards, services, tasks
from reputation.models import ReputationDay, ReputationEvent, ReputationStanding, Vote
from tests.factories import ChallengeFactory, UserFactory, ValueFactory, make_solution
from tests.helpers import database_examples

from .board_oracle import new_board, old_board
from .ledger_lines import line

pytestmark = pytest.mark.django_db

MEMBERS = 4

# A line: member, where (0 none, 1 public, 2 private, 3 public serving the value), amount,
# days ago, hour of the UTC day, capped. A correction: which earlier key, amount, how many days
# later than the key's last line (it moves the key's day), hour.
new_line = st.tuples(
    st.just("line"),
    st.integers(0, MEMBERS - 1),
    st.integers(0, 3),
    st.integers(-12, 25),
    st.integers(0, 40),
    st.integers(0, 23),
    st.booleans(),
)
correction = st.tuples(
    st.just("correct"), st.integers(0, 40), st.integers(-25, 12), st.integers(0, 3),
    st.integers(0, 23),
)  # fmt: skip
batch = st.tuples(
    st.sampled_from(["bulk", "one by one"]), st.lists(new_line | correction, max_size=6)
)


def rows() -> list[tuple]:
    return sorted(
        ReputationDay.objects.exclude(gained=0, other=0).values_list(
            "member_id", "day", "challenge_id", "gained", "other"
        ),
        key=lambda row: (row[0], row[1], row[2] or 0, row[3], row[4]),  # no challenge sorts first
    )


def cell_sums() -> dict:
    """Rows summed per member, day and challenge (the recompute may leave zero rows about)."""
    sums: dict = {}
    for member_id, day, challenge_id, gained, other in rows():
        got = sums.setdefault((member_id, day, challenge_id), [Decimal(0), Decimal(0)])
        got[0] += gained
        got[1] += other
    return {k: v for k, v in sums.items() if v != [0, 0]}


class Ledger:
    """Appends crafted lines the ways the code does: in bulk then the hook, or one by one."""

    def __init__(self, members, solutions, now):
        self.members, self.solutions, self.now = members, solutions, now
        self.keys: list[list] = []  # [key, member, solution, capped, last fact_at, last seq]

    def line_for(self, op) -> ReputationEvent:
        if op[0] == "line":
            _, member, where, amount, days_ago, hour, capped = op
            at = min(self.now, (self.now - timedelta(days=days_ago)).replace(hour=hour))
            key = [
                f"p:{len(self.keys)}",
                self.members[member],
                self.solutions[where],
                capped,
                at,
                1,
            ]
            self.keys.append(key)
        else:
            _, which, amount, later, hour = op
            key = self.keys[which % len(self.keys)]
            at = min(self.now, (key[4] + timedelta(days=later)).replace(hour=hour))
            key[4], key[5] = max(key[4], at), key[5] + 1
        name, member, solution, capped, _last, seq = key
        return ReputationEvent(
            beneficiary=member,
            kind=ReputationEvent.Kind.UPVOTE_RECEIVED if capped else ReputationEvent.Kind.FORKED,
            fact_key=name,
            seq=seq,
            amount=Decimal(amount),
            fact_at=at,
            solution=solution,
            capped=capped,
        )

    def append(self, how, ops) -> None:
        ops = [op for op in ops if op[0] == "line" or self.keys]
        if how == "bulk":
            created = ReputationEvent.objects.bulk_create([self.line_for(op) for op in ops])
            boards.ledger_lines_appended(line.pk for line in created)
        else:
            for op in ops:
                self.line_for(op).save()


def assert_boards_as_before(viewers, challenges, value) -> None:
    for viewer in viewers:
        for period in (leaderboards.LAST_30_DAYS, leaderboards.ALL_TIME):
            scopes = [{}, {"value": value}, {"challenge": challenges[1]}]
            if viewer is not None:
                scopes.append({"challenge": challenges[2]})
            for scope in scopes:
                if period == leaderboards.ALL_TIME and not scope:
                    continue  # the stored scores, not the ledger
                kwargs = {"viewer": viewer, "period": period, **scope}
                assert new_board(**kwargs) == old_board(**kwargs), kwargs


@database_examples("BOARD_EXAMPLES", 30)
@given(
    batches=st.lists(batch, min_size=1, max_size=5),
    cap=st.sampled_from([10, 20, 200]),
    max_cells=st.sampled_from([0, 64]),
    inactive=st.booleans(),
)
def test_the_read_model_gives_the_old_boards(batches, cap, max_cells, inactive):
    now = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
    with (
        override_settings(PEERHUB_REPUTATION={"daily_vote_cap": cap}),
        mock.patch.object(boards, "MAX_CELLS", max_cells),
        transaction.atomic(),
    ):
        members = UserFactory.create_batch(MEMBERS)
        insider = members[0]
        if inactive:
            members[-1].is_active = False
            members[-1].save(update_fields=["is_active"])
        green = ValueFactory()
        public = ChallengeFactory()
        secret = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
        secret.invited.add(insider)
        served = ChallengeFactory()
        served.values.set([green])
        solutions = [None] + [
            make_solution(c, author=c.created_by) for c in (public, secret, served)
        ]
        ledger = Ledger(members, solutions, now)
        for how, ops in batches:
            ledger.append(how, ops)
        assert_boards_as_before([None, insider], [None, public, secret], green)

        # The rebuilds derive the same rows as the appends kept.
        kept = cell_sums()
        boards.rebuild(member_id_range=(members[1].pk, members[2].pk))
        assert cell_sums() == kept
        boards.rebuild()
        assert cell_sums() == kept
        assert_boards_as_before([None, insider], [None, public, secret], green)
        transaction.set_rollback(True)


def test_a_correction_moves_the_key_to_its_new_day(settings):
    settings.PEERHUB_REPUTATION = {"daily_vote_cap": 20}
    member = UserFactory()
    solution = make_solution()
    line(member, 15, days_ago=40, solution=solution, capped=True, key="k")
    line(member, 15, days_ago=2, solution=solution, capped=True)
    assert old_board(viewer=None, period="30d") == [(member.pk, 15)]
    # The correction is dated today: the key's net (10) now counts today, under today's cap.
    line(member, -5, days_ago=0, solution=solution, capped=True, key="k", seq=2)
    assert new_board(viewer=None, period="30d") == [(member.pk, 25)]
    assert new_board(viewer=None, period="30d") == old_board(viewer=None, period="30d")
    forty_days_ago = datetime.now(UTC).date() - timedelta(days=40)
    assert not ReputationDay.objects.filter(day=forty_days_ago).exclude(gained=0, other=0)


def test_days_fall_out_of_the_thirty_day_window_as_the_date_moves(settings):
    member = UserFactory()
    line(member, 7, days_ago=29, solution=make_solution())
    assert new_board(viewer=None, period="30d") == [(member.pk, 7)]
    assert boards.standings_current("30d")
    later = datetime.now(UTC) + timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        # Stale standings are not read: the board sums the days until the beat task rolls.
        assert not boards.standings_current("30d")
        assert new_board(viewer=None, period="30d") == []
        tasks.roll_board_window()
        assert new_board(viewer=None, period="30d") == []
        assert not ReputationStanding.objects.exists()


def test_the_standings_are_read_only_once_written_and_only_by_those_who_see_what_all_see():
    member, insider = UserFactory(), UserFactory()
    secret = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    secret.invited.add(insider)
    line(member, 4, solution=make_solution())
    line(member, 9, solution=make_solution(secret, author=secret.created_by))
    ReputationStanding.objects.all().delete()
    assert not boards.standings_current("30d")  # never written: the days are read
    assert new_board(viewer=None, period="30d") == [(member.pk, 4)]
    boards.roll_window()
    assert list(ReputationStanding.objects.values_list("member_id", "score")) == [(member.pk, 4)]
    assert new_board(viewer=None, period="30d") == [(member.pk, 4)]
    assert new_board(viewer=member, period="30d") == [(member.pk, 4)]
    assert new_board(viewer=insider, period="30d") == [(member.pk, 13)]


@pytest.mark.django_db(transaction=True)
def test_votes_through_the_services_keep_the_read_model():
    solution = make_solution(title="Sand filter")
    voters = UserFactory.create_batch(3)
    for voter in voters:
        services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    services.vote_remove(voter=voters[0], solution=solution)
    kept = cell_sums()
    assert kept
    for kwargs in ({"period": "30d"}, {"period": "all", "challenge": solution.challenge}):
        assert new_board(viewer=None, **kwargs) == old_board(viewer=None, **kwargs)
    boards.rebuild()
    assert cell_sums() == kept


def populate(count: int, solution) -> None:
    for i in range(count):
        member = UserFactory()
        line(member, 5 + i, days_ago=i % 35, solution=solution, capped=bool(i % 2))
        line(member, 2, days_ago=i % 3)


@pytest.mark.usefixtures("page_cache_off")
@pytest.mark.parametrize("period", ["30d", "all"])
def test_board_pages_cost_the_same_queries_at_two_sizes(
    client, django_assert_num_queries, django_assert_max_num_queries, period
):
    value = ValueFactory(slug="v")
    challenge = ChallengeFactory(slug="c")
    challenge.values.set([value])
    solution = make_solution(challenge)
    populate(5, solution)
    params = [
        {"period": "30d"},
        {"period": period, "challenge": "c"},
        {"period": period, "value": "v"},
    ]
    counts = []
    for query in params:
        client.get("/leaderboard/", query)  # anything cached on a first visit
        with django_assert_max_num_queries(12) as small:
            assert client.get("/leaderboard/", query).status_code == 200
        counts.append(len(small))
    populate(60, solution)
    for query, count in zip(params, counts, strict=True):
        with django_assert_num_queries(count):
            assert client.get("/leaderboard/", {**query, "page": 2}).status_code == 200


def test_a_new_line_rederives_its_day_without_copying_keys_whose_latest_day_is_another():
    """A key with a line on the day being derived again but its latest line on another day
    counts on that other day only: it must not be written there a second time."""
    member, solution = UserFactory(), make_solution()
    now = timezone.now().replace(hour=12)

    def append(key: str, seq: int, amount: int, days_ago: int) -> None:
        line = ReputationEvent.objects.create(
            beneficiary=member,
            kind=ReputationEvent.Kind.FORKED,
            fact_key=key,
            seq=seq,
            amount=Decimal(amount),
            fact_at=now - timedelta(days=days_ago),
            solution=solution,
            capped=False,
        )
        boards.ledger_lines_appended([line.pk])

    append("older", 1, 5, days_ago=10)
    append("older", 2, 3, days_ago=3)  # its latest line: the key now counts 3 days ago
    append("newer", 1, 2, days_ago=10)  # the day 10 days ago is derived again
    kept = cell_sums()
    boards.rebuild()
    assert cell_sums() == kept


def _exact_rows() -> list:
    return sorted(
        ReputationDay.objects.values_list("member_id", "day", "challenge_id", "gained", "other"),
        key=lambda r: (r[0], r[1], r[2] or 0),
    )


@pytest.mark.parametrize("named", [True, False], ids=["members named", "derived whole"])
@pytest.mark.parametrize("whole", [True, False], ids=["everyone", "a range of members"])
def test_a_rebuild_writes_only_the_rows_that_differ_and_mends_every_damage(
    whole, named, monkeypatch
):
    """The nightly rebuild rewrites only the rows that differ: a row changed by hand, a second
    row of one member-day and challenge, a row no line derives and a missing row are mended,
    and the rows that were right keep their ids; whether it derives the members its check names
    or, when they are many, everyone."""
    if not named:
        monkeypatch.setattr(boards, "MAX_NAMED", 0)
    members = UserFactory.create_batch(3)
    solutions = [make_solution(), make_solution()]
    for k, member in enumerate(members):
        for days_ago in (0, 1, 3):
            line(member, 10 + k, days_ago=days_ago, solution=solutions[k % 2], capped=True)
            line(member, 2, days_ago=days_ago)  # about no solution
    right = _exact_rows()
    untouched = set(ReputationDay.objects.values_list("pk", flat=True))
    first, second, third = ReputationDay.objects.order_by("pk")[:3]
    ReputationDay.objects.filter(pk=first.pk).update(gained=Decimal("999"))  # changed
    ReputationDay.objects.create(  # a second row of the same member-day and challenge
        member_id=second.member_id, day=second.day, challenge_id=second.challenge_id,
        gained=second.gained, other=second.other,
    )  # fmt: skip
    ReputationDay.objects.create(  # a row no line derives
        member_id=members[0].pk, day=timezone.now().date() - timedelta(days=9), other=5
    )
    ReputationDay.objects.filter(pk=third.pk).delete()  # missing
    untouched -= {first.pk, third.pk}
    if whole:
        boards.rebuild()
    else:
        lo, hi = min(m.pk for m in members), max(m.pk for m in members)
        boards.rebuild(member_id_range=(lo, hi))
    assert _exact_rows() == right
    kept = set(ReputationDay.objects.values_list("pk", flat=True))
    assert untouched <= kept  # the right rows stayed where they were
    assert len(kept) == len(right)


def test_a_range_rebuild_leaves_the_members_outside_it_alone():
    inside, outside = sorted(UserFactory.create_batch(2), key=lambda m: m.pk)
    for member in (inside, outside):
        line(member, 7, days_ago=1, solution=make_solution(), capped=True)
    ReputationDay.objects.filter(member=outside).update(other=Decimal("3"))
    boards.rebuild(member_id_range=(inside.pk, inside.pk))
    assert ReputationDay.objects.get(member=outside).other == Decimal("3")
    boards.rebuild()
    assert ReputationDay.objects.get(member=outside).other == Decimal("0")


def _named(member_id_range=None) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        return boards._members_to_derive(cursor, member_id_range)


@pytest.mark.parametrize(
    "damage",
    ["amount", "gained for other", "day", "challenge", "stray row", "missing row", "second row"],
)
def test_the_check_names_exactly_the_members_whose_rows_differ(damage):
    """The rebuild's check (per member: gained and other cents, and the same weighted by each
    row's day and challenge) names a member whose rows differ in any way a board would read,
    and no one else; after the rebuild it names no one."""
    members = UserFactory.create_batch(3)
    solutions = [make_solution(), make_solution()]
    for member in members:
        for days_ago in (0, 2):
            line(member, 10, days_ago=days_ago, solution=solutions[0], capped=True)
            line(member, 4, days_ago=days_ago, solution=solutions[1])
        corrected = line(member, 6, days_ago=5, solution=solutions[1], capped=True)
        line(member, -6, days_ago=1, solution=solutions[1], capped=True,
             key=corrected.fact_key, seq=2)  # fmt: skip
    assert _named() == []
    victim = members[1]
    row = ReputationDay.objects.filter(member=victim, challenge=solutions[0].challenge).first()
    rows = ReputationDay.objects.filter(pk=row.pk)
    if damage == "amount":
        rows.update(gained=row.gained + 1)
    elif damage == "gained for other":
        rows.update(gained=0, other=row.gained)
    elif damage == "day":
        rows.update(day=row.day - timedelta(days=1))
    elif damage == "challenge":
        rows.update(challenge=solutions[1].challenge)
    elif damage == "stray row":
        ReputationDay.objects.create(member=victim, day=row.day, other=Decimal("0.01"))
    elif damage == "missing row":
        rows.delete()
    else:
        ReputationDay.objects.create(
            member=victim, day=row.day, challenge_id=row.challenge_id, gained=row.gained
        )
    assert _named() == [victim.pk]
    assert _named((members[2].pk, members[2].pk)) == []
    boards.rebuild()
    assert _named() == []


def test_a_night_with_nothing_to_correct_derives_nothing(monkeypatch):
    members = UserFactory.create_batch(2)
    for member in members:
        line(member, 10, days_ago=1, solution=make_solution(), capped=True)
    derive = mock.Mock(wraps=boards._rewrite_changed)
    monkeypatch.setattr(boards, "_rewrite_changed", derive)
    boards.rebuild()
    derive.assert_not_called()
    ReputationDay.objects.filter(member=members[0]).update(other=Decimal("1"))
    boards.rebuild()
    derive.assert_called_once()
    assert derive.call_args.args[1:] == (
        f"e.beneficiary_id IN ({members[0].pk})",
        f"d.member_id IN ({members[0].pk})",
    )


def test_no_rows_stored_means_every_row_is_new_and_the_check_is_spared(monkeypatch):
    """With no rows stored (a first load) there is nothing to compare: `check` answers None,
    everyone, without reading the ledger, and `rebuild` writes every row."""
    member = UserFactory()
    line(member, 10, days_ago=1, solution=make_solution(), capped=True)
    right = rows()
    ReputationDay.objects.all().delete()
    compare = mock.Mock(wraps=boards._members_to_derive)
    monkeypatch.setattr(boards, "_members_to_derive", compare)
    # Written at once, nothing compared (`_write_all`).
    monkeypatch.setattr(boards, "_rewrite_changed", mock.Mock(side_effect=AssertionError))
    assert boards.check() is None
    boards.rebuild()
    compare.assert_not_called()
    assert rows() == right
    assert boards.check() == []  # rows stored: compared
    compare.assert_called_once()


def test_a_range_with_no_rows_stored_is_written_at_once_beside_the_rows_of_others():
    inside, outside = sorted(UserFactory.create_batch(2), key=lambda m: m.pk)
    for member in (inside, outside):
        line(member, 10, days_ago=1, solution=make_solution(), capped=True)
        line(member, 3, days_ago=2)
    right = _exact_rows()
    ReputationDay.objects.filter(member=inside).delete()
    with mock.patch.object(boards, "_write_all", wraps=boards._write_all) as written:
        boards.rebuild(member_id_range=(inside.pk, inside.pk))
    written.assert_called_once()
    assert _exact_rows() == right


def test_a_rebuild_given_the_check_mends_the_members_it_named_without_checking_again(
    monkeypatch,
):
    """`rebuild(checked=...)` takes `check`'s answer as its own (the nightly rebuild checks
    beside its other checks, then mends): it derives the members named, and everyone for None."""
    members = UserFactory.create_batch(3)
    for member in members:
        line(member, 10, days_ago=1, solution=make_solution(), capped=True)
    right = rows()
    ReputationDay.objects.filter(member=members[1]).update(other=Decimal("1"))
    checked = boards.check()
    assert checked == [members[1].pk]
    compare = mock.Mock(wraps=boards._members_to_derive)
    derive = mock.Mock(wraps=boards._rewrite_changed)
    monkeypatch.setattr(boards, "_members_to_derive", compare)
    monkeypatch.setattr(boards, "_rewrite_changed", derive)
    boards.rebuild(checked=checked)
    compare.assert_not_called()
    assert derive.call_args.args[1:] == (
        f"e.beneficiary_id IN ({members[1].pk})",
        f"d.member_id IN ({members[1].pk})",
    )
    assert rows() == right
    ReputationDay.objects.filter(member=members[2]).update(other=Decimal("2"))
    boards.rebuild(checked=None)  # everyone
    compare.assert_not_called()
    assert derive.call_args.args[1:] == ("1 = 1", "1 = 1")
    assert rows() == right
