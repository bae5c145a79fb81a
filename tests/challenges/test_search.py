"""Search over challenges, solutions and members: ranking, escaped snippets, filters,
visibility; full-text on PostgreSQL and the text-matching fallback on SQLite."""

import pytest
from django.urls import reverse
from django.utils import timezone

from challenges import search
from challenges.models import Challenge, Solution
from tests.conftest import using_postgres
from tests.factories import ChallengeFactory, UserFactory, ValueFactory, make_solution
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def titles(hits) -> list[str]:
    return [hit.title for hit in hits]


@pytest.fixture
def crafted():
    """Three solutions where the word sits in the title, in the body, or nowhere."""
    challenge = ChallengeFactory(title="Water for villages")
    in_title = make_solution(challenge, title="Ceramic filtration pots", body="Clay pots.")
    in_body = make_solution(
        challenge, title="Sand beds", body="Slow sand beds give good filtration over time."
    )
    make_solution(challenge, title="Rain tanks", body="Collect the rain.")
    return in_title, in_body


def test_a_title_match_outranks_a_body_match(crafted):
    hits = search.search(user=UserFactory(), q="filtration")["solution"]
    assert titles(hits) == ["Ceramic filtration pots", "Sand beds"]
    assert hits[0].rank > hits[1].rank


@pytest.mark.services
def test_full_text_on_postgresql_ranks_stems_and_highlights(postgres, crafted):
    # Stemming: "filtrations" finds "filtration"; the title match ranks first.
    hits = search.search(user=UserFactory(), q="filtrations", kind="solution")["solution"]
    assert titles(hits) == ["Ceramic filtration pots", "Sand beds"]
    hits = search.search(user=UserFactory(), q="filtration")["solution"]
    assert titles(hits) == ["Ceramic filtration pots", "Sand beds"]
    assert hits[0].rank > hits[1].rank
    assert "<mark>filtration</mark>" in hits[1].snippet
    assert Solution.objects.filter(search_vector__isnull=True).count() == 0


@pytest.mark.services
def test_the_vector_follows_every_new_revision_on_postgresql(postgres):
    from challenges import services

    solution = make_solution(title="Pumps", body="Hand pumps.")
    assert not search.search(user=UserFactory(), q="windmill")["solution"]
    services.solution_revise(
        solution=solution, by=solution.author, title="Pumps", body="A windmill pump."
    )
    assert titles(search.search(user=UserFactory(), q="windmill")["solution"]) == ["Pumps"]


def test_challenge_title_outranks_summary_outranks_body():
    ChallengeFactory(title="Other", summary="Nothing here", problem="Flooding rivers.")
    ChallengeFactory(title="Rivers", summary="Nothing here", problem="Nothing.")
    ChallengeFactory(title="Third", summary="Rivers rise", problem="Nothing.")
    hits = search.search(user=UserFactory(), q="rivers")["challenge"]
    assert titles(hits) == ["Rivers", "Third", "Other"]


def test_snippets_escape_html_so_highlights_cannot_inject_markup():
    make_solution(
        title="Alarm",
        body='<script>alert("x")</script> <img src=x onerror=alert(1)> flood alarm',
    )
    hit = search.search(user=UserFactory(), q="flood")["solution"][0]
    assert "<script>" not in hit.snippet and "<img" not in hit.snippet
    assert "&lt;" in hit.snippet or "&gt;" in hit.snippet  # shown as text, escaped
    assert "<mark>flood</mark>" in hit.snippet


def test_a_search_term_that_looks_like_markup_is_escaped_too():
    make_solution(title="Tags", body="Use <b>bold</b> sparingly.")
    hit = search.search(user=UserFactory(), q="b")["solution"]
    for h in hit:
        assert "<b>" not in h.snippet


def test_highlight_and_headline_helpers_escape_everything():
    snippet = search.highlight("a <i>pump</i> & a PUMP", ["pump"])
    assert snippet == "a &lt;i&gt;<mark>pump</mark>&lt;/i&gt; &amp; a <mark>PUMP</mark>"
    marked = search.safe_headline(f"<b>x</b> {search.START}pump{search.STOP}")
    assert marked == "&lt;b&gt;x&lt;/b&gt; <mark>pump</mark>"
    # A document carrying a lone marker loses highlighting, never its escaping.
    assert search.safe_headline(f"{search.START}<i>") == "&lt;i&gt;"


def test_private_challenges_and_their_solutions_stay_hidden():
    hidden = ChallengeFactory(title="Secret lagoon", visibility=Challenge.Visibility.PRIVATE)
    author = UserFactory()
    hidden.invited.add(author)
    make_solution(hidden, author, title="Lagoon plan", body="lagoon")
    stranger = UserFactory()
    results = search.search(user=stranger, q="lagoon")
    assert results["challenge"] == [] and results["solution"] == []
    mine = search.search(user=author, q="lagoon")
    assert titles(mine["challenge"]) == ["Secret lagoon"]
    assert titles(mine["solution"]) == ["Lagoon plan"]


def test_drafts_are_not_found():
    make_solution(title="Draft idea", body="lagoon", publish=False)
    ChallengeFactory(title="Draft lagoon", status=Challenge.Status.DRAFT)
    results = search.search(user=UserFactory(), q="lagoon")
    assert results["solution"] == [] and results["challenge"] == []


def test_filters_by_kind_status_and_value():
    value = ValueFactory(slug="openness")
    open_one = ChallengeFactory(title="Open bridges")
    open_one.values.add(value)
    ChallengeFactory(title="Closed bridges", status=Challenge.Status.CLOSED)
    UserFactory(username="bridgebuilder", display_name="Bridge Builder")
    everything = search.search(user=None, q="bridges")
    assert set(everything) == {"challenge", "solution", "member"}
    assert titles(search.search(user=None, q="bridges", status="closed")["challenge"]) == [
        "Closed bridges"
    ]
    assert titles(search.search(user=None, q="bridges", value="openness")["challenge"]) == [
        "Open bridges"
    ]
    assert "member" not in search.search(user=None, q="bridge", status="open")
    members = search.search(user=None, q="bridge", kind="member")
    assert list(members) == ["member"] and titles(members["member"]) == ["Bridge Builder"]


def test_every_word_must_match():
    make_solution(title="Solar lantern", body="Repairable with a screwdriver.")
    make_solution(title="Solar oven", body="Cooks rice.")
    hits = search.search(user=None, q="solar screwdriver")["solution"]
    assert titles(hits) == ["Solar lantern"]


def test_search_page_and_nav_box(client):
    make_solution(title="Biosand filter", body="A concrete box with sand.")
    html = client.get(reverse("home")).content.decode()
    assert 'action="/search/"' in html
    response = client.get(reverse("challenges:search"), {"q": "biosand"})
    html = response.content.decode()
    assert "1 result for “biosand”" in html and "Biosand filter" in html
    assert client.get(reverse("challenges:search")).status_code == 200
    assert client.get(reverse("challenges:search"), {"q": "x", "kind": "bogus"}).status_code == 200


def test_search_page_queries_stay_bounded(client, django_assert_max_num_queries):
    challenge = ChallengeFactory(title="Filters")
    make_solution(challenge, title="Filter one", body="filter")
    with django_assert_max_num_queries(10) as small:
        client.get(reverse("challenges:search"), {"q": "filter"})
    for n in range(10):
        make_solution(challenge, title=f"Filter {n}", body="filter")
    with django_assert_max_num_queries(len(small)):
        client.get(reverse("challenges:search"), {"q": "filter"})


def test_api_search(api_client):
    make_solution(title="Biosand filter", body="A concrete <b>box</b> with sand.")
    UserFactory(username="sandy", display_name="Sandy Shore")
    body = api_client.get("/api/search/", {"q": "sand"}).json()
    kinds = [hit["kind"] for hit in body["results"]]
    assert kinds == ["solution", "member"]
    assert "<mark>sand</mark>" in body["results"][0]["snippet"].lower()
    assert "<b>" not in body["results"][0]["snippet"]
    only = api_client.get("/api/search/", {"q": "sand", "kind": "member"}).json()
    assert only["count"] == 1 and only["results"][0]["url"] == "/u/sandy/"
    assert_error(api_client.get("/api/search/"), 400, "invalid")
    assert_error(api_client.get("/api/search/", {"q": "x", "status": "nope"}), 400, "invalid")


def test_the_fallback_is_what_sqlite_uses():
    assert search._use_full_text() == using_postgres()


# --- At a community's size (issue 17): a bounded candidate set, ranked ----------------------


def test_only_the_newest_matches_are_ranked(monkeypatch):
    """The best title match is older than the candidate set: the newest matches are ranked."""
    monkeypatch.setattr(search, "CANDIDATES", 3)
    challenge = ChallengeFactory(title="Ponds")
    make_solution(challenge, title="Pond liner", body="An old pond.")
    for n in range(3):
        make_solution(challenge, title=f"Newer {n}", body=f"Another pond, number {n}.")
    hits = search.search(user=None, q="pond", kind="solution")["solution"]
    assert sorted(titles(hits)) == ["Newer 0", "Newer 1", "Newer 2"]


def test_the_candidates_are_taken_among_what_the_searcher_may_see(monkeypatch):
    """Private matches newer than the public ones neither show nor crowd the public ones out."""
    monkeypatch.setattr(search, "CANDIDATES", 2)
    public = ChallengeFactory(title="Open ponds")
    hidden = ChallengeFactory(title="Hidden ponds", visibility=Challenge.Visibility.PRIVATE)
    make_solution(public, title="Public pond 1", body="pond")
    make_solution(public, title="Public pond 2", body="pond")
    insider = UserFactory()
    hidden.invited.add(insider)
    for n in range(3):
        make_solution(hidden, insider, title=f"Secret pond {n}", body="pond")
    stranger = search.search(user=UserFactory(), q="pond")
    assert sorted(titles(stranger["solution"])) == ["Public pond 1", "Public pond 2"]
    assert titles(stranger["challenge"]) == ["Open ponds"]
    # A member's candidates: the newest of what anyone may see, and the newest of what only
    # they may see (search._parts), each up to CANDIDATES.
    assert sorted(titles(search.search(user=insider, q="pond")["solution"])) == [
        "Public pond 1",
        "Public pond 2",
        "Secret pond 1",
        "Secret pond 2",
    ]


@pytest.mark.parametrize("kind", ["challenge", "solution"])
def test_a_members_search_runs_a_visitors_query_for_what_anyone_may_see(kind, monkeypatch):
    """Signed in, the public part is the very statement a visitor's search runs (so it takes
    the same GIN-indexed plan on PostgreSQL); only the member's own small part is added."""
    seen = []
    ranked = search._ranked

    def spy(queryset, *, parts, **kwargs):
        seen.append([str(part.query) for part in parts])
        return ranked(queryset, parts=parts, **kwargs)

    monkeypatch.setattr(search, "_ranked", spy)
    insider = UserFactory()
    ChallengeFactory(visibility=Challenge.Visibility.PRIVATE).invited.add(insider)
    search.search(user=None, q="pond", kind=kind)
    search.search(user=insider, q="pond", kind=kind)
    search.search(user=UserFactory(), q="pond", kind=kind)
    visitor, member, plain = seen
    assert len(visitor) == 1 and len(member) == 2
    assert member[0] == visitor[0]
    # A member who may see nothing beyond what anyone may: the visitor's statement, and for
    # solutions their own rows (which moderation may hide from others).
    assert plain[0] == visitor[0]
    assert len(plain) == (2 if kind == "solution" else 1)


def test_a_member_finds_what_only_they_may_see_and_nobody_else_does():
    organiser = UserFactory()
    private = ChallengeFactory(
        title="Quiet marsh", visibility=Challenge.Visibility.PRIVATE, organisers=[organiser]
    )
    guest, stranger = UserFactory(), UserFactory()
    private.invited.add(guest)
    make_solution(private, guest, title="Marsh reeds", body="marsh")
    draft = ChallengeFactory(
        title="Draft marsh", status=Challenge.Status.DRAFT, organisers=[organiser]
    )
    hidden = make_solution(title="Marsh of mine", body="marsh")
    Solution.objects.filter(pk=hidden.pk).update(hidden_at=timezone.now(), hidden_reason="spam")
    staff = UserFactory(is_staff=True, mfa=False)

    def found(user):
        results = search.search(user=user, q="marsh")
        return sorted(titles(results["challenge"]) + titles(results["solution"]))

    assert found(None) == found(stranger) == []
    assert found(guest) == ["Marsh reeds", "Quiet marsh"]
    assert found(organiser) == ["Marsh reeds", "Quiet marsh"]  # drafts are never found
    assert found(hidden.author) == ["Marsh of mine"]  # their own, hidden by moderation
    assert found(staff) == ["Marsh reeds", "Quiet marsh"]
    assert draft.title not in found(staff)


def test_member_search_ranks_a_bounded_set_of_the_newest_matches(monkeypatch):
    monkeypatch.setattr(search, "CANDIDATES", 2)
    UserFactory(username="oldpotter", display_name="Old Potter")
    UserFactory(username="ana", display_name="Ana", skills="pottery")
    UserFactory(username="ben", display_name="Ben", bio="I like potters.")
    UserFactory(username="gone", display_name="Gone Potter", is_active=False)
    assert titles(search.search_members(q="potter")) == ["Ana", "Ben"]  # skills before bio


@pytest.mark.parametrize("kind", ["", "challenge", "solution", "member"])
def test_search_runs_the_same_queries_at_two_sizes(kind, django_assert_max_num_queries):
    challenge = ChallengeFactory(title="Filters")
    make_solution(challenge, title="Filter one", body="filter")
    UserFactory(display_name="Filter fan")
    searcher = UserFactory()
    # Per kind: the challenges only some may see that the searcher may, the best ids, their
    # rows (members: the best ids and their rows).
    with django_assert_max_num_queries(7) as small:
        search.search(user=searcher, q="filter", kind=kind)
    for n in range(12):
        make_solution(ChallengeFactory(title=f"Filter {n}"), title=f"Filter {n}", body="filter")
        UserFactory(display_name=f"Filter fan {n}")
    with django_assert_max_num_queries(len(small)):
        results = search.search(user=searcher, q="filter", kind=kind)
    assert all(len(hits) > 1 for hits in results.values())


@pytest.mark.services
def test_member_search_can_use_the_trigram_indexes_on_postgresql(postgres):
    """The migration's pg_trgm indexes serve icontains on every member field searched."""
    from django.db import connection, transaction

    from peerhub.models import User

    # The member fields alone: with the public-member conditions joined in, the planner may
    # drive the query from the verified addresses' index instead, as the stats of the moment
    # make it cheaper, which says nothing about whether the trigram indexes serve the search.
    members = User.objects.filter(
        search._all_terms_q(["potter"], ["username", "display_name", "skills", "bio"])
    )
    sql, params = members.values("pk").query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # A handful of test rows make any plan cheap: rule out the scans that do not use them.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for index in ("username", "display_name", "skills", "bio"):
        index = f"user_{index}_trgm"
        assert index in plan, plan


# --- Each text in its own language (issue 22) ---------------------------------------------------

SPANISH_BODY = "Proponemos soluciones baratas para filtrar el agua del río."


@pytest.mark.services
@pytest.mark.parametrize("page_language", ["es", "en"])
def test_a_spanish_solution_is_found_by_an_inflected_word_on_postgresql(postgres, page_language):
    """Its vector is stemmed in Spanish ("soluciones baratas" → solucion, barat), and the query
    is parsed in every shipped language, so "solución barata" finds it from any page."""
    from django.utils import translation

    spanish = make_solution(title="Filtros de arena", body=SPANISH_BODY)
    make_solution(title="Sand beds", body="Cheap filtration through layers of sand.")
    assert spanish.language == "es"
    with translation.override(page_language):
        hits = search.search(user=UserFactory(), q="solución barata", kind="solution")
        assert titles(hits["solution"]) == ["Filtros de arena"]
        assert "<mark>" in hits["solution"][0].snippet
        # English texts are found as before: by an English inflection.
        hits = search.search(user=UserFactory(), q="filtrations", kind="solution")
        assert titles(hits["solution"]) == ["Sand beds"]


@pytest.mark.services
def test_each_vector_uses_its_languages_configuration_on_postgresql(postgres):
    from django.contrib.postgres.search import SearchQuery

    spanish = make_solution(title="Filtros", body=SPANISH_BODY)
    english = make_solution(title="Filters", body="Cheap solutions to filter the river's water.")
    stemmed_spanish = SearchQuery("barat", config="simple", search_type="raw")
    assert list(Solution.objects.filter(search_vector=stemmed_spanish)) == [spanish]
    # The words as written are in every vector, whatever the language.
    written = SearchQuery("soluciones", config="simple")
    assert list(Solution.objects.filter(search_vector=written)) == [spanish]
    assert list(Solution.objects.filter(search_vector=SearchQuery("solut", config="simple"))) == [
        english
    ]
    arabic = ChallengeFactory(title="مياه نظيفة", summary="مرشحات المياه للقرى", language="ar")
    hits = search.search(user=UserFactory(), q="المياه", kind="challenge")["challenge"]
    assert arabic.pk in [hit.id for hit in hits]


@pytest.mark.services
def test_changing_a_solutions_language_rebuilds_its_vector_on_postgresql(postgres):
    from challenges import services

    solution = make_solution(title="Filtros", body=SPANISH_BODY, language="en")
    assert not search.search(user=UserFactory(), q="solución barata")["solution"]
    services.solution_revise(
        solution=solution, by=solution.author, title="Filtros", body=SPANISH_BODY, language="es"
    )
    assert titles(search.search(user=UserFactory(), q="solución barata")["solution"]) == ["Filtros"]


def test_the_fallback_finds_texts_in_any_language_by_their_words():
    make_solution(title="Filtros", body=SPANISH_BODY)
    hits = search.search(user=UserFactory(), q="soluciones baratas", kind="solution")
    assert titles(hits["solution"]) == ["Filtros"]
