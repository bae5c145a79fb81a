"""seed_demo gives every published solution a score and publishes one selection round."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import TestCase

from challenges.models import SelectionRound, Solution
from reputation import fitness
from reputation.models import ReputationEvent, SolutionScore

pytestmark = pytest.mark.django_db


def test_the_demo_has_ranked_solutions_and_a_finished_selection_round():
    out = StringIO()
    with TestCase.captureOnCommitCallbacks(execute=True):  # as after the real commits
        call_command("seed_demo", stdout=out, stderr=StringIO())
    assert "Selection demo: round 1" in out.getvalue()

    published = Solution.objects.filter(status=Solution.Status.PUBLISHED)
    assert SolutionScore.objects.filter(rank__isnull=False).count() == published.count()
    round_ = (
        SelectionRound.objects.filter(entries__is_winner=True).distinct().order_by("pk").first()
    )
    assert round_.is_published
    assert round_.entries.filter(is_winner=True).count() == 1
    assert round_.entries.count() == 3
    winners = sum(r.entries.filter(is_winner=True).count() for r in SelectionRound.objects.all())
    assert ReputationEvent.objects.filter(kind="selected").count() == winners
    winner = round_.entries.get(is_winner=True).solution
    assert SolutionScore.objects.get(solution=winner).components["selection"]["outcome"] == (
        "winner"
    )

    before = {s.solution_id: (s.fitness, s.rank) for s in SolutionScore.objects.all()}
    rounds = SelectionRound.objects.count()
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    assert SelectionRound.objects.count() == rounds  # seeding again adds no round
    fitness.recompute_all()
    assert {s.solution_id: (s.fitness, s.rank) for s in SolutionScore.objects.all()} == before
