"""Lineage trees: the selectors that read them, the SVG that draws them, and the invariants that
every sequence of forks keeps."""

import random
import re
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from challenges import selectors, services
from challenges.lineage_svg import MAX_DEPTH, lineage_list, lineage_svg
from challenges.models import Challenge, Solution
from peerhub.exceptions import DomainError
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_organiser, make_solution

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    """A lineage across two challenges, one of them private:

        root (A, alice)
        └── f1 (A, bob)
            ├── f2 (B private, carol)
            │   └── f4 (B private, carol)
            │       └── f5 (A, carol)
            └── f3 (A, dave)

    plus an unrelated root r2 in A and a draft in A."""
    organiser = make_organiser()
    alice, bob, carol, dave = (
        UserFactory(display_name=n) for n in ("Alice", "Bob", "Carol", "Dave")
    )
    a = ChallengeFactory(created_by=organiser, title="Public A")
    b = ChallengeFactory(
        created_by=organiser, title="Private B", visibility=Challenge.Visibility.PRIVATE
    )
    b.invited.add(carol)
    root = make_solution(a, alice, title="Root")
    f1 = make_fork(root, bob)
    f2 = make_fork(f1, carol, challenge=b)
    f3 = make_fork(f1, dave)
    f4 = make_fork(f2, carol)
    f5 = make_fork(f4, carol, challenge=a)
    r2 = make_solution(a, bob, title="Another idea")
    draft = make_solution(a, dave, title="Unfinished", publish=False)
    return {
        **{"a": a, "b": b, "organiser": organiser, "alice": alice, "carol": carol, "dave": dave},
        **{"root": root, "f1": f1, "f2": f2, "f3": f3, "f4": f4, "f5": f5},
        **{"r2": r2, "draft": draft},
    }


# --- lineage_for -----------------------------------------------------------------------------


def test_lineage_for_reads_the_whole_tree_across_challenges(tree):
    lineage = selectors.lineage_for(user=tree["alice"], solution=tree["f3"])

    ids = {name: tree[name].pk for name in ("root", "f1", "f2", "f3", "f4", "f5")}
    assert set(lineage.nodes) == set(ids.values())
    assert lineage.size == 6
    assert lineage.root.id == ids["root"]
    assert lineage.current_id == ids["f3"]
    assert [node.id for node in lineage.ancestors] == [ids["root"], ids["f1"]]
    assert {name: lineage.nodes[pk].descendant_count for name, pk in ids.items()} == {
        "root": 5,
        "f1": 4,
        "f2": 2,
        "f3": 0,
        "f4": 1,
        "f5": 0,
    }
    assert [c.id for c in lineage.nodes[ids["f1"]].children] == [ids["f2"], ids["f3"]]
    assert lineage.nodes[ids["f5"]].challenge_slug == tree["a"].slug
    assert lineage.nodes[ids["f5"]].generation == 4


def test_lineage_nodes_match_the_stored_counters(tree, staff_user):
    lineage = selectors.lineage_for(user=staff_user, solution=tree["root"])
    stored = dict(Solution.objects.values_list("pk", "descendant_count"))
    assert {pk: node.descendant_count for pk, node in lineage.nodes.items()} == {
        pk: stored[pk] for pk in lineage.nodes
    }


@pytest.mark.parametrize(
    ("viewer", "sees_private"),
    [("anonymous", False), ("member", False), ("carol", True), ("organiser", True)],
)
def test_nodes_in_a_private_challenge_keep_their_place_anonymised(tree, viewer, sees_private):
    user = {"anonymous": AnonymousUser(), "member": UserFactory()}.get(viewer) or tree[viewer]

    data = selectors.lineage_for(user=user, solution=tree["f5"]).root.as_dict()

    [f1] = data["children"]
    f2 = f1["children"][0]
    f4 = f2["children"][0]
    f5 = f4["children"][0]
    if sees_private:
        assert (f2["id"], f2["title"], f2["challenge"]) == (tree["f2"].pk, "Root", tree["b"].slug)
        assert f2["author"] == tree["carol"].username
    else:
        for hidden in (f2, f4):
            assert hidden == {
                "id": None,
                "generation": hidden["generation"],
                "title": None,
                "author": None,
                "status": "private",
                "challenge": None,
                "url": None,
                "children": hidden["children"],
            }
    assert (f5["id"], f5["challenge"]) == (tree["f5"].pk, tree["a"].slug), "public again below"
    assert [f2["generation"], f4["generation"], f5["generation"]] == [2, 3, 4]


def test_the_api_shape_never_names_a_private_challenge(tree):
    data = str(selectors.lineage_for(user=AnonymousUser(), solution=tree["f3"]).root.as_dict())
    assert tree["b"].slug not in data
    assert str(tree["f2"].pk) not in re.findall(r"'id': (\d+)", data)


def test_other_members_drafts_are_left_out(tree):
    # Services only ever fork published solutions, so a draft inside a tree is made by hand
    # here: the selector must still keep it to its author.
    Solution.objects.filter(pk=tree["f3"].pk).update(status=Solution.Status.DRAFT)

    seen_by_dave = selectors.lineage_for(user=tree["dave"], solution=tree["f1"])
    seen_by_alice = selectors.lineage_for(user=tree["alice"], solution=tree["f1"])

    assert tree["f3"].pk in seen_by_dave.nodes
    assert tree["f3"].pk not in seen_by_alice.nodes
    assert tree["f3"].pk not in [c.id for c in seen_by_alice.nodes[tree["f1"].pk].children]
    assert seen_by_alice.nodes[tree["f1"].pk].descendant_count == 3


def test_a_draft_root_is_its_authors_own_lineage(tree):
    lineage = selectors.lineage_for(user=tree["dave"], solution=tree["draft"])
    assert set(lineage.nodes) == {tree["draft"].pk}


# --- challenge_lineage_forest ----------------------------------------------------------------


def test_the_forest_of_a_challenge_has_one_tree_per_root(tree):
    forest = selectors.challenge_lineage_forest(user=tree["alice"], challenge=tree["a"])

    assert [lineage.root.id for lineage in forest] == [tree["root"].pk, tree["r2"].pk]
    assert [lineage.size for lineage in forest] == [6, 1]
    assert set(forest[1].nodes) == {tree["r2"].pk}
    assert all(lineage.current_id is None and lineage.ancestors == [] for lineage in forest)


def test_the_forest_of_a_challenge_reaches_into_other_challenges(tree):
    """B holds only forks; its forest is the whole lineage they belong to, rooted in A."""
    forest = selectors.challenge_lineage_forest(user=tree["carol"], challenge=tree["b"])
    [lineage] = forest
    assert lineage.root.id == tree["root"].pk
    assert lineage.size == 6


def test_the_forest_leaves_out_drafts(tree):
    forest = selectors.challenge_lineage_forest(user=tree["dave"], challenge=tree["a"])
    assert tree["draft"].pk not in {pk for lineage in forest for pk in lineage.nodes}


# --- Big trees: bounded queries and a bounded drawing ---------------------------------------

CHAIN = 12


def grow(size: int, *, branches: int = 10, seed: int = 7) -> dict:
    """A tree of `size` solutions built by the real services: heavy branches under the root
    grown at random, and a thin chain of CHAIN forks under one light child of the root."""
    rng = random.Random(seed)
    challenge = ChallengeFactory()
    users = [UserFactory() for _ in range(5)]
    root = make_solution(challenge, users[0], title="Root")
    grown = [make_fork(root, users[i % 5]) for i in range(branches)]
    chain = [make_fork(root, users[1])]
    while len(chain) < CHAIN:
        chain.append(make_fork(chain[-1], users[2]))
    while 1 + len(grown) + len(chain) < size:
        grown.append(make_fork(rng.choice(grown), users[rng.randrange(5)]))
    return {"root": root, "chain": chain, "challenge": challenge, "viewer": users[0]}


@pytest.fixture
def big():
    return grow(500)


@pytest.fixture
def small():
    return grow(1 + 3 + CHAIN, branches=3)  # the root, three branches and the chain


def queries(run) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured.captured_queries)


def test_lineage_reads_run_the_same_few_queries_whatever_the_size(
    big, django_assert_max_num_queries
):
    viewer, deep = big["viewer"], big["chain"][-1]
    tiny_challenge = ChallengeFactory()
    tiny_root = make_solution(tiny_challenge, UserFactory())
    tiny = [tiny_root, *(make_fork(tiny_root) for _ in range(4))]

    with django_assert_max_num_queries(2):
        lineage = selectors.lineage_for(user=viewer, solution=deep)
    with django_assert_max_num_queries(3):
        [tree] = selectors.challenge_lineage_forest(user=viewer, challenge=big["challenge"])

    assert lineage.size == tree.size == 500
    assert queries(lambda: selectors.lineage_for(user=viewer, solution=tiny[-1])) == queries(
        lambda: selectors.lineage_for(user=viewer, solution=deep)
    )
    assert queries(
        lambda: selectors.challenge_lineage_forest(user=viewer, challenge=tiny_challenge)
    ) == queries(
        lambda: selectors.challenge_lineage_forest(user=viewer, challenge=big["challenge"])
    )


MARKER = re.compile(r"\+(\d+) (?:more|deeper)")


def drawn_ids(svg: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<a href="/solutions/(\d+)/"', svg)]


def assert_bounded_and_complete(svg: str, *, size: int, bound: int) -> None:
    """Few boxes, each solution drawn at most once, and the markers count all the rest."""
    assert svg.count("<g") + svg.count("<a ") <= bound
    drawn = drawn_ids(svg)
    assert len(set(drawn)) == len(drawn)
    hidden = [int(n) for n in MARKER.findall(svg)]
    assert hidden, "folded branches are shown as markers"
    assert len(drawn) + sum(hidden) == size


def test_a_500_node_lineage_is_drawn_bounded_and_with_the_whole_path_to_a_deep_node(big):
    viewer, deep = big["viewer"], big["chain"][-1]
    from_the_root = selectors.lineage_for(user=viewer, solution=big["root"])
    assert deep.generation == CHAIN > MAX_DEPTH
    light = from_the_root.nodes[big["chain"][0].pk]
    heavier = sorted(
        (c for c in from_the_root.root.children if c is not light),
        key=lambda c: -c.descendant_count,
    )
    assert light.descendant_count < heavier[5].descendant_count, "not among the most built-upon"

    svg = str(lineage_svg(from_the_root))

    assert_bounded_and_complete(svg, size=500, bound=200)
    assert 'aria-label="Lineage: 500 solutions"' in svg
    assert deep.pk not in drawn_ids(svg), "too deep and too light to be drawn unasked"

    svg = str(lineage_svg(selectors.lineage_for(user=viewer, solution=deep)))

    assert_bounded_and_complete(svg, size=500, bound=200 + CHAIN)
    assert {big["root"].pk, *(s.pk for s in big["chain"])} <= set(drawn_ids(svg))
    [highlighted] = re.findall(r'<a href="([^"]+)" class="[^"]*\bcurrent\b', svg)
    assert highlighted == deep.get_absolute_url()


def test_the_current_solution_is_highlighted(tree):
    lineage = selectors.lineage_for(user=tree["alice"], solution=tree["f3"])
    svg = str(lineage_svg(lineage))
    assert (
        re.findall(r'<a href="([^"]+)" class="([^"]+)"', svg).count(
            (tree["f3"].get_absolute_url(), "lineage-node status-published current")
        )
        == 1
    )
    assert svg.count(" current") == 1


def test_a_small_tree_is_drawn_whole(small):
    lineage = selectors.lineage_for(user=small["viewer"], solution=small["chain"][3])
    svg = str(lineage_svg(lineage))
    deeper = [int(n) for n in re.findall(r"\+(\d+) deeper", svg)]
    assert len(drawn_ids(svg)) + sum(deeper) == lineage.size == 1 + 3 + CHAIN
    assert sum(deeper) == CHAIN - MAX_DEPTH, "only the chain below MAX_DEPTH is folded"
    assert "more</text>" not in svg


def test_titles_are_escaped_in_the_picture(tree):
    evil = "<script>alert(1)</script>"
    fork = services.solution_fork(source=tree["f3"], by=UserFactory(display_name=evil), title=evil)
    lineage = selectors.lineage_for(user=tree["alice"], solution=fork)

    svg = str(lineage_svg(lineage, label='Lineage of "x" <y>'))

    assert "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg  # the full title, in the tooltip
    assert 'aria-label="Lineage of &quot;x&quot; &lt;y&gt;: 7 solutions"' in svg


def test_private_nodes_are_drawn_without_their_details(tree):
    lineage = selectors.lineage_for(user=AnonymousUser(), solution=tree["f5"])
    svg = str(lineage_svg(lineage))
    assert svg.count("A private solution") == 2
    assert tree["f2"].get_absolute_url() not in svg
    assert "Carol" in svg, "f5 is public: its author is named"
    assert svg.count("Carol") == 2  # f5's meta line and tooltip, never f2's or f4's


def test_a_withdrawn_solution_is_drawn_and_marked(tree):
    services.solution_withdraw(solution=tree["f1"], by=tree["f1"].author)
    svg = str(lineage_svg(selectors.lineage_for(user=tree["alice"], solution=tree["f3"])))
    assert "status-withdrawn" in svg
    assert "(withdrawn)" in svg


# --- Invariants under random fork sequences --------------------------------------------------

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["post", "fork", "fork", "fork", "revise", "withdraw"]),
        st.integers(min_value=0, max_value=99),  # which existing solution
        st.integers(min_value=0, max_value=1),  # which challenge
    ),
    min_size=1,
    max_size=14,
)


def run_operations(operations) -> tuple[list[Challenge], list[Solution]]:
    challenges = [ChallengeFactory(), ChallengeFactory()]
    users = [UserFactory() for _ in range(3)]
    solutions: list[Solution] = []
    for step, (kind, which, where) in enumerate(operations):
        if kind == "post" or not solutions:
            solutions.append(make_solution(challenges[where], users[step % 3], body=f"v{step}"))
            continue
        target = solutions[which % len(solutions)]
        target.refresh_from_db()
        if target.status == Solution.Status.WITHDRAWN:
            with pytest.raises(DomainError):
                services.solution_fork(source=target, by=users[step % 3])
        elif kind == "fork":
            fork = services.solution_fork(
                source=target, by=users[step % 3], challenge=challenges[where]
            )
            solutions.append(fork)
        elif kind == "revise":
            services.solution_revise(
                solution=target, by=target.author, title=target.title, body=f"v{step}"
            )
        else:
            services.solution_withdraw(solution=target, by=target.author)
    return challenges, solutions


def assert_lineage_invariants(challenges: list[Challenge]) -> None:
    rows = {s.pk: s for s in Solution.objects.select_related("current_revision")}
    for s in rows.values():
        parent = rows.get(s.parent_id)
        if parent is None:
            assert (s.generation, s.root_id, s.path) == (0, s.pk, f"/{s.pk}/")
            assert s.forked_from_revision_id is None
        else:
            assert s.generation == parent.generation + 1
            assert s.root_id == parent.root_id
            assert s.path == f"{parent.path}{s.pk}/"
            assert s.forked_from_revision.solution_id == parent.pk
            first = s.revisions.get(number=1)
            assert first.body == s.forked_from_revision.body
        descendants = [o for o in rows.values() if o.pk != s.pk and o.path.startswith(s.path)]
        assert s.descendant_count == len(descendants)
        assert s.fork_count == sum(1 for o in rows.values() if o.parent_id == s.pk)
        assert s.revision_count == s.current_revision.number == s.revisions.count()
    for challenge in challenges:
        challenge.refresh_from_db()
        published = Solution.objects.filter(challenge=challenge, status="published").count()
        assert challenge.solution_count == published


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_random_fork_sequences_keep_the_lineage_invariants(staff_user, operations):
    with transaction.atomic():
        challenges, solutions = run_operations(operations)

        assert_lineage_invariants(challenges)
        for solution in solutions:
            lineage = selectors.lineage_for(user=staff_user, solution=solution)
            assert lineage.nodes[solution.pk].descendant_count == (
                Solution.objects.get(pk=solution.pk).descendant_count
            )
            assert [a.id for a in lineage.ancestors] == solution.ancestor_ids

        transaction.set_rollback(True)  # every example starts from an empty database


def test_the_drawing_is_a_group_of_links_not_an_image(tree):
    """role="img" would hide the links inside from screen readers."""
    svg = str(lineage_svg(selectors.lineage_for(user=tree["alice"], solution=tree["f3"])))
    assert 'role="img"' not in svg
    assert re.match(r'<svg class="lineage-svg" [^>]*role="group"', svg)


def test_the_list_view_links_the_same_solutions_as_the_drawing_nested_by_parent(tree):
    lineage = selectors.lineage_for(user=tree["alice"], solution=tree["f3"])
    svg, listed = str(lineage_svg(lineage)), str(lineage_list(lineage))
    assert sorted(drawn_ids(listed)) == sorted(drawn_ids(svg))
    assert listed.count("<ul") == listed.count("</ul>")
    # f3 is the current one, and sits one level under f1, which sits under the root.
    f3 = tree["f3"].get_absolute_url()
    assert listed.count('aria-current="page"') == 1
    assert f'<a href="{f3}" aria-current="page">' in listed
    root_at = listed.index(f'href="{tree["root"].get_absolute_url()}"')
    f1_at = listed.index(f'href="{tree["f1"].get_absolute_url()}"')
    assert listed[:root_at].count("<ul") == 1
    assert listed[:f1_at].count("<ul") == 2
    assert listed[: listed.index(f3)].count("<ul") - listed[: listed.index(f3)].count("</ul>") == 3


def test_the_list_view_escapes_titles_and_keeps_folded_counts(big):
    lineage = selectors.lineage_for(user=big["viewer"], solution=big["root"])
    svg, listed = str(lineage_svg(lineage)), str(lineage_list(lineage))
    assert sorted(drawn_ids(listed)) == sorted(drawn_ids(svg))
    folded = [int(n) for n in re.findall(r"\+(\d+) (?:more|deeper)", listed)]
    assert len(drawn_ids(listed)) + sum(folded) == 500


def test_the_list_view_escapes_what_members_write(tree):
    tree["f3"].title = '<script>alert("x")</script>'
    tree["f3"].save(update_fields=["title"])
    listed = str(lineage_list(selectors.lineage_for(user=tree["alice"], solution=tree["f3"])))
    assert "<script>" not in listed
    assert "&lt;script&gt;" in listed


def test_a_drawing_is_kept_until_anything_it_shows_changes(tree):
    from django.utils import translation

    from challenges import lineage_svg as drawing

    viewer = tree["alice"]
    lineage = selectors.lineage_for(user=viewer, solution=tree["f3"])
    first = str(lineage_svg(lineage))
    with mock.patch.object(drawing, "_layout", side_effect=AssertionError("drawn again")):
        assert str(lineage_svg(lineage)) == first  # the same tree: read from the cache
    # A renamed solution, another language, another highlight: drawn again.
    renamed = selectors.lineage_for(user=viewer, solution=tree["f3"])
    next(iter(renamed.nodes.values())).title = "Renamed root"
    assert "Renamed root" in str(lineage_svg(renamed))
    with translation.override("fr"):
        assert str(lineage_svg(lineage)) != first
    assert str(lineage_svg(lineage, highlight=frozenset({tree["f3"].pk}))) != first
    assert str(lineage_svg(lineage)) == str(lineage_svg.uncached(lineage))
