"""The reputation-over-time chart: the series follows the score's rule (daily cap per fact day,
floor at 1), the SVG is accessible and escaped, and pages showing it stay bounded."""

from datetime import UTC, date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from reputation import ledger, services
from reputation.chart import Point, axis_date, reputation_chart, reputation_series
from reputation.models import ReputationScore, Vote
from tests.factories import UserFactory, make_solution

from .ledger_lines import line

pytestmark = pytest.mark.django_db


def today_minus(days: int):
    return timezone.now().astimezone(UTC).date() - timedelta(days=days)


def test_series_caps_votes_per_fact_day_and_floors_at_one(settings):
    settings.PEERHUB_REPUTATION = {"daily_vote_cap": 20}
    member = UserFactory()
    line(member, 10, days_ago=5)  # 11
    for _ in range(3):
        line(member, 10, days_ago=4, capped=True)  # +30 capped to +20: 31
    line(member, -50, days_ago=3)  # -19 underneath: shown as 1
    line(member, 5, days_ago=2)  # -14: still 1
    line(member, 40, days_ago=1)  # 26
    assert reputation_series(member) == [
        Point(today_minus(5), Decimal(11)),
        Point(today_minus(4), Decimal(31)),
        Point(today_minus(3), Decimal(1)),
        Point(today_minus(2), Decimal(1)),
        Point(today_minus(1), Decimal(26)),
    ]
    ledger.recompute_scores({member.pk})
    assert ReputationScore.objects.get(user=member).total == reputation_series(member)[-1].total


def test_a_reversed_vote_nets_out_within_its_key():
    member = UserFactory()
    line(member, 10, days_ago=2, capped=True, key="up:1:2")
    line(member, -10, days_ago=2, capped=True, key="up:1:2", seq=2)
    line(member, 3, days_ago=1)
    assert reputation_series(member) == [
        Point(today_minus(2), Decimal(1)),
        Point(today_minus(1), Decimal(4)),
    ]


def test_svg_is_accessible_and_has_no_script_or_inline_style():
    points = [Point(today_minus(9), Decimal(1)), Point(today_minus(0), Decimal("42.5"))]
    svg = str(reputation_chart(points, label="Reputation of Ada over time"))
    assert 'role="img"' in svg
    assert 'aria-label="Reputation of Ada over time: from 1 on' in svg
    assert "<title>Reputation of Ada over time</title>" in svg
    assert '<div class="visually-hidden"><table>' in svg
    assert f"<td>{today_minus(0).isoformat()}</td><td>42.5</td>" in svg
    assert svg.count('class="chart-point"') == 2
    assert "style=" not in svg and "<script" not in svg
    assert ">50<" in svg  # the y axis rounds up to a readable top
    assert axis_date(today_minus(9), "en") in svg


def test_axis_dates_are_written_in_the_readers_language():
    from django.utils import translation

    day = date(2026, 12, 3)
    assert axis_date(day, "en") == "Dec 3, 2026"
    assert axis_date(day, "fr") == "3 déc. 2026"
    assert axis_date(day, "ar") == "3 ديسمبر 2026"
    assert axis_date(day, "pt-br") == "3 de dez. de 2026"
    with translation.override("es"):
        svg = str(reputation_chart([Point(day, Decimal(1))], label="x"))
    assert ">3 dic 2026</text>" in svg


def test_text_is_escaped():
    points = [Point(today_minus(0), Decimal(3))]
    svg = str(reputation_chart(points, label="<script>alert(1)</script>"))
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg


def test_empty_history_says_so():
    assert "No reputation history yet." in str(reputation_chart([], label="x"))


def test_profile_and_history_show_the_chart_escaped(client):
    member = UserFactory(display_name="<script>alert(1)</script>")
    line(member, 12, days_ago=3)
    for url in (member.get_absolute_url(), f"/u/{member.username}/reputation/"):
        html = client.get(url).content.decode()
        assert '<svg class="chart-svg"' in html
        assert "<script>alert(1)" not in html
        assert "Reputation of &lt;script&gt;alert(1)&lt;/script&gt; over time" in html
        assert "<td>13</td>" in html


def test_profile_with_the_chart_stays_bounded(client, django_assert_max_num_queries):
    member = UserFactory()
    solution = make_solution(author=member)
    for days_ago in range(3):
        line(member, 5, days_ago=days_ago, solution=solution)
    url = member.get_absolute_url()
    with django_assert_max_num_queries(30) as small:
        assert client.get(url).status_code == 200
    for days_ago in range(3, 60):
        line(member, 5, days_ago=days_ago, solution=solution, capped=days_ago % 2 == 0)
    with django_assert_max_num_queries(len(small)):
        assert client.get(url).status_code == 200
    history = f"/u/{member.username}/reputation/"
    with django_assert_max_num_queries(len(small)):
        assert client.get(history).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_real_votes_move_the_chart():
    solution = make_solution()
    for voter in UserFactory.create_batch(3):
        services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    series = reputation_series(solution.author)
    assert series[-1].total == ReputationScore.objects.get(user=solution.author).total == 31


def test_series_is_read_from_the_boards_read_model_in_one_query(django_assert_num_queries):
    member = UserFactory()
    solution = make_solution(author=member)
    for days_ago in range(40):
        line(member, 3, days_ago=days_ago % 20, solution=solution, capped=days_ago % 3 == 0)
    with django_assert_num_queries(1):
        reputation_series(member)


@pytest.mark.django_db(transaction=True)
def test_series_equals_the_fold_over_the_whole_ledger(settings):
    """The read model gives what folding the member's ledger per fact key and day gives."""
    from reputation.leaderboards import fold_capped, per_key_lines
    from reputation.models import ReputationEvent

    settings.PEERHUB_REPUTATION = {"daily_vote_cap": 15}
    member = UserFactory()
    solution = make_solution(author=member)
    for days_ago in (9, 9, 7, 4, 4, 4, 1):
        line(member, 10, days_ago=days_ago, solution=solution, capped=True)
    line(member, -4, days_ago=7)
    line(member, 10, days_ago=4, capped=True, key="up:x", solution=solution)
    line(member, -10, days_ago=2, capped=True, key="up:x", seq=2, solution=solution)
    for voter in UserFactory.create_batch(2):
        services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    per_day = fold_capped(
        per_key_lines(ReputationEvent.objects.filter(beneficiary=member)),
        by=lambda row: row["day"],
    )
    running, expected = Decimal(1), []
    for day in sorted(per_day):
        running += per_day[day]
        expected.append(Point(day, max(Decimal(1), running)))
    assert reputation_series(member) == expected


def test_a_chart_is_drawn_once_per_points_label_and_language():
    from unittest import mock

    from django.utils import translation

    from reputation import chart

    points = [Point(today_minus(3), Decimal(1)), Point(today_minus(1), Decimal(7))]
    with mock.patch.object(chart, "draw_chart", wraps=chart.draw_chart) as draws:
        first = str(reputation_chart(points, label="Ada"))
        assert str(reputation_chart(list(points), label="Ada")) == first
        assert draws.call_count == 1
        moved = [*points, Point(today_minus(0), Decimal(9))]
        assert "<td>9</td>" in str(reputation_chart(moved, label="Ada"))
        reputation_chart(points, label="Grace")
        with translation.override("fr"):
            french = str(reputation_chart(points, label="Ada"))
        assert draws.call_count == 4
    assert axis_date(today_minus(3), "fr") in french and french != first
    assert first == str(chart.draw_chart(points, label="Ada"))
