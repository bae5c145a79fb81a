"""The anonymous page cache (peerhub.pagecache): a cached page is re-rendered right after every
kind of write that changes it, never holds a private challenge, never serves a signed-in member,
and answers conditional GETs."""

from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse

from challenges import services as challenge_services
from challenges.models import Challenge
from marketplace.services.offers import offer_update
from peerhub import pagecache
from peerhub import services as site_services
from reputation import services as reputation_services
from reputation import tasks as reputation_tasks
from reputation.models import ReputationScore, Vote
from tests.factories import (
    ChallengeFactory,
    ManifestoVersionFactory,
    UserFactory,
    make_fork,
    make_organiser,
    make_premium_organiser,
    make_solution,
)
from tests.marketplace.factories import OfferFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PEERHUB_PAGE_CACHE = True


def regular(**kwargs):
    """A member at trust level 2: may vote down and review."""
    user = UserFactory(**kwargs)
    ReputationScore.objects.create(user=user, total=Decimal(100), trust_level=2)
    return user


def state(response) -> str | None:
    return response.headers.get("X-Page-Cache")


def warm(client, url: str):
    """Render the page, then see it answered from the cache."""
    first = client.get(url)
    assert first.status_code == 200, url
    assert state(first) in ("miss", "hit")
    second = client.get(url)
    assert state(second) == "hit"
    return second


def assert_fresh(client, url: str, *texts: str):
    """The page is rendered again (not served from the cache) and shows `texts`."""
    response = client.get(url)
    assert response.status_code == 200
    assert state(response) == "miss"
    for text in texts:
        assert text in response.content.decode()
    return response


# --- What is cached, for whom ----------------------------------------------------------------


def test_an_anonymous_page_is_served_from_the_cache_the_second_time(client):
    challenge = ChallengeFactory(title="Clean water for all")
    hit = warm(client, challenge.get_absolute_url())
    assert "Clean water for all" in hit.content.decode()


def test_each_hit_gets_its_own_nonce_and_a_token_for_its_own_csrf_cookie(client):
    url = ChallengeFactory().get_absolute_url()
    first = client.get(url)
    other = type(client)()
    hit = other.get(url)
    assert state(hit) == "hit"
    nonce_first = first.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    nonce_hit = hit.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert nonce_first != nonce_hit
    assert f'nonce="{nonce_hit}"' in hit.content.decode()
    assert nonce_first not in hit.content.decode()
    # The new visitor got a CSRF cookie of their own, and the page's token works with it.
    assert other.cookies["csrftoken"].value != client.cookies["csrftoken"].value
    from django.middleware.csrf import _unmask_cipher_token

    token = hit.content.decode().split('"X-CSRFToken": "')[1].split('"')[0]
    assert _unmask_cipher_token(token) == other.cookies["csrftoken"].value


def test_a_signed_in_member_is_never_served_from_the_cache(client):
    url = ChallengeFactory().get_absolute_url()
    warm(client, url)
    client.force_login(UserFactory())
    response = client.get(url)
    assert state(response) is None
    assert "private" in response.headers["Cache-Control"]


def test_a_page_rendered_for_a_member_is_never_stored(client):
    url = ChallengeFactory().get_absolute_url()
    client.force_login(UserFactory())
    client.get(url)
    client.logout()
    client.cookies.clear()
    assert state(client.get(url)) == "miss"


def test_other_query_parameters_and_htmx_requests_bypass_the_cache(client):
    url = reverse("challenges:list")
    warm(client, url + "?status=open")
    assert state(client.get(url + "?status=open&utm=x")) is None
    assert state(client.get(url + "?status=open", headers={"HX-Request": "true"})) is None


def test_the_cache_is_off_unless_enabled(client, settings):
    settings.PEERHUB_PAGE_CACHE = False
    url = ChallengeFactory().get_absolute_url()
    client.get(url)
    assert state(client.get(url)) is None


def test_a_page_read_from_the_replica_is_never_stored(client, monkeypatch):
    # The replica may lag behind the write that bumped the version (peerhub.replica).
    monkeypatch.setattr(pagecache, "served_from_replica", lambda request: True)
    url = ChallengeFactory().get_absolute_url()
    assert state(client.get(url)) != "hit"
    assert state(client.get(url)) != "hit"
    monkeypatch.setattr(pagecache, "served_from_replica", lambda request: False)
    warm(client, url)


def test_a_private_challenge_never_enters_the_cache(client):
    private = ChallengeFactory(
        visibility=Challenge.Visibility.PRIVATE, created_by=make_premium_organiser()
    )
    assert client.get(private.get_absolute_url()).status_code == 404
    assert pagecache._cache().get(pagecache._vkey(f"challenge:{private.slug}")) is not None
    assert private.title not in client.get(reverse("challenges:list")).content.decode()
    assert client.get(private.get_absolute_url()).status_code == 404


def test_a_challenge_made_private_leaves_the_cache_at_once(client):
    organiser = make_premium_organiser()
    challenge = ChallengeFactory(created_by=organiser, title="Soon private")
    warm(client, challenge.get_absolute_url())
    warm(client, reverse("challenges:list"))
    challenge_services.challenge_update(
        challenge=challenge, by=organiser, visibility=Challenge.Visibility.PRIVATE
    )
    assert client.get(challenge.get_absolute_url()).status_code == 404
    assert "Soon private" not in client.get(reverse("challenges:list")).content.decode()


# --- Each kind of write ----------------------------------------------------------------------


def test_a_new_solution_shows_on_its_challenges_cached_page(client):
    challenge = ChallengeFactory()
    warm(client, challenge.get_absolute_url())
    warm(client, reverse("challenges:list"))
    make_solution(challenge, title="Sand filter")
    assert_fresh(client, challenge.get_absolute_url(), "Sand filter")
    assert_fresh(client, reverse("challenges:list"))


def test_a_vote_refreshes_the_solution_and_its_challenge(client):
    solution = make_solution(title="Clay pot")
    warm(client, solution.get_absolute_url())
    warm(client, solution.challenge.get_absolute_url())
    reputation_services.vote_cast(voter=UserFactory(), solution=solution, value=Vote.UP)
    assert_fresh(client, solution.get_absolute_url())
    assert_fresh(client, solution.challenge.get_absolute_url())


def test_a_review_refreshes_the_solution(client):
    solution = make_solution()
    warm(client, solution.get_absolute_url())
    scores = {c.pk: 4 for c in solution.challenge.criteria.all()}
    reputation_services.review_save(
        reviewer=regular(), solution=solution, comment="Sturdy and cheap.", scores=scores
    )
    assert_fresh(client, solution.get_absolute_url(), "Sturdy and cheap.")


def test_a_comment_refreshes_the_page_it_is_on(client):
    solution = make_solution()
    warm(client, solution.get_absolute_url())
    warm(client, solution.challenge.get_absolute_url())
    challenge_services.comment_create(
        author=UserFactory(), target=solution, body="Tried it at home."
    )
    assert_fresh(client, solution.get_absolute_url(), "Tried it at home.")
    challenge_services.comment_create(
        author=UserFactory(), target=solution.challenge, body="Which towns first?"
    )
    assert_fresh(client, solution.challenge.get_absolute_url(), "Which towns first?")


def test_a_challenge_edit_and_status_change_refresh_every_page_showing_it(client):
    organiser = make_organiser()
    challenge = ChallengeFactory(created_by=organiser)
    solution = make_solution(challenge)
    for url in (challenge.get_absolute_url(), solution.get_absolute_url()):
        warm(client, url)
    challenge_services.challenge_update(challenge=challenge, by=organiser, title="Renamed one")
    assert_fresh(client, challenge.get_absolute_url(), "Renamed one")
    assert_fresh(client, solution.get_absolute_url(), "Renamed one")
    warm(client, challenge.get_absolute_url())
    challenge_services.challenge_transition(
        challenge=challenge, by=organiser, to=Challenge.Status.SELECTING
    )
    assert_fresh(client, challenge.get_absolute_url())


def test_a_signature_and_a_profile_edit_refresh_the_profile(client):
    ManifestoVersionFactory()
    member = UserFactory(display_name="Ana Lima")
    url = reverse("profile", args=[member.username])
    warm(client, url)
    site_services.manifesto_sign(user=member)
    assert_fresh(client, url)
    warm(client, url)
    site_services.profile_update(user=member, display_name="Ana Souza", bio="", skills="")
    assert_fresh(client, url, "Ana Souza")


def test_a_login_alone_does_not_drop_every_page(client):
    challenge_url = ChallengeFactory().get_absolute_url()
    member = UserFactory()
    warm(client, challenge_url)
    member.save(update_fields=["last_login"])
    assert state(client.get(challenge_url)) == "hit"


def test_a_new_member_drops_the_lists_but_not_every_page(client):
    challenge_url = ChallengeFactory().get_absolute_url()
    warm(client, challenge_url)
    warm(client, reverse("api-user-list"))
    member = UserFactory(display_name="Newcomer")
    assert state(client.get(challenge_url)) == "hit"
    assert state(client.get(reverse("api-user-list"))) == "miss"
    # The same row saved again (a rename) is no longer new: every page shows names.
    member.display_name = "Renamed newcomer"
    member.save()
    assert state(client.get(challenge_url)) == "miss"


def test_an_offer_change_refreshes_the_marketplace(client):
    offer = OfferFactory(title="Filter fitting")
    url = reverse("marketplace:offer-list")
    warm(client, url)
    offer_update(offer=offer, by=offer.seller, title="Filter fitting, two visits")
    assert_fresh(client, url, "Filter fitting, two visits")


def test_the_rankings_task_refreshes_its_challenge_and_solutions(client):
    solution = make_solution()
    urls = [solution.challenge.get_absolute_url(), solution.get_absolute_url()]
    for url in urls:
        warm(client, url)
    reputation_tasks.recompute_challenge_rankings.delay(solution.challenge_id)
    for url in urls:
        assert_fresh(client, url)


def test_the_reputation_tasks_refresh_the_boards_and_profiles(client):
    solution = make_solution()
    urls = [reverse("reputation:leaderboard"), reverse("profile", args=[solution.author.username])]
    for url in urls:
        warm(client, url)
    reputation_tasks.sync_solution_reputation.delay(solution.pk)
    for url in urls:
        assert_fresh(client, url)
    for url in urls:
        warm(client, url)
    reputation_tasks.recompute_reputation.delay()
    for url in urls:
        assert_fresh(client, url)


def test_a_lost_version_is_a_miss_never_an_old_page(client):
    challenge = ChallengeFactory()
    warm(client, challenge.get_absolute_url())
    pagecache._cache().delete(pagecache._vkey(f"challenge:{challenge.slug}"))
    assert state(client.get(challenge.get_absolute_url())) == "miss"


# --- Conditional GET --------------------------------------------------------------------------


def test_a_cached_page_answers_304_to_its_etag(client):
    url = ChallengeFactory().get_absolute_url()
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    assert "Cookie" in first.headers["Vary"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["ETag"] == etag


def test_the_etag_changes_after_a_write(client):
    challenge = ChallengeFactory()
    url = challenge.get_absolute_url()
    etag = client.get(url).headers["ETag"]
    make_solution(challenge)
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["ETag"] != etag


def test_another_visitors_etag_does_not_match(client):
    url = ChallengeFactory().get_absolute_url()
    etag = client.get(url).headers["ETag"]
    other = type(client)()
    other.get(url)
    assert other.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_an_api_detail_answers_304_per_user(client, member_api_client):
    challenge = ChallengeFactory()
    url = reverse("api-challenge-detail", args=[challenge.slug])
    response = member_api_client.get(url)
    assert response.status_code == 200
    assert "private" in response.headers["Cache-Control"]
    assert "Authorization" in response.headers["Vary"]
    etag = response.headers["ETag"]
    assert member_api_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    anonymous = client.get(url, headers={"If-None-Match": etag})
    assert anonymous.status_code in (200, 304)
    assert "private" not in anonymous.headers.get("Cache-Control", "")


def test_each_language_has_its_own_cached_page(client, settings):
    """A page rendered in one language is never served to a visitor asking for another; a
    visitor who chose a language (the language cookie) is still served from the cache."""
    url = reverse("challenges:list")
    english = warm(client, url)
    assert english["Content-Language"] == "en"
    assert "Accept-Language" in english["Vary"]
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
    assert state(french) == "miss"
    assert french["Content-Language"] == "fr"
    assert state(client.get(url, HTTP_ACCEPT_LANGUAGE="fr")) == "hit"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    arabic = client.get(url)
    assert state(arabic) == "miss"
    assert arabic["Content-Language"] == "ar"
    assert state(client.get(url)) == "hit"


def test_each_time_zone_has_its_own_cached_page(client):
    """A page shows times in the visitor's zone (the cookie site.js sets): a page rendered for
    one zone is never served to a visitor in another, and a visitor with the cookie is still
    served from the cache."""
    from peerhub.locales import TIME_ZONE_COOKIE

    url = reverse("challenges:list")
    warm(client, url)
    client.cookies[TIME_ZONE_COOKIE] = "Asia/Tokyo"
    assert state(client.get(url)) == "miss"
    assert state(client.get(url)) == "hit"
    other = type(client)()
    other.cookies[TIME_ZONE_COOKIE] = "America/Sao_Paulo"
    assert state(other.get(url)) == "miss"
    other.cookies[TIME_ZONE_COOKIE] = "Asia/Tokyo"
    assert state(other.get(url)) == "hit"


# --- The pages cached since the 100,000-member benchmark (issue 17) ---------------------------


def test_a_revision_refreshes_the_history_and_each_diff(client):
    solution = make_solution(body="Clay and sand.")
    author = solution.author
    challenge_services.solution_revise(
        solution=solution, by=author, title=solution.title, body="Clay, sand and charcoal."
    )
    history = reverse("challenges:solution-history", args=[solution.pk])
    diff = reverse("challenges:solution-diff", args=[solution.pk])
    first_diff = f"{diff}?from=1&to=2"
    for url in (history, diff, first_diff):
        warm(client, url)
    challenge_services.solution_revise(
        solution=solution, by=author, title=solution.title, body="Clay, sand, charcoal, gravel."
    )
    assert_fresh(client, history, "<strong>r3</strong>")
    assert_fresh(client, diff, "gravel")
    assert_fresh(client, first_diff)


def test_a_fork_anywhere_in_the_tree_refreshes_every_lineage_page_of_it(client):
    root = make_solution(title="Root pot")
    branch = make_fork(root)
    url = reverse("challenges:solution-lineage", args=[branch.pk])
    warm(client, url)
    sibling = challenge_services.solution_fork(source=root, by=UserFactory())
    assert_fresh(client, url, f"/solutions/{sibling.pk}/")


def test_a_published_round_refreshes_the_selection_page(client):
    organiser = make_organiser()
    challenge = ChallengeFactory(created_by=organiser)
    winner = make_solution(challenge, title="Alpha filter")
    challenge_services.challenge_transition(
        challenge=challenge, by=organiser, to=Challenge.Status.SELECTING
    )
    url = reverse("challenges:selection", args=[challenge.slug])
    warm(client, url)
    round_ = challenge_services.selection_round_open(challenge=challenge, by=organiser)
    challenge_services.selection_shortlist(
        round=round_, by=organiser, solution=winner, reason="Cheapest to build"
    )
    challenge_services.selection_select(
        round=round_, by=organiser, solution=winner, reason="Cheapest to build"
    )
    warm(client, url)  # a draft round changes nothing a visitor sees, yet refreshes the page
    challenge_services.selection_publish(round=round_, by=organiser)
    assert_fresh(client, url, "Alpha filter", "Cheapest to build")


def test_an_offer_page_refreshes_after_its_offer_and_its_sellers_reputation(client):
    offer = OfferFactory(title="Filter fitting")
    url = offer.get_absolute_url()
    warm(client, url)
    offer_update(offer=offer, by=offer.seller, title="Filter fitting, two visits")
    assert_fresh(client, url, "Filter fitting, two visits")
    warm(client, url)
    reputation_tasks.recompute_reputation.delay()
    assert_fresh(client, url)


def test_a_signature_and_a_name_change_refresh_the_manifesto(client):
    ManifestoVersionFactory()
    url = reverse("manifesto")
    warm(client, url)
    member = UserFactory(display_name="Ana Lima")
    site_services.manifesto_sign(user=member)
    assert_fresh(client, url, "Ana Lima")
    warm(client, url)
    site_services.profile_update(user=member, display_name="Ana Souza", bio="", skills="")
    assert_fresh(client, url, "Ana Souza")


def test_a_private_challenges_solution_pages_never_enter_the_cache(client):
    challenge = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    solution = make_solution(challenge, challenge.created_by, title="Secret still")
    for name in ("solution-history", "solution-diff", "solution-lineage"):
        url = reverse(f"challenges:{name}", args=[solution.pk])
        for _ in range(2):
            response = client.get(url)
            assert response.status_code == 404, url
            assert state(response) != "hit", url


def test_a_members_reputation_history_refreshes_after_the_ledger_and_a_renamed_solution(client):
    solution = make_solution(title="Clay pot")
    url = reverse("reputation:history", args=[solution.author.username])
    reputation_services.vote_cast(voter=UserFactory(), solution=solution, value=Vote.UP)
    warm(client, url)
    reputation_tasks.sync_solution_reputation.delay(solution.pk)
    assert_fresh(client, url, "Clay pot")
    warm(client, url)
    challenge_services.solution_revise(
        solution=solution, by=solution.author, title="Clay pot, fired", body="Fired clay."
    )
    assert_fresh(client, url, "Clay pot, fired")


# --- Visitors' API lists --------------------------------------------------------------------


def test_a_visitors_api_list_comes_from_the_cache_and_refreshes_after_a_write(client):
    UserFactory(username="ana")
    url = "/api/users/"
    first = client.get(url, HTTP_ACCEPT="application/json")
    assert first.status_code == 200 and state(first) == "miss"
    second = client.get(url, HTTP_ACCEPT="application/json")
    assert state(second) == "hit"
    assert second.json() == first.json()
    assert second.headers["Content-Type"].startswith("application/json")
    assert "Accept" in second.headers["Vary"]
    UserFactory(username="bruno")
    fresh = client.get(url, HTTP_ACCEPT="application/json")
    assert state(fresh) == "miss"
    assert {m["username"] for m in fresh.json()["results"]} >= {"ana", "bruno"}


def test_each_accept_header_has_its_own_cached_api_answer(client):
    url = "/api/users/"
    warm_json = client.get(url, HTTP_ACCEPT="application/json")
    assert state(client.get(url, HTTP_ACCEPT="application/json")) == "hit"
    browsable = client.get(url, HTTP_ACCEPT="text/html")
    assert state(browsable) != "hit"
    assert browsable.content != warm_json.content


def test_a_member_or_a_token_never_gets_a_visitors_api_answer(client, api_client):
    from peerhub import tokens

    url = reverse("api-leaderboard")
    client.get(url)
    assert state(client.get(url)) == "hit"
    issued = tokens.token_create(
        user=UserFactory(), name="cli", scopes=["read"], expires_in_days=30
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {issued.secret}")
    by_token = api_client.get(url)
    assert by_token.status_code == 200 and state(by_token) != "hit"
    client.force_login(UserFactory())
    assert state(client.get(url)) != "hit"


def test_visitors_api_boards_and_search_refresh_after_the_writes_that_change_them(client):
    solution = make_solution(title="Sand filter", body="A sand filter for the well.")
    urls = [
        reverse("api-leaderboard"),
        reverse("api-rankings"),
        reverse("api-search") + "?q=sand",
        reverse("api-manifesto-signatures"),
    ]
    ManifestoVersionFactory()
    for url in urls:
        client.get(url)
        assert state(client.get(url)) == "hit", url
    reputation_tasks.recompute_reputation.delay()
    for url in urls[:2]:
        assert state(client.get(url)) == "miss", url
    make_solution(solution.challenge, title="Sand and charcoal", body="Sand and charcoal.")
    assert state(client.get(urls[2])) == "miss"
    site_services.manifesto_sign(user=UserFactory())
    assert state(client.get(urls[3])) == "miss"


def test_visitors_api_answers_about_one_solution_challenge_or_member_refresh(client):
    solution = make_solution(title="Clay pot")
    author = solution.author.username
    urls = [
        reverse("api-solution-reviews", args=[solution.pk]),
        reverse("api-challenge-rankings", args=[solution.challenge.slug]),
        reverse("api-challenge-evolution", args=[solution.challenge.slug]),
        reverse("api-user-reputation", args=[author]),
    ]
    for url in urls:
        client.get(url)
        assert state(client.get(url)) == "hit", url
    scores = {c.pk: 4 for c in solution.challenge.criteria.all()}
    reputation_services.review_save(
        reviewer=regular(), solution=solution, comment="Sturdy and cheap.", scores=scores
    )
    assert "Sturdy and cheap." in client.get(urls[0]).content.decode()
    reputation_tasks.recompute_challenge_rankings.delay(solution.challenge_id)
    for url in urls[1:3]:
        assert state(client.get(url)) == "miss", url
    reputation_tasks.sync_solution_reputation.delay(solution.pk)
    assert state(client.get(urls[3])) == "miss"


def test_a_new_simulation_report_refreshes_how_reputation_works(client, settings, tmp_path):
    from reputation import simulation_report

    settings.PEERHUB_SIMULATION_REPORT_DIR = tmp_path
    url = reverse("reputation:how-it-works")
    warm(client, url)
    with (
        mock.patch.object(simulation_report, "render", return_value="<html></html>"),
        mock.patch.object(simulation_report, "summary", return_value={"members": 4321}),
    ):
        simulation_report.write(object())
    simulation_report.figures_path().unlink()  # the stand-in figures are not a page's
    assert state(client.get(url)) == "miss"


# --- Visitors' API lists whose rows carry counts (issue 17) ----------------------------------


def get_json(client, url: str):
    response = client.get(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, url
    return response


def warm_json(client, url: str) -> dict:
    """The visitor's answer, then the same answer from the cache."""
    first = get_json(client, url)
    second = get_json(client, url)
    assert state(second) == "hit", url
    assert second.json() == first.json()
    return second.json()


def fresh_json(client, url: str) -> dict:
    """The answer is made again (not served from the cache)."""
    response = get_json(client, url)
    assert state(response) == "miss", url
    return response.json()


def rows(answer: dict) -> dict:
    """The rows of a list answer by id (challenges by slug)."""
    return {row.get("id", row.get("slug")): row for row in answer["results"]}


def proposal(**kwargs):
    return challenge_services.proposal_create(
        proposer=kwargs.pop("proposer", None) or UserFactory(),
        title=kwargs.pop("title", "Bus stops in every village"),
        summary="Shelter from the rain.",
        problem="People wait in the rain.",
    )


def test_each_visitors_list_comes_from_the_cache(client):
    solution = make_solution(title="Clay pot")
    fork = make_fork(solution)
    challenge_services.upstream_propose(fork=fork, by=fork.author, message="Take it")
    challenge_services.comment_create(author=UserFactory(), target=solution, body="Nice.")
    offer = OfferFactory(title="Pot firing")
    made = proposal()
    slug = solution.challenge.slug
    for url in (
        reverse("api-challenge-list"),
        reverse("api-challenge-list") + "?status=open&ordering=active&page_size=5",
        reverse("api-challenge-proposal-list") + "?status=open&ordering=newest",
        reverse("api-solution-list") + f"?challenge={slug}&ordering=discussed&page_size=1",
        reverse("api-upstream-proposal-list") + f"?parent={solution.pk}",
        reverse("api-comment-list") + f"?solution={solution.pk}",
        reverse("api-offer-list") + "?ordering=price&currency=EUR",
    ):
        assert warm_json(client, url)["results"], url
    cursor = get_json(client, reverse("api-solution-list") + "?page_size=1").json()["next"]
    warm_json(client, cursor)
    for url in (
        reverse("challenges:proposal-list") + "?status=open&sort=newest",
        made.get_absolute_url(),
    ):
        assert "Bus stops in every village" in warm(client, url).content.decode()
    assert offer.title in warm(client, reverse("marketplace:offer-list")).content.decode()


def test_a_list_with_a_parameter_it_does_not_read_is_not_cached(client):
    url = reverse("api-solution-list") + "?utm_source=x"
    get_json(client, url)
    assert state(get_json(client, url)) is None


# Each write that changes a row of the solutions list, and what the row shows after it. Every
# member a write needs is made before the list is cached: a new member drops the lists.
def _comment_on(solution, member):
    challenge_services.comment_create(author=member, target=solution, body="Tried it.")
    return lambda row: row["comment_count"] == 1


def _fork(solution, member):
    make_fork(solution, member)
    return lambda row: (row["fork_count"], row["descendant_count"]) == (1, 1)


def _revise(solution, member):
    challenge_services.solution_revise(
        solution=solution, by=solution.author, title="Clay pot, fired", body="Fired clay."
    )
    return lambda row: (row["title"], row["revision_count"]) == ("Clay pot, fired", 2)


def _withdraw(solution, member):
    challenge_services.solution_withdraw(solution=solution, by=solution.author)
    return lambda row: row["status"] == "withdrawn" and row["withdrawn_at"]


def _rename_author(solution, member):
    site_services.profile_update(user=solution.author, display_name="Ana Souza", bio="", skills="")
    return lambda row: row["author"]["name"] == "Ana Souza"


def _hide_by_moderation(solution, member):
    from challenges.services.moderation import solution_set_moderation_hidden

    solution_set_moderation_hidden(solution, "Spam")
    return None  # the row leaves the list


@pytest.mark.parametrize(
    "write", [_comment_on, _fork, _revise, _withdraw, _rename_author, _hide_by_moderation]
)
def test_the_visitors_solutions_list_shows_each_write_at_once(client, write):
    solution = make_solution(title="Clay pot")
    member = UserFactory()
    url = reverse("api-solution-list") + f"?challenge={solution.challenge.slug}"
    assert solution.pk in rows(warm_json(client, url))
    shows = write(solution, member)
    row = rows(fresh_json(client, url)).get(solution.pk)
    if shows is None:
        assert row is None
    else:
        assert shows(row), row
    assert state(get_json(client, url)) == "hit"


def test_a_new_solution_joins_the_visitors_solutions_list(client):
    solution = make_solution()
    url = reverse("api-solution-list")
    warm_json(client, url)
    other = make_solution(solution.challenge, title="Sand filter")
    assert other.pk in rows(fresh_json(client, url))


def test_the_visitors_comments_list_shows_each_write_at_once(client):
    organiser = make_organiser()
    solution = make_solution(ChallengeFactory(created_by=organiser))
    author = UserFactory()
    url = reverse("api-comment-list") + f"?solution={solution.pk}"
    warm_json(client, url)
    comment = challenge_services.comment_create(author=author, target=solution, body="Tried it.")
    assert rows(fresh_json(client, url))[comment.pk]["body"] == "Tried it."
    warm_json(client, url)
    challenge_services.comment_edit(comment=comment, by=author, body="Tried it twice.")
    assert rows(fresh_json(client, url))[comment.pk]["body"] == "Tried it twice."
    warm_json(client, url)
    challenge_services.comment_set_hidden(comment=comment, by=organiser, hidden=True)
    row = rows(fresh_json(client, url))[comment.pk]
    assert row["hidden"] and row["body"] == ""
    warm_json(client, url)
    challenge_services.comment_set_hidden(comment=comment, by=organiser, hidden=False)
    assert rows(fresh_json(client, url))[comment.pk]["body"] == "Tried it twice."
    warm_json(client, url)
    challenge_services.comment_delete(comment=comment, by=author)
    row = rows(fresh_json(client, url))[comment.pk]
    assert row["deleted"] and row["body"] == ""


def test_a_solution_hidden_by_moderation_takes_its_comments_off_the_visitors_list(client):
    from challenges.services.moderation import solution_set_moderation_hidden

    solution = make_solution()
    comment = challenge_services.comment_create(
        author=UserFactory(), target=solution, body="Tried it."
    )
    url = reverse("api-comment-list")
    assert comment.pk in rows(warm_json(client, url))
    solution_set_moderation_hidden(solution, "Spam")
    assert comment.pk not in rows(fresh_json(client, url))


def test_a_comment_refreshes_the_count_on_its_challenges_page(client):
    solution = make_solution()
    member = UserFactory()
    url = solution.challenge.get_absolute_url()
    warm(client, url)
    challenge_services.comment_create(author=member, target=solution, body="Tried it.")
    assert_fresh(client, url)


def test_the_visitors_challenges_list_shows_each_write_at_once(client):
    organiser = make_organiser()
    challenge = ChallengeFactory(created_by=organiser)
    member, helper = UserFactory(), UserFactory(display_name="Rita Co")
    url = reverse("api-challenge-list")
    assert rows(warm_json(client, url))[challenge.slug]["comment_count"] == 0
    challenge_services.comment_create(author=member, target=challenge, body="Which town?")
    assert rows(fresh_json(client, url))[challenge.slug]["comment_count"] == 1
    warm_json(client, url)
    solution = make_solution(challenge, member)
    assert rows(fresh_json(client, url))[challenge.slug]["solution_count"] == 1
    warm_json(client, url)
    challenge_services.challenge_add_organiser(challenge=challenge, by=organiser, member=helper)
    organisers = rows(fresh_json(client, url))[challenge.slug]["organisers"]
    assert "Rita Co" in [o["name"] for o in organisers]
    challenge_services.challenge_transition(
        challenge=challenge, by=organiser, to=Challenge.Status.SELECTING
    )
    round_ = challenge_services.selection_round_open(challenge=challenge, by=organiser)
    challenge_services.selection_shortlist(
        round=round_, by=organiser, solution=solution, reason="Cheap"
    )
    challenge_services.selection_select(round=round_, by=organiser, solution=solution, reason="C")
    before = rows(warm_json(client, url))[challenge.slug]["last_activity_at"]
    challenge_services.selection_publish(round=round_, by=organiser)
    assert rows(fresh_json(client, url))[challenge.slug]["last_activity_at"] != before


def test_the_visitors_proposals_list_and_pages_show_each_write_at_once(client):
    made = proposal()
    other = proposal(title="Clean the river")
    api = reverse("api-challenge-proposal-list")
    pages = [reverse("challenges:proposal-list") + "?status=", made.get_absolute_url()]
    backer, proposer, organiser = UserFactory(), UserFactory(), make_organiser()

    def check(expect_api, *texts):
        assert expect_api(rows(fresh_json(client, api))[made.pk])
        for url in pages:
            assert_fresh(client, url, *texts)
        warm_json(client, api)
        for url in pages:
            warm(client, url)

    warm_json(client, api)
    for url in pages:
        warm(client, url)
    challenge_services.proposal_back(proposal=made, user=backer)
    check(lambda row: row["backing_count"] == 1, ">1</strong>")
    challenge_services.proposal_unback(proposal=made, user=backer)
    check(lambda row: row["backing_count"] == 0, ">0</strong>")
    challenge_services.proposal_decline(proposal=other, by=organiser, reason="Covered")
    assert rows(fresh_json(client, api))[other.pk]["decline_reason"] == "Covered"
    warm_json(client, api)
    newest = proposal(title="Dry the grain", proposer=proposer)
    assert newest.pk in rows(fresh_json(client, api))
    warm_json(client, api)
    # Adopting frames a challenge, which drops every page anyway.
    challenge_services.proposal_adopt(proposal=made, by=organiser)
    check(lambda row: row["status"] == "adopted", "status-adopted")


def test_the_visitors_upstream_list_shows_each_write_at_once(client):
    parent = make_solution(title="Clay pot")
    url = reverse("api-upstream-proposal-list") + f"?parent={parent.pk}"
    results = []
    for decide in ("accept", "decline", "withdraw"):
        fork = make_fork(parent)
        warm_json(client, url)
        offered = challenge_services.upstream_propose(fork=fork, by=fork.author, message="Take")
        assert rows(fresh_json(client, url))[offered.pk]["status"] == "open"
        warm_json(client, url)
        if decide == "accept":
            challenge_services.upstream_accept(proposal=offered, by=parent.author)
        elif decide == "decline":
            challenge_services.upstream_decline(proposal=offered, by=parent.author, reason="No")
        else:
            challenge_services.upstream_withdraw(proposal=offered, by=fork.author)
        results.append(rows(fresh_json(client, url))[offered.pk])
    assert [row["status"] for row in results] == ["accepted", "declined", "withdrawn"]
    assert results[0]["resulting_revision"] == 2


def test_a_fork_hidden_by_moderation_takes_its_offer_off_the_visitors_upstream_list(client):
    from challenges.services.moderation import solution_set_moderation_hidden

    fork = make_fork(make_solution())
    offered = challenge_services.upstream_propose(fork=fork, by=fork.author, message="Take")
    url = reverse("api-upstream-proposal-list")
    assert offered.pk in rows(warm_json(client, url))
    solution_set_moderation_hidden(fork, "Spam")
    assert offered.pk not in rows(fresh_json(client, url))


def test_the_visitors_offers_list_shows_each_write_at_once(client):
    from marketplace import services as market
    from tests.marketplace.factories import delivered_order, place

    offer = OfferFactory(title="Pot firing", capacity=3)
    first_buyer, second_buyer = UserFactory(), UserFactory()
    staff, solution = UserFactory(is_staff=True), make_solution()
    api = reverse("api-offer-list")
    page = reverse("marketplace:offer-list")

    def fresh_row():
        assert_fresh(client, page)
        row = rows(fresh_json(client, api))[offer.pk]
        warm_json(client, api)
        warm(client, page)
        return row

    warm_json(client, api)
    warm(client, page)
    offer_update(offer=offer, by=offer.seller, title="Pot firing, two visits")
    assert fresh_row()["title"] == "Pot firing, two visits"
    place(offer=offer, buyer=first_buyer)
    assert fresh_row()["active_orders"] == 1
    order = delivered_order(offer=offer, buyer=second_buyer)
    market.order_accept(order=order, by=order.buyer)
    assert fresh_row()["completed_orders"] == 1
    market.order_review_save(order=order, by=order.buyer, rating=4)
    assert fresh_row()["rating"] == 4
    reputation_services.trust_level_pin(member=offer.seller, by=staff, level=4)
    assert fresh_row()["seller_level"] == 4
    reputation_tasks.sync_solution_reputation.delay(solution.pk)
    assert state(get_json(client, api)) == "miss"


def test_a_private_challenge_never_shows_in_the_visitors_lists(client):
    organiser = make_premium_organiser()
    private = ChallengeFactory(
        created_by=organiser, visibility=Challenge.Visibility.PRIVATE, title="Secret well"
    )
    solution = make_solution(private, organiser, title="Secret pot")
    fork = make_fork(solution, organiser)
    offered = challenge_services.upstream_propose(fork=fork, by=organiser, message="Secret move")
    challenge_services.comment_create(author=organiser, target=solution, body="Secret note")
    challenge_services.comment_create(author=organiser, target=private, body="Secret brief")
    OfferFactory(title="Secret service", base_solution=solution, seller=organiser)
    adopted = proposal(title="Secret proposal")
    challenge = challenge_services.proposal_adopt(proposal=adopted, by=organiser)
    challenge_services.challenge_update(
        challenge=challenge, by=organiser, visibility=Challenge.Visibility.PRIVATE
    )
    urls = [
        reverse("api-challenge-list"),
        reverse("api-solution-list"),
        reverse("api-solution-list") + f"?challenge={private.slug}",
        reverse("api-upstream-proposal-list"),
        reverse("api-upstream-proposal-list") + f"?fork={fork.pk}",
        reverse("api-comment-list"),
        reverse("api-comment-list") + f"?solution={solution.pk}",
        reverse("api-offer-list"),
    ]
    for url in urls:
        for _ in range(2):  # the answer made, then the cached one
            body = get_json(client, url).content.decode()
            assert "Secret" not in body, url
            assert f'"id":{offered.pk},' not in body.replace(" ", ""), url
    for _ in range(2):
        row = rows(get_json(client, reverse("api-challenge-proposal-list")).json())[adopted.pk]
        assert row["challenge"] is None


def test_a_member_or_a_token_never_gets_nor_leaves_a_visitors_list(client, api_client):
    """A member's lists hold their own drafts: never the visitors' answer, never stored as it."""
    from peerhub import tokens

    member = UserFactory()
    solution = make_solution()
    draft = make_solution(solution.challenge, member, title="My draft", publish=False)
    issued = tokens.token_create(user=member, name="cli", scopes=["read"], expires_in_days=30)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {issued.secret}")
    signed_in = type(client)()
    signed_in.force_login(member)
    urls = [
        reverse("api-challenge-list"),
        reverse("api-challenge-proposal-list"),
        reverse("api-solution-list"),
        reverse("api-upstream-proposal-list"),
        reverse("api-comment-list"),
        reverse("api-offer-list"),
    ]
    for url in urls:
        warm_json(client, url)
        for _ in range(2):
            by_token = api_client.get(url, HTTP_ACCEPT="application/json")
            assert by_token.status_code == 200 and state(by_token) is None, url
            assert state(get_json(signed_in, url)) is None, url
    solutions = urls[2]
    assert draft.pk in rows(api_client.get(solutions, HTTP_ACCEPT="application/json").json())
    assert draft.pk in rows(get_json(signed_in, solutions).json())
    visitor = get_json(client, solutions)
    assert state(visitor) == "hit"
    assert draft.pk not in rows(visitor.json())


def test_with_the_cache_off_writes_bump_nothing_and_ask_no_scope(settings):
    """Off (the embedded default), no page is kept to go stale: a write's signal neither bumps
    a version nor reads its scopes (a vote's solution, a revision's challenge)."""
    solution = make_solution()
    voter = regular()
    settings.PEERHUB_PAGE_CACHE = False
    with (
        mock.patch.object(pagecache, "bump") as bump,
        mock.patch("challenges.pagecache.challenge_scope") as scope,
    ):
        reputation_services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
        challenge_services.solution_revise(
            solution=solution, by=solution.author, title="Renamed", body="New text."
        )
    assert not bump.called and not scope.called
    settings.PEERHUB_PAGE_CACHE = True
    with mock.patch.object(pagecache, "bump") as bump:
        reputation_services.vote_remove(voter=voter, solution=solution)
    assert bump.called


@pytest.mark.parametrize("kind", ["challenge", "solution", "member"])
def test_a_follow_and_an_unfollow_refresh_the_count_on_the_followed_page(client, kind):
    from peerhub.following import follow_set

    solution = make_solution()
    target = {"challenge": solution.challenge, "solution": solution, "member": solution.author}
    target = target[kind]
    url = target.get_absolute_url()
    warm(client, url)
    follower = UserFactory()
    follow_set(follower=follower, target=target)
    assert_fresh(client, url, "1 follower<")
    warm(client, url)
    follow_set(follower=follower, target=target, following=False)
    assert_fresh(client, url, "0 followers<")


def test_a_sold_out_offer_page_is_not_served_past_its_reservation_lapsing(client):
    from datetime import timedelta
    from types import SimpleNamespace

    from django.utils import timezone

    from marketplace.models import Order
    from tests.marketplace.factories import place

    offer = OfferFactory(capacity=1)
    held = place(offer=offer)
    Order.objects.filter(pk=held.pk).update(reserved_until=timezone.now() + timedelta(seconds=60))
    url = offer.get_absolute_url()
    assert "Sold out" in warm(client, url).content.decode()
    # Two minutes on (within the TTL) the hold has lapsed, with no write to bump the page: the
    # database's clock (the reservation in the past) and the site's both moved.
    Order.objects.filter(pk=held.pk).update(reserved_until=timezone.now() - timedelta(seconds=1))
    later = timezone.now() + timedelta(seconds=120)
    clock = SimpleNamespace(time=later.timestamp)
    with (
        mock.patch.object(pagecache, "time", clock),
        mock.patch.object(timezone, "now", lambda: later),
    ):
        response = client.get(url)
        assert state(response) == "miss"
        assert "Sold out" not in response.content.decode()
        assert state(client.get(url)) == "hit"  # kept again: no reservation left to lapse
