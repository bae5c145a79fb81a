"""The challenge list a member reads is the visitors' copy when they see what a visitor sees
(issue 17): kept under the visitors' page's versions, the same list a live read gives them, new
at once after a write, and never shared with a member who may see more (an organiser of a
draft, a member invited to a private challenge), who reads their own."""

from unittest import mock

import pytest
from django.urls import reverse

from challenges import selectors
from challenges.models import Challenge, Tag
from tests.factories import ChallengeFactory, UserFactory
from tests.helpers import one_moment, page_main

pytestmark = pytest.mark.django_db

LIST = reverse("challenges:list")


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PEERHUB_PAGE_CACHE = True


def live(client, settings, url=LIST) -> str:
    settings.PEERHUB_PAGE_CACHE = False
    try:
        return page_main(client, url)
    finally:
        settings.PEERHUB_PAGE_CACHE = True


def lists_read():
    return mock.patch.object(selectors, "challenge_list", wraps=selectors.challenge_list)


def test_members_share_the_visitors_list_and_get_what_they_would_get_live(client, settings):
    challenge = ChallengeFactory(title="Clean water for Goma")
    challenge.tags.add(Tag.objects.create(slug="water", name="water"))
    first, second = UserFactory.create_batch(2)
    with one_moment():
        client.force_login(first)
        kept = page_main(client, LIST)
        assert "Clean water for Goma" in kept
        assert kept == live(client, settings)
        client.force_login(second)
        with lists_read() as read:
            assert page_main(client, LIST) == kept
        read.assert_not_called()
        # Another filter, another copy.
        assert "Clean water" not in page_main(client, LIST + "?status=closed")
        assert page_main(client, LIST + "?tag=water") == live(client, settings, LIST + "?tag=water")


def test_a_new_challenge_shows_at_once(client, settings):
    client.force_login(UserFactory())
    with one_moment():
        assert "Shade for the market" not in page_main(client, LIST)
        ChallengeFactory(title="Shade for the market")
        assert "Shade for the market" in page_main(client, LIST)
        Challenge.objects.filter(title="Shade for the market").get().delete()
        assert "Shade for the market" not in page_main(client, LIST)


@pytest.mark.parametrize("role", ["organiser of a draft", "invited to a private challenge"])
def test_a_member_who_may_see_more_reads_their_own_list(client, settings, role):
    member = UserFactory()
    if role == "organiser of a draft":
        ChallengeFactory(title="My own draft", status=Challenge.Status.DRAFT, organisers=[member])
    else:
        private = ChallengeFactory(
            title="My own draft",
            visibility=Challenge.Visibility.PRIVATE,
            organisers=[UserFactory()],
        )
        private.invited.add(member)
    ChallengeFactory(title="Open to all")
    with one_moment():
        client.force_login(UserFactory())
        shared = page_main(client, LIST)  # the visitors' copy, kept
        assert "Open to all" in shared and "My own draft" not in shared
        client.force_login(member)
        own = page_main(client, LIST)
        assert "My own draft" in own and "Open to all" in own
        assert own == live(client, settings)
