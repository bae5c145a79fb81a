"""The notifications page (issue 18): an icon per kind, the actor's avatar (initials), several
of one kind about one thing grouped ("3 new comments on your solution"), opening a group marks
it read, paginated and bounded in queries."""

import pytest
from django.urls import reverse

from challenges import services as challenge_services
from peerhub.models import Notification
from peerhub.notifications import get_kind
from peerhub.notifications.selectors import group_by_target
from peerhub.templatetags.peerhub import ICONS, initials
from tests.factories import UserFactory, make_solution

pytestmark = pytest.mark.django_db


def comments_on(solution, count: int, commit) -> list:
    authors = [UserFactory(display_name=f"Commenter {i}") for i in range(count)]
    for author in authors:
        commit(challenge_services.comment_create, author=author, target=solution, body="Nice")
    return authors


def test_several_notifications_about_one_thing_are_one_line(client, commit):
    solution = make_solution(title="Sand filter")
    comments_on(solution, 3, commit)
    client.force_login(solution.author)
    html = client.get(reverse("notifications")).content.decode()
    assert html.count('class="notification unread"') == 1
    assert "3 new comments on your solution" in html
    assert "Latest: Commenter 2 commented on your solution “Sand filter”" in html
    assert "Show all 3" in html


def test_a_single_notification_shows_its_text_the_kind_and_the_actors_initials(client, commit):
    solution = make_solution()
    commenter = UserFactory(display_name="Ana María")
    commit(challenge_services.comment_create, author=commenter, target=solution, body="Hi")
    client.force_login(solution.author)
    html = client.get(reverse("notifications")).content.decode()
    assert 'aria-hidden="true">AM</span>' in html
    assert 'data-kind="solution_comment"' in html
    assert ICONS["comment"] in html  # the kind's icon
    assert "A comment on your solution" in html


def test_every_registered_kind_draws_a_known_icon():
    from peerhub.notifications import all_kinds

    assert {kind.icon for kind in all_kinds()} <= set(ICONS)
    assert get_kind("solution_forked").icon == "fork"
    assert get_kind("order_disputed").icon == "alert"


def test_grouping_keeps_kinds_and_targets_apart():
    a, b = make_solution(), make_solution()
    member = UserFactory()

    def note(kind, solution, pk):
        url = f"{solution.get_absolute_url()}#comment-{pk}"
        return Notification(pk=pk, recipient=member, kind=kind, target_url=url, text="t")

    rows = [
        note("solution_comment", a, 5),
        note("solution_comment", b, 4),
        note("solution_comment", a, 3),
        note("solution_reviewed", a, 2),
        Notification(pk=1, recipient=member, kind="manifesto_published", text="t"),
    ]
    groups = group_by_target(rows)
    assert [[n.pk for n in g.notifications] for g in groups] == [[5, 3], [4], [2], [1]]
    assert groups[0].summary == "2 new comments on your solution"


def test_opening_a_group_marks_all_of_it_read(client, commit):
    solution = make_solution()
    comments_on(solution, 2, commit)
    newest = Notification.objects.filter(recipient=solution.author).order_by("-pk").first()
    client.force_login(solution.author)
    client.get(reverse("notification-open", args=[newest.pk]) + "?group=1")
    assert not Notification.objects.filter(recipient=solution.author, read_at=None).exists()


def test_opening_one_notification_marks_only_it_read(client, commit):
    solution = make_solution()
    comments_on(solution, 2, commit)
    newest = Notification.objects.filter(recipient=solution.author).order_by("-pk").first()
    client.force_login(solution.author)
    client.get(reverse("notification-open", args=[newest.pk]))
    assert Notification.objects.filter(recipient=solution.author, read_at=None).count() == 1


def test_mark_read_never_redirects_off_site(client, commit):
    solution = make_solution()
    comments_on(solution, 1, commit)
    notification = Notification.objects.get(recipient=solution.author)
    client.force_login(solution.author)
    response = client.post(
        reverse("notification-read", args=[notification.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("notifications")


def test_the_grouped_page_stays_paginated_and_bounded(
    client, commit, django_assert_max_num_queries
):
    solution = make_solution()
    comments_on(solution, 3, commit)
    client.force_login(solution.author)
    client.get(reverse("notifications"))
    with django_assert_max_num_queries(8) as small:
        client.get(reverse("notifications"))
    comments_on(solution, 35, commit)  # more than a page (30)
    for _ in range(5):
        comments_on(make_solution(author=solution.author), 1, commit)
    with django_assert_max_num_queries(len(small)):
        html = client.get(reverse("notifications")).content.decode()
    assert "Page 1 of 2" in html or "?page=2" in html


@pytest.mark.parametrize(
    ("name", "expected"), [("Ana María", "AM"), ("kofi", "K"), ("", "·"), ("  ", "·")]
)
def test_initials(name, expected):
    assert initials(name) == expected
