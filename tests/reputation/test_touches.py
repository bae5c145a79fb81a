"""The nightly rebuild checks only what changed since its last run (reputation.touches): triggers
on PostgreSQL name what each change of a fact touches, and the run derives those solutions'
lines again. Each case changes a fact behind the ledger's back (a queryset update or a new trust
snapshot: no sync) and asserts that the nightly run then leaves the ledger, the board rows and
the scores as the Python rebuild would, and that a whole check afterwards finds nothing.

The cases are test_rebuild_check's (reviews, forks, upstream) and the votes' below; a changed or
deleted ledger line makes the run check everything."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from challenges.models import Solution
from reputation import ledger, tasks, touches
from reputation.models import (
    LedgerCheck,
    LedgerTouch,
    ReputationDay,
    ReputationEvent,
    ReputationScore,
    TrustSnapshot,
    Vote,
)
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.reputation.test_rebuild_check import (
    CASES,
    board_rows,
    python_lines,
    rows_derived_again,
    world,
)
from tests.reputation.test_set_based import START, snapshot, trust_snapshot

pytestmark = pytest.mark.django_db


def nightly() -> LedgerCheck:
    """The nightly task's run; returns its record."""
    tasks.recompute_reputation()
    return LedgerCheck.objects.order_by("-pk").first()


def members(w) -> list:
    m = w["members"]
    return [m["low"], m["a"], m["b"], m["c"], m["d"], m["r1"], m["r2"]]


# The votes' cases (the grandchild holds an upvote by r1 that credits b and a as its lineage).


def vote_turns_down(w):
    Vote.objects.filter(solution=w["grandchild"]).update(value=-1)


def vote_deleted(w):
    Vote.objects.filter(solution=w["grandchild"]).delete()


def new_vote(w):
    Vote.objects.create(
        solution=w["root"], voter=w["members"]["r2"], value=1, created_at=START, updated_at=START
    )


def vote_judged_serial(w):
    Vote.objects.filter(solution=w["grandchild"]).update(serial_reversed_at=timezone.now())


def voter_address_unverified(w):
    EmailAddress.objects.filter(user=w["members"]["r1"]).update(verified=False)


def ancestor_author_turns_low_trust(w):
    """b (the fork's author, credited by the grandchild's vote and reviews) turns low-trust."""
    trust_snapshot({0, 2}, members(w))


def ancestor_withdrawn(w):
    Solution.objects.filter(pk=w["fork"].pk).update(status=Solution.Status.WITHDRAWN)


def author_in_a_voting_ring(w):
    """c, the grandchild's author: the upvote gives a noted line of 0."""
    trust_snapshot({0}, members(w), ring={3})


def line_appended_behind_the_back(w):
    """A line no fact gives (appended: no trigger fires): its solution is named by the lines
    appended since the last run, and the correction's member's board rows are mended."""
    held = ReputationEvent.objects.filter(fact_key__startswith=f"up:{w['grandchild'].pk}:")
    line = held.order_by("-seq").first()
    line.pk, line.seq, line.amount = None, line.seq + 1, Decimal(5)
    line.save()


VOTE_CASES = [
    vote_turns_down,
    vote_deleted,
    new_vote,
    vote_judged_serial,
    voter_address_unverified,
    ancestor_author_turns_low_trust,
    ancestor_withdrawn,
    author_in_a_voting_ring,
    line_appended_behind_the_back,
]
# test_rebuild_check's cases that change ledger lines rather than facts.
LINE_CASES = {case for case in CASES if case.__name__.startswith(("delete_", "tamper_", "swap_"))}


def _after(change) -> tuple[LedgerCheck, int]:
    w = world()
    # The low-trust member of the world's snapshot, as every case's snapshot keeps them.
    assert nightly().whole  # no earlier check
    change(w)
    expected = python_lines()
    check = nightly()
    assert snapshot() == expected
    assert board_rows() == rows_derived_again()
    return check, ledger.sync_everything()


@pytest.mark.parametrize("change", [*CASES, *VOTE_CASES], ids=lambda case: case.__name__)
def test_the_nightly_run_corrects_what_changed_and_leaves_nothing_to_the_whole_check(
    postgres, change
):
    check, found_later = _after(change)
    assert check.appended > 0
    if change in LINE_CASES:
        assert check.whole and check.reason == "a ledger line was changed or deleted"
    else:
        assert not check.whole, check.reason
        # Only what the change touched, not every solution of the world (six).
        assert 0 < check.solutions < 6
    assert found_later == 0


def test_every_change_at_once(postgres):
    cases = [case for case in [*CASES, *VOTE_CASES] if case not in LINE_CASES]

    def change(w):
        for case in cases:
            case(w)

    check, found_later = _after(change)
    assert not check.whole and check.appended > 0
    assert found_later == 0


def test_with_nothing_changed_nothing_is_checked(postgres):
    world()
    nightly()
    with (
        mock.patch.object(ledger, "_solutions_to_correct_sql", side_effect=AssertionError),
        mock.patch.object(ledger, "_other_solutions_to_correct_sql", side_effect=AssertionError),
        mock.patch.object(ledger.boards, "check", side_effect=AssertionError),
        mock.patch.object(ledger, "_fold_all", side_effect=AssertionError),
    ):
        check = nightly()
    assert not check.whole and check.solutions == 0 and check.appended == 0
    assert not LedgerTouch.objects.exists()


def test_scores_changed_by_hand_wait_for_the_weekly_whole_check(postgres):
    world()
    nightly()
    right = dict(ReputationScore.objects.values_list("user_id", "total"))
    ReputationScore.objects.update(total=1, ledger_sum=0)
    nightly()
    assert not ReputationScore.objects.filter(total__gt=1).exists()
    tasks.recompute_reputation_whole()
    assert dict(ReputationScore.objects.values_list("user_id", "total")) == right


def test_a_member_whose_address_is_no_longer_verified_loses_their_level(postgres):
    w = world()
    nightly()
    a = w["members"]["a"]
    assert ReputationScore.objects.get(user=a).trust_level > 0
    EmailAddress.objects.filter(user=a).update(verified=False)
    with mock.patch.object(ledger, "_fold_all", side_effect=AssertionError):
        check = nightly()
    assert not check.whole
    assert ReputationScore.objects.get(user=a).trust_level == 0


def test_a_board_row_changed_by_hand_waits_for_the_weekly_whole_rebuild(postgres, settings):
    w = world()
    nightly()
    row = ReputationDay.objects.filter(member=w["members"]["a"]).order_by("pk").first()
    ReputationDay.objects.filter(pk=row.pk).update(other=row.other + 3)
    assert not nightly().whole  # no trigger sees a board row
    assert board_rows() != rows_derived_again()
    assert tasks.recompute_reputation_whole() == 0  # the ledger was right
    check = LedgerCheck.objects.order_by("-pk").first()
    assert check.whole and check.reason == "a whole check was asked for"
    assert board_rows() == rows_derived_again()
    # Beat runs it weekly, an hour after a nightly run.
    entry = settings.CELERY_BEAT_SCHEDULE["reputation-weekly-rebuild"]
    assert entry["args"] == ["reputation.tasks.recompute_reputation_whole"]
    assert entry["schedule"].day_of_week == {0} and entry["schedule"].hour == {4}


def test_without_a_recent_whole_check_the_nightly_run_checks_everything(postgres):
    w = world()
    nightly()
    row = ReputationDay.objects.filter(member=w["members"]["a"]).order_by("pk").first()
    ReputationDay.objects.filter(pk=row.pk).update(other=row.other + 3)
    LedgerCheck.objects.filter(whole=True).update(ran_at=timezone.now() - timedelta(days=9))
    check = nightly()
    assert check.whole and check.reason == "the last whole check is older than 8 days"
    assert board_rows() == rows_derived_again()


def test_new_rules_are_checked_everywhere(postgres):
    world()
    nightly()
    with override_settings(PEERHUB_REPUTATION={"forked": "6"}):
        check = nightly()
    assert check.whole and check.reason == "the rules changed" and check.appended > 0
    assert nightly().reason == "the rules changed"  # back to the old ones


def test_a_pruned_trust_snapshot_is_checked_everywhere(postgres):
    w = world()
    nightly()
    trust_snapshot({0}, members(w))
    TrustSnapshot.objects.order_by("version").first().delete()
    assert nightly().reason == "the last check's trust snapshot is gone"


def test_too_many_changes_are_checked_everywhere_and_their_touches_deleted(postgres):
    world()
    nightly()
    LedgerTouch.objects.bulk_create(LedgerTouch(solution_id=1) for _ in range(3))
    with mock.patch.object(touches, "MAX_TOUCHES", 2):
        check = nightly()
    assert check.whole and check.reason == "more than 2 changes"
    assert not LedgerTouch.objects.exists()


def test_a_whole_check_asked_for_and_on_sqlite(db):
    world()
    ledger.sync_everything()
    assert LedgerCheck.objects.get().reason == "a whole check was asked for"
    nightly()
    check = LedgerCheck.objects.order_by("-pk").first()
    if connection.vendor == "postgresql":
        assert not check.whole
    else:
        assert check.whole and check.reason == "derived in Python"  # SQLite: no triggers either


# --- The triggers (PostgreSQL) ------------------------------------------------------------


def touched() -> set[tuple]:
    rows = LedgerTouch.objects.values_list("solution_id", "member_id", "lineage", "whole")
    found = set(rows)
    LedgerTouch.objects.all().delete()
    return found


def test_what_each_change_touches(postgres):
    author, voter = UserFactory(), UserFactory()
    root = make_solution(ChallengeFactory(), author)
    touched()
    fork = make_fork(root, voter)
    assert (fork.pk, None, False, False) in touched()
    vote = Vote.objects.create(solution=root, voter=voter, value=1)
    assert touched() == {(root.pk, None, False, False)}
    Vote.objects.filter(pk=vote.pk).update(value=-1)
    assert touched() == {(root.pk, None, False, False)}
    # Counters, titles and search text touch nothing; an author or a status, the lineage.
    Solution.objects.filter(pk=root.pk).update(title="Renamed", comment_count=3)
    assert touched() == set()
    Solution.objects.filter(pk=fork.pk).update(status=Solution.Status.WITHDRAWN)
    assert touched() == {(fork.pk, None, True, False), (root.pk, None, False, False)}
    EmailAddress.objects.filter(user=voter).update(verified=False)
    assert touched() == {(None, voter.pk, False, False)}
    ReputationScore.objects.all().delete()
    assert touched() == set()
    line = ledger.ReputationEvent.objects.create(
        fact_key="x",
        beneficiary=author,
        kind=ledger.Kind.MANIFESTO_SIGNED,
        amount=Decimal(1),
        fact_at=timezone.now(),
    )
    assert touched() == set()  # appended
    ledger.ReputationEvent.objects.filter(pk=line.pk).delete()
    assert touched() == {(None, None, False, True)}
