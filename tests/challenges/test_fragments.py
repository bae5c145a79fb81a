"""Kept fragments of members' pages (peerhub.pagecache.Fragments, issue 17): a challenge's
solution rows and a discussion's threads are rendered once for every member who sees them alike,
are rendered again after every write that changes them, and never show one member another
member's actions or CSRF token."""

from datetime import timedelta
from unittest import mock

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.urls import reverse
from django.utils import timezone

from challenges import services
from challenges.models import Comment, Solution
from challenges.views import challenges as challenge_views
from challenges.views import comments as comment_views
from peerhub.pagecache import FRAGMENT_CSRF
from reputation import services as reputation_services
from tests.factories import ChallengeFactory, UserFactory, make_solution

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PEERHUB_PAGE_CACHE = True


def settled(challenge):
    """Its solutions and comments written two days ago: what a fragment prints of their age
    ("a minute ago") then stays the same while the test runs."""
    past = timezone.now() - timedelta(days=2)
    Solution.objects.filter(challenge=challenge).update(updated_at=past)
    Comment.objects.filter(challenge=challenge).update(created_at=past)
    return challenge


def renders(module, name):
    """Count how often `module.name` (a fragment's renderer) runs."""
    return mock.patch.object(module, name, wraps=getattr(module, name))


def test_members_share_the_solution_rows_and_see_each_change_at_once(client):
    challenge = ChallengeFactory()
    solution = make_solution(challenge, title="Solar still")
    url = settled(challenge).get_absolute_url()
    first, second, commenter, voter = UserFactory.create_batch(4)
    client.force_login(first)
    client.get(url)
    with renders(challenge_views, "_attach_row_figures") as rows:
        client.force_login(second)
        assert "Solar still" in client.get(url).content.decode()
    assert rows.call_count == 0  # kept from the first member's visit

    services.comment_create(author=commenter, target=solution, body="Works in the shade?")
    page = client.get(url).content.decode()
    assert "<dt>comments</dt><dd>1</dd>" in page

    reputation_services.vote_cast(voter=voter, solution=solution, value=1)
    with renders(challenge_views, "_attach_row_figures") as rows:
        client.get(url)
    assert rows.call_count == 1


def test_a_members_own_draft_is_in_their_rows_only(client):
    challenge = ChallengeFactory()
    make_solution(challenge, title="Shared idea")
    author = UserFactory()
    make_solution(challenge, author=author, title="My unfinished draft", publish=False)
    client.force_login(author)
    assert "My unfinished draft" in client.get(challenge.get_absolute_url()).content.decode()
    client.force_login(UserFactory())
    page = client.get(challenge.get_absolute_url()).content.decode()
    assert "Shared idea" in page
    assert "My unfinished draft" not in page


def test_the_discussion_shows_each_member_only_their_own_actions(client):
    challenge = ChallengeFactory()
    author = UserFactory()
    comment = services.comment_create(author=author, target=challenge, body="First thought")
    url = settled(challenge).get_absolute_url()
    edit = reverse("challenges:comment-edit", args=[comment.pk])

    reader, other_reader = UserFactory.create_batch(2)
    client.force_login(reader)
    first = client.get(url).content.decode()
    assert "First thought" in first
    assert edit not in first
    with renders(comment_views, "render_to_string") as threads:
        client.force_login(other_reader)
        again = client.get(url).content.decode()
    assert threads.call_count == 0  # kept: a member who wrote none of it sees it alike
    assert edit not in again

    client.force_login(author)
    assert edit in client.get(url).content.decode()

    client.force_login(challenge.organisers.get())
    moderated = client.get(url).content.decode()
    assert reverse("challenges:comment-hide", args=[comment.pk]) in moderated


def test_a_kept_discussion_carries_each_members_own_csrf_token(client):
    challenge = ChallengeFactory()
    organiser = challenge.organisers.get()
    co_organiser = UserFactory()
    challenge.organisers.add(co_organiser)
    services.comment_create(author=UserFactory(), target=challenge, body="Hide me?")
    url = settled(challenge).get_absolute_url()
    client.force_login(organiser)
    client.get(url)  # rendered and kept for the challenge's moderators
    other = type(client)()
    other.force_login(co_organiser)
    with renders(comment_views, "render_to_string") as threads:
        page = other.get(url).content.decode()
    assert threads.call_count == 0
    tokens = {part.split('"')[0] for part in page.split('name="csrfmiddlewaretoken" value="')[1:]}
    assert tokens  # the hide form's, and the comment form's
    secret = other.cookies["csrftoken"].value
    assert {_unmask_cipher_token(token) for token in tokens} == {secret}
    assert FRAGMENT_CSRF not in page


def test_new_comments_and_replies_show_at_once(client):
    challenge = ChallengeFactory()
    url = challenge.get_absolute_url()
    client.force_login(UserFactory())
    client.get(url)
    first = services.comment_create(author=UserFactory(), target=challenge, body="Opening words")
    assert "Opening words" in client.get(url).content.decode()
    services.comment_create(
        author=UserFactory(), target=challenge, body="A kind answer", parent=first
    )
    assert "A kind answer" in client.get(url).content.decode()


def test_a_renamed_author_shows_at_once(client):
    challenge = ChallengeFactory()
    author = UserFactory(display_name="Ada")
    services.comment_create(author=author, target=challenge, body="Hello")
    make_solution(challenge, author=author, title="Ada's idea")
    url = challenge.get_absolute_url()
    client.force_login(UserFactory())
    client.get(url)
    author.display_name = "Ada Lovelace"
    author.save()
    page = client.get(url).content.decode()
    assert page.count("Ada Lovelace") >= 2


def test_fragments_render_live_when_the_page_cache_is_off(client, settings):
    settings.PEERHUB_PAGE_CACHE = False
    challenge = ChallengeFactory()
    make_solution(challenge)
    client.force_login(UserFactory())
    client.get(challenge.get_absolute_url())
    with renders(challenge_views, "_attach_row_figures") as rows:
        client.get(challenge.get_absolute_url())
    assert rows.call_count == 1
