"""seed_demo makes a demo member's bell and feed alive, and running it again adds nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from peerhub.following import feed_for
from peerhub.models import Activity, Follow, Notification, User

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_members_follows_a_feed_and_notifications(
    django_capture_on_commit_callbacks,
):
    def seed():
        with django_capture_on_commit_callbacks(execute=True):
            call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
        return (Follow.objects.count(), Activity.objects.count(), Notification.objects.count())

    first = seed()
    li = User.objects.get(username="li")
    assert Follow.objects.filter(follower=li).count() >= 5
    feed = list(feed_for(user=li)[:20])
    assert len(feed) >= 10
    assert len({a.created_at.date() for a in feed}) > 1  # spread over time, not all "now"
    unread = Notification.objects.filter(recipient=li, read_at__isnull=True)
    assert unread.filter(kind="solution_forked").exists()
    assert seed() == first
