"""A challenge's page and a solution's page are kept once for every member who sees what a
visitor sees (challenges.pagecache.visitors_row and visitors_value, issue 17): their rows, lists,
lineages, files, reviews and discussion are read once and shared, while what is the member's
own (whether they follow, their vote, their review, their comments, their paused offer, what
organisers may do) is theirs on every request. Each write shows at once."""

import re
from contextlib import ExitStack
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from challenges import selectors, services
from challenges.views import challenges as challenge_views
from challenges.views import solutions as solution_views
from peerhub.following import follow_toggle
from reputation import services as reputation_services
from reputation.models import ReputationScore
from tests.factories import ChallengeFactory, UserFactory, make_solution
from tests.helpers import one_moment, page_main
from tests.marketplace.factories import OfferFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PEERHUB_PAGE_CACHE = True


def main(client, url) -> str:
    return page_main(client, url)


def lines(history: str) -> int:
    """How many lines a reputation history's ledger counts."""
    return int(re.search(r'id="events-title">[^<]*<span class="count">(\d+)', history)[1])


def counted(module, name):
    return mock.patch.object(module, name, wraps=getattr(module, name))


def served_alike(client, url: str, *reads, members=None) -> str:
    """The page at `url` kept for one member and served to another (`members`, two new ones by
    default): returns it, and checks the second got what the first did and each read in
    `reads` ((module, name) pairs) ran once for both."""
    first, second = members or UserFactory.create_batch(2)
    with ExitStack() as stack:
        calls = [stack.enter_context(counted(module, name)) for module, name in reads]
        client.force_login(first)
        kept = main(client, url)
        client.force_login(second)
        assert main(client, url) == kept
    assert [call.call_count for call in calls] == [1] * len(calls)
    return kept


def shared_by_two(client, settings, url: str, *reads) -> tuple[str, str]:
    """The page at `url` as a member gets it built live (page cache off), then as they and
    another share it (`served_alike`, cache on): returns (live, kept). All at one moment, so
    that a time said relatively ("now", "a second ago") reads alike in both."""
    members = UserFactory.create_batch(2)
    with one_moment():
        settings.PEERHUB_PAGE_CACHE = False
        client.force_login(members[0])
        live = main(client, url)
        settings.PEERHUB_PAGE_CACHE = True
        return live, served_alike(client, url, *reads, members=members)


def reviewer():
    member = UserFactory()
    ReputationScore.objects.create(user=member, total=Decimal(100), trust_level=2)
    return member


def test_members_share_the_challenge_page_and_get_what_they_would_get_live(client, settings):
    challenge = ChallengeFactory(title="Clean water for Kivu")
    make_solution(challenge, title="Clay filter")
    live, kept = shared_by_two(
        client,
        settings,
        challenge.get_absolute_url(),
        (challenge_views, "_challenge_parts"),
        (selectors, "challenge_get"),
    )
    assert kept == live and "Clay filter" in kept


def test_a_new_solution_and_a_comment_show_at_once(client):
    challenge = ChallengeFactory()
    client.force_login(UserFactory())
    url = challenge.get_absolute_url()
    assert "Solar still" not in main(client, url)
    make_solution(challenge, title="Solar still")
    assert "Solar still" in main(client, url)
    services.comment_create(author=UserFactory(), target=challenge, body="Works in the shade?")
    assert "Works in the shade?" in main(client, url)


def test_each_member_follows_and_votes_for_themselves_on_the_kept_rows(client):
    challenge = ChallengeFactory()
    solution = make_solution(challenge)
    fan, other = UserFactory.create_batch(2)
    follow_toggle(follower=fan, target=challenge)
    reputation_services.vote_cast(voter=fan, solution=solution, value=1)
    client.force_login(other)
    main(client, challenge.get_absolute_url())  # kept for visitors and those who share them
    main(client, solution.get_absolute_url())

    client.force_login(fan)
    page = main(client, challenge.get_absolute_url())
    assert 'aria-pressed="true">Following' in page and "1 follower" in page
    assert re.search(r'vote-up[^>]*aria-pressed="true"', main(client, solution.get_absolute_url()))
    client.force_login(other)
    page = main(client, challenge.get_absolute_url())
    assert 'aria-pressed="false">Follow' in page and "1 follower" in page
    assert re.search(r'vote-up[^>]*aria-pressed="false"', main(client, solution.get_absolute_url()))


def test_organisers_get_their_own_challenge_page(client):
    challenge = ChallengeFactory(criteria=[])
    organiser = challenge.organisers.get()
    client.force_login(UserFactory())
    member_page = main(client, challenge.get_absolute_url())
    assert "add at least one before opening" not in member_page
    assert reverse("challenges:edit", args=[challenge.slug]) not in member_page
    client.force_login(organiser)
    with counted(challenge_views, "_challenge_parts") as parts:
        page = main(client, challenge.get_absolute_url())
    assert parts.call_count == 1  # theirs, not the members' copy
    assert "add at least one before opening" in page
    assert reverse("challenges:edit", args=[challenge.slug]) in page


def test_a_private_challenge_is_read_for_the_invited_member_alone(client):
    challenge = ChallengeFactory(visibility="private")
    invited, stranger = UserFactory.create_batch(2)
    challenge.invited.add(invited)
    url = challenge.get_absolute_url()
    assert client.get(url).status_code == 404
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    client.force_login(invited)
    assert client.get(url).status_code == 200
    client.force_login(stranger)
    assert client.get(url).status_code == 404


def test_a_comments_author_gets_their_own_discussion_and_the_others_share_one(client):
    challenge = ChallengeFactory()
    author = UserFactory()
    comment = services.comment_create(author=author, target=challenge, body="First thought")
    edit = reverse("challenges:comment-edit", args=[comment.pk])
    url = challenge.get_absolute_url()
    client.force_login(author)
    assert edit in main(client, url)
    first, second = UserFactory.create_batch(2)
    with counted(selectors, "discussion_page") as pages:
        client.force_login(first)
        shared = main(client, url)
        client.force_login(second)
        assert main(client, url) == shared
        client.force_login(author)
        assert edit in main(client, url)
    assert pages.call_count == 0  # the author's first visit kept the shared copy and their own
    assert "First thought" in shared and edit not in shared


def test_members_share_the_solution_page_and_get_what_they_would_get_live(client, settings):
    solution = make_solution(title="Rain tank")
    live, kept = shared_by_two(
        client,
        settings,
        solution.get_absolute_url(),
        (solution_views, "_solution_parts"),
        (selectors, "solution_get"),
    )
    assert kept == live


def test_members_share_a_solutions_history_and_a_new_revision_shows_at_once(client, settings):
    solution = make_solution(title="Rain tank")
    url = reverse("challenges:solution-history", args=[solution.pk])
    live, kept = shared_by_two(
        client, settings, url, (selectors, "solution_get"), (selectors, "solution_revisions")
    )
    assert kept == live and "Flag" in kept  # a member may flag another's revision
    services.solution_revise(
        solution=solution, by=solution.author, title="Rain tank, two barrels", body="Second."
    )
    client.force_login(solution.author)
    page = main(client, url)
    assert "Rain tank, two barrels" in page and "Flag" not in page  # not their own revisions


def test_a_members_own_review_comes_first_though_it_is_not_among_the_latest(client):
    solution = make_solution()
    scores = {c.pk: 4 for c in solution.challenge.criteria.all()}
    mine, latest = reviewer(), reviewer()
    reputation_services.review_save(
        reviewer=mine, solution=solution, comment="Mine, older", scores=scores
    )
    reputation_services.review_save(
        reviewer=latest, solution=solution, comment="The latest", scores=scores
    )
    with mock.patch("reputation.presenters.REVIEWS_ON_SOLUTION_PAGE", 1):
        client.force_login(UserFactory())
        page = main(client, solution.get_absolute_url())
        assert "The latest" in page and "Mine, older" not in page
        client.force_login(mine)
        page = main(client, solution.get_absolute_url())
    assert "Mine, older" in page and "The latest" not in page
    assert 'value="4" checked' in page  # the form holds their scores


def test_a_seller_sees_their_paused_offer_on_the_solution_and_no_one_else_does(client):
    solution = make_solution()
    OfferFactory(base_solution=solution, title="Adapt it for your roof")
    paused = OfferFactory(base_solution=solution, title="Paused for the holidays", is_active=False)
    client.force_login(UserFactory())
    page = main(client, solution.get_absolute_url())
    assert "Adapt it for your roof" in page and "Paused for the holidays" not in page
    client.force_login(paused.seller)
    assert "Paused for the holidays" in main(client, solution.get_absolute_url())
    client.force_login(UserFactory())
    assert "Paused for the holidays" not in main(client, solution.get_absolute_url())


def test_members_share_the_api_challenge_list_and_an_organiser_of_a_draft_gets_their_own():
    ChallengeFactory(title="Open to all")
    draft = ChallengeFactory(title="Still a draft", status="draft")
    api = APIClient()
    first, second = UserFactory.create_batch(2)
    with counted(selectors, "challenge_list") as lists:
        api.force_authenticate(first)
        shared = api.get("/api/challenges/").json()
        api.force_authenticate(second)
        assert api.get("/api/challenges/").json() == shared
    assert lists.call_count == 1
    assert [row["title"] for row in shared["results"]] == ["Open to all"]
    api.force_authenticate(draft.organisers.get())
    titles = [row["title"] for row in api.get("/api/challenges/").json()["results"]]
    assert sorted(titles) == ["Open to all", "Still a draft"]
    api.force_authenticate(first)
    assert api.get("/api/challenges/?status=nonsense").status_code == 400


def test_members_share_the_api_solution_list_and_an_author_of_a_draft_gets_their_own():
    from challenges import permissions

    posted = make_solution(title="Posted for all")
    draft = make_solution(posted.challenge, title="Still a draft", publish=False)
    api = APIClient()
    first, second = UserFactory.create_batch(2)
    with counted(permissions, "solutions_visible_to") as visible:
        api.force_authenticate(first)
        shared = api.get("/api/solutions/").json()
        api.force_authenticate(second)
        assert api.get("/api/solutions/").json() == shared
    assert visible.call_count == 2  # one build: the list, and which parents it may name
    assert [row["title"] for row in shared["results"]] == ["Posted for all"]
    api.force_authenticate(draft.author)
    titles = [row["title"] for row in api.get("/api/solutions/").json()["results"]]
    assert sorted(titles) == ["Posted for all", "Still a draft"]
    # A new solution shows at once, and a bad parameter is still a 400.
    make_solution(challenge=posted.challenge, title="Posted just now")
    api.force_authenticate(first)
    titles = [row["title"] for row in api.get("/api/solutions/").json()["results"]]
    assert titles[0] == "Posted just now"
    assert api.get("/api/solutions/?ordering=nonsense").status_code == 400


def test_members_share_a_solutions_api_reviews_and_a_new_review_shows_at_once():
    from reputation import selectors as reputation_selectors

    solution = make_solution(title="Rain tank")
    reputation_services.review_save(
        reviewer=reviewer(), solution=solution, comment="Solid.", scores=_scores(solution, 4)
    )
    url = f"/api/solutions/{solution.pk}/reviews/"
    api = APIClient()
    first, second = reviewer(), reviewer()
    with counted(reputation_selectors, "solution_reviews") as reads:
        api.force_authenticate(first)
        shared = api.get(url).json()
        api.force_authenticate(second)
        assert api.get(url).json() == shared
    assert reads.call_count == 1 and [r["comment"] for r in shared["results"]] == ["Solid."]
    reputation_services.review_save(
        reviewer=second, solution=solution, comment="Leaks.", scores=_scores(solution, 2)
    )
    api.force_authenticate(first)
    assert [r["comment"] for r in api.get(url).json()["results"]] == ["Leaks.", "Solid."]
    other = make_solution(title="Wind pump")
    assert api.get(f"/api/solutions/{other.pk}/reviews/").json()["results"] == []


def _scores(solution, score: int) -> dict:
    return {criterion.pk: score for criterion in solution.challenge.criteria.all()}


def test_members_share_the_api_comment_list_and_a_moderator_reads_a_hidden_comment():
    from challenges import permissions

    challenge = ChallengeFactory()
    organiser = challenge.organisers.get()
    services.comment_create(author=UserFactory(), target=challenge, body="Shown to all.")
    hidden = services.comment_create(author=UserFactory(), target=challenge, body="Off topic.")
    services.comment_set_hidden(comment=hidden, by=organiser, hidden=True)
    api = APIClient()
    first, second = UserFactory.create_batch(2)
    with counted(selectors, "comments_visible_to") as reads:
        api.force_authenticate(first)
        shared = api.get("/api/comments/").json()
        api.force_authenticate(second)
        assert api.get("/api/comments/").json() == shared
    assert reads.call_count == 1
    assert [row["body"] for row in shared["results"]] == ["Shown to all.", ""]
    assert permissions.may_moderate_some_comments(organiser)
    api.force_authenticate(organiser)
    bodies = [row["body"] for row in api.get("/api/comments/").json()["results"]]
    assert bodies == ["Shown to all.", "Off topic."]
    # A new comment shows at once.
    services.comment_create(author=second, target=challenge, body="Just now.")
    api.force_authenticate(first)
    assert api.get("/api/comments/").json()["results"][-1]["body"] == "Just now."


def test_members_share_the_selection_page_and_its_organiser_sees_the_round_in_preparation(
    client,
):
    from tests.marketplace.purse_helpers import publish_winners, to_selecting

    solution = make_solution(title="Rain tank")
    challenge = solution.challenge
    publish_winners(challenge, [solution])
    to_selecting(challenge)
    organiser = challenge.created_by
    services.selection_round_open(challenge=challenge, by=organiser, title="Second look")
    url = reverse("challenges:selection", args=[challenge.slug])
    kept = served_alike(client, url, (selectors, "selection_rounds"))
    assert "Rain tank" in kept and "Second look" not in kept
    client.force_login(organiser)
    assert "Second look" in main(client, url)


def test_a_profile_is_kept_for_its_visitors_and_for_its_member_alone(client):
    member = UserFactory(username="ana")
    make_solution(author=member, title="Published stove")
    make_solution(author=member, title="Draft stove", publish=False)
    url = reverse("profile", args=["ana"])
    shared = served_alike(client, url, (selectors, "member_solutions"))
    assert "Published stove" in shared and "Draft stove" not in shared
    client.force_login(member)
    with counted(selectors, "member_solutions") as built:
        own = main(client, url)
        assert main(client, url) == own
    assert built.call_count == 1  # their own copy, kept for them
    assert "Draft stove" in own
    make_solution(author=member, title="Second stove")
    assert "Second stove" in main(client, url)
    client.force_login(UserFactory())  # another member, served the shared copy
    page = main(client, url)
    assert "Second stove" in page and "Draft stove" not in page


def test_a_reputation_history_is_kept_page_by_page_and_shows_each_new_line(
    client, django_capture_on_commit_callbacks
):
    from reputation import presenters
    from reputation import views as reputation_views

    author = UserFactory(username="kofi")
    solution = make_solution(author=author, title="Clay oven")
    with django_capture_on_commit_callbacks(execute=True):  # the ledger's syncs
        for voter in UserFactory.create_batch(3):
            reputation_services.vote_cast(voter=voter, solution=solution, value=1)
    url = reverse("reputation:history", args=["kofi"])
    first, second = UserFactory.create_batch(2)
    with (
        mock.patch.object(reputation_views, "EVENTS_PER_PAGE", 2),
        counted(presenters, "event_lines") as built,
    ):
        client.force_login(first)
        one, two = main(client, url), main(client, url + "?page=2")
        client.force_login(second)
        assert main(client, url) == one and main(client, url + "?page=2") == two
        assert built.call_count == 2  # a copy per page, shared
        assert "Page 1 of 2" in one and "Page 2 of 2" in two
        client.force_login(author)
        main(client, url)
        assert built.call_count == 3  # theirs, kept for them alone
        with django_capture_on_commit_callbacks(execute=True):
            reputation_services.vote_cast(voter=UserFactory(), solution=solution, value=1)
        client.force_login(first)
        assert lines(main(client, url)) == lines(one) + 1


def test_whether_a_member_sees_what_a_visitor_sees_is_asked_again_after_what_changes_it(client):
    from challenges import permissions

    challenge = ChallengeFactory(title="Open to all")
    private = ChallengeFactory(title="Members only", visibility="private")
    member = UserFactory()
    api = APIClient()
    api.force_authenticate(member)
    with counted(permissions, "sees_as_visitor") as asked:
        assert [r["title"] for r in api.get("/api/challenges/").json()["results"]] == [
            "Open to all"
        ]
        api.get("/api/challenges/")
    assert asked.call_count == 1  # kept for the member
    private.invited.add(member)
    api.force_authenticate(type(member).objects.get(pk=member.pk))  # the next request's row
    titles = [r["title"] for r in api.get("/api/challenges/").json()["results"]]
    assert sorted(titles) == ["Members only", "Open to all"]

    other = UserFactory()
    client.force_login(other)
    assert "Their draft" not in main(client, challenge.get_absolute_url())
    make_solution(challenge, author=other, title="Their draft", publish=False)
    assert "Their draft" in main(client, challenge.get_absolute_url())
    client.force_login(UserFactory())
    assert "Their draft" not in main(client, challenge.get_absolute_url())


def test_the_reputation_api_is_kept_like_the_history_page(django_capture_on_commit_callbacks):
    from reputation import presenters

    author = UserFactory(username="lina")
    solution = make_solution(author=author)
    with django_capture_on_commit_callbacks(execute=True):
        reputation_services.vote_cast(voter=UserFactory(), solution=solution, value=1)
    url = "/api/users/lina/reputation/"
    api = APIClient()
    first, second = UserFactory.create_batch(2)  # a new member is news to the lists
    with counted(presenters, "event_lines") as built:
        api.force_authenticate(first)
        shared = api.get(url).json()
        api.force_authenticate(second)
        assert api.get(url).json() == shared
        api.force_authenticate(author)
        own = api.get(url).json()
    assert built.call_count == 2  # the visitors' copy, and the member's own
    assert own["count"] == shared["count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        reputation_services.vote_cast(voter=UserFactory(), solution=solution, value=1)
    api.force_authenticate(first)
    assert api.get(url).json()["count"] == 2
    assert api.get(url + "?page=9").status_code == 404
