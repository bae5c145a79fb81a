"""The HTML pages of challenges: each page renders, refuses what it must, and stays bounded in
queries as data grows."""

import re

import pytest
from django.urls import reverse

from challenges import services
from challenges.models import Challenge, Comment, Solution, UpstreamProposal
from tests.factories import (
    ChallengeFactory,
    UserFactory,
    ValueFactory,
    make_fork,
    make_organiser,
    make_solution,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def organiser():
    return make_organiser(username="olga")


@pytest.fixture
def challenge(organiser):
    return ChallengeFactory(organisers=[organiser], created_by=organiser, slug="clean-water")


def login(client, user):
    client.force_login(user)
    return client


# --- Challenges ------------------------------------------------------------------------------


def test_challenge_list_filters_by_status_value_and_tag(client):
    water = ValueFactory(slug="impact", name="Impact")
    open_one = ChallengeFactory(title="Open water")
    open_one.values.add(water)
    services.challenges.tags_from_names(["water"])
    open_one.tags.set(services.tags_from_names(["water"]))
    ChallengeFactory(title="Closed roads", status=Challenge.Status.CLOSED)
    ChallengeFactory(title="Secret draft", status=Challenge.Status.DRAFT)

    html = client.get(reverse("challenges:list")).content.decode()
    assert "Open water" in html and "Closed roads" in html
    assert "Secret draft" not in html

    html = client.get(reverse("challenges:list"), {"status": "closed"}).content.decode()
    assert "Closed roads" in html and "Open water" not in html
    html = client.get(reverse("challenges:list"), {"value": "impact"}).content.decode()
    assert "Open water" in html and "Closed roads" not in html
    html = client.get(reverse("challenges:list"), {"tag": "water", "q": "open"}).content.decode()
    assert "Open water" in html and "Closed roads" not in html


def test_challenge_list_ignores_an_unknown_status_and_sort(client):
    ChallengeFactory(title="Open water")
    response = client.get(reverse("challenges:list"), {"status": "bogus", "sort": "bogus"})
    assert response.status_code == 200
    assert "Open water" in response.content.decode()


def test_challenge_page_shows_framing_criteria_values_and_organisers(client, challenge):
    challenge.values.add(ValueFactory(name="Openness", slug="openness"))
    html = client.get(challenge.get_absolute_url()).content.decode()
    assert challenge.title in html
    assert "<strong>problem</strong>" in html  # Markdown rendered
    assert "Why it matters" in html
    assert "Works" in html and "Affordable" in html
    assert 'href="/manifesto/#value-openness"' in html
    assert "olga" in html or challenge.organisers.first().name in html


def test_organiser_frames_and_opens_a_challenge(client, organiser):
    value = ValueFactory(slug="commons", name="Commons")
    login(client, organiser)
    response = client.post(
        reverse("challenges:create"),
        {
            "title": "Repairable lantern",
            "summary": "A solar lantern anyone can repair.",
            "problem": "Lanterns break and are thrown away.",
            "context": "E-waste grows.",
            "criteria": "Repairable: with a screwdriver\nCheap",
            "values": [value.pk],
            "tags": "solar, repair",
            "visibility": "public",
            "licence": "CC BY-SA 4.0",
        },
    )
    challenge = Challenge.objects.get(title="Repairable lantern")
    assert response.status_code == 302
    assert challenge.status == Challenge.Status.DRAFT
    assert [c.name for c in challenge.criteria.all()] == ["Repairable", "Cheap"]
    assert set(challenge.tags.values_list("slug", flat=True)) == {"solar", "repair"}

    response = client.post(
        reverse("challenges:transition", args=[challenge.slug]),
        {"to": "open", "confirmed": "yes"},
        follow=True,
    )
    challenge.refresh_from_db()
    assert challenge.status == Challenge.Status.OPEN
    assert "now open" in response.content.decode()


def test_refused_transition_says_why(client, organiser):
    draft = ChallengeFactory(
        organisers=[organiser], status=Challenge.Status.DRAFT, criteria=[], slug="bare"
    )
    login(client, organiser)
    response = client.post(
        reverse("challenges:transition", args=[draft.slug]),
        {"to": "open", "confirmed": "yes"},
        follow=True,
    )
    draft.refresh_from_db()
    assert draft.status == Challenge.Status.DRAFT
    assert "at least one success criterion" in response.content.decode()


def test_challenge_form_errors_are_shown_not_500(client, organiser):
    login(client, organiser)
    response = client.post(
        reverse("challenges:create"),
        {
            "title": "",
            "summary": "x",
            "visibility": "public",
            "licence": "x",
            "opens_at": "2030-01-02T10:00",
            "closes_at": "2030-01-01T10:00",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required" in html
    assert "The deadline must come after the opening date" in html


def test_member_without_the_permission_is_sent_to_proposals(member_client):
    response = member_client.get(reverse("challenges:create"))
    assert response.status_code == 302
    assert response["Location"] == reverse("challenges:proposal-create")


@pytest.mark.parametrize("status", ["draft"])
def test_draft_challenge_is_404_for_everyone_but_organisers(client, organiser, status):
    draft = ChallengeFactory(organisers=[organiser], status=status, slug="draft-one")
    assert client.get(draft.get_absolute_url()).status_code == 404
    login(client, UserFactory())
    assert client.get(draft.get_absolute_url()).status_code == 404
    login(client, organiser)
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_private_challenge_is_404_unless_invited(client, organiser):
    private = ChallengeFactory(
        organisers=[organiser], visibility=Challenge.Visibility.PRIVATE, slug="private-one"
    )
    solution = make_solution(private, author=organiser)
    invited = UserFactory()
    private.invited.add(invited)
    for url in [private.get_absolute_url(), solution.get_absolute_url()]:
        assert client.get(url).status_code == 404
        login(client, UserFactory())
        assert client.get(url).status_code == 404
        login(client, invited)
        assert client.get(url).status_code == 200
        client.logout()


def test_edit_challenge_is_404_for_non_organisers(client, challenge):
    login(client, UserFactory())
    assert client.get(reverse("challenges:edit", args=[challenge.slug])).status_code == 404


def test_challenge_page_queries_stay_bounded_with_200_solutions(
    client, challenge, django_assert_max_num_queries
):
    authors = UserFactory.create_batch(5)
    sources = [make_solution(challenge, author=authors[i % 5]) for i in range(20)]
    for i in range(20):
        make_fork(sources[i], author=authors[(i + 1) % 5])
    with django_assert_max_num_queries(25) as small:
        client.get(challenge.get_absolute_url())
    for i in range(160):
        make_solution(challenge, author=authors[i % 5])
    with django_assert_max_num_queries(len(small)) as big:
        response = client.get(challenge.get_absolute_url())
    assert response.status_code == 200
    assert Solution.objects.filter(challenge=challenge).count() == 200
    print(f"challenge page: {len(small)} queries at 40 solutions, {len(big)} at 200")


# --- Solutions -------------------------------------------------------------------------------


def test_member_posts_a_draft_then_publishes_it(client, challenge):
    author = UserFactory()
    login(client, author)
    response = client.post(
        reverse("challenges:solution-create", args=[challenge.slug]),
        {"title": "Sand filter", "body": "Use **sand**.", "message": "", "publish": ""},
    )
    solution = Solution.objects.get(title="Sand filter")
    assert response["Location"] == solution.get_absolute_url()
    assert solution.status == Solution.Status.DRAFT
    client.logout()
    assert client.get(solution.get_absolute_url()).status_code == 404
    login(client, author)
    client.post(reverse("challenges:solution-publish", args=[solution.pk]))
    solution.refresh_from_db()
    assert solution.status == Solution.Status.PUBLISHED


def test_cannot_post_to_a_closed_challenge(client, organiser):
    closed = ChallengeFactory(organisers=[organiser], status=Challenge.Status.CLOSED, slug="cl")
    login(client, UserFactory())
    response = client.get(reverse("challenges:solution-create", args=[closed.slug]), follow=True)
    assert "not open for solutions" in response.content.decode()


def test_unverified_member_cannot_post(client, challenge):
    login(client, UserFactory(verified=False))
    response = client.get(reverse("challenges:solution-create", args=[challenge.slug]), follow=True)
    assert "Verify your e-mail address" in response.content.decode()


def test_edit_makes_a_revision_and_history_and_diff_show_it(client, challenge):
    solution = make_solution(challenge, body="line one\nline two")
    login(client, solution.author)
    client.post(
        reverse("challenges:solution-edit", args=[solution.pk]),
        {"title": solution.title, "body": "line one\nline 2", "message": "Numbers"},
    )
    solution.refresh_from_db()
    assert solution.revision_count == 2
    history = client.get(reverse("challenges:solution-history", args=[solution.pk]))
    assert "Numbers" in history.content.decode()
    diff = client.get(reverse("challenges:solution-diff", args=[solution.pk])).content.decode()
    assert "<del>two</del>" in diff
    assert "<ins>2</ins>" in diff


@pytest.mark.parametrize("params", [{"from": "9"}, {"to": "0"}, {"from": "x"}])
def test_diff_of_missing_revisions_is_404(client, challenge, params):
    solution = make_solution(challenge)
    url = reverse("challenges:solution-diff", args=[solution.pk])
    assert client.get(url, params).status_code == 404


def test_only_the_author_edits(client, challenge):
    solution = make_solution(challenge)
    login(client, UserFactory())
    assert client.get(reverse("challenges:solution-edit", args=[solution.pk])).status_code == 404
    response = client.post(
        reverse("challenges:solution-edit", args=[solution.pk]), {"title": "x", "body": "y"}
    )
    assert response.status_code == 404
    assert solution.revisions.count() == 1


def test_fork_page_shows_the_diff_against_the_parent_and_the_lineage(client, challenge):
    source = make_solution(challenge, body="Shared text\nold ending")
    forker = UserFactory()
    login(client, forker)
    response = client.post(
        reverse("challenges:solution-fork", args=[source.pk]),
        {"challenge": challenge.pk, "title": "My remix"},
    )
    fork = Solution.objects.get(title="My remix")
    assert response["Location"] == fork.get_absolute_url()
    services.solution_revise(
        solution=fork, by=forker, title="My remix", body="Shared text\nnew ending"
    )
    services.solution_revise(
        solution=source, by=source.author, title=source.title, body="Shared text\nolder ending"
    )
    html = client.get(fork.get_absolute_url()).content.decode()
    assert "What this fork changed" in html
    assert "<ins>new</ins>" in html
    assert "The parent changed since the fork" in html
    svg = re.search(r"<svg class=\"lineage-svg\".*?</svg>", html, re.S).group(0)
    assert svg.count("<a href=") == 2
    assert 'class="lineage-node status-published current"' in svg


def test_an_unchanged_fork_says_whom_its_votes_credit_until_its_author_edits_it(client, challenge):
    source = make_solution(challenge, body="Shared text")
    forker = UserFactory()
    fork = services.solution_fork(source=source, by=forker)
    assert "Unchanged copy" in client.get(fork.get_absolute_url()).content.decode()
    login(client, forker)
    page = client.get(fork.get_absolute_url()).content.decode()
    assert "not for you until you make it your own" in page
    services.solution_revise(solution=fork, by=forker, title=fork.title, body="Shared text, mine")
    assert "Unchanged copy" not in client.get(fork.get_absolute_url()).content.decode()


def test_cross_challenge_fork_lists_only_open_visible_challenges(client, challenge, organiser):
    other = ChallengeFactory(organisers=[organiser], slug="other-open", title="Other open")
    ChallengeFactory(slug="closed-one", title="Closed one", status=Challenge.Status.CLOSED)
    source = make_solution(challenge)
    login(client, UserFactory())
    html = client.get(reverse("challenges:solution-fork", args=[source.pk])).content.decode()
    assert "Other open" in html and "Closed one" not in html
    client.post(
        reverse("challenges:solution-fork", args=[source.pk]),
        {"challenge": other.pk, "title": "Remix elsewhere"},
    )
    fork = Solution.objects.get(title="Remix elsewhere")
    assert fork.challenge == other and fork.root_id == source.pk and fork.generation == 1


def test_withdraw_keeps_the_solution_reachable_from_its_forks(client, challenge):
    source = make_solution(challenge)
    fork = make_fork(source)
    login(client, source.author)
    client.post(reverse("challenges:solution-withdraw", args=[source.pk]), {"confirmed": "yes"})
    source.refresh_from_db()
    assert source.status == Solution.Status.WITHDRAWN
    html = client.get(fork.get_absolute_url()).content.decode()
    assert source.get_absolute_url() in html
    assert "Withdrawn by its author" in client.get(source.get_absolute_url()).content.decode()
    listing = client.get(challenge.get_absolute_url()).content.decode()
    assert f'href="{source.get_absolute_url()}">{source.title}</a>\n' not in listing


def test_solution_page_queries_stay_bounded_with_a_500_node_lineage(
    client, challenge, django_assert_max_num_queries
):
    authors = UserFactory.create_batch(4)
    root = make_solution(challenge, author=authors[0])
    nodes = [root]
    for i in range(4):
        nodes.append(make_fork(nodes[i // 2], author=authors[(i + 1) % 4]))
    leaf = nodes[-1]
    with django_assert_max_num_queries(30) as small:
        client.get(leaf.get_absolute_url())
    while len(nodes) < 500:
        parent = nodes[len(nodes) // 3]
        nodes.append(make_fork(parent, author=authors[len(nodes) % 4]))
    with django_assert_max_num_queries(len(small)) as big:
        response = client.get(leaf.get_absolute_url())
    assert response.status_code == 200
    assert "+" in response.content.decode()  # big branches are folded, with their counts
    print(f"solution page: {len(small)} queries at 5 nodes, {len(big)} at 500")


# --- Upstream --------------------------------------------------------------------------------


def test_upstream_offer_and_accept(client, challenge):
    source = make_solution(challenge, body="Original")
    fork = make_fork(source)
    services.solution_revise(solution=fork, by=fork.author, title=fork.title, body="Improved")
    login(client, fork.author)
    response = client.post(
        reverse("challenges:upstream-create", args=[fork.pk]), {"message": "Better wording"}
    )
    proposal = UpstreamProposal.objects.get()
    assert response["Location"] == proposal.get_absolute_url()
    accept = reverse("challenges:upstream-accept", args=[proposal.pk])
    assert client.post(accept, {"confirmed": "yes"}).status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == UpstreamProposal.Status.OPEN  # only the parent's author decides

    login(client, source.author)
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert "Accept as a new revision" in page and "<ins>Improved</ins>" in page
    client.post(reverse("challenges:upstream-accept", args=[proposal.pk]), {"confirmed": "yes"})
    source.refresh_from_db()
    assert source.current_revision.body == "Improved"
    assert source.current_revision.credited_solution == fork
    history = client.get(reverse("challenges:solution-history", args=[source.pk])).content
    assert fork.author.name in history.decode()


def test_an_unchanged_fork_offers_nothing_upstream_until_changed(client, challenge):
    fork = make_fork(make_solution(challenge, body="Original"), changed=False)
    login(client, fork.author)
    offer = reverse("challenges:upstream-create", args=[fork.pk])
    assert offer not in client.get(fork.get_absolute_url()).content.decode()

    services.solution_revise(solution=fork, by=fork.author, title=fork.title, body="Mine now")

    assert offer in client.get(fork.get_absolute_url()).content.decode()


def test_a_fork_whose_change_was_taken_upstream_offers_nothing_more(client, challenge):
    fork = make_fork(make_solution(challenge, body="Original"))  # a remix
    proposal = services.upstream_propose(fork=fork, by=fork.author, message="Better wording")
    services.upstream_accept(proposal=proposal, by=proposal.parent.author)
    login(client, fork.author)
    page = client.get(fork.get_absolute_url()).content.decode()
    assert reverse("challenges:upstream-create", args=[fork.pk]) not in page


def test_upstream_decline_needs_a_reason(client, challenge):
    source = make_solution(challenge, body="Original")
    fork = make_fork(source)
    services.solution_revise(solution=fork, by=fork.author, title=fork.title, body="Other")
    proposal = services.upstream_propose(fork=fork, by=fork.author, message="Take it")
    login(client, source.author)
    client.post(reverse("challenges:upstream-decline", args=[proposal.pk]), {"reason": ""})
    proposal.refresh_from_db()
    assert proposal.status == UpstreamProposal.Status.OPEN
    client.post(
        reverse("challenges:upstream-decline", args=[proposal.pk]),
        {"reason": "Out of scope", "confirmed": "yes"},
    )
    proposal.refresh_from_db()
    assert proposal.status == UpstreamProposal.Status.DECLINED
    assert "Out of scope" in client.get(proposal.get_absolute_url()).content.decode()


# --- Proposals -------------------------------------------------------------------------------


def test_propose_back_and_adopt(client, organiser):
    proposer, backer = UserFactory(), UserFactory()
    login(client, proposer)
    client.post(
        reverse("challenges:proposal-create"),
        {"title": "Bus data", "summary": "Open it", "problem": "Buses are late", "context": ""},
    )
    proposal = proposer.challenge_proposals.get()
    login(client, backer)
    response = client.post(
        reverse("challenges:proposal-back", args=[proposal.pk]),
        {"back": "1"},
        headers={"HX-Request": "true"},
    )
    assert "1</strong> member backs" in response.content.decode()
    login(client, organiser)
    response = client.post(reverse("challenges:proposal-adopt", args=[proposal.pk]))
    challenge = Challenge.objects.get(proposal=proposal)
    assert response["Location"] == reverse("challenges:edit", args=[challenge.slug])
    assert challenge.status == Challenge.Status.DRAFT


def test_member_cannot_adopt(client):
    proposal = services.proposal_create(proposer=UserFactory(), title="T", summary="S", problem="P")
    login(client, UserFactory())
    response = client.post(reverse("challenges:proposal-adopt", args=[proposal.pk]), follow=True)
    assert "Only organisers can adopt" in response.content.decode()
    assert not Challenge.objects.exists()


# --- Discussion ------------------------------------------------------------------------------


def test_threaded_comments_with_htmx(client, challenge):
    solution = make_solution(challenge)
    member = UserFactory()
    login(client, member)
    url = reverse("challenges:comment-create", args=["solution", solution.pk])
    response = client.post(url, {"body": "Nice **idea**"}, headers={"HX-Request": "true"})
    assert "<strong>idea</strong>" in response.content.decode()
    first = Comment.objects.get()
    response = client.post(
        url, {"body": "A reply", "parent": first.pk}, headers={"HX-Request": "true"}
    )
    assert Comment.objects.get(parent=first).body == "A reply"
    assert 'class="comment-thread replies"' in response.content.decode()


def test_deleted_comment_keeps_its_place(client, challenge):
    comment = services.comment_create(author=UserFactory(), target=challenge, body="Oops")
    services.comment_create(author=UserFactory(), target=challenge, body="Reply", parent=comment)
    login(client, comment.author)
    client.post(reverse("challenges:comment-delete", args=[comment.pk]))
    html = client.get(challenge.get_absolute_url()).content.decode()
    assert "[deleted]" in html and "Reply" in html and "Oops" not in html


def test_organiser_hides_a_comment(client, challenge, organiser):
    comment = services.comment_create(author=UserFactory(), target=challenge, body="Spam spam")
    login(client, UserFactory())
    client.post(reverse("challenges:comment-hide", args=[comment.pk]), {"hidden": "1"})
    comment.refresh_from_db()
    assert comment.hidden_at is None
    login(client, organiser)
    client.post(reverse("challenges:comment-hide", args=[comment.pk]), {"hidden": "1"})
    comment.refresh_from_db()
    assert comment.hidden_at is not None
    client.logout()
    html = client.get(challenge.get_absolute_url()).content.decode()
    assert "Hidden by the organiser" in html and "Spam spam" not in html


def test_a_comment_hidden_by_staff_says_so(client, challenge):
    """Issue 18: the label names the role that hid it, kept when it was hidden."""
    comment = services.comment_create(author=UserFactory(), target=challenge, body="Spam spam")
    staff = UserFactory(is_staff=True, mfa=False)
    login(client, staff)
    client.post(reverse("challenges:comment-hide", args=[comment.pk]), {"hidden": "1"})
    comment.refresh_from_db()
    assert comment.hidden_by_role == "staff"
    client.logout()
    html = client.get(challenge.get_absolute_url()).content.decode()
    assert "Hidden by staff" in html and "organiser" not in html.split("Hidden by")[1][:20]
    # Unhidden, the role goes with it.
    services.comment_set_hidden(comment=comment, by=staff, hidden=False)
    comment.refresh_from_db()
    assert comment.hidden_by_role == ""


def test_empty_comment_is_a_message_not_an_error(client, challenge):
    login(client, UserFactory())
    url = reverse("challenges:comment-create", args=["challenge", challenge.slug])
    response = client.post(url, {"body": ""}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Write something first" in response.content.decode()


def test_comments_on_invisible_targets_are_404(client, organiser):
    draft = ChallengeFactory(organisers=[organiser], status=Challenge.Status.DRAFT, slug="d")
    login(client, UserFactory())
    url = reverse("challenges:comment-create", args=["challenge", draft.slug])
    assert client.post(url, {"body": "hi"}).status_code == 404
    assert (
        client.post(
            reverse("challenges:comment-create", args=["nonsense", "1"]), {"body": "hi"}
        ).status_code
        == 404
    )


# --- Site integration ------------------------------------------------------------------------


def test_profile_lists_the_members_visible_solutions(client, challenge, organiser):
    author = UserFactory()
    make_solution(challenge, author=author, title="Public answer")
    make_solution(challenge, author=author, title="Secret draft", publish=False)
    private = ChallengeFactory(
        organisers=[organiser], visibility=Challenge.Visibility.PRIVATE, slug="p"
    )
    private.invited.add(author)
    make_solution(private, author=author, title="Private answer")
    html = client.get(reverse("profile", args=[author.username])).content.decode()
    assert "Public answer" in html
    assert "Secret draft" not in html and "Private answer" not in html
    login(client, author)
    html = client.get(reverse("profile", args=[author.username])).content.decode()
    assert "Secret draft" in html and "Private answer" in html


def test_home_shows_live_challenge_figures(client, challenge):
    make_solution(challenge)
    html = client.get(reverse("home")).content.decode()
    assert "open challenges" in html and "published solutions" in html


# --- People ----------------------------------------------------------------------------------


def test_organiser_invites_a_member_to_a_private_challenge(client, organiser):
    private = ChallengeFactory(
        organisers=[organiser], visibility=Challenge.Visibility.PRIVATE, slug="secret"
    )
    guest = UserFactory(username="guest")
    login(client, guest)
    assert client.get(private.get_absolute_url()).status_code == 404

    login(client, organiser)
    url = reverse("challenges:members", args=[private.slug])
    response = client.post(url, {"action": "invite", "username": "@Guest"}, follow=True)
    assert "is invited" in response.content.decode()
    login(client, guest)
    assert client.get(private.get_absolute_url()).status_code == 200

    login(client, organiser)
    client.post(url, {"action": "uninvite", "username": "guest"})
    login(client, guest)
    assert client.get(private.get_absolute_url()).status_code == 404


def test_organiser_adds_a_co_organiser(client, challenge, organiser):
    colleague = UserFactory(username="colleague")
    login(client, organiser)
    client.post(
        reverse("challenges:members", args=[challenge.slug]),
        {"action": "organiser", "username": "colleague"},
    )
    login(client, colleague)
    assert client.get(reverse("challenges:edit", args=[challenge.slug])).status_code == 200


def test_only_organisers_manage_people_and_unknown_names_are_a_message(client, challenge):
    outsider = UserFactory()
    login(client, outsider)
    url = reverse("challenges:members", args=[challenge.slug])
    response = client.post(url, {"action": "organiser", "username": outsider.username}, follow=True)
    assert "organisers can add organisers" in response.content.decode()
    assert not challenge.organisers.filter(pk=outsider.pk).exists()
    login(client, challenge.organisers.first())
    response = client.post(url, {"action": "invite", "username": "nobody"}, follow=True)
    assert "No member is called “nobody”" in response.content.decode()


def test_organiser_declines_a_proposal_with_a_reason(client, organiser):
    proposal = services.proposal_create(proposer=UserFactory(), title="T", summary="S", problem="P")
    login(client, organiser)
    response = client.post(
        reverse("challenges:proposal-decline", args=[proposal.pk]),
        {"reason": "Already covered by the water challenge", "confirmed": "yes"},
        follow=True,
    )
    proposal.refresh_from_db()
    assert proposal.status == proposal.Status.DECLINED
    assert "Declined, with your reason" in response.content.decode()
    assert "Already covered by the water challenge" in response.content.decode()


def test_fork_author_withdraws_an_upstream_offer(client, challenge):
    source = make_solution(challenge, body="Original")
    fork = make_fork(source)
    services.solution_revise(solution=fork, by=fork.author, title=fork.title, body="Changed")
    proposal = services.upstream_propose(fork=fork, by=fork.author, message="Take it")
    login(client, source.author)
    client.post(reverse("challenges:upstream-withdraw", args=[proposal.pk]))
    proposal.refresh_from_db()
    assert proposal.status == UpstreamProposal.Status.OPEN  # only its author may withdraw it
    login(client, fork.author)
    response = client.post(reverse("challenges:upstream-withdraw", args=[proposal.pk]))
    assert response["Location"] == fork.get_absolute_url()
    proposal.refresh_from_db()
    assert proposal.status == UpstreamProposal.Status.WITHDRAWN
