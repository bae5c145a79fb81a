"""A solution's lineage page is kept once for every member who sees what a visitor sees
(challenges.pagecache.as_visitors_see, issue 17): the same tree they would get live, new once
a fork is written, and never shared with a member who may see more of it."""

from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from challenges import selectors, services
from challenges.models import Solution
from tests.factories import UserFactory, make_fork, make_solution

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PEERHUB_PAGE_CACHE = True


def tree(client, solution) -> str:
    html = client.get(reverse("challenges:solution-lineage", args=[solution.pk])).content.decode()
    return html[html.index("<main") : html.index("</main>")]


def fork(source, author=None, *, title):
    forked = make_fork(source, author)
    services.solution_revise(
        solution=forked, by=forked.author, title=title, body=forked.current_revision.body
    )
    return forked


def builds():
    return mock.patch.object(selectors, "lineage_for", wraps=selectors.lineage_for)


def test_the_kept_tree_is_each_members_own_and_built_once(client, settings):
    root = make_solution(title="Clay filter")
    fork(root, title="Clay filter, fired")
    first, second = UserFactory.create_batch(2)
    settings.PEERHUB_PAGE_CACHE = False
    client.force_login(first)
    live = tree(client, root)
    settings.PEERHUB_PAGE_CACHE = True
    with builds() as built:
        kept = tree(client, root)
        client.force_login(second)
        assert tree(client, root) == kept
    assert built.call_count == 1
    assert kept == live and "Clay filter, fired" in kept


def test_a_new_fork_shows_at_once(client):
    root = make_solution(title="Sand filter")
    client.force_login(UserFactory())
    assert "Sand filter, slow" not in tree(client, root)
    fork(root, title="Sand filter, slow")
    assert "Sand filter, slow" in tree(client, root)


def test_the_author_of_a_hidden_fork_gets_their_own_tree(client):
    root = make_solution(title="Solar still")
    hidden = fork(root, title="Solar still, hidden by moderation")
    Solution.objects.filter(pk=hidden.pk).update(hidden_at=timezone.now())
    client.force_login(UserFactory())
    assert "Solar still, hidden by moderation" not in tree(client, root)
    client.force_login(hidden.author)
    with builds() as built:
        assert "Solar still, hidden by moderation" in tree(client, root)
        tree(client, root)
    assert built.call_count == 2  # never kept: built for them each time
