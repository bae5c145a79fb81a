"""`manage.py recompute_reputation`: the full rebuild by hand, and `--check` for operators."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from reputation import services
from reputation.models import ReputationEvent, ReputationScore, Vote
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
    assert "2/3 solutions" in output and "3/3 solutions" in output
    assert "Appended 3 correction line(s)" in output
