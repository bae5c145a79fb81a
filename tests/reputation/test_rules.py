"""Trust levels, their thresholds and the privileges they unlock (answered through has_perm)."""

from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.db import connection

from challenges.permissions import can_create_challenge
from peerhub.exceptions import NotAllowed
from peerhub.models import User
from reputation import ledger, rules, services
from reputation.models import ReputationEvent, ReputationScore
from reputation.selectors import reputation_summary, trust_level_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(user) -> User:
    """A new instance: no cached trust level, verification or permissions."""
    return User.objects.get(pk=user.pk)


def with_total(total, **kwargs) -> User:
    """A member whose ledger gives `total` reputation (one manifesto-like line of total - 1)."""
    user = UserFactory(**kwargs)
    ReputationEvent.objects.create(
        beneficiary=user,
        kind=ReputationEvent.Kind.UPSTREAM_ACCEPTED,
        fact_key=f"test:{user.pk}",
        amount=Decimal(total) - 1,
        fact_at="2026-01-01T00:00:00Z",
    )
    ledger.recompute_scores({user.pk})
    return fresh(user)


def test_default_rules_are_the_documented_numbers():
    r = rules.rules()
    assert (r.upvote_received, r.downvote_received, r.downvote_cast) == (10, -2, -1)
    assert (r.forked, r.review_weight, r.upstream_accepted, r.manifesto_signed) == (5, 4, 15, 1)
    assert r.daily_vote_cap == 200
    assert r.lineage_shares == (Decimal("0.20"), Decimal("0.04"))
    assert rules.daily_votes() == {1: 20, 2: 40, 3: 60, 4: 100}


def test_rules_read_overrides_from_settings(settings):
    settings.PEERHUB_REPUTATION = {"upvote_received": 7, "lineage_shares": ["0.5"]}
    r = rules.rules()
    assert r.upvote_received == 7
    assert r.downvote_received == -2
    assert r.lineage_shares == (Decimal("0.5"),)


@pytest.mark.parametrize(
    ("total", "verified", "level"),
    [
        (1, False, 0),
        (5000, False, 0),
        (1, True, 1),
        (49, True, 1),
        (50, True, 2),
        (499, True, 2),
        (500, True, 3),
        (1999, True, 3),
        (2000, True, 4),
    ],
)
def test_level_for_thresholds(total, verified, level):
    assert rules.level_for(total=Decimal(total), verified=verified) == level


@pytest.mark.parametrize("thresholds", [None, {2: 10, 3: 20, 4: 30}])
def test_level_sql_agrees_with_level_for(settings, thresholds):
    """The full fold computes levels in SQL; it must give what `level_for` gives."""
    if thresholds:
        settings.PEERHUB_TRUST_LEVELS = thresholds
    sql, params = rules.level_sql("x.total", "x.verified")
    totals = [1, 9, 10, 19, 20, 29, 30, 49, 50, 499, 500, 1999, 2000, 5000]
    with connection.cursor() as cursor:
        for total in totals:
            for verified in (True, False):
                cursor.execute(
                    f"SELECT {sql} FROM (SELECT %s AS total, %s AS verified) x",  # noqa: S608
                    [*params, total, verified],
                )
                expected = rules.level_for(total=Decimal(total), verified=verified)
                assert cursor.fetchone()[0] == expected, (total, verified)


def test_thresholds_follow_settings(settings):
    settings.PEERHUB_TRUST_LEVELS = {2: 10, 3: 20, 4: 30}
    assert rules.level_for(total=Decimal(10), verified=True) == 2
    assert rules.level_for(total=Decimal(30), verified=True) == 4
    member = with_total(25)
    assert ReputationScore.objects.get(user=member).trust_level == 3
    assert trust_level_of(member) == 3


def test_recomputation_stores_the_level_from_the_total():
    assert ReputationScore.objects.get(user=with_total(60)).trust_level == 2
    assert ReputationScore.objects.get(user=with_total(600)).trust_level == 3
    assert ReputationScore.objects.get(user=with_total(2000)).trust_level == 4
    assert ReputationScore.objects.get(user=with_total(2000, verified=False)).trust_level == 0


def test_a_member_without_a_score_is_level_one_once_verified():
    assert trust_level_of(UserFactory()) == 1
    assert trust_level_of(UserFactory(verified=False)) == 0


def test_verifying_after_a_full_recomputation_unlocks_level_one_at_once():
    member = UserFactory(verified=False)
    ledger.recompute_scores(None)  # the nightly rebuild writes level 0 for the unverified
    assert ReputationScore.objects.get(user=member).trust_level == 0
    EmailAddress.objects.filter(user=member).update(verified=True)
    assert trust_level_of(fresh(member)) == 1
    assert fresh(member).has_perm("reputation.vote_up")


def test_staff_pin_overrides_and_survives_recomputation():
    staff = UserFactory(is_staff=True)
    member = with_total(10)
    score = services.trust_level_pin(member=member, by=staff, level=4)
    assert (score.trust_level, score.pinned_level) == (4, 4)
    ledger.recompute_scores({member.pk})
    ledger.recompute_scores(None)
    assert ReputationScore.objects.get(user=member).trust_level == 4
    assert trust_level_of(fresh(member)) == 4
    assert can_create_challenge(fresh(member))
    score = services.trust_level_pin(member=member, by=staff, level=None)
    assert (score.trust_level, score.pinned_level) == (1, None)
    assert not can_create_challenge(fresh(member))


def test_a_pin_can_also_hold_a_member_down():
    member = with_total(3000)
    services.trust_level_pin(member=member, by=UserFactory(is_staff=True), level=1)
    ledger.recompute_scores(None)
    assert trust_level_of(fresh(member)) == 1
    assert not fresh(member).has_perm("reputation.vote_down")


def test_only_staff_pin_and_only_to_real_levels():
    member = UserFactory()
    with pytest.raises(NotAllowed):
        services.trust_level_pin(member=member, by=UserFactory(), level=4)
    with pytest.raises(Exception, match="0 to 4"):
        services.trust_level_pin(member=member, by=UserFactory(is_staff=True), level=5)


@pytest.mark.parametrize("level", [0, 1, 2, 3, 4])
def test_has_perm_answers_every_privilege_at_every_level(level):
    member = UserFactory(verified=level > 0)
    ReputationScore.objects.create(user=member, pinned_level=level, trust_level=level)
    member = fresh(member)
    for perm, needed in rules.DEFAULT_PRIVILEGES.items():
        assert member.has_perm(perm) is (level >= needed), perm
    assert not member.has_perm("reputation.no_such_privilege")


def test_inactive_members_hold_no_privilege():
    member = UserFactory(is_active=False)
    ReputationScore.objects.create(user=member, pinned_level=4, trust_level=4)
    member = fresh(member)
    assert not any(member.has_perm(perm) for perm in rules.DEFAULT_PRIVILEGES)


def test_privileges_follow_settings(settings):
    settings.PEERHUB_PRIVILEGES = {"reputation.vote_down": 1}
    assert fresh(UserFactory()).has_perm("reputation.vote_down")


def test_a_member_promoted_to_level_four_may_frame_challenges():
    member = with_total(1500)
    assert not can_create_challenge(member)
    ReputationEvent.objects.create(
        beneficiary=member,
        kind=ReputationEvent.Kind.UPSTREAM_ACCEPTED,
        fact_key=f"test-more:{member.pk}",
        amount=Decimal(600),
        fact_at="2026-01-02T00:00:00Z",
    )
    ledger.recompute_scores({member.pk})
    assert can_create_challenge(fresh(member))


def test_summary_says_what_the_next_level_unlocks():
    summary = reputation_summary(with_total(60))
    assert (summary["level"], summary["level_name"], summary["next_level"]) == (2, "regular", 3)
    assert summary["next_needs"] == 500
    assert summary["next_unlocks"] == ["sell hand-made services"]
    assert "vote solutions down" in summary["privileges"]
