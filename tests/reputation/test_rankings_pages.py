"""The challenge page ordered by rank with its fitness bars and explanations, the rankings page,
the evolution view and their API twins; query budgets at 1,000 solutions."""

import random
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from challenges.models import Solution
from reputation import fitness
from reputation.models import SolutionScore, Vote
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def population(challenge, n: int, *, seed: int = 5) -> list[Solution]:
    """n published solutions in a few lineages, with votes, in bulk (no services: speed)."""
    rng = random.Random(seed)
    authors = UserFactory.create_batch(8)
    source_revision = make_solution(challenge, authors[0]).current_revision
    rows: list[Solution] = []
    for i in range(n):
        parent = rows[rng.randrange(len(rows))] if rows and rng.random() < 0.6 else None
        solution = Solution(
            challenge=challenge,
            author=authors[i % len(authors)],
            title=f"Solution {i}",
            status=Solution.Status.PUBLISHED,
            published_at=challenge.created_at,
            parent=parent,
            root=None,
            generation=parent.generation + 1 if parent else 0,
            forked_from_revision=source_revision if parent else None,
        )
        Solution.objects.bulk_create([solution])  # one by one: forks need their parent's id
        solution.root_id = parent.root_id if parent else solution.pk
        solution.path = f"{parent.path if parent else '/'}{solution.pk}/"
        rows.append(solution)
    Solution.objects.bulk_update(rows, ["root", "path"])
    Vote.objects.bulk_create(
        Vote(solution=s, voter=v, value=rng.choice([1, 1, -1]))
        for s in rows
        for v in rng.sample(authors, 3)
        if v.pk != s.author_id
    )
    return rows


@pytest.fixture
def ranked():
    challenge = ChallengeFactory()
    a = make_solution(challenge, title="Well liked")
    b = make_solution(challenge, title="Less liked")
    Vote.objects.bulk_create(
        Vote(solution=a, voter=v, value=1) for v in UserFactory.create_batch(9)
    )
    make_fork(a)
    fitness.recompute_challenge(challenge.pk)
    return challenge, a, b


def test_the_challenge_page_orders_by_rank_and_explains_each_rank(client, ranked):
    challenge, _a, _b = ranked
    html = client.get(challenge.get_absolute_url()).content.decode()
    assert html.index("Well liked") < html.index("Less liked")
    assert 'aria-label="Fitness ' in html
    assert "Rank 1 · fitness" in html and "why this rank?" in html
    assert "Wilson lower bound" in html
    assert "No marketplace service is based on this solution yet." in html
    assert 'href="?sort=rank#solutions" aria-current="true"' in html
    for sort in ("newest", "forked", "reviewed", "discussed"):
        assert client.get(f"{challenge.get_absolute_url()}?sort={sort}").status_code == 200
    assert f'href="{reverse("reputation:evolution", args=[challenge.slug])}"' in html


def test_a_copys_row_says_why_it_has_no_rank(client, ranked):
    challenge, a, _b = ranked
    copy = make_fork(a, changed=False)
    fitness.recompute_challenge(challenge.pk)
    html = client.get(challenge.get_absolute_url()).content.decode()
    note = "A copy of the solution it forks: a copy has no rank, its source is ranked."
    assert html.count(note) == 1
    assert html.count("No rank · fitness") == 1
    # Unranked, the copy's row comes after the ranked ones, its note with it.
    assert html.index(note) > html.index(f'href="{copy.get_absolute_url()}"')
    assert html.index(f'href="{copy.get_absolute_url()}"') > html.index("Less liked")


def test_challenge_page_queries_do_not_grow_with_1000_solutions(
    client, django_assert_max_num_queries
):
    challenge = ChallengeFactory()
    population(challenge, 999)
    fitness.recompute_challenge(challenge.pk)
    assert SolutionScore.objects.filter(challenge=challenge, rank__isnull=False).count() == 1000
    with django_assert_max_num_queries(30):
        response = client.get(challenge.get_absolute_url())
    assert response.status_code == 200
    assert response.content.decode().count('class="fitness-row"') == 25


def test_evolution_view_queries_do_not_grow_with_1000_solutions(
    client, django_assert_max_num_queries
):
    challenge = ChallengeFactory()
    population(challenge, 999)
    fitness.recompute_challenge(challenge.pk)
    url = reverse("reputation:evolution", args=[challenge.slug])
    with django_assert_max_num_queries(20):
        response = client.get(url)
    html = response.content.decode()
    assert "Fitness per generation" in html
    assert 'class="lineage-node status-published fittest"' in html
    assert "<script" not in html.split("</header>", 2)[-1].split("<footer", 1)[0]
    with django_assert_max_num_queries(20):
        api = client.get(f"/api/challenges/{challenge.slug}/evolution/")
    data = api.json()
    assert sum(g["count"] for g in data["generations"]) == 1000
    assert data["lineages"][0]["fittest_branch"]


def test_rankings_page_lists_the_fittest_and_the_most_built_upon(
    client, ranked, django_assert_max_num_queries
):
    _challenge, _a, _b = ranked
    with django_assert_max_num_queries(12):
        html = client.get(reverse("reputation:rankings")).content.decode()
    assert "Well liked" in html
    html = client.get(reverse("reputation:rankings") + "?board=built-upon").content.decode()
    assert "Well liked" in html and "1 solution" in html and "Less liked" not in html
    assert 'href="/rankings/"' in client.get("/").content.decode()


def test_private_challenges_stay_out_of_the_rankings(client, api_client):
    private = ChallengeFactory(visibility="private")
    insider = UserFactory()
    private.invited.add(insider)
    make_solution(private, insider, title="Hidden gem")
    fitness.recompute_challenge(private.pk)
    assert "Hidden gem" not in client.get(reverse("reputation:rankings")).content.decode()
    assert api_client.get("/api/rankings/").json()["results"] == []
    assert_error(api_client.get(f"/api/challenges/{private.slug}/rankings/"), 404)


def test_the_rankings_and_score_api(api_client, ranked):
    challenge, a, b = ranked
    ranking = api_client.get(f"/api/challenges/{challenge.slug}/rankings/").json()
    ids = [row["solution"]["id"] for row in ranking["results"]]
    assert ids[0] == a.pk and b.pk in ids and len(ids) == 3  # a, b and the fork of a
    score = api_client.get(f"/api/solutions/{a.pk}/score/").json()
    assert score["rank"] == 1
    assert sum(Decimal(c["points"]) for c in score["components"]) == Decimal(score["fitness"])
    assert [c["name"] for c in score["components"]] == list(fitness.COMPONENTS)
    assert_error(api_client.get(f"/api/solutions/{make_solution().pk}/score/"), 404)
    assert_error(api_client.get("/api/rankings/?board=nope"), 400)
    built = api_client.get("/api/rankings/?board=built-upon").json()["results"]
    assert [row["solution"]["id"] for row in built] == [a.pk]


def test_the_measure_is_one_statement(ranked, django_assert_num_queries):
    """One statement, plus the marketplace's two for adoption (offers, completed orders)."""
    challenge, _a, _b = ranked
    with django_assert_num_queries(3):
        fitness.measure_challenge(challenge.pk)
    assert connection.vendor in {"sqlite", "postgresql"}


def test_evolution_shows_the_trees_of_the_fittest_first_and_counts_the_rest(monkeypatch):
    from reputation import evolution

    monkeypatch.setattr(evolution, "LINEAGES_SHOWN", 2)
    challenge = ChallengeFactory()
    viewer = UserFactory()
    weak, strong, middle, unscored = (make_solution(challenge) for _ in range(4))
    strong_fork = make_fork(strong)
    fitness.recompute_challenge(challenge.pk)
    values = {weak: 10, strong: 20, strong_fork: 90, middle: 50}
    for solution, value in values.items():
        SolutionScore.objects.filter(solution=solution).update(fitness=value)
    SolutionScore.objects.filter(solution=unscored).delete()

    result = evolution.evolution(user=viewer, challenge=challenge)

    # The tree whose best (the fork's 90) is highest first, then the middle one; two more.
    assert [lineage.root.id for lineage, _branch in result.lineages] == [strong.pk, middle.pk]
    assert result.more_lineages == 2
    assert set(result.lineages[0][0].nodes) == {strong.pk, strong_fork.pk}
    assert result.lineages[0][1] == frozenset({strong.pk, strong_fork.pk})


def test_the_evolution_charts_count_label_stays_inside_the_drawing():
    import re
    from decimal import Decimal

    from reputation import evolution

    points = [
        evolution.Generation(generation=g, count=c, best=Decimal(40), mean=Decimal(30))
        for g, c in ((0, 12), (1, 7))
    ]
    svg = str(evolution.evolution_chart(points, label="Fitness"))
    x, label = re.search(r'chart-label-y" x="([\d.]+)" y="[\d.]+">(\d+ solutions)<', svg).groups()
    assert label == "12 solutions"
    assert float(x) <= evolution.WIDTH - evolution.RIGHT  # it ends there (text-anchor: end)
