"""A member who may see what a visitor sees shares the visitors' search answer, kept under the
versions of the visitors' cached search page (challenges.search.search with `kept`, issue 17):
the same answer a live search gives them, new at once after a write, and never for a member
who may see more."""

from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from challenges import search
from challenges.models import Challenge, Solution
from peerhub.pagecache import Fragments
from tests.factories import ChallengeFactory, UserFactory, make_solution

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PEERHUB_PAGE_CACHE = True


def kept_search(user, q, **filters):
    request = RequestFactory().get("/search/")
    request.user = user
    return search.search(user=user, q=q, kept=Fragments(request, ["lists"]), **filters)


def live_runs():
    """Count the searches actually run (not answered from the kept copy)."""
    return mock.patch.object(search, "_search", wraps=search._search)


@pytest.fixture
def community():
    organiser = UserFactory()
    private = ChallengeFactory(
        title="Quiet marsh", visibility=Challenge.Visibility.PRIVATE, organisers=[organiser]
    )
    guest = UserFactory()
    private.invited.add(guest)
    make_solution(private, guest, title="Marsh reeds", body="marsh")
    make_solution(title="Open marsh", body="a marsh anyone may read")
    hidden = make_solution(title="Marsh of mine", body="marsh")
    Solution.objects.filter(pk=hidden.pk).update(hidden_at=timezone.now(), hidden_reason="spam")
    UserFactory(username="marshal", display_name="Marsh Walker")
    return {
        "visitor": AnonymousUser(),
        "stranger": UserFactory(),
        "guest": guest,
        "organiser": organiser,
        "hidden author": hidden.author,
        "staff": UserFactory(is_staff=True, mfa=False),
    }


@pytest.mark.parametrize("kind", ["", "challenge", "solution", "member"])
def test_the_kept_answer_is_each_members_own_answer(community, kind):
    for name, user in community.items():
        first = kept_search(user, "marsh", kind=kind)
        again = kept_search(user, "marsh", kind=kind)
        assert first == again == search.search(user=user, q="marsh", kind=kind), name


def test_members_who_see_what_visitors_see_share_one_search(community):
    other = UserFactory()  # before the search is kept: a new member is news to member search
    kept_search(community["visitor"], "marsh")
    with live_runs() as runs:
        kept_search(community["stranger"], "marsh")
        kept_search(other, "marsh", kind="")
    assert runs.call_count == 0
    with live_runs() as runs:
        for name in ("guest", "organiser", "hidden author", "staff"):
            kept_search(community[name], "marsh")
            kept_search(community[name], "marsh")
    assert runs.call_count == 8  # who may see more is searched for every time


def test_filters_and_words_are_kept_apart(community):
    stranger = community["stranger"]
    everything = kept_search(stranger, "marsh")
    only_members = kept_search(stranger, "marsh", kind="member")
    assert set(only_members) == {"member"} and set(everything) == {
        "challenge",
        "solution",
        "member",
    }
    assert kept_search(stranger, "reeds") == search.search(user=stranger, q="reeds")


def test_a_new_solution_or_one_hidden_shows_in_the_next_kept_answer(community):
    stranger = community["stranger"]

    def titles():
        return [hit.title for hit in kept_search(stranger, "marsh")["solution"]]

    assert titles() == ["Open marsh"]
    fresh = make_solution(title="Marsh boardwalk", body="planks over the marsh")
    assert sorted(titles()) == ["Marsh boardwalk", "Open marsh"]
    fresh.hidden_at = timezone.now()
    fresh.save(update_fields=["hidden_at"])
    assert titles() == ["Open marsh"]


def test_the_page_and_the_api_give_a_member_the_kept_answer(client, community):
    stranger = community["stranger"]
    client.force_login(stranger)
    page = client.get(reverse("challenges:search"), {"q": "marsh"}).content.decode()
    assert "Open marsh" in page and "Marsh reeds" not in page
    other = UserFactory()
    client.get(reverse("challenges:search"), {"q": "marsh"})  # kept again after the new member
    with live_runs() as runs:
        client.force_login(other)
        page = client.get(reverse("challenges:search"), {"q": "marsh"}).content.decode()
        api = client.get("/api/search/", {"q": "marsh"}).json()
    assert "Open marsh" in page and "Marsh reeds" not in page
    assert runs.call_count == 1  # the API keeps its own (a hundred hits, not fifty)
    assert {hit["title"] for hit in api["results"]} == {"Open marsh", "Marsh Walker"}
    client.force_login(community["guest"])
    page = client.get(reverse("challenges:search"), {"q": "marsh"}).content.decode()
    assert "Marsh reeds" in page and "Quiet marsh" in page


def test_without_the_page_cache_every_search_runs(settings, community):
    settings.PEERHUB_PAGE_CACHE = False
    with live_runs() as runs:
        kept_search(community["stranger"], "marsh")
        kept_search(community["stranger"], "marsh")
    assert runs.call_count == 2
