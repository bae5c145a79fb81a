"""The evolution view's body is kept once for every member who sees what a visitor sees
(challenges.permissions.sees_as_visitor, issue 17): the same body they would get live, new at
once after a write to the challenge, and never shared with a member who may see more."""

from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from challenges import permissions, services
from challenges.models import Challenge, Solution
from reputation import evolution, fitness
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PEERHUB_PAGE_CACHE = True


def body(client, challenge) -> str:
    html = client.get(reverse("reputation:evolution", args=[challenge.slug])).content.decode()
    start = html.index('aria-labelledby="generations-title"')
    return html[start : html.index("</main>", start)]


def fork(source, author=None, *, title, challenge=None):
    forked = make_fork(source, author, challenge=challenge)
    services.solution_revise(
        solution=forked, by=forked.author, title=title, body=forked.current_revision.body
    )
    return forked


def builds():
    return mock.patch.object(evolution, "evolution", wraps=evolution.evolution)


def test_who_sees_what_a_visitor_sees():
    organiser, guest, stranger, drafter, hidden_author = UserFactory.create_batch(5)
    private = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE, organisers=[organiser])
    private.invited.add(guest)
    make_solution(author=drafter, publish=False)
    hidden = make_solution(author=hidden_author)
    Solution.objects.filter(pk=hidden.pk).update(hidden_at=timezone.now())
    make_solution(author=stranger)
    staff = UserFactory(is_staff=True, mfa=False)
    assert permissions.sees_as_visitor(None)
    assert permissions.sees_as_visitor(stranger)  # their published work is anyone's
    for member in (organiser, guest, drafter, hidden_author, staff):
        assert not permissions.sees_as_visitor(member), member


def test_the_kept_body_is_each_members_own_and_built_once(client, settings):
    challenge = ChallengeFactory()
    root = make_solution(challenge, title="Clay filter")
    fork(root, title="Clay filter, fired")
    fitness.recompute_challenge(challenge.pk)
    first, second = UserFactory.create_batch(2)
    settings.PEERHUB_PAGE_CACHE = False
    client.force_login(first)
    live = body(client, challenge)
    settings.PEERHUB_PAGE_CACHE = True
    with builds() as built:
        kept = body(client, challenge)
        client.force_login(second)
        assert body(client, challenge) == kept
    assert built.call_count == 1
    assert kept == live and "Clay filter, fired" in kept


def test_a_new_fork_shows_at_once(client):
    challenge = ChallengeFactory()
    root = make_solution(challenge, title="Sand filter")
    member = UserFactory()
    fork_author = UserFactory()
    client.force_login(member)
    assert "Sand filter, slow" not in body(client, challenge)
    fork(root, fork_author, title="Sand filter, slow")
    assert "Sand filter, slow" in body(client, challenge)


def test_a_member_who_may_see_more_gets_their_own_lineage(client):
    public = ChallengeFactory()
    private = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    guest, stranger = UserFactory.create_batch(2)
    private.invited.add(guest)
    root = make_solution(public, title="Solar still")
    fork(root, guest, challenge=private, title="Solar still, in the quiet marsh")
    client.force_login(stranger)
    assert "Solar still, in the quiet marsh" not in body(client, public)
    client.force_login(guest)
    with builds() as built:
        assert "Solar still, in the quiet marsh" in body(client, public)
        body(client, public)
    assert built.call_count == 2  # never kept: built for them each time
