"""seed_demo tells a coherent story (issue 18): members joined before they signed in and before
anything they did, revisions are dated with their solutions, and a trust level above what the
reputation earns is one staff set (shown "set by staff", as the rules page says)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F, Min

from challenges.models import Revision, Solution
from peerhub.models import ManifestoSignature, User
from reputation import rules
from reputation.models import ReputationScore

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())


def test_members_joined_before_they_signed_in_and_before_their_first_deed(demo):
    for member in User.objects.all():
        assert member.last_login is None or member.date_joined < member.last_login, member
        first_solution = Solution.objects.filter(author=member).aggregate(at=Min("created_at"))
        if first_solution["at"]:
            assert member.date_joined < first_solution["at"], member
    assert not ManifestoSignature.objects.filter(signed_at__lt=F("user__date_joined")).exists()


def test_revisions_are_dated_with_their_solutions(demo):
    for solution in Solution.objects.all():
        dates = list(
            Revision.objects.filter(solution=solution)
            .order_by("number")
            .values_list("created_at", flat=True)
        )
        assert abs((dates[0] - solution.created_at).total_seconds()) < 60, solution
        assert dates == sorted(dates), solution
        assert dates[-1] <= solution.updated_at, solution


def test_trust_levels_follow_the_rules_page_unless_staff_set_them(demo):
    thresholds = rules.trust_thresholds()
    for score in ReputationScore.objects.filter(pinned_level__isnull=True):
        needed = thresholds.get(score.trust_level)
        assert needed is None or score.total >= needed, (score.user, score.trust_level, score.total)
