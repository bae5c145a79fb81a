"""The HTML side of votes, reviews and reputation: the solution page's widget (htmx and plain
forms), refusals as messages, the profile's reputation panel and the history page."""

import json
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse

from challenges.models import Challenge
from reputation import services
from reputation.models import ReputationScore, Review, Vote
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def regular(**kwargs):
    """A member at trust level 2: may vote down and review."""
    user = UserFactory(**kwargs)
    ReputationScore.objects.create(user=user, total=Decimal(100), trust_level=2)
    return user


def vote_url(solution):
    return reverse("reputation:vote", args=[solution.pk])


def review_url(solution):
    return reverse("reputation:review", args=[solution.pk])


def page(client, solution) -> str:
    response = client.get(solution.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def solution():
    return make_solution(title="Sand filter")


# --- Votes -----------------------------------------------------------------------------------


def test_solution_page_shows_the_widget_to_a_visitor_without_buttons(client, solution):
    html = page(client, solution)
    assert 'id="vote-widget-' in html
    assert "Log in</a> to vote" in html
    assert 'aria-pressed="' not in html


def test_plain_post_votes_up_then_the_arrow_shows_pressed(client, solution):
    voter = UserFactory()
    client.force_login(voter)
    response = client.post(vote_url(solution), {"value": "1"})
    assert response.status_code == 302
    assert response.url == solution.get_absolute_url()
    assert Vote.objects.get(solution=solution, voter=voter).value == 1
    html = page(client, solution)
    assert "your vote counts" in html
    assert 'value="0" class="vote-button vote-up is-active" aria-pressed="true"' in html
    assert 'class="vote-button vote-down" aria-pressed="false"' in html


def test_htmx_vote_answers_the_widget_and_the_active_arrow_removes_the_vote(client, solution):
    voter = regular()
    client.force_login(voter)
    response = client.post(vote_url(solution), {"value": "1"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<div id="vote-widget-{solution.pk}"')
    assert 'aria-pressed="true"' in html
    assert '<span class="vote-score" aria-label="Score 1: 1 up, 0 down">1</span>' in html

    # Changing the vote
    html = client.post(vote_url(solution), {"value": "-1"}, **HTMX).content.decode()
    assert Vote.objects.get(solution=solution, voter=voter).value == -1
    assert 'aria-label="Score -1: 0 up, 1 down"' in html

    # Clicking the active arrow sends 0, which removes the vote
    assert 'name="value" value="0" class="vote-button vote-down is-active"' in html
    html = client.post(vote_url(solution), {"value": "0"}, **HTMX).content.decode()
    assert not Vote.objects.filter(solution=solution, voter=voter).exists()
    assert "Your vote is removed." in html
    assert 'aria-pressed="true"' not in html


def test_own_solution_vote_is_a_message_in_the_widget_not_an_error(client, solution):
    client.force_login(solution.author)
    html = page(client, solution)
    assert "Your own solution" in html
    response = client.post(vote_url(solution), {"value": "1"}, **HTMX)
    assert response.status_code == 200
    assert "You cannot vote on your own solution." in response.content.decode()
    # Read out by the page's live region (HX-Trigger), not by a fresh one in the fragment.
    assert 'role="alert"' not in response.content.decode()
    assert json.loads(response["HX-Trigger"])["peerhub:status"] == {
        "message": "You cannot vote on your own solution.",
        "error": True,
    }
    assert not Vote.objects.exists()


def test_own_lineage_vote_is_refused_with_a_django_message(client, solution):
    fork = make_fork(solution)
    client.force_login(solution.author)
    response = client.post(vote_url(fork), {"value": "1"}, follow=True)
    assert response.status_code == 200
    assert "This solution builds on yours" in response.content.decode()
    assert not Vote.objects.exists()


def test_level_one_member_cannot_vote_down(client, solution):
    client.force_login(UserFactory())
    response = client.post(vote_url(solution), {"value": "-1"}, **HTMX)
    assert "Voting down unlocks at trust level 2" in response.content.decode()
    assert not Vote.objects.exists()


def test_daily_vote_limit_is_a_message(client, settings):
    settings.PEERHUB_DAILY_VOTES = {1: 1}
    challenge = ChallengeFactory()
    first, second = make_solution(challenge), make_solution(challenge)
    client.force_login(UserFactory())
    client.post(vote_url(first), {"value": "1"}, **HTMX)
    response = client.post(vote_url(second), {"value": "1"}, follow=True)
    assert "You have used your 1 votes for today" in response.content.decode()
    assert Vote.objects.count() == 1


def test_unverified_member_is_told_to_verify(client, solution):
    client.force_login(UserFactory(verified=False))
    response = client.post(vote_url(solution), {"value": "1"}, **HTMX)
    assert "Verify your e-mail address" in response.content.decode()


def test_invalid_value_is_a_message(client, solution):
    client.force_login(UserFactory())
    response = client.post(vote_url(solution), {"value": "7"}, **HTMX)
    assert response.status_code == 200
    assert "A vote is up, down, or removed." in response.content.decode()


def test_vote_on_an_invisible_solution_is_404(client):
    draft = make_solution(publish=False)
    client.force_login(UserFactory())
    assert client.post(vote_url(draft), {"value": "1"}).status_code == 404
    assert client.post(review_url(draft), {"comment": "x"}).status_code == 404


def test_voting_needs_a_login_and_a_post(client, solution):
    assert client.post(vote_url(solution), {"value": "1"}).status_code == 302
    client.force_login(UserFactory())
    assert client.get(vote_url(solution)).status_code == 405


# --- Reviews ---------------------------------------------------------------------------------


def scores_form(solution, values, comment="Works well; **cheap** too."):
    data = {"comment": comment}
    for criterion, value in zip(solution.challenge.criteria.all(), values, strict=False):
        data[f"criterion-{criterion.pk}"] = str(value)
    return data


def test_review_form_needs_level_two(client, solution):
    client.force_login(UserFactory())
    html = page(client, solution)
    assert "Reviewing unlocks at trust level 2 (regular)" in html
    assert 'class="review-form"' not in html


def test_review_create_then_edit_prefills_the_form(client, solution):
    reviewer = regular()
    client.force_login(reviewer)
    html = page(client, solution)
    assert "Review this solution" in html
    response = client.post(review_url(solution), scores_form(solution, [4, 2]))
    assert response.status_code == 302
    review = Review.objects.get(solution=solution, reviewer=reviewer)
    assert review.mean_score == Decimal("3.00")

    html = page(client, solution)
    assert "Your review is saved" in html
    assert "Edit your review" in html
    assert "<strong>cheap</strong>" in html  # the comment is rendered Markdown
    assert 'value="4" checked' in html and 'value="2" checked' in html
    assert "4.0</strong> / 5" in html  # the criterion means

    data = scores_form(solution, [5, 5], "Better now.")
    response = client.post(review_url(solution), data, **HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == solution.get_absolute_url()
    review.refresh_from_db()
    assert review.comment == "Better now." and review.mean_score == Decimal("5.00")
    assert Review.objects.count() == 1


def test_incomplete_review_keeps_what_was_written(client, solution):
    client.force_login(regular())
    data = scores_form(solution, [4], comment="Half done")
    response = client.post(review_url(solution), data, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Score every criterion of the challenge." in html
    assert "Half done</textarea>" in html and 'value="4" checked' in html
    response = client.post(review_url(solution), data, follow=True)
    assert "Score every criterion of the challenge." in response.content.decode()
    assert not Review.objects.exists()


def test_reviewing_your_own_solution_is_a_message(client, solution):
    ReputationScore.objects.create(user=solution.author, total=100, trust_level=2)
    client.force_login(solution.author)
    response = client.post(review_url(solution), scores_form(solution, [5, 5]), follow=True)
    assert "You cannot review your own solution." in response.content.decode()


# --- Profile and history ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_profile_explains_the_score_level_and_a_vote(client):
    author = UserFactory(display_name="Bea")
    solution = make_solution(author=author, title="Sand filter")
    fork = make_fork(solution, author=UserFactory(display_name="Cy"))
    services.vote_cast(voter=UserFactory(display_name="Ana"), solution=fork, value=Vote.UP)
    services.vote_cast(voter=UserFactory(display_name="Dee"), solution=solution, value=Vote.UP)
    html = unescape(client.get(reverse("profile", args=[author.username])).content.decode())
    assert "Reputation" in html
    assert "<strong>18</strong>" in html  # 1 + 5 (forked) + 10 (upvote) + 2 (lineage credit)
    assert "Trust level 1 · <strong>member</strong>" in html
    assert "Next: <strong>level 2 (regular)</strong>" in html
    assert "at 50 reputation" in html and "vote solutions down" in html
    assert "Dee upvoted your solution “Sand filter”" in html
    assert "Cy forked your solution “Sand filter”" in html
    assert "“Sand filter”'s descendant “Sand filter” was upvoted (lineage credit)" in html
    assert f'href="{fork.get_absolute_url()}"' in html
    assert f'href="{solution.get_absolute_url()}"' in html
    assert reverse("reputation:history", args=[author.username]) in html


@pytest.mark.django_db(transaction=True)
def test_a_removed_vote_shows_as_a_correction(client):
    solution = make_solution(title="Sand filter")
    voter = UserFactory(display_name="Ana")
    services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    services.vote_remove(voter=voter, solution=solution)
    html = client.get(reverse("reputation:history", args=[solution.author.username])).content
    html = unescape(html.decode())
    assert "Correction: vote removed — Ana's upvote on your solution “Sand filter”" in html
    assert "-10" in html and "+10" in html


@pytest.mark.django_db(transaction=True)
def test_events_about_private_solutions_hide_their_titles(client):
    challenge = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    author = UserFactory()
    challenge.invited.add(author)
    solution = make_solution(challenge, author=author, title="Secret plan")
    services.vote_cast(voter=challenge.created_by, solution=solution, value=Vote.UP)
    html = client.get(reverse("profile", args=[solution.author.username])).content.decode()
    assert "upvoted your solution a private solution" in html
    assert "Secret plan" not in html


def test_history_page_of_an_unknown_member_is_404(client):
    assert client.get(reverse("reputation:history", args=["nobody"])).status_code == 404


# --- Query budgets ---------------------------------------------------------------------------


def test_solution_page_with_the_widget_stays_bounded(client, django_assert_max_num_queries):
    challenge = ChallengeFactory()
    solution = make_solution(challenge)
    viewer = regular()
    client.force_login(viewer)

    def review_by(user):
        scores = {c.pk: 4 for c in challenge.criteria.all()}
        services.review_save(reviewer=user, solution=solution, comment="Good.", scores=scores)

    review_by(regular())
    with django_assert_max_num_queries(40) as small:
        page(client, solution)
    for _ in range(30):
        voter = regular()
        services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
        review_by(voter)
    with django_assert_max_num_queries(len(small)) as big:
        html = page(client, solution)
    assert "Review this solution" in html
    review_by(viewer)  # the member's review comes first, even among more than a page of them
    assert "Edit your review" in page(client, solution)
    print(f"solution page with reputation: {len(small)} queries at 1 review, {len(big)} at 31")


@pytest.mark.django_db(transaction=True)
def test_history_page_stays_bounded(client, django_assert_max_num_queries):
    challenge = ChallengeFactory()
    author = UserFactory()
    solution = make_solution(challenge, author=author)
    services.vote_cast(voter=UserFactory(), solution=solution, value=Vote.UP)
    url = reverse("reputation:history", args=[author.username])
    profile = reverse("profile", args=[author.username])
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    with django_assert_max_num_queries(30) as small_profile:
        client.get(profile)
    for _ in range(3):
        make_fork(make_solution(challenge, author=author))
    for voter in UserFactory.create_batch(30):
        services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    with django_assert_max_num_queries(len(small)) as big:
        response = client.get(url)
    with django_assert_max_num_queries(len(small_profile)) as big_profile:
        client.get(profile)
    assert response.status_code == 200
    assert "Page 1 of 1" not in response.content.decode()  # one page: no pagination
    print(
        f"history: {len(small)} queries at 1 event, {len(big)} at 34; "
        f"profile: {len(small_profile)} and {len(big_profile)}"
    )


def test_challenge_page_rows_show_the_vote_score(client):
    challenge = ChallengeFactory()
    liked, plain = make_solution(challenge, title="Liked"), make_solution(challenge, title="Plain")
    for voter in UserFactory.create_batch(2):
        services.vote_cast(voter=voter, solution=liked, value=Vote.UP)
    html = client.get(challenge.get_absolute_url()).content.decode()
    assert html.count("<dt>votes</dt>") == 2
    assert "<dt>votes</dt><dd>2</dd>" in html and "<dt>votes</dt><dd>0</dd>" in html
    assert plain.title in html
