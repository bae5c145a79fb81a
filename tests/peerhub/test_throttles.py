"""Write throttles by trust level: every kind of write has a budget per window, stricter below
trust level 2, none for staff; the API answers 429 with Retry-After and RateLimit headers in the
one error shape, the pages a friendly message; the budget comes back with the next window."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from challenges import services as challenge_services
from challenges.models import Comment
from peerhub.throttles import WriteLimited, write_spend
from tests.factories import ChallengeFactory, UserFactory, make_solution
from tests.helpers import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.write_limits]


@pytest.fixture
def small_budgets(settings):
    settings.PEERHUB_WRITE_LIMITS = {
        name: {**rule, "new": 2, "established": 4}
        for name, rule in settings.PEERHUB_WRITE_LIMITS.items()
    }


def established(user):
    """A member at trust level 2 (holds reputation.vote_down)."""
    from reputation.models import ReputationScore

    ReputationScore.objects.update_or_create(user=user, defaults={"pinned_level": 2})
    return user


def comment(user, solution, n):
    return challenge_services.comment_create(author=user, target=solution, body=f"Note {n}")


def test_a_new_member_gets_the_strict_budget_and_an_established_one_more(small_budgets):
    solution = make_solution()
    newcomer, regular = UserFactory(), established(UserFactory())
    for n in range(2):
        comment(newcomer, solution, n)
    with pytest.raises(WriteLimited) as refused:
        comment(newcomer, solution, 3)
    assert refused.value.status_code == 429 and refused.value.retry_after > 0
    assert "limit of 2 comments per 10 minutes" in refused.value.message
    for n in range(4):
        comment(regular, solution, n)
    with pytest.raises(WriteLimited):
        comment(regular, solution, 5)
    assert Comment.objects.count() == 6


def test_staff_are_not_limited(small_budgets):
    staff = UserFactory(is_staff=True)
    for _ in range(10):
        write_spend(staff, "comment")


def test_each_kind_of_write_has_its_own_budget_and_the_next_window_restores_it(small_budgets):
    member = UserFactory()
    for _ in range(2):
        write_spend(member, "comment")
    write_spend(member, "order_message")  # another budget
    with pytest.raises(WriteLimited):
        write_spend(member, "comment")
    later = timezone.now() + timedelta(minutes=11)
    with mock.patch("django.utils.timezone.now", return_value=later):
        write_spend(member, "comment")


@pytest.mark.parametrize("action", ["solution", "revision", "fork", "comment", "order_message",
                                    "proposal", "order", "offer", "review", "token"])  # fmt: skip
def test_every_kind_of_write_is_limited(small_budgets, action):
    member = UserFactory()
    for _ in range(2):
        write_spend(member, action)
    with pytest.raises(WriteLimited):
        write_spend(member, action)


def test_the_api_answers_429_with_retry_after_and_rate_limit_headers(small_budgets):
    solution = make_solution()
    client = APIClient()
    client.force_authenticate(UserFactory())
    for n in range(2):
        ok = client.post(
            "/api/comments/", {"solution": solution.pk, "body": f"n{n}"}, format="json"
        )
        assert ok.status_code == 201
    limited = client.post(
        "/api/comments/", {"solution": solution.pk, "body": "more"}, format="json"
    )
    assert_error(limited, 429, "write_limited")
    assert 0 < int(limited["Retry-After"]) <= 600
    assert limited["RateLimit-Limit"] == "2" and limited["RateLimit-Remaining"] == "0"


def test_the_page_says_so_kindly(client, small_budgets):
    solution = make_solution()
    member = UserFactory()
    client.force_login(member)
    url = f"/discussion/solution/{solution.pk}/"
    for n in range(3):
        response = client.post(url, {"body": f"Note {n}"}, follow=True)
    assert response.status_code == 200
    assert "limit of 2 comments per 10 minutes" in response.content.decode()
    assert Comment.objects.filter(author=member).count() == 2


def test_a_refused_write_spends_nothing(small_budgets):
    """Permission and validation come first: a refused comment leaves the budget whole."""
    closed = ChallengeFactory(status="draft")
    member = UserFactory()
    target = make_solution()
    with pytest.raises(Exception):  # noqa: B017 (any refusal)
        challenge_services.comment_create(author=member, target=closed, body="x")
    for n in range(2):
        comment(member, target, n)


@pytest.fixture
def small_ip_budget(settings):
    settings.PEERHUB_IP_WRITE_LIMIT = {"window": 600, "writes": 3}


def test_one_address_is_limited_whoever_signs_in_and_another_address_is_not(small_ip_budget):
    solution = make_solution()
    sent = []
    for n in range(4):
        client = APIClient(REMOTE_ADDR="203.0.113.7")
        client.force_authenticate(UserFactory())  # a new member each time: the address counts
        sent.append(
            client.post("/api/comments/", {"solution": solution.pk, "body": f"n{n}"}, format="json")
        )
    assert [r.status_code for r in sent[:3]] == [201, 201, 201]
    assert_error(sent[3], 429, "write_limited")
    assert int(sent[3]["Retry-After"]) > 0
    other = APIClient(REMOTE_ADDR="198.51.100.2")
    other.force_authenticate(UserFactory())
    assert (
        other.post(
            "/api/comments/", {"solution": solution.pk, "body": "x"}, format="json"
        ).status_code
        == 201
    )


def test_a_forged_forwarded_for_does_not_buy_a_new_budget(small_ip_budget):
    """X-Forwarded-For counts only from a trusted proxy (none is configured here)."""
    solution = make_solution()
    codes = []
    for n in range(4):
        client = APIClient(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
        client.force_authenticate(UserFactory())
        reply = client.post("/api/comments/", {"solution": solution.pk, "body": "x"}, format="json")
        codes.append(reply.status_code)
    assert codes == [201, 201, 201, 429]


def test_the_page_answer_is_a_short_page(client, small_ip_budget):
    solution = make_solution()
    client.force_login(UserFactory())
    for n in range(3):
        client.post(f"/discussion/solution/{solution.pk}/", {"body": f"n{n}"})
    page = client.post(f"/discussion/solution/{solution.pk}/", {"body": "again"})
    assert page.status_code == 429 and "Too many changes from your network address" in (
        page.content.decode()
    )


def test_provider_webhooks_are_not_limited_by_address(client, small_ip_budget):
    for _ in range(5):
        reply = client.post("/api/payments/webhook/sandbox/", data=b"{}",
                            content_type="application/json")  # fmt: skip
        assert reply.status_code == 400  # refused as unsigned, not as too many


def test_making_api_tokens_is_limited_too(small_budgets):
    from peerhub import tokens

    member = UserFactory()
    for n in range(2):
        tokens.token_create(user=member, name=f"script {n}", scopes=["read"], expires_in_days=30)
    with pytest.raises(WriteLimited):
        tokens.token_create(user=member, name="one more", scopes=["read"], expires_in_days=30)
