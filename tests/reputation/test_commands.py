"""`manage.py recompute_reputation`: the full rebuild by hand, and `--check` for operators; the
benchmarks of the rebuild (`bench_reputation`, `bench_nightly`)."""

from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from reputation import services
from reputation.models import LedgerCheck, ReputationEvent, ReputationScore, Vote
from tests.factories import UserFactory, make_solution

pytestmark = pytest.mark.django_db(transaction=True)


def recompute(*args) -> str:
    out = StringIO()
    call_command("recompute_reputation", *args, stdout=out)
    return out.getvalue()


def test_a_ledger_kept_by_the_incremental_syncs_needs_no_correction():
    solution = make_solution()
    services.vote_cast(voter=UserFactory(), solution=solution, value=Vote.UP)
    lines = ReputationEvent.objects.count()
    output = recompute("--check")
    assert "Appended 0 correction line(s) in " in output
    assert ReputationEvent.objects.count() == lines


def test_check_fails_when_the_rebuild_had_to_correct_and_the_ledger_is_then_right():
    solution = make_solution()
    # A vote recorded behind the services' back: no incremental sync ran for it.
    Vote.objects.create(solution=solution, voter=UserFactory(), value=Vote.UP)
    with pytest.raises(CommandError, match="Appended 1 correction line"):
        recompute("--check")
    assert ReputationScore.objects.get(user=solution.author).total == 11
    assert "Appended 0 correction" in recompute("--check")


def test_without_check_corrections_are_reported_not_failed_and_batches_shown():
    solutions = [make_solution() for _ in range(3)]
    for solution in solutions:
        Vote.objects.create(solution=solution, voter=UserFactory(), value=Vote.UP)
    output = recompute("--batch-size", "2", "--verbosity", "2")
    # One line per batch of at most 2, whichever connection ran it (peerhub.cores).
    progress = [line for line in output.splitlines() if line.endswith("/3 solutions")]
    assert len(progress) == 2 and progress[-1].strip() == "3/3 solutions"
    assert "Appended 3 correction line(s)" in output


def test_the_reputation_benchmark_prints_its_figures_and_leaves_nothing_behind():
    out = StringIO()
    call_command("bench_reputation", users=100, votes=400, stdout=out)
    text = out.getvalue()
    for figure in (
        "(a) bare SQL aggregate", "ratio (b)/(a)", "full rebuild, nothing to correct",
        "statements: fold of every score", "votes read as a rebuild must",
        "(c) sync, time in the database",
    ):  # fmt: skip
        assert figure in text
    assert "second full rebuild (0 corrections)" in text
    assert not Vote.objects.exists() and not ReputationEvent.objects.exists()


def test_the_nightly_benchmark_refuses_a_database_not_named_as_scratch():
    with pytest.raises(CommandError, match="Refusing to time the nightly rebuild"):
        call_command("bench_nightly", stdout=StringIO())


def test_the_nightly_benchmark_prints_the_floor_the_whole_check_and_what_changed():
    for _ in range(3):
        services.vote_cast(voter=UserFactory(), solution=make_solution(), value=Vote.UP)
    out = StringIO()
    with mock.patch("reputation.management.commands.bench_nightly.is_scratch", return_value=True):
        call_command("bench_nightly", "--runs", "2", "--touch", "2", "--votes", "1", stdout=out)
    text = out.getvalue()
    for figure in (
        "member-day floor (one pass over the ledger)", "goal: 3x the floor",
        "whole check (weekly; by hand)", "nightly, nothing changed", "nightly, 2 solutions changed",
        "nightly, after a day of 1 votes", "casting 1 votes: 1 written and synced in ",
    ):  # fmt: skip
        assert figure in text
    # The syncs kept the ledger right: no run appended a line; two runs of each nightly figure.
    assert "appended 0" in text and "appended 1" not in text
    assert LedgerCheck.objects.count() == 2 + 2 + 2 + 2
    assert Vote.objects.count() == 3 + 2
    if connection.vendor == "postgresql":
        assert "nightly, 2 solutions changed: " in text and "checked 2 solutions" in text
