"""Notifications: each event kind notifies exactly the right people once, never the actor, only
after commit; the bell, the page and the API."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from challenges import services as challenge_services
from challenges.models import Challenge
from peerhub import services as site_services
from peerhub.following import follow_set
from peerhub.models import Channel, Notification, NotificationPreference
from peerhub.notifications import notify
from peerhub.notifications import services as notification_services
from reputation import services as reputation_services
from reputation.models import ReputationScore
from tests.factories import (
    ChallengeFactory,
    ManifestoVersionFactory,
    UserFactory,
    make_fork,
    make_organiser,
    make_solution,
)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def notified(kind: str) -> list[tuple[str, str]]:
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__username", "kind"))


def test_forking_notifies_the_source_author_once_and_never_the_forker(commit):
    ana, ben = UserFactory(username="ana"), UserFactory(username="ben")
    source = commit(make_solution, author=ana, title="Sand filter")
    fork = commit(make_fork, source, ben)
    assert notified("solution_forked") == [("ana", "solution_forked")]
    notification = Notification.objects.get(kind="solution_forked")
    assert notification.actor == ben
    assert notification.target == fork
    assert notification.target_url == fork.get_absolute_url()
    assert "Sand filter" in notification.text and ben.name in notification.text
    assert Notification.objects.count() == 1


def test_forking_your_own_solution_notifies_no_one(commit):
    ana = UserFactory()
    source = commit(make_solution, author=ana)
    commit(make_fork, source, ana)
    assert Notification.objects.count() == 0


def test_a_rolled_back_fork_notifies_no_one(commit):
    source = commit(make_solution)
    with pytest.raises(RuntimeError), transaction.atomic():
        commit(make_fork, source, UserFactory())
        raise RuntimeError("the request failed after the fork")
    assert Notification.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_nothing_is_notified_before_commit_nor_after_a_rollback():
    source = make_solution()
    ben = UserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        make_fork(source, ben)
        assert Notification.objects.count() == 0  # not yet: only after commit
        raise RuntimeError("rolled back")
    assert Notification.objects.count() == 0
    make_fork(source, ben)  # committed: now it notifies
    assert notified("solution_forked") == [(source.author.username, "solution_forked")]


def test_upstream_proposed_accepted_and_declined_go_to_the_other_side(commit):
    ana, ben, cleo = UserFactory(username="ana"), UserFactory(username="ben"), UserFactory()
    parent = commit(make_solution, author=ana)
    fork = commit(make_fork, parent, ben)
    challenge_services.solution_revise(solution=fork, by=ben, title=fork.title, body="Better.")
    proposal = commit(challenge_services.upstream_propose, fork=fork, by=ben, message="Take it")
    assert notified("upstream_proposed") == [("ana", "upstream_proposed")]
    commit(challenge_services.upstream_accept, proposal=proposal, by=ana)
    assert notified("upstream_accepted") == [("ben", "upstream_accepted")]

    other = commit(make_fork, parent, cleo)
    challenge_services.solution_revise(solution=other, by=cleo, title=other.title, body="Other.")
    second = commit(challenge_services.upstream_propose, fork=other, by=cleo, message="Mine")
    commit(challenge_services.upstream_decline, proposal=second, by=ana, reason="Too costly")
    declined = Notification.objects.get(kind="upstream_declined")
    assert declined.recipient == cleo and "Too costly" in declined.text
    assert Notification.objects.filter(kind="upstream_proposed").count() == 2


def test_a_reply_tells_the_parent_author_and_a_comment_tells_the_solution_author(commit):
    ana, ben, cleo = UserFactory(username="ana"), UserFactory(username="ben"), UserFactory()
    solution = commit(make_solution, author=ana)
    first = commit(challenge_services.comment_create, author=ben, target=solution, body="Nice")
    assert notified("solution_comment") == [("ana", "solution_comment")]
    reply = commit(
        challenge_services.comment_create, author=cleo, target=solution, body="+1", parent=first
    )
    assert Notification.objects.filter(kind="comment_reply").get().recipient == ben
    assert Notification.objects.filter(kind="solution_comment").count() == 2  # ana, twice
    assert Notification.objects.get(kind="comment_reply").target_url.endswith(
        f"#comment-{reply.pk}"
    )


def test_the_solution_author_replying_on_their_solution_hears_nothing_and_is_told_once(commit):
    ana, ben = UserFactory(), UserFactory()
    solution = commit(make_solution, author=ana)
    ana_comment = commit(
        challenge_services.comment_create, author=ana, target=solution, body="Ask me"
    )
    assert Notification.objects.count() == 0  # her own comment on her own solution
    commit(
        challenge_services.comment_create,
        author=ben,
        target=solution,
        body="Q",
        parent=ana_comment,
    )
    # A reply to her comment on her solution: one notification, the reply.
    assert list(Notification.objects.values_list("kind", flat=True)) == ["comment_reply"]


def test_a_review_notifies_the_author_once_even_when_edited(commit):
    ana = UserFactory()
    reviewer = UserFactory()
    ReputationScore.objects.create(user=reviewer, trust_level=2, pinned_level=2)
    solution = commit(make_solution, author=ana)
    scores = {c.pk: 4 for c in solution.challenge.criteria.all()}
    for comment in ("Good.", "Good, on second thoughts very good."):
        commit(
            reputation_services.review_save,
            reviewer=reviewer,
            solution=solution,
            comment=comment,
            scores=scores,
        )
    assert notified("solution_reviewed") == [(ana.username, "solution_reviewed")]
    assert Notification.objects.get(kind="solution_reviewed").target_url == (
        solution.get_absolute_url()
    )


def test_reaching_a_trust_level_is_announced_once(commit, settings):
    settings.PEERHUB_TRUST_LEVELS = {2: 5, 3: 10_000, 4: 20_000}
    ana = UserFactory(username="ana")
    source = commit(make_solution, author=ana)
    commit(make_fork, source)  # +5 for ana: level 2
    commit(make_fork, source)  # more reputation, same level: no new notice
    notices = Notification.objects.filter(kind="trust_level_gained")
    assert [(n.recipient.username, n.actor) for n in notices] == [("ana", None)]
    assert "trust level 2" in notices[0].text and "review" in notices[0].text
    assert notices[0].target_url == reverse("profile", kwargs={"username": "ana"})


def test_followers_hear_when_a_challenge_opens_and_enters_selection(commit):
    olga = make_organiser()
    challenge = commit(
        challenge_services.challenge_create,
        organiser=olga,
        title="Clean water",
        summary="Water",
        problem="Dirty wells",
        criteria=["Safe"],
    )
    fan, other = UserFactory(username="fan"), UserFactory()
    # A draft is visible to organisers only; a co-organiser follows it.
    co = make_organiser(username="co")
    challenge_services.challenge_add_organiser(challenge=challenge, by=olga, member=co)
    follow_set(follower=co, target=challenge)
    commit(challenge_services.challenge_transition, challenge=challenge, by=olga, to="open")
    assert notified("challenge_opened") == [("co", "challenge_opened")]  # olga acted

    challenge.refresh_from_db()
    follow_set(follower=fan, target=challenge)
    commit(challenge_services.challenge_transition, challenge=challenge, by=olga, to="selecting")
    assert notified("challenge_selecting") == [
        ("co", "challenge_selecting"),
        ("fan", "challenge_selecting"),
    ]
    assert not Notification.objects.filter(recipient=other).exists()


def test_the_deadline_task_tells_followers_once_even_when_run_twice(commit):
    challenge = ChallengeFactory(closes_at=timezone.now() + timedelta(days=1))
    Challenge.objects.filter(pk=challenge.pk).update(closes_at=timezone.now() - timedelta(hours=1))
    fan = UserFactory()
    follow_set(follower=fan, target=challenge)
    assert commit(challenge_services.challenges_close_past_deadline) == 1
    assert commit(challenge_services.challenges_close_past_deadline) == 0
    assert notified("challenge_selecting") == [(fan.username, "challenge_selecting")]


def test_publishing_a_manifesto_version_notifies_every_member_once(commit):
    members = [UserFactory() for _ in range(3)]
    version = ManifestoVersionFactory(published_at=None)
    commit(site_services.manifesto_publish, version=version)
    commit(site_services.manifesto_publish, version=version)  # republishing: no second notice
    assert sorted(n.recipient_id for n in Notification.objects.all()) == sorted(
        m.pk for m in members
    )
    assert {n.target_url for n in Notification.objects.all()} == {reverse("manifesto")}


# --- notify() itself ---------------------------------------------------------------------


def test_notify_dedupes_skips_the_actor_and_honours_off(commit):
    ana, ben, cleo = UserFactory(), UserFactory(), UserFactory()
    NotificationPreference.objects.create(user=cleo, kind="solution_forked", channel=Channel.OFF)
    solution = make_solution(author=ana)
    for _ in range(2):
        commit(
            notify, "solution_forked", [ana, ana.pk, ben, cleo], actor=ben, target=solution,
            context={"parent": "x"},
        )  # fmt: skip
    assert list(Notification.objects.values_list("recipient", flat=True)) == [ana.pk]


def test_unknown_kinds_are_refused_at_once():
    with pytest.raises(LookupError):
        notify("no_such_kind", [1])


def test_important_kinds_are_emailed_at_once_with_an_unsubscribe_header(commit, mailoutbox):
    buyer = UserFactory(email="buyer@example.org")
    solution = make_solution()
    commit(notify, "solution_won", [buyer], target=solution, context={"challenge": "Water"})
    commit(notify, "solution_won", [buyer], target=solution, context={"challenge": "Water"})
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["buyer@example.org"]
    assert "winner" in message.subject and "winner" in message.body
    assert "/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and solution.get_absolute_url() in html
    assert Notification.objects.get().emailed_at is not None
    # Sending again (a retried task) sends nothing more.
    assert not notification_services.notification_email_send(
        notification_id=Notification.objects.get().pk
    )


def test_a_burst_of_one_kind_to_one_member_is_one_email(mailoutbox):
    """Twenty orders in minutes make one e-mail that lists them, not twenty; another kind
    still comes on its own."""
    from django.test import TestCase

    buyer = UserFactory(email="buyer@example.org")
    solutions = [make_solution() for _ in range(5)]
    with TestCase.captureOnCommitCallbacks(execute=True):
        for solution in solutions:
            notify("solution_won", [buyer], target=solution, context={"challenge": "Water"})
        notify("payout_sent", [buyer], context={"amount": "12.00 EUR"})
    assert len(mailoutbox) == 2
    burst = next(m for m in mailoutbox if m.subject.startswith("[PeerHub] 5 \u00d7"))
    assert burst.body.count("winner") == 5
    for solution in solutions:
        assert solution.get_absolute_url() in burst.alternatives[0][0]
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_in_app_preference_keeps_important_kinds_out_of_the_mailbox(commit, mailoutbox):
    member = UserFactory()
    NotificationPreference.objects.create(user=member, kind="order_paid", channel=Channel.IN_APP)
    commit(notify, "order_paid", [member], key="order-1")
    assert mailoutbox == []
    assert Notification.objects.get().email == Notification.Email.NONE


def test_every_kind_of_the_other_issues_is_registered_and_orders_are_important():
    from peerhub.notifications import get_kind

    for name in (
        "order_paid", "order_started", "order_delivered", "order_completed", "order_cancelled",
        "order_declined", "order_disputed", "order_resolved", "order_refunded", "order_message",
        "solution_shortlisted", "solution_won", "challenge_results_published",
    ):  # fmt: skip
        assert get_kind(name).important, name
    assert not get_kind("solution_forked").important


# --- Pages ---------------------------------------------------------------------------------


def make_notifications(member, count: int) -> None:
    for i in range(count):
        notify("order_message", [member], actor=UserFactory(), key=f"m{i}")


def test_bell_shows_the_unread_count(client, commit):
    member = UserFactory()
    client.force_login(member)
    assert "data-unread" not in client.get(reverse("notifications-bell")).content.decode()
    commit(make_notifications, member, 3)
    bell = client.get(reverse("notifications-bell")).content.decode()
    assert 'data-unread="3"' in bell and "3 unread" in bell
    page = client.get(reverse("home")).content.decode()
    assert reverse("notifications-bell") in page  # loaded by htmx


def test_opening_a_notification_marks_it_read_and_goes_to_its_target(client, commit):
    ana = UserFactory()
    source = commit(make_solution, author=ana)
    fork = commit(make_fork, source)
    notification = Notification.objects.get()
    client.force_login(ana)
    response = client.get(reverse("notification-open", args=[notification.pk]))
    assert response.status_code == 302 and response["Location"] == fork.get_absolute_url()
    notification.refresh_from_db()
    assert notification.is_read


def test_a_member_cannot_open_or_read_someone_elses_notification(client, commit):
    ana = UserFactory()
    commit(make_notifications, ana, 1)
    client.force_login(UserFactory())
    pk = Notification.objects.get().pk
    assert client.get(reverse("notification-open", args=[pk])).status_code == 404
    assert client.post(reverse("notification-read", args=[pk])).status_code == 404
    assert not Notification.objects.get().is_read


def test_the_page_groups_by_day_newest_first_and_marks_all_read(client, commit):
    member = UserFactory()
    commit(make_notifications, member, 2)
    old = Notification.objects.order_by("pk").first()
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    client.force_login(member)
    html = client.get(reverse("notifications")).content.decode()
    day = timezone.localdate() - timedelta(days=3)
    assert html.index("Today") < html.index(day.strftime("%-d %B %Y")) < html.index(old.text)
    response = client.post(reverse("notifications-read-all"), follow=True)
    assert "Marked 2 notifications read." in response.content.decode()
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_notifications_page_queries_stay_bounded(client, commit, django_assert_max_num_queries):
    member = UserFactory()
    client.force_login(member)
    commit(make_notifications, member, 2)
    with django_assert_max_num_queries(12) as small:
        assert client.get(reverse("notifications")).status_code == 200
    commit(make_notifications, member, 25)
    with django_assert_max_num_queries(len(small)):
        assert client.get(reverse("notifications")).status_code == 200


def test_preferences_page_saves_a_channel_per_kind(client):
    member = UserFactory()
    client.force_login(member)
    page = client.get(reverse("notification-preferences"))
    assert "Your solution was forked" in page.content.decode()
    data = {f.name: f.initial for f in page.context["form"]}
    data["solution_forked"] = Channel.OFF
    response = client.post(reverse("notification-preferences"), data)
    assert response.status_code == 302
    assert list(NotificationPreference.objects.values_list("kind", "channel")) == [
        ("solution_forked", "off")
    ]


# --- API -----------------------------------------------------------------------------------


def test_api_lists_marks_one_and_all_read(member_api_client, commit):
    member = member_api_client.user
    commit(make_notifications, member, 3)
    listing = member_api_client.get("/api/notifications/?unread=true").json()
    assert listing["count"] == 3
    first = listing["results"][0]
    assert first["kind"] == "order_message" and not first["is_read"]
    read = member_api_client.post(f"/api/notifications/{first['id']}/read/")
    assert read.status_code == 200 and read.json()["is_read"]
    assert member_api_client.get("/api/notifications/?unread=true").json()["count"] == 2
    assert member_api_client.post("/api/notifications/read-all/").json()["marked"] == 2
    assert member_api_client.get("/api/notifications/?unread=true").json()["count"] == 0


def test_api_notifications_are_private(api_client, member_api_client, commit):
    other = UserFactory()
    commit(make_notifications, other, 1)
    assert_error(api_client.get("/api/notifications/"), 401)
    assert member_api_client.get("/api/notifications/").json()["count"] == 0
    pk = Notification.objects.get().pk
    assert_error(member_api_client.post(f"/api/notifications/{pk}/read/"), 404, "not_found")


def test_api_preferences_read_and_update(member_api_client):
    prefs = member_api_client.get("/api/notification-preferences/").json()
    by_kind = {p["kind"]: p for p in prefs}
    assert by_kind["order_paid"]["channel"] == "immediate" and by_kind["order_paid"]["important"]
    assert by_kind["solution_forked"]["channel"] == "digest"
    response = member_api_client.patch(
        "/api/notification-preferences/", {"solution_forked": "in_app"}, format="json"
    )
    assert {p["kind"]: p["channel"] for p in response.json()}["solution_forked"] == "in_app"
    bad = member_api_client.patch(
        "/api/notification-preferences/", {"solution_forked": "pigeon"}, format="json"
    )
    assert_error(bad, 400, "invalid")
    unknown = member_api_client.patch(
        "/api/notification-preferences/", {"nope": "off"}, format="json"
    )
    assert_error(unknown, 400, "invalid")


def test_a_fork_into_a_private_challenge_is_not_announced_to_who_cannot_see_it(commit):
    ana = UserFactory()
    source = commit(make_solution, author=ana)
    hidden = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    insider = UserFactory()
    hidden.invited.add(insider)
    commit(make_fork, source, insider, challenge=hidden)
    assert not Notification.objects.exists()
    hidden.invited.add(ana)
    commit(make_fork, source, insider, challenge=hidden)
    assert notified("solution_forked") == [(ana.username, "solution_forked")]


def test_selection_results_notify_authors_and_followers_for_the_lead_to_wire(commit, mailoutbox):
    """challenges.social_events.selection_published is ready for the selection rounds."""
    from challenges import social_events

    challenge = ChallengeFactory(title="Clean water")
    organiser = challenge.created_by
    ana, ben, fan = UserFactory(username="ana"), UserFactory(username="ben"), UserFactory()
    follow_set(follower=fan, target=challenge)
    follow_set(follower=ana, target=challenge)
    follow_set(follower=organiser, target=challenge)
    first = make_solution(challenge, ana, title="Sand filter")
    second = make_solution(challenge, ben, title="Clay pots")
    commit(
        social_events.selection_published,
        challenge=challenge,
        by=organiser,
        shortlisted=[first, second],
    )
    assert notified("solution_shortlisted") == [
        ("ana", "solution_shortlisted"),
        ("ben", "solution_shortlisted"),
    ]
    assert not Notification.objects.filter(kind="challenge_results_published").exists()
    commit(social_events.selection_published, challenge=challenge, by=organiser, winners=[first])
    assert notified("solution_won") == [("ana", "solution_won")]
    assert sorted(
        Notification.objects.filter(kind="challenge_results_published").values_list(
            "recipient__username", flat=True
        )
    ) == sorted(["ana", fan.username])  # the organiser published them: not told
    # Important: e-mailed at once (2 shortlisted, 1 won, 2 results).
    assert len(mailoutbox) == 5
    from peerhub.following import feed_for

    assert [a.verb for a in feed_for(user=fan)] == ["solution_selected"]


def test_api_filters_notifications_by_kind(member_api_client, commit):
    member = member_api_client.user
    commit(make_notifications, member, 2)
    commit(notify, "order_paid", [member], key="o1")
    assert member_api_client.get("/api/notifications/?kind=order_paid").json()["count"] == 1
    assert member_api_client.get("/api/notifications/").json()["count"] == 3


def test_the_nightly_rebuild_announces_levels_never_announced(commit, settings):
    from reputation import tasks as reputation_tasks

    member = UserFactory()
    ReputationScore.objects.create(user=member, trust_level=3, pinned_level=3)
    commit(reputation_tasks.recompute_reputation)
    commit(reputation_tasks.recompute_reputation)
    notice = Notification.objects.get(kind="trust_level_gained")
    assert notice.recipient == member and "trust level 3" in notice.text


def test_an_upvote_that_lifts_a_member_a_level_announces_it(commit, settings):
    settings.PEERHUB_TRUST_LEVELS = {2: 5, 3: 10_000, 4: 20_000}
    ana = UserFactory(username="ana")
    solution = commit(make_solution, author=ana)
    commit(reputation_services.vote_cast, voter=UserFactory(), solution=solution, value=1)
    assert notified("trust_level_gained") == [("ana", "trust_level_gained")]


# --- Worded in the reader's language (issue 22) ----------------------------------------------


def test_a_notification_is_worded_in_each_readers_language(client, commit):
    """A notification keeps its kind and context, not words: each reader sees it in their own
    language, on the page, in the API and in a group's summary."""
    from django.utils import translation
    from rest_framework.test import APIClient

    ana, ben = UserFactory(username="ana"), UserFactory(username="ben")
    source = commit(make_solution, author=ana, title="Sand filter")
    commit(make_fork, source, ben)
    notification = Notification.objects.get(kind="solution_forked")
    assert notification.context == {
        "actor": ben.name,
        "target": "Sand filter",
        "parent": "Sand filter",
    }
    english = f"{ben.name} forked your solution “Sand filter”: “Sand filter”"
    assert notification.text == english  # the site's language, as written
    with translation.override("es"):
        spanish = f"{ben.name} bifurcó tu solución «Sand filter»: «Sand filter»"
        assert notification.message == spanish
    with translation.override("fr"):
        assert notification.message.startswith(f"{ben.name} a forké votre solution « Sand")
    with translation.override("ar"):
        assert "تفرّع" in notification.message and "Sand filter" in notification.message

    api = APIClient()
    api.force_authenticate(ana)
    answer = api.get(reverse("api-notification-list"), HTTP_ACCEPT_LANGUAGE="es").json()
    assert answer["results"][0]["text"] == spanish
    answer = api.get(reverse("api-notification-list"), HTTP_ACCEPT_LANGUAGE="en").json()
    assert answer["results"][0]["text"] == english
    client.force_login(ana)
    page = client.get(reverse("notifications"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "bifurcó tu solución" in page


def test_summaries_use_each_languages_plural_forms():
    from django.utils import translation

    from peerhub.notifications import get_kind

    kind = get_kind("solution_comment")
    assert kind.summary(1) == "1 new comment on your solution"
    assert kind.summary(3) == "3 new comments on your solution"
    with translation.override("fr"):
        assert kind.summary(3) == "3 nouveaux commentaires sur votre solution"
    with translation.override("ar"):
        assert kind.summary(2) == "تعليقان جديدان على حلّك"  # the dual
        assert kind.summary(11) == "11 تعليقًا جديدًا على حلّك"


def test_a_notification_written_before_contexts_shows_as_written():
    ana = UserFactory()
    old = Notification.objects.create(
        recipient=ana, kind="solution_forked", text="Ben forked your solution", dedupe_key="x"
    )
    from django.utils import translation

    with translation.override("es"):
        assert old.message == "Ben forked your solution"


def test_each_recipient_is_emailed_in_their_own_language(commit, mailoutbox):
    """One event, two readers: the e-mail of each is worded in the language they chose."""
    ana = UserFactory(email="ana@example.org", language="es")
    ben = UserFactory(email="ben@example.org", language="fr")
    solution = make_solution(title="Sand filter")
    commit(notify, "solution_won", [ana, ben], target=solution, context={"challenge": "Water"})
    mails = {message.to[0]: message for message in mailoutbox}
    spanish = "Tu solución «Sand filter» fue elegida ganadora de «Water»"
    french = "Votre solution « Sand filter » a été choisie parmi les gagnantes de « Water »"
    assert spanish in mails["ana@example.org"].subject and spanish in mails["ana@example.org"].body
    assert french in mails["ben@example.org"].subject and french in mails["ben@example.org"].body
