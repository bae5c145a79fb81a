"""The demo world that `seed_demo` builds for challenges: idempotent, and consistent with what the
services themselves would have produced."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from challenges.models import (
    Challenge,
    ChallengeProposal,
    Comment,
    Revision,
    Solution,
    UpstreamProposal,
)

pytestmark = pytest.mark.django_db

COUNTED = (Challenge, Solution, Revision, Comment, UpstreamProposal, ChallengeProposal)


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO())
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.fixture
def demo():
    return _seed()


def test_seed_demo_runs_twice_and_the_second_run_adds_nothing(demo):
    first = _counts()
    assert "Challenges demo:" in demo

    second_output = _seed()

    assert _counts() == first
    assert "nothing added" in second_output


def test_the_demo_has_challenges_in_every_interesting_state(demo):
    challenges = Challenge.objects.all()
    assert challenges.count() >= 6
    statuses = set(challenges.values_list("status", flat=True))
    assert {"open", "selecting", "closed", "draft"} <= statuses
    assert challenges.filter(status="open").count() >= 4

    selecting = challenges.get(status="selecting")
    assert selecting.closes_at < timezone.now()
    private = challenges.get(visibility=Challenge.Visibility.PRIVATE)
    assert private.invited.exists()
    draft = challenges.get(status="draft")
    assert draft.proposal is not None
    assert draft.proposal.status == ChallengeProposal.Status.ADOPTED

    for challenge in challenges.exclude(status="draft"):
        assert challenge.criteria.count() >= 2
        assert challenge.values.exists()
        assert challenge.tags.exists()
        originals = challenge.solutions.filter(parent__isnull=True).count()
        assert 2 <= originals <= 5, challenge.slug


def test_every_lineage_is_consistent(demo):
    solutions = Solution.objects.select_related("parent", "forked_from_revision")
    assert solutions.count() > 20
    for solution in solutions:
        parent = solution.parent
        if parent is None:
            assert solution.root_id == solution.pk
            assert solution.generation == 0
            assert solution.path == f"/{solution.pk}/"
            assert solution.forked_from_revision_id is None
        else:
            assert solution.root_id == parent.root_id
            assert solution.generation == parent.generation + 1
            assert solution.path == f"{parent.path}{solution.pk}/"
            assert solution.forked_from_revision.solution_id == parent.pk
        descendants = Solution.objects.filter(path__startswith=solution.path).exclude(
            pk=solution.pk
        )
        assert solution.descendant_count == descendants.count()
        assert solution.fork_count == solution.forks.count()
        assert solution.revision_count == solution.revisions.count()
        assert solution.current_revision.number == solution.revision_count


def test_the_demo_has_deep_crossing_and_withdrawn_lineages(demo):
    assert Solution.objects.filter(generation__gte=3).exists()
    assert Solution.objects.filter(generation__gte=4).exists()
    cross = Solution.objects.filter(parent__isnull=False).exclude(challenge=F("parent__challenge"))
    assert cross.exists()
    assert Solution.objects.filter(status=Solution.Status.WITHDRAWN, fork_count__gt=0).exists()
    assert Solution.objects.filter(revision_count__gte=3, parent__isnull=True).count() >= 3


def test_an_accepted_upstream_proposal_credits_the_fork(demo):
    accepted = UpstreamProposal.objects.filter(status=UpstreamProposal.Status.ACCEPTED)
    assert accepted.exists()
    for proposal in accepted.select_related("resulting_revision"):
        revision = proposal.resulting_revision
        assert revision.solution_id == proposal.parent_id
        assert revision.credited_solution_id == proposal.fork_id
        assert revision.body == proposal.fork_revision.body
    statuses = set(UpstreamProposal.objects.values_list("status", flat=True))
    assert {"accepted", "declined", "open"} <= statuses
    reasons = UpstreamProposal.objects.filter(status="declined").values_list(
        "decline_reason", flat=True
    )
    assert all(reason.strip() for reason in reasons)


def test_discussions_are_threaded_and_proposals_are_backed(demo):
    reply_to_a_reply = Comment.objects.filter(parent__parent__isnull=False)
    assert reply_to_a_reply.exists()
    assert ChallengeProposal.objects.filter(status="declined").exclude(decline_reason="").exists()
    assert ChallengeProposal.objects.filter(status="open", backing_count__gt=0).count() >= 2


def test_timestamps_are_spread_over_the_past_weeks(demo):
    created = list(Challenge.objects.values_list("created_at", flat=True))
    assert max(created) - min(created) > timedelta(days=14)
    for fork in Solution.objects.filter(parent__isnull=False).select_related("parent"):
        assert fork.created_at > fork.parent.created_at
    for comment in Comment.objects.filter(parent__isnull=False).select_related("parent"):
        assert comment.created_at > comment.parent.created_at
