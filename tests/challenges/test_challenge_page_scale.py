"""A big challenge's page stays small and bounded: the discussion a page of threads at a time
with their first replies, one reply form loaded on demand, Markdown rendered once when written,
a bounded lineage overview; and the same number of queries whatever the size."""

import random

import pytest
from django.core.management import call_command
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from challenges import selectors, services
from challenges.management.commands.bench_challenge_page import build_big_challenge
from challenges.models import Challenge, Comment, Revision
from challenges.rendering import link_comment_threads, rerender_markdown
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_organiser, make_solution

pytestmark = pytest.mark.django_db

PAGE_BUDGET = 12  # queries of the page's own, beyond the session and the member


@pytest.fixture
def organiser():
    return make_organiser(username="olga")


@pytest.fixture
def challenge(organiser):
    return ChallengeFactory(organisers=[organiser], created_by=organiser, slug="clean-water")


def comment(target, body="Hello", parent=None, author=None):
    return services.comment_create(
        author=author or UserFactory(), target=target, body=body, parent=parent
    )


def html_of(response) -> str:
    return response.content.decode()


# --- Paginated discussion --------------------------------------------------------------------


def test_the_page_shows_one_page_of_threads_and_links_to_the_next(client, challenge):
    author = UserFactory()
    roots = [comment(challenge, f"Thread number {i}", author=author) for i in range(17)]
    html = html_of(client.get(challenge.get_absolute_url()))
    assert "Thread number 14" in html and "Thread number 15" not in html
    assert "?cpage=2#discussion" in html and "More threads" in html

    html = html_of(client.get(challenge.get_absolute_url() + "?cpage=2"))
    assert "Thread number 15" in html and "Thread number 16" in html
    assert "Thread number 0<" not in html and "Earlier threads" in html
    assert f'id="comment-{roots[16].pk}"' in html


def test_more_threads_with_htmx_answers_only_the_next_threads(client, challenge):
    author = UserFactory()
    for i in range(17):
        comment(challenge, f"Thread number {i}", author=author)
    url = reverse("challenges:discussion-threads", args=["challenge", challenge.slug])
    response = client.get(url + "?cpage=2", headers={"HX-Request": "true"})
    html = html_of(response)
    assert "<html" not in html and "Thread number 16" in html and "Thread number 3<" not in html
    # Without htmx the same link is that page of the challenge.
    response = client.get(url + "?cpage=2")
    assert response.status_code == 302
    assert response["Location"].endswith("?cpage=2#discussion")


def test_a_thread_shows_its_first_replies_and_loads_the_rest_on_demand(client, challenge):
    root = comment(challenge, "The root")
    replies = [comment(challenge, f"Reply number {i}", parent=root) for i in range(8)]
    html = html_of(client.get(challenge.get_absolute_url()))
    assert "Reply number 4" in html and "Reply number 5" not in html
    assert "3 more replies" in html

    url = reverse("challenges:comment-thread", args=[root.pk])
    fragment = html_of(client.get(url, headers={"HX-Request": "true"}))
    assert "<html" not in fragment and "Reply number 7" in fragment
    assert "more replies" not in fragment
    page = html_of(client.get(url))
    assert "<html" in page and "Reply number 7" in page
    # A reply's thread address leads to its top-level comment's.
    response = client.get(reverse("challenges:comment-thread", args=[replies[3].pk]))
    assert response["Location"] == url


def test_nested_replies_keep_their_place_and_depth(challenge):
    root = comment(challenge, "Root")
    child = comment(challenge, "Child", parent=root)
    grandchild = comment(challenge, "Grandchild", parent=child)
    assert grandchild.thread_id == root.pk and child.thread_id == root.pk
    _page, [node] = selectors.discussion_page(target=challenge, number=1)
    [child_node] = node.replies
    [grandchild_node] = child_node.replies
    assert (child_node.depth, grandchild_node.depth) == (1, 2)
    assert node.reply_total == 2 and node.replies_hidden == 0


def test_a_permalink_leads_to_the_page_and_anchor_of_its_comment(client, challenge):
    author = UserFactory()
    roots = [comment(challenge, f"Thread {i}", author=author) for i in range(16)]
    late_root = roots[15]
    early_reply = comment(challenge, "Early reply", parent=late_root)
    response = client.get(reverse("challenges:comment-permalink", args=[early_reply.pk]))
    assert response["Location"] == (
        f"{challenge.get_absolute_url()}?cpage=2#comment-{early_reply.pk}"
    )
    response = client.get(reverse("challenges:comment-permalink", args=[roots[0].pk]))
    assert response["Location"].endswith(f"?cpage=1#comment-{roots[0].pk}")
    # Past the first replies of its thread: the thread opened in full.
    later = [comment(challenge, f"Later {i}", parent=late_root) for i in range(6)]
    response = client.get(reverse("challenges:comment-permalink", args=[later[-1].pk]))
    thread_url = reverse("challenges:comment-thread", args=[late_root.pk])
    assert response["Location"] == f"{thread_url}#comment-{later[-1].pk}"


def test_a_permalink_of_an_invisible_comment_is_404(client, organiser):
    draft = ChallengeFactory(organisers=[organiser], status=Challenge.Status.DRAFT, slug="d")
    hidden = Comment.objects.create(author=organiser, challenge=draft, body="Secret")
    for name in ("comment-permalink", "comment-thread"):
        assert client.get(reverse(f"challenges:{name}", args=[hidden.pk])).status_code == 404
    assert client.get("/comments/999999/").status_code == 404


def test_one_reply_form_is_loaded_on_demand_not_one_per_comment(client, challenge):
    root = comment(challenge, "Root")
    for i in range(3):
        comment(challenge, f"Reply {i}", parent=root)
    member = UserFactory()
    client.force_login(member)
    html = html_of(client.get(challenge.get_absolute_url()))
    assert html.count("<textarea") == 1  # the top-level comment form only
    assert reverse("challenges:comment-reply", args=[root.pk]) in html

    url = reverse("challenges:comment-reply", args=[root.pk])
    fragment = html_of(client.get(url, headers={"HX-Request": "true"}))
    assert "<html" not in fragment and f'name="parent" value="{root.pk}"' in fragment
    page = html_of(client.get(url))
    assert "<html" in page and f'name="parent" value="{root.pk}"' in page


def test_no_reply_form_for_visitors_or_removed_comments(client, challenge):
    root = comment(challenge, "Root")
    url = reverse("challenges:comment-reply", args=[root.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(root.author)
    services.comment_delete(comment=root, by=root.author)
    assert client.get(url).status_code == 404


def test_a_reply_posted_with_htmx_answers_its_page_with_the_thread_in_full(client, challenge):
    author = UserFactory()
    roots = [comment(challenge, f"Thread {i}", author=author) for i in range(16)]
    target = roots[15]
    for i in range(6):
        comment(challenge, f"Earlier reply {i}", parent=target)
    client.force_login(UserFactory())
    url = reverse("challenges:comment-create", args=["challenge", challenge.slug])
    response = client.post(
        url, {"body": "My late reply", "parent": target.pk}, headers={"HX-Request": "true"}
    )
    html = html_of(response)
    assert "My late reply" in html and "Thread 15" in html and "Thread 0<" not in html
    # Without htmx: to the new comment's permalink.
    response = client.post(url, {"body": "Plain reply", "parent": target.pk})
    new = Comment.objects.get(body="Plain reply")
    assert response["Location"] == reverse("challenges:comment-permalink", args=[new.pk])


# --- Markdown rendered at write time -----------------------------------------------------------


def test_markdown_is_rendered_when_written_and_again_when_edited(challenge):
    posted = comment(challenge, "Some **bold** <script>alert(1)</script>")
    assert "<strong>bold</strong>" in posted.body_html and "<script" not in posted.body_html
    edited = services.comment_edit(comment=posted, by=posted.author, body="Now *italic*")
    assert edited.body_html.strip() == "<p>Now <em>italic</em></p>"
    deleted = services.comment_delete(comment=edited, by=edited.author)
    deleted.refresh_from_db()
    assert deleted.body_html == "" and deleted.body == ""


def test_a_revision_stores_its_rendered_body(challenge):
    solution = make_solution(challenge)
    revision = solution.current_revision
    assert revision.body_html and revision.rendered_body == revision.body_html


def test_the_command_renders_revisions_again_though_they_are_immutable(challenge):
    revision = make_solution(challenge).current_revision
    models.QuerySet(Revision).filter(pk=revision.pk).update(body_html="<p>stale</p>")
    assert rerender_markdown(Revision) >= 1
    revision.refresh_from_db()
    assert revision.body_html and "stale" not in revision.body_html
    with pytest.raises(TypeError):  # the body itself still cannot be changed
        Revision.objects.filter(pk=revision.pk).update(body="changed")


def test_rows_without_html_are_rendered_on_read_and_by_the_command(challenge, client):
    posted = comment(challenge, "Some **bold**")
    Comment.objects.filter(pk=posted.pk).update(body_html="")
    assert "<strong>bold</strong>" in html_of(client.get(challenge.get_absolute_url()))
    call_command("rerender_markdown", "--missing", stdout=open("/dev/null", "w"))  # noqa: SIM115
    posted.refresh_from_db()
    assert "<strong>bold</strong>" in posted.body_html
    Comment.objects.filter(pk=posted.pk).update(body_html="<p>stale</p>")
    assert rerender_markdown(Comment, missing_only=True) == 0
    assert rerender_markdown(Comment) == 1
    posted.refresh_from_db()
    assert "stale" not in posted.body_html


def test_existing_replies_are_linked_to_their_threads(challenge):
    root = comment(challenge, "Root")
    child = comment(challenge, "Child", parent=root)
    grandchild = comment(challenge, "Grandchild", parent=child)
    Comment.objects.update(thread=None)
    link_comment_threads(Comment)
    child.refresh_from_db()
    grandchild.refresh_from_db()
    assert child.thread_id == root.pk and grandchild.thread_id == root.pk
    assert Comment.objects.get(pk=root.pk).thread_id is None


# --- Lineage overview --------------------------------------------------------------------------


def test_the_overview_draws_the_most_built_upon_lineages_bounded(challenge):
    small = make_solution(challenge, title="Small root")
    make_fork(small)
    big = make_solution(challenge, title="Big root")
    for _ in range(5):
        make_fork(big)
    make_solution(challenge, title="Alone")
    forest, more = selectors.challenge_lineage_overview(
        user=UserFactory(), challenge=challenge, trees=1, per_tree=4
    )
    [lineage] = forest
    assert lineage.root.id == big.pk and more == 1
    assert lineage.size == 4 and lineage.total == 6 and lineage.truncated


def test_the_overview_leaves_out_other_members_drafts(challenge):
    root = make_solution(challenge)
    make_fork(root)
    draft_author = UserFactory()
    draft = make_solution(challenge, author=draft_author, publish=False)
    forest, _more = selectors.challenge_lineage_overview(user=UserFactory(), challenge=challenge)
    assert draft.pk not in {pk for lineage in forest for pk in lineage.nodes}


def test_the_challenge_page_links_a_truncated_lineage_to_its_whole_tree(client, challenge):
    root = make_solution(challenge, title="Big root")
    for _ in range(3):
        make_fork(root)
    from challenges import selectors as module

    original = module.FOREST_NODES_PER_TREE
    module.challenge_lineage_overview.__kwdefaults__["per_tree"] = 2
    try:
        html = html_of(client.get(challenge.get_absolute_url()))
    finally:
        module.challenge_lineage_overview.__kwdefaults__["per_tree"] = original
    assert "the first 2 of 4 solutions" in html
    assert reverse("challenges:solution-lineage", args=[root.pk]) in html


# --- Bounded queries at two sizes ------------------------------------------------------------


def page_queries(client, challenge, *, member=None) -> int:
    if member is not None:
        client.force_login(member)
    url = challenge.get_absolute_url()
    client.get(url)  # the session and caches settle first
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_page_runs_as_many_queries_for_a_big_challenge_as_for_a_small_one(
    client, page_cache_off
):
    # The cost of rendering, not of a kept fragment (with Redis: a fragment kept from the
    # settling visit runs one query fewer, unless the rows' ages moved between the visits).
    small = build_big_challenge(
        random.Random(1),
        users=6,
        solutions=6,
        other_solutions=0,
        comments=8,
        slug="small",
        big_lineage=2,
    )
    big = build_big_challenge(
        random.Random(2),
        users=40,
        solutions=260,
        other_solutions=30,
        comments=300,
        slug="big",
        big_lineage=220,
    )
    assert Comment.objects.filter(challenge=big).count() == 300
    counts = {}
    for name, challenge in (("small", small), ("big", big)):
        client.logout()
        anonymous = page_queries(client, challenge)
        signed_in = page_queries(client, challenge, member=challenge.organisers.get())
        counts[name] = (anonymous, signed_in)
    assert counts["small"] == counts["big"], counts
    print(counts)


@pytest.mark.parametrize("cpage", ["abc", "-1", "999", "1e9", ""])
def test_a_bad_discussion_page_number_is_never_an_error(client, challenge, cpage):
    comment(challenge, "Only thread")
    response = client.get(challenge.get_absolute_url(), {"cpage": cpage})
    assert response.status_code == 200 and "Only thread" in html_of(response)
    url = reverse("challenges:discussion-threads", args=["challenge", challenge.slug])
    assert client.get(url, {"cpage": cpage}, headers={"HX-Request": "true"}).status_code == 200
    assert client.get(url, {"cpage": cpage}).status_code == 302
