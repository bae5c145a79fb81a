"""The daily digest and unsubscribing: grouping, preferences, one e-mail per member and day
however often the task runs, none when empty, signed tamper-proof unsubscribe links."""

from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from peerhub import tasks
from peerhub.models import Channel, Notification, NotificationDigest, NotificationPreference
from peerhub.notifications import notify
from peerhub.notifications import services as notification_services
from tests.factories import UserFactory, make_solution

pytestmark = pytest.mark.django_db


def send_due() -> int:
    """The hourly digest run at 07:05 UTC today: 07:00 for members in UTC (the default)."""
    seven = timezone.now().replace(hour=7, minute=5, second=0, microsecond=0)
    return notification_services.digests_due(now=seven)


@pytest.fixture
def ana():
    return UserFactory(username="ana", email="ana@example.org")


def fork_notice(commit, recipient, n: int):
    solution = make_solution(title=f"Fork {n}")
    commit(
        notify, "solution_forked", [recipient], actor=solution.author, target=solution,
        context={"parent": "Sand filter"},
    )  # fmt: skip


def comment_notice(commit, recipient, n: int):
    commit(notify, "solution_comment", [recipient], actor=UserFactory(), key=f"c{n}",
           context={"on": "Sand filter"})  # fmt: skip


def test_digest_groups_by_kind_and_links_every_item(commit, ana, mailoutbox):
    for n in range(2):
        fork_notice(commit, ana, n)
    comment_notice(commit, ana, 1)
    assert mailoutbox == []  # not important: nothing at once
    assert send_due() == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ana@example.org"]
    assert "3 new notifications" in message.subject
    body = message.body
    assert "Your solution was forked (2)" in body and "A comment on your solution (1)" in body
    assert body.index("Fork 1") < body.index("Fork 0")  # newest first within a group
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "<h2" in html and "Fork 0" in html
    assert "/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
    digest = NotificationDigest.objects.get()
    assert digest.notification_count == 3
    assert set(Notification.objects.values_list("digest", flat=True)) == {digest.pk}


def test_digest_runs_twice_the_same_day_and_sends_once(commit, ana, mailoutbox):
    fork_notice(commit, ana, 1)
    assert send_due() == 1
    fork_notice(commit, ana, 2)  # arrives after today's digest: waits for tomorrow's
    assert send_due() == 0
    assert len(mailoutbox) == 1
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert notification_services.digests_send(day=tomorrow) == 1
    assert len(mailoutbox) == 2 and "Fork 2" in mailoutbox[1].body
    assert "Fork 1" not in mailoutbox[1].body


def test_the_unique_day_row_stops_a_second_send_even_with_work_waiting(commit, ana, mailoutbox):
    fork_notice(commit, ana, 1)
    today = timezone.localdate()
    NotificationDigest.objects.create(recipient=ana, day=today)  # another worker sent it
    assert notification_services.digest_send(recipient_id=ana.pk, day=today) is None
    assert mailoutbox == []


def test_no_digest_when_nothing_waits(commit, ana, mailoutbox):
    UserFactory()
    assert send_due() == 0
    fork_notice(commit, ana, 1)
    Notification.objects.update(read_at=timezone.now())  # seen in the app already
    assert send_due() == 0
    assert mailoutbox == [] and not NotificationDigest.objects.exists()


def test_preferences_decide_what_goes_to_the_digest(commit, ana, mailoutbox):
    NotificationPreference.objects.create(user=ana, kind="solution_forked", channel=Channel.IN_APP)
    NotificationPreference.objects.create(
        user=ana, kind="solution_comment", channel=Channel.IMMEDIATE
    )
    fork_notice(commit, ana, 1)
    comment_notice(commit, ana, 1)
    assert len(mailoutbox) == 1  # the comment, at once
    assert "commented" in mailoutbox[0].body
    assert send_due() == 0  # the fork is in the app only
    assert Notification.objects.count() == 2
    NotificationPreference.objects.filter(user=ana, kind="solution_forked").update(
        channel=Channel.OFF
    )
    fork_notice(commit, ana, 2)
    assert Notification.objects.count() == 2


def test_unsubscribe_token_round_trips_and_is_tamper_proof(ana):
    token = notification_services.unsubscribe_token(user=ana, kind="solution_forked")
    assert notification_services.unsubscribe_read(token) == (ana, "solution_forked")
    other = UserFactory()
    forged_payload = signing.dumps({"u": other.pk, "k": ""}, salt="another.salt", compress=True)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, forged_payload, "garbage", token.replace(":", "x", 1)):
        with pytest.raises(Exception) as caught:
            notification_services.unsubscribe_read(bad)
        assert getattr(caught.value, "code", "") == "bad_token"


def test_one_click_unsubscribe_from_one_kind(client, commit, ana):
    token = notification_services.unsubscribe_token(user=ana, kind="solution_forked")
    url = reverse("notifications-unsubscribe", kwargs={"token": token})
    page = client.get(url)
    assert page.status_code == 200 and "Your solution was forked" in page.content.decode()
    assert not NotificationPreference.objects.exists()  # a GET changes nothing
    client.post(url)  # as a mail client does (RFC 8058): no session, no CSRF token
    assert NotificationPreference.objects.get(user=ana).channel == Channel.IN_APP


def test_unsubscribe_from_everything_stops_the_waiting_digest(client, commit, ana, mailoutbox):
    fork_notice(commit, ana, 1)
    token = notification_services.unsubscribe_token(user=ana)
    response = client.post(reverse("notifications-unsubscribe", kwargs={"token": token}))
    assert "no longer e-mail you" in response.content.decode()
    assert send_due() == 0 and mailoutbox == []
    commit(notify, "order_paid", [ana], key="o1")
    assert mailoutbox == []  # important kinds too
    assert Notification.objects.count() == 2  # still in the app


def test_a_bad_unsubscribe_link_is_a_clear_400(client):
    response = client.post(reverse("notifications-unsubscribe", kwargs={"token": "nope"}))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_the_digest_link_in_the_mail_unsubscribes(client, commit, ana, mailoutbox):
    fork_notice(commit, ana, 1)
    send_due()
    header = mailoutbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    assert header in mailoutbox[0].body
    path = header.split("://", 1)[1].split("/", 1)[1]
    client.post("/" + path)
    assert set(NotificationPreference.objects.values_list("channel", flat=True)) == {"in_app"}


def test_send_digests_command_sends_once(commit, ana, mailoutbox):
    from io import StringIO

    from django.core.management import call_command

    fork_notice(commit, ana, 1)
    out = StringIO()
    call_command("send_digests", stdout=out)
    call_command("send_digests", stdout=out)
    assert "1 digest e-mail sent." in out.getvalue() and "0 digest e-mails sent." in out.getvalue()
    assert len(mailoutbox) == 1


# --- 07:00 in each member's own time zone (issue 22) --------------------------------------------


def test_digests_go_out_at_seven_in_each_members_time_zone(commit, mailoutbox):
    """Hour by hour through a day: each member's digest leaves in the hour that is 07:00 where
    they live, São Paulo (UTC-3) at 10:00 UTC, Tokyo (UTC+9) at 22:00 UTC the day before."""
    from datetime import UTC, datetime, time

    paulo = UserFactory(username="paulo", time_zone="America/Sao_Paulo")
    kenji = UserFactory(username="kenji", time_zone="Asia/Tokyo")
    uma = UserFactory(username="uma")  # UTC
    for n, member in enumerate((paulo, kenji, uma)):
        fork_notice(commit, member, n)
    tomorrow = timezone.now().date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time.min, tzinfo=UTC)
    sent_at = {}
    for hour in range(-3, 24):
        now = start + timedelta(hours=hour)
        before = len(mailoutbox)
        assert notification_services.digests_due(now=now) == len(mailoutbox) - before
        for message in mailoutbox[before:]:
            sent_at[message.to[0].split("@")[0]] = now
    assert sent_at == {
        "kenji": start - timedelta(hours=2),
        "uma": start + timedelta(hours=7),
        "paulo": start + timedelta(hours=10),
    }
    for member in (paulo, kenji, uma):  # each for their own morning's date
        assert NotificationDigest.objects.get(recipient=member).day == tomorrow


def test_the_hourly_task_sends_to_members_whose_local_hour_is_seven(commit, mailoutbox):
    """The beat's task itself, now: a member in the zone where it is 07:xx gets their digest,
    one where it is 08:xx waits for their next morning."""
    utc_hour = timezone.now().hour

    def zone_at(local_hour: int) -> str:
        offset = (local_hour - utc_hour + 12) % 24 - 12  # -12 … +11 hours from UTC
        return f"Etc/GMT{-offset:+d}" if offset else "UTC"  # Etc/GMT+3 is UTC-3

    morning = UserFactory(username="morning", time_zone=zone_at(7))
    later = UserFactory(username="later", time_zone=zone_at(8))
    fork_notice(commit, morning, 1)
    fork_notice(commit, later, 2)
    assert tasks.send_daily_digests() == 1
    assert [m.to for m in mailoutbox] == [["morning@example.org"]]


def test_the_digest_beat_runs_every_hour(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["notifications-daily-digest"]["schedule"]
    assert schedule.minute == {0} and schedule.hour == set(range(24))
    assert settings.PEERHUB_NOTIFICATIONS["digest_hour"] == 7
