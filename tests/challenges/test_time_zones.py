"""Deadlines in the reader's time zone (issue 22): an organiser types a deadline in their own
zone, it is stored in UTC, and every reader sees it in theirs, with the zone named and a
countdown."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from challenges.models import Challenge
from peerhub.locales import TIME_ZONE_COOKIE
from tests.factories import ChallengeFactory, UserFactory, make_organiser

pytestmark = pytest.mark.django_db


def test_a_deadline_entered_in_sao_paulo_is_shown_right_in_tokyo(client):
    organiser = make_organiser(time_zone="America/Sao_Paulo")
    client.force_login(organiser)
    form = client.get(reverse("challenges:create")).content.decode()
    assert "In your time zone, <strong>America/Sao_Paulo</strong>." in form
    response = client.post(
        reverse("challenges:create"),
        {
            "title": "Flood warning for the valley",
            "summary": "Warn the valley before the river rises.",
            "visibility": "public",
            "licence": "CC BY-SA 4.0",
            "closes_at": "2030-03-10T14:00",  # 14:00 in São Paulo (UTC-3)
        },
    )
    assert response.status_code == 302
    challenge = Challenge.objects.get(title="Flood warning for the valley")
    assert challenge.closes_at == datetime(2030, 3, 10, 17, 0, tzinfo=UTC)
    # The organiser's edit form shows what they typed, in their zone.
    edit = client.get(reverse("challenges:edit", args=[challenge.slug])).content.decode()
    assert 'value="2030-03-10T14:00"' in edit

    Challenge.objects.filter(pk=challenge.pk).update(status=Challenge.Status.OPEN)
    client.force_login(UserFactory(time_zone="Asia/Tokyo"))
    html = client.get(challenge.get_absolute_url()).content.decode()
    # 17:00 UTC is 02:00 the next day in Tokyo (UTC+9).
    assert (
        '<time datetime="2030-03-11T02:00:00+09:00">11 March 2030, 02:00 (Asia/Tokyo)</time>'
        in html
    )
    assert "(Asia/Tokyo)" in html and "UTC</time>" not in html


def test_a_visitor_sees_the_deadline_in_their_browsers_zone_with_a_countdown(client):
    closes = timezone.now().replace(microsecond=0) + timedelta(days=3, hours=1)
    challenge = ChallengeFactory(closes_at=closes)
    client.cookies[TIME_ZONE_COOKIE] = "America/Sao_Paulo"
    html = client.get(challenge.get_absolute_url()).content.decode()
    local = closes.astimezone(ZoneInfo("America/Sao_Paulo"))
    assert f'<time datetime="{local.isoformat(timespec="seconds")}">' in html
    assert "(America/Sao_Paulo)</time>" in html
    assert "(3\xa0days from now)" in html  # the countdown


def test_a_selection_rounds_publication_names_the_readers_zone(client):
    from challenges.models import SelectionRound

    challenge = ChallengeFactory(status=Challenge.Status.SELECTING)
    SelectionRound.objects.create(
        challenge=challenge,
        number=1,
        created_by=challenge.created_by,
        status=SelectionRound.Status.PUBLISHED,
        published_at=datetime(2030, 1, 5, 12, 0, tzinfo=UTC),
    )
    client.force_login(UserFactory(time_zone="Europe/Paris"))
    html = client.get(reverse("challenges:selection", args=[challenge.slug])).content.decode()
    assert "5 January 2030, 13:00 (Europe/Paris)" in html
