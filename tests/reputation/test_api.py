"""The API twins of voting, reviewing and a member's reputation: answers, refusals in the
JSON error shape, visibility, and bounded queries."""

from decimal import Decimal

import pytest
from django.urls import resolve
from rest_framework.test import APIClient

from reputation import services
from reputation.api.views import SolutionVoteView
from reputation.models import ReputationScore, Review, Vote
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution

pytestmark = pytest.mark.django_db


def regular(**kwargs):
    user = UserFactory(**kwargs)
    ReputationScore.objects.create(user=user, total=Decimal(100), trust_level=2)
    return user


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def solution():
    return make_solution(title="Sand filter")


def vote(solution):
    return f"/api/solutions/{solution.pk}/vote/"


def reviews(solution):
    return f"/api/solutions/{solution.pk}/reviews/"


def error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["status"] == status
    if code:
        assert body["code"] == code
    return body


def test_routes_do_not_collide_with_the_solutions_router(solution, api_client):
    assert resolve(vote(solution)).func.view_class is SolutionVoteView
    assert api_client.get(f"/api/solutions/{solution.pk}/").json()["title"] == "Sand filter"
    links = api_client.get("/api/").json()["links"]
    assert links["solution-vote"].endswith("/api/solutions/{id}/vote/")
    assert links["user-reputation"].endswith("/api/users/{username}/reputation/")


# --- Votes -----------------------------------------------------------------------------------


def test_vote_change_and_remove(solution):
    client = client_for(regular())
    response = client.post(vote(solution), {"value": 1}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "solution": solution.pk,
        "score": 1,
        "up": 1,
        "down": 0,
        "my_vote": 1,
    }
    response = client.post(vote(solution), {"value": -1}, format="json")
    assert response.json()["my_vote"] == -1 and response.json()["score"] == -1
    response = client.delete(vote(solution))
    assert response.status_code == 200
    assert response.json() == {
        "solution": solution.pk,
        "score": 0,
        "up": 0,
        "down": 0,
        "my_vote": None,
    }
    assert not Vote.objects.exists()


def test_vote_value_must_be_one_or_minus_one(solution):
    body = error(client_for(UserFactory()).post(vote(solution), {"value": 3}, format="json"), 400)
    assert "value" in body["fields"]


def test_own_solution_and_own_lineage_are_refused(solution):
    client = client_for(solution.author)
    error(client.post(vote(solution), {"value": 1}, format="json"), 400, "own_solution")
    fork = make_fork(solution)
    error(client.post(vote(fork), {"value": 1}, format="json"), 400, "own_lineage")


def test_level_one_downvote_is_403(solution):
    body = error(
        client_for(UserFactory()).post(vote(solution), {"value": -1}, format="json"),
        403,
        "forbidden",
    )
    assert "trust level 2" in body["message"]


def test_unverified_member_is_403(solution):
    client = client_for(UserFactory(verified=False))
    error(client.post(vote(solution), {"value": 1}, format="json"), 403, "forbidden")


def test_anonymous_cannot_vote(solution, api_client):
    assert api_client.post(vote(solution), {"value": 1}, format="json").status_code in (401, 403)


def test_invisible_solution_is_404():
    draft = make_solution(publish=False)
    client = client_for(UserFactory())
    error(client.post(vote(draft), {"value": 1}, format="json"), 404, "not_found")
    error(client.get(reviews(draft)), 404, "not_found")
    error(client.post(f"/api/solutions/{10**6}/vote/", {"value": 1}, format="json"), 404)


def test_daily_limit_is_429(settings):
    settings.PEERHUB_DAILY_VOTES = {1: 2}
    challenge = ChallengeFactory()
    client = client_for(UserFactory())
    for _ in range(2):
        response = client.post(vote(make_solution(challenge)), {"value": 1}, format="json")
        assert response.status_code == 200
    error(
        client.post(vote(make_solution(challenge)), {"value": 1}, format="json"),
        429,
        "rate_limited",
    )


# --- Reviews ---------------------------------------------------------------------------------


def review_body(solution, values, comment="Works; **cheap**."):
    criteria = list(solution.challenge.criteria.all())
    return {
        "comment": comment,
        "scores": [{"criterion": c.pk, "score": v} for c, v in zip(criteria, values, strict=False)],
    }


def test_review_create_edit_and_list(solution, api_client):
    reviewer = regular(username="rita")
    client = client_for(reviewer)
    response = client.post(reviews(solution), review_body(solution, [4, 2]), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["reviewer"]["username"] == "rita"
    assert data["mean_score"] == "3.00"
    assert sorted(s["score"] for s in data["scores"]) == [2, 4]

    response = client.post(reviews(solution), review_body(solution, [5, 5], "Now."), format="json")
    assert response.status_code == 200
    assert response.json()["comment"] == "Now." and response.json()["mean_score"] == "5.00"
    assert Review.objects.count() == 1

    listed = api_client.get(reviews(solution)).json()
    assert listed["count"] == 1
    assert listed["results"][0]["scores"][0]["criterion_name"] in {"Works", "Affordable"}


@pytest.mark.parametrize(
    "body, code",
    [
        ({"comment": "Half", "scores": "partial"}, "scores_incomplete"),
        ({"comment": "Bad", "scores": [{"criterion": "first", "score": 9}]}, "invalid"),
        ({"comment": "", "scores": []}, "invalid"),
    ],
)
def test_incomplete_or_bad_reviews_are_400(solution, body, code):
    if body["scores"] == "partial":
        body["scores"] = review_body(solution, [4])["scores"]
    elif body["scores"] and body["scores"][0]["criterion"] == "first":
        body["scores"][0]["criterion"] = solution.challenge.criteria.first().pk
    response = client_for(regular()).post(reviews(solution), body, format="json")
    error(response, 400, code)
    assert not Review.objects.exists()


def test_review_needs_level_two(solution):
    response = client_for(UserFactory()).post(
        reviews(solution), review_body(solution, [4, 4]), format="json"
    )
    error(response, 403, "forbidden")


def test_review_list_queries_stay_bounded(solution, api_client, django_assert_max_num_queries):
    scores = {c.pk: 3 for c in solution.challenge.criteria.all()}
    services.review_save(reviewer=regular(), solution=solution, comment="ok", scores=scores)
    with django_assert_max_num_queries(10) as small:
        api_client.get(reviews(solution))
    for _ in range(15):
        services.review_save(reviewer=regular(), solution=solution, comment="ok", scores=scores)
    with django_assert_max_num_queries(len(small)):
        assert api_client.get(reviews(solution)).json()["count"] == 16


# --- Reputation ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_user_reputation_has_the_summary_and_explained_events(api_client):
    author = UserFactory(username="bea")
    solution = make_solution(author=author, title="Sand filter")
    services.vote_cast(voter=UserFactory(display_name="Ana"), solution=solution, value=Vote.UP)
    response = api_client.get("/api/users/bea/reputation/")
    assert response.status_code == 200
    data = response.json()
    assert data["summary"]["total"] == "11.00"
    assert data["summary"]["level"] == 1 and data["summary"]["level_name"] == "member"
    assert data["summary"]["next_level"] == 2 and data["summary"]["next_needs"] == 50
    assert data["count"] == 1
    event = data["results"][0]
    assert event["kind"] == "upvote_received" and event["amount"] == "10.00"
    assert event["description"] == "Ana upvoted your solution “Sand filter”"
    assert event["solution"] == solution.pk and event["correction"] is False


@pytest.mark.django_db(transaction=True)
def test_user_reputation_pages_and_stays_bounded(api_client, django_assert_max_num_queries):
    author = UserFactory(username="bea")
    challenge = ChallengeFactory()
    solution = make_solution(challenge, author=author)
    services.vote_cast(voter=UserFactory(), solution=solution, value=Vote.UP)
    with django_assert_max_num_queries(12) as small:
        api_client.get("/api/users/bea/reputation/")
    for voter in UserFactory.create_batch(25):
        services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    with django_assert_max_num_queries(len(small)):
        data = api_client.get("/api/users/bea/reputation/").json()
    assert data["count"] == 26 and len(data["results"]) == 20 and data["next"]
    assert api_client.get("/api/users/nobody/reputation/").status_code == 404
