"""Following members, challenges and solutions; the activity feed from what one follows."""

import re
from urllib.parse import unquote

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from challenges import services as challenge_services
from challenges.models import Challenge
from peerhub.following import feed_for, feed_page, follow_set, follower_count, is_following
from peerhub.models import Activity, Follow
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def private_challenge():
    return ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)


def test_htmx_toggle_follows_and_unfollows_with_the_count(client):
    member = UserFactory()
    challenge = ChallengeFactory()
    client.force_login(member)
    url = reverse("follow-toggle", args=["challenge", challenge.pk])
    response = client.post(url, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "Following" in html and "1 follower" in html and 'aria-pressed="true"' in html
    assert is_following(user=member, target=challenge)
    html = client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert ">Follow<" in html and "0 followers" in html
    assert not Follow.objects.exists()


def test_follow_buttons_on_challenge_solution_and_profile_pages(client):
    solution = make_solution()
    client.force_login(UserFactory())
    for url, kind, pk in (
        (solution.challenge.get_absolute_url(), "challenge", solution.challenge.pk),
        (solution.get_absolute_url(), "solution", solution.pk),
        (solution.author.get_absolute_url(), "member", solution.author.pk),
    ):
        html = client.get(url).content.decode()
        assert reverse("follow-toggle", args=[kind, pk]) in html, url


def test_without_htmx_the_toggle_redirects_back(client):
    member, other = UserFactory(), UserFactory()
    client.force_login(member)
    response = client.post(
        reverse("follow-toggle", args=["member", other.pk]), {"next": "/challenges/"}
    )
    assert response.status_code == 302 and response["Location"] == "/challenges/"
    assert follower_count(other) == 1


def test_you_cannot_follow_yourself_nor_what_you_cannot_see(client):
    member = UserFactory()
    client.force_login(member)
    client.post(reverse("follow-toggle", args=["member", member.pk]))
    hidden = private_challenge()
    assert client.post(reverse("follow-toggle", args=["challenge", hidden.pk])).status_code == 404
    assert client.post(reverse("follow-toggle", args=["planet", 1])).status_code == 404
    assert not Follow.objects.exists()


def test_anonymous_visitors_must_log_in_to_follow(client):
    challenge = ChallengeFactory()
    response = client.post(reverse("follow-toggle", args=["challenge", challenge.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_feed_shows_new_solutions_forks_and_challenges_from_what_one_follows(commit):
    me, ana, ben = UserFactory(), UserFactory(username="ana"), UserFactory(username="ben")
    challenge = ChallengeFactory(title="Clean water")
    follow_set(follower=me, target=challenge)
    follow_set(follower=me, target=ana)
    unrelated = ChallengeFactory()
    commit(make_solution, unrelated, ben, title="Elsewhere")  # nothing I follow
    original = commit(make_solution, challenge, ana, title="Sand filter")
    follow_set(follower=me, target=original)
    commit(make_fork, original, ben)
    commit(make_solution, challenge, me, title="Mine")  # my own doings stay out
    texts = [a.text for a in feed_for(user=me)]
    assert len(texts) == 2
    assert "forked “Sand filter”" in texts[0]
    assert "posted “Sand filter” in “Clean water”" in texts[1]


def test_an_organiser_opening_a_challenge_reaches_the_feed_of_their_followers(commit):
    fan = UserFactory()
    challenge = ChallengeFactory(status=Challenge.Status.DRAFT, criteria=["Works"])
    organiser = challenge.created_by
    follow_set(follower=fan, target=organiser)
    commit(challenge_services.challenge_transition, challenge=challenge, by=organiser, to="open")
    assert [a.verb for a in feed_for(user=fan)] == ["challenge_opened"]


def test_private_challenges_never_reach_the_feed(commit):
    fan = UserFactory()
    hidden = private_challenge()
    author = UserFactory()
    hidden.invited.add(author)
    follow_set(follower=fan, target=author)
    commit(make_solution, hidden, author, title="Secret")
    assert not Activity.objects.exists()
    assert list(feed_for(user=fan)) == []


def test_home_feed_paginates_and_stays_bounded(client, commit, django_assert_max_num_queries):
    me = UserFactory()
    challenge = ChallengeFactory()
    follow_set(follower=me, target=challenge)
    commit(make_solution, challenge, UserFactory(), title="First")
    client.force_login(me)
    with django_assert_max_num_queries(14) as small:
        html = client.get(reverse("home")).content.decode()
    assert "From what you follow" in html and "First" in html
    for n in range(25):
        commit(make_solution, challenge, UserFactory(), title=f"Solution {n}")
    with django_assert_max_num_queries(len(small)):
        html = client.get(reverse("home")).content.decode()
    assert "Solution 24" in html and "First" not in html
    older = re.search(r'href="\?before=([^"]+)"', html)
    assert older, "a link to the older page"
    with django_assert_max_num_queries(len(small)):
        html = client.get(reverse("home"), {"before": unquote(older[1])}).content.decode()
    assert "First" in html and "Solution 24" not in html
    assert 'href="?before=' not in html  # the last page


def test_feed_pages_by_cursor_without_gaps_or_repeats(commit):
    """Activities sharing one instant still come once each, in order, page after page."""
    me = UserFactory()
    challenge = ChallengeFactory()
    follow_set(follower=me, target=challenge)
    for n in range(7):
        commit(make_solution, challenge, UserFactory(), title=f"S{n}")
    Activity.objects.update(created_at=timezone.now())  # ties: the id breaks them
    seen, before = [], None
    while True:
        page = feed_page(user=me, before=before, size=3)
        seen += [a.pk for a in page.activities]
        if not page.next_before:
            break
        before = page.next_before
    assert seen == [a.pk for a in feed_for(user=me)] and len(seen) == 7


@pytest.mark.parametrize("cursor", ["x", "1-", "-1", "999999999999999999-1", "1-2-3", "\uff11-2"])
def test_a_bad_feed_cursor_is_a_400_not_a_500(member_api_client, client, cursor):
    assert_error(member_api_client.get("/api/feed/", {"before": cursor}), 400)
    client.force_login(member_api_client.user)
    assert client.get(reverse("home"), {"before": cursor}).status_code == 200


def test_api_follow_list_unfollow_and_feed(member_api_client, commit):
    me = member_api_client.user
    challenge = ChallengeFactory()
    created = member_api_client.post(
        "/api/follows/", {"target_type": "challenge", "target_id": challenge.pk}
    )
    assert created.status_code == 201
    assert created.json()["kind"] == "challenge"
    again = member_api_client.post(
        "/api/follows/", {"target_type": "challenge", "target_id": challenge.pk}
    )
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert member_api_client.get("/api/follows/").json()["count"] == 1
    commit(make_solution, challenge, UserFactory(), title="Sand filter")
    feed = member_api_client.get("/api/feed/").json()
    assert feed["next"] is None and "Sand filter" in feed["results"][0]["text"]
    assert feed["results"][0]["url"].startswith("/solutions/")
    follow_id = created.json()["id"]
    assert member_api_client.delete(f"/api/follows/{follow_id}/").status_code == 204
    assert not Follow.objects.filter(follower=me).exists()


def test_api_follow_errors(api_client, member_api_client):
    hidden = private_challenge()
    assert_error(
        member_api_client.post(
            "/api/follows/", {"target_type": "challenge", "target_id": hidden.pk}
        ),
        404,
        "not_found",
    )
    assert_error(
        member_api_client.post("/api/follows/", {"target_type": "planet", "target_id": 1}),
        400,
        "invalid",
    )
    me = member_api_client.user
    assert_error(
        member_api_client.post("/api/follows/", {"target_type": "member", "target_id": me.pk}),
        400,
        "self_follow",
    )
    assert_error(api_client.get("/api/feed/"), 401)
    other = UserFactory()
    theirs = Follow.objects.create(
        follower=other, target_type=ContentType.objects.get_for_model(me), target_id=me.pk
    )
    assert_error(member_api_client.delete(f"/api/follows/{theirs.pk}/"), 404)


def test_api_feed_queries_stay_bounded(member_api_client, commit, django_assert_max_num_queries):
    challenge = ChallengeFactory()
    follow_set(follower=member_api_client.user, target=challenge)
    commit(make_solution, challenge, UserFactory())
    with django_assert_max_num_queries(10) as small:
        member_api_client.get("/api/feed/")
    for _ in range(15):
        commit(make_solution, challenge, UserFactory())
    with django_assert_max_num_queries(len(small)):
        first = member_api_client.get("/api/feed/", {"page_size": 10}).json()
    assert len(first["results"]) == 10 and first["next"]
    with django_assert_max_num_queries(len(small)):
        second = member_api_client.get(first["next"]).json()
    assert len(second["results"]) == 6 and second["next"] is None
    ids = [a["id"] for a in first["results"] + second["results"]]
    assert len(set(ids)) == 16 and ids == sorted(ids, reverse=True)


def test_api_follows_filter_by_target_type(member_api_client):
    me = member_api_client.user
    follow_set(follower=me, target=ChallengeFactory())
    follow_set(follower=me, target=UserFactory())
    assert member_api_client.get("/api/follows/").json()["count"] == 2
    members = member_api_client.get("/api/follows/?target_type=member").json()
    assert [f["kind"] for f in members["results"]] == ["member"]
    assert member_api_client.get("/api/follows/?target_type=planet").json()["count"] == 0


def test_a_feed_line_is_worded_in_each_readers_language(commit, client):
    """A feed line keeps its verb and context: each reader sees it in their own language."""
    from django.utils import translation

    me, ana = UserFactory(), UserFactory(username="ana", display_name="Ana Lima")
    challenge = ChallengeFactory(title="Clean water")
    follow_set(follower=me, target=challenge)
    commit(make_solution, challenge, ana, title="Sand filter")
    line = feed_for(user=me).get()
    assert line.context == {
        "actor": "Ana Lima",
        "target": "Sand filter",
        "challenge": "Clean water",
    }
    assert line.text == line.message == "Ana Lima posted “Sand filter” in “Clean water”"
    with translation.override("fr"):
        assert line.message == "Ana Lima a publié « Sand filter » dans « Clean water »"
    client.force_login(me)
    home = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Ana Lima publicó «Sand filter» en «Clean water»" in home


def test_an_unknown_feed_verb_is_refused_when_recorded():
    from peerhub.following import activity_record

    with pytest.raises(LookupError):
        activity_record("made_up", actor=None, target=None, subjects=[], context={})


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("follows", [False, True])
def test_the_follow_button_read_with_its_target_equals_the_one_it_asks_for(signed_in, follows):
    from django.contrib.auth.models import AnonymousUser

    from challenges.selectors import challenge_get
    from peerhub.following import follow_widget

    member = UserFactory()
    challenge = ChallengeFactory()
    for other in UserFactory.create_batch(2):
        follow_set(follower=other, target=challenge)
    if follows:
        follow_set(follower=member, target=challenge)
    viewer = member if signed_in else AnonymousUser()

    asked = follow_widget(user=viewer, target=challenge)
    read = challenge_get(user=viewer, slug=challenge.slug, follow_tally=True)

    assert follow_widget(user=viewer, target=read) == {**asked, "target": read}
    assert asked["followers"] == 2 + follows
    assert asked["following"] is (signed_in and follows)
