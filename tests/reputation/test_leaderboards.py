"""Leaderboards: all time from the stored score, the last 30 days and per challenge or value
from the ledger under the daily cap, private challenges hidden, HTML and API."""

from decimal import Decimal

import pytest
from django.urls import reverse

from challenges.models import Challenge
from reputation import leaderboards, ledger, services
from reputation.models import ReputationEvent, ReputationScore, Vote
from tests.factories import ChallengeFactory, UserFactory, ValueFactory, make_solution

from .ledger_lines import line

pytestmark = pytest.mark.django_db

URL = "/leaderboard/"
API = "/api/leaderboard/"


def names(board) -> list[tuple[str, Decimal]]:
    return [(s.user.username, s.score) for s in board[0 : len(board)]]


def scored(username, total, **kwargs):
    user = UserFactory(username=username, **kwargs)
    ReputationScore.objects.create(user=user, total=Decimal(total), trust_level=2)
    return user


def test_all_time_ranks_by_score_then_username_and_leaves_out_the_floor():
    scored("zoe", 30)
    scored("bob", 50)
    scored("amy", 30)
    scored("newcomer", 1)
    scored("gone", 99, is_active=False)
    board = leaderboards.leaderboard(viewer=None, period="all")
    assert names(board) == [("bob", 50), ("amy", 30), ("zoe", 30)]
    assert [s.rank for s in board[0:3]] == [1, 2, 3]
    assert board[1:3][0].rank == 2
    assert board[0:1][0].level_name == "regular"


def test_thirty_days_counts_recent_lines_only_and_positive_members_only():
    solution = make_solution()
    recent, old, negative = UserFactory.create_batch(3)
    line(recent, 5, days_ago=29, solution=solution)
    line(old, 50, days_ago=30, solution=solution)
    line(old, 2, days_ago=1, solution=solution)
    line(negative, -3, days_ago=1, solution=solution)
    board = leaderboards.leaderboard(viewer=None, period="30d")
    assert names(board) == [(recent.username, 5), (old.username, 2)]


def test_a_deactivated_member_leaves_every_board_and_its_count():
    solution = make_solution()
    stays, gone = UserFactory.create_batch(2)
    for member in (stays, gone):
        line(member, 5, days_ago=1, solution=solution)
        ReputationScore.objects.create(user=member, total=Decimal(20), trust_level=2)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    for period in ("all", "30d"):
        board = leaderboards.leaderboard(viewer=None, period=period)
        assert len(board) == 1, period
        assert [s.user.username for s in board[0:5]] == [stays.username], period


def test_thirty_days_applies_the_daily_cap_per_fact_day(settings):
    settings.PEERHUB_REPUTATION = {"daily_vote_cap": 20}
    solution = make_solution()
    member = UserFactory()
    for _ in range(3):
        line(member, 10, days_ago=2, solution=solution, capped=True)  # 30, capped to 20
    line(member, 10, days_ago=3, solution=solution, capped=True)
    line(member, 7, days_ago=2, solution=solution)  # not capped: counts in full
    board = leaderboards.leaderboard(viewer=None, period="30d")
    assert names(board) == [(member.username, Decimal(37))]


def test_capped_totals_agree_with_the_score_rule(settings):
    settings.PEERHUB_REPUTATION = {"daily_vote_cap": 20}
    a, b = UserFactory.create_batch(2)
    for days_ago in (0, 0, 0, 1, 40):
        line(a, 10, days_ago=days_ago, capped=True)
    line(a, -2, days_ago=0, capped=True)
    line(b, 10, days_ago=3, capped=True, key="k")
    line(b, -10, days_ago=3, capped=True, key="k", seq=2)
    line(b, 4, days_ago=5)
    assert leaderboards.capped_totals(ReputationEvent.objects.all()) == (
        ledger.totals_from_ledger()
    )


def test_per_challenge_and_per_value_boards_filter_the_lines():
    green = ValueFactory(slug="green")
    fair = ValueFactory(slug="fair")
    water = ChallengeFactory(slug="water")
    water.values.set([green])
    roads = ChallengeFactory(slug="roads")
    roads.values.set([fair])
    on_water, on_roads = make_solution(water), make_solution(roads)
    wet, dry = UserFactory(username="wet"), UserFactory(username="dry")
    line(wet, 8, solution=on_water)
    line(dry, 3, solution=on_water)
    line(dry, 20, solution=on_roads)
    line(wet, 100)  # manifesto-like line: on no challenge board
    assert names(leaderboards.leaderboard(viewer=None, challenge=water)) == [
        ("wet", 8),
        ("dry", 3),
    ]
    assert names(leaderboards.leaderboard(viewer=None, value=fair)) == [("dry", 20)]
    assert names(leaderboards.leaderboard(viewer=None, value=green, challenge=roads)) == []


def private_setup():
    insider = UserFactory(username="insider")
    secret = ChallengeFactory(slug="secret", visibility=Challenge.Visibility.PRIVATE)
    secret.invited.add(insider)
    earner = UserFactory(username="earner")
    line(earner, 40, solution=make_solution(secret, author=secret.created_by))
    line(earner, 1, solution=make_solution())
    return insider, secret, earner


def test_private_challenge_lines_count_only_for_those_who_may_see_them(client):
    insider, secret, _earner = private_setup()
    assert names(leaderboards.leaderboard(viewer=None, period="30d")) == [("earner", 1)]
    assert names(leaderboards.leaderboard(viewer=insider, period="30d")) == [("earner", 41)]
    assert names(leaderboards.leaderboard(viewer=insider, challenge=secret)) == [("earner", 40)]

    assert client.get(URL, {"challenge": "secret"}).status_code == 404
    assert client.get(API, {"challenge": "secret"}).status_code == 404
    assert "secret" not in client.get(URL).content.decode()
    client.force_login(insider)
    response = client.get(URL, {"challenge": "secret", "period": "30d"})
    assert response.status_code == 200
    assert "earner" in response.content.decode()


def test_page_shows_tabs_filters_ranks_and_links(client):
    member = scored("amy", 30, display_name="Amy Ng")
    ValueFactory(name="Openness", slug="openness")
    html = client.get(URL).content.decode()
    assert f'href="{reverse("reputation:leaderboard")}"' in client.get("/").content.decode()
    assert 'aria-current="page">All time</a>' in html
    assert "?period=30d" in html
    assert '<option value="openness"' in html
    assert f'href="{member.get_absolute_url()}"' in html
    assert "Amy Ng" in html and "Regular" in html
    html = client.get(URL, {"period": "30d"}).content.decode()
    assert 'aria-current="page">Last 30 days</a>' in html
    assert "Nobody has earned reputation here yet in the last 30 days" in html
    assert client.get(URL, {"value": "nope"}).status_code == 404
    assert client.get(URL, {"period": "forever"}).status_code == 200


def test_api_shape_pagination_and_errors(client):
    for i, name in enumerate(["cy", "bo", "al"]):
        scored(name, 10 + i)
    body = client.get(API, {"page_size": 2}).json()
    assert body["count"] == 3
    assert body["results"][0] == {
        "rank": 1,
        "member": {"username": "al", "name": body["results"][0]["member"]["name"]},
        "score": "12.00",
        "score_points": 12,
        "trust_level": 2,
        "trust_level_name": "regular",
    }
    assert body["next"]
    second = client.get(body["next"]).json()
    assert [(r["rank"], r["member"]["username"]) for r in second["results"]] == [(3, "cy")]

    bad = client.get(API, {"period": "forever"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid"
    assert "period" in bad.json()["error"]["fields"]
    missing = client.get(API, {"value": "nope"})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert client.get(API, {"challenge": "nope"}).status_code == 404
    assert client.get("/api/").json()["links"]["leaderboard"].endswith(API)


def populate(count: int, solution) -> None:
    for i in range(count):
        member = scored(f"m{len(str(count))}x{i}", 10 + i)
        line(member, 5 + i, solution=solution)


@pytest.mark.parametrize("params", [{}, {"period": "30d"}, {"challenge": "c", "value": "v"}])
def test_leaderboard_queries_stay_bounded(client, django_assert_max_num_queries, params):
    value = ValueFactory(slug="v")
    challenge = ChallengeFactory(slug="c")
    challenge.values.set([value])
    solution = make_solution(challenge)
    populate(3, solution)
    with django_assert_max_num_queries(10) as small:
        assert client.get(URL, params).status_code == 200
    populate(40, solution)
    with django_assert_max_num_queries(len(small)):
        assert client.get(URL, params).status_code == 200
    with django_assert_max_num_queries(len(small)):
        assert client.get(API, params).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_real_votes_rank_the_author_on_the_thirty_day_board():
    solution = make_solution(title="Sand filter")
    for voter in UserFactory.create_batch(2):
        services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    board = leaderboards.leaderboard(viewer=None, period="30d", challenge=solution.challenge)
    assert names(board) == [(solution.author.username, Decimal(20))]
    everyone = leaderboards.leaderboard(viewer=None)
    assert names(everyone)[0] == (solution.author.username, Decimal(21))
