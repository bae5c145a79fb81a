"""The leaderboard's and the rankings' bodies are kept once for every member who sees what a
visitor sees (challenges.pagecache.as_visitors_see, issue 17): the same body they would get live,
new once a write bumps the boards, never shared with a member who may see more, and one per
query string."""

from unittest import mock

import pytest
from django.urls import reverse

from challenges.models import Challenge
from peerhub import pagecache
from reputation import fitness, leaderboards, rankings
from tests.factories import ChallengeFactory, UserFactory, make_solution

from .ledger_lines import line

pytestmark = pytest.mark.django_db

PAGES = {
    "leaderboard": (reverse("reputation:leaderboard"), leaderboards, "leaderboard"),
    "rankings": (reverse("reputation:rankings"), rankings, "platform_ranking"),
}


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PEERHUB_PAGE_CACHE = True


def main(client, url, query=None) -> str:
    html = client.get(url, query or {}).content.decode()
    return html[html.index("<main") : html.index("</main>")]


def community():
    """A public challenge and a private one, each with a ranked solution that earned lines."""
    public = ChallengeFactory(title="Rain barrels")
    private = ChallengeFactory(title="Quiet marsh", visibility=Challenge.Visibility.PRIVATE)
    insider = UserFactory()
    private.invited.add(insider)
    for challenge, amount in ((public, 10), (private, 30)):
        solution = make_solution(
            challenge, author=challenge.created_by, title=f"Solution in {challenge.title}"
        )
        line(solution.author, amount, solution=solution)
        fitness.recompute_challenge(challenge.pk)
    return public, private, insider


def builds(name):
    _url, module, function = PAGES[name]
    return mock.patch.object(module, function, wraps=getattr(module, function))


@pytest.mark.parametrize("name", PAGES)
def test_the_kept_body_is_each_members_own_and_built_once(client, settings, name):
    url = PAGES[name][0]
    community()
    first, second = UserFactory.create_batch(2)
    settings.PEERHUB_PAGE_CACHE = False
    client.force_login(first)
    live = main(client, url)
    settings.PEERHUB_PAGE_CACHE = True
    with builds(name) as built:
        kept = main(client, url)
        client.force_login(second)
        assert main(client, url) == kept
        main(client, url, {"page": "2"})  # another query string: another copy
    assert built.call_count == 2
    assert kept == live
    assert "Rain barrels" in kept and "Quiet marsh" not in kept


@pytest.mark.parametrize("name", PAGES)
def test_a_member_who_may_see_more_gets_their_own(client, name):
    url = PAGES[name][0]
    _public, _private, insider = community()
    client.force_login(UserFactory())
    assert "Quiet marsh" not in main(client, url)
    client.force_login(insider)
    with builds(name) as built:
        assert "Quiet marsh" in main(client, url)
        main(client, url)
    assert built.call_count == 2  # never kept: built for them each time


def test_new_lines_show_once_the_boards_move(client):
    public, _private, _insider = community()
    client.force_login(UserFactory())
    url = PAGES["leaderboard"][0]
    newcomer = UserFactory(display_name="Newcomer Nadia")
    thirty_days = {"period": "30d"}
    assert "Newcomer Nadia" not in main(client, url, thirty_days)
    line(newcomer, 500, solution=make_solution(public))
    pagecache.bump("boards")  # as the ledger's sync tasks do when they finish
    assert "Newcomer Nadia" in main(client, url, thirty_days)


APIS = {
    "api leaderboard": ("/api/leaderboard/", leaderboards, "leaderboard"),
    "api rankings": ("/api/rankings/", rankings, "platform_ranking"),
}


@pytest.mark.parametrize("name", APIS)
def test_the_api_answer_is_kept_for_members_who_see_what_visitors_see(client, settings, name):
    url, module, function = APIS[name]
    _public, _private, insider = community()
    first, second = UserFactory.create_batch(2)
    settings.PEERHUB_PAGE_CACHE = False
    client.force_login(first)
    live = client.get(url, {"period": "30d"}).json()
    settings.PEERHUB_PAGE_CACHE = True
    with mock.patch.object(module, function, wraps=getattr(module, function)) as built:
        kept = client.get(url, {"period": "30d"}).json()
        client.force_login(second)
        assert client.get(url, {"period": "30d"}).json() == kept == live
        assert built.call_count == 1
        client.force_login(insider)  # may see the private challenge: their own answer
        theirs = client.get(url, {"period": "30d"}).json()
        assert client.get(url, {"period": "30d"}).json() == theirs != kept
        assert built.call_count == 3
    assert client.get(url, {"page": "99"}).status_code == 404


def test_a_challenges_rankings_api_is_kept_once(client):
    public, _private, _insider = community()
    url = f"/api/challenges/{public.slug}/rankings/"
    with mock.patch.object(
        rankings, "challenge_ranking", wraps=rankings.challenge_ranking
    ) as built:
        for member in UserFactory.create_batch(2):
            client.force_login(member)
            assert client.get(url).json()["results"][0]["solution"]["title"] == (
                "Solution in Rain barrels"
            )
    assert built.call_count == 1
