from datetime import timedelta

import pytest
from django.utils import timezone

from peerhub.models import User
from peerhub.tasks import purge_stale_unverified_accounts
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def joined(days_ago: int, **kwargs) -> User:
    user = UserFactory(**kwargs)
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=days_ago))
    return user


def test_purge_removes_only_stale_unverified_signups():
    stale = joined(30, verified=False)
    fresh = joined(1, verified=False)
    verified = joined(30)
    staff = joined(30, verified=False, is_staff=True)

    assert purge_stale_unverified_accounts.delay().get() == 1

    remaining = set(User.objects.values_list("pk", flat=True))
    assert stale.pk not in remaining
    assert {fresh.pk, verified.pk, staff.pk} <= remaining


def test_purge_is_idempotent():
    joined(30, verified=False)
    assert purge_stale_unverified_accounts() == 1
    assert purge_stale_unverified_accounts() == 0
