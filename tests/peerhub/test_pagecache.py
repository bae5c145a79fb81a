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
