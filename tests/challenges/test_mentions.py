"""@mentions in comments and solutions: linked at write time, suggested only from members who
may see the thing written about, and notified once per member and item, to those who may see it
and want to be told."""

import pytest
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from challenges import permissions, services
from challenges.models import Challenge, Comment
from challenges.rendering import rerender_markdown
from peerhub.models import Channel, Mention, Notification, NotificationPreference, User
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_organiser, make_solution
from tests.helpers import database_examples

pytestmark = pytest.mark.django_db


def mentions_of(member) -> int:
    return Notification.objects.filter(recipient=member, kind="mentioned").count()


@pytest.fixture
def li(db):
    return UserFactory(username="li", display_name="Li Wei")


@pytest.fixture
def private_challenge(db):
    # Its organiser may be suggested: a name that matches none of the queries below.
    organiser = make_organiser(username="olga", display_name="Olga Organiser")
    return ChallengeFactory(visibility=Challenge.Visibility.PRIVATE, created_by=organiser)


# --- Rendering ---------------------------------------------------------------------------------


def test_a_comment_links_a_mention_of_a_member_to_their_profile(commit, li):
    comment = commit(
        services.comment_create,
        author=UserFactory(),
        target=ChallengeFactory(),
        body="Thanks @li, and @nobody. Not `@li` in code.",
    )
    assert f'<a href="{li.get_absolute_url()}" class="mention"' in comment.body_html
    assert comment.body_html.count('class="mention"') == 1  # not @nobody, not in code
    assert "@nobody" in comment.body_html


def test_a_mention_matches_the_username_whatever_its_case(li):
    solution = make_solution(body="Built with @LI.")
    assert 'href="/u/li/" class="mention" rel="nofollow noopener ugc">@LI</a>.' in (
        solution.current_revision.body_html
    )


def test_an_inactive_member_is_not_linked(li):
    li.is_active = False
    li.save()
    solution = make_solution(body="Ask @li")
    assert "mention" not in solution.current_revision.body_html


def test_rerendering_stored_html_keeps_mention_links(li):
    services.comment_create(author=UserFactory(), target=ChallengeFactory(), body="@li hi")
    Comment.objects.update(body_html="")
    assert rerender_markdown(Comment, missing_only=True) == 1
    assert 'class="mention"' in Comment.objects.get().body_html


# --- Notifications -------------------------------------------------------------------------------


def test_a_mention_notifies_the_member_once_per_comment(commit, li):
    author = UserFactory()
    comment = commit(
        services.comment_create, author=author, target=ChallengeFactory(), body="Over to @li"
    )
    assert mentions_of(li) == 1
    notice = Notification.objects.get(recipient=li, kind="mentioned")
    assert notice.actor == author
    assert notice.target_url.endswith(f"#comment-{comment.pk}")
    assert "mentioned you in a comment on" in notice.text

    commit(services.comment_edit, comment=comment, by=author, body="Over to @li, again")
    commit(services.comment_edit, comment=comment, by=author, body="Over to @li and @li")
    assert mentions_of(li) == 1
    assert Mention.objects.filter(mentioned=li).count() == 1


def test_an_edit_that_adds_a_mention_notifies_only_the_new_member(commit, li):
    author, sofia = UserFactory(), UserFactory(username="sofia")
    comment = commit(
        services.comment_create, author=author, target=ChallengeFactory(), body="Hi @li"
    )
    commit(services.comment_edit, comment=comment, by=author, body="Hi @li and @sofia")
    assert (mentions_of(li), mentions_of(sofia)) == (1, 1)


def test_a_new_revision_that_keeps_a_mention_does_not_notify_again(commit, li):
    author = UserFactory()
    solution = commit(make_solution, author=author, body="Thanks to @li")
    assert mentions_of(li) == 1
    commit(
        services.solution_revise,
        solution=solution,
        by=author,
        title=solution.title,
        body="Thanks to @li, who tested it",
    )
    assert mentions_of(li) == 1


def test_a_reply_that_mentions_the_parent_author_tells_them_once(commit, li):
    challenge = ChallengeFactory()
    parent = commit(services.comment_create, author=li, target=challenge, body="A question")
    commit(
        services.comment_create,
        author=UserFactory(),
        target=challenge,
        body="@li here is the answer",
        parent=parent,
    )
    kinds = list(Notification.objects.filter(recipient=li).values_list("kind", flat=True))
    assert kinds == ["comment_reply"]
    assert Mention.objects.filter(mentioned=li).count() == 1


def test_mentioning_yourself_notifies_no_one(commit, li):
    commit(services.comment_create, author=li, target=ChallengeFactory(), body="Note to @li")
    assert mentions_of(li) == 0
    assert not Mention.objects.exists()


def test_a_member_who_cannot_see_the_item_is_not_notified(commit, li, private_challenge):
    organiser = private_challenge.created_by
    commit(services.comment_create, author=organiser, target=private_challenge, body="Ask @li?")
    assert mentions_of(li) == 0
    assert not Mention.objects.filter(mentioned=li).exists()

    # Invited later and mentioned again, they hear of it then.
    private_challenge.invited.add(li)
    commit(services.comment_create, author=organiser, target=private_challenge, body="@li welcome")
    assert mentions_of(li) == 1


def test_a_draft_notifies_when_it_is_published(commit, li):
    author = UserFactory()
    draft = commit(make_solution, author=author, body="With @li", publish=False)
    assert mentions_of(li) == 0
    commit(services.solution_publish, solution=draft, by=author)
    assert mentions_of(li) == 1


def test_forking_does_not_mention_the_members_the_source_names(commit, li):
    source = commit(make_solution, body="With @li")
    assert mentions_of(li) == 1
    commit(make_fork, source, changed=False)
    assert mentions_of(li) == 1


def test_the_members_preference_is_respected(commit, li):
    NotificationPreference.objects.create(user=li, kind="mentioned", channel=Channel.OFF)
    commit(services.comment_create, author=UserFactory(), target=ChallengeFactory(), body="@li")
    assert mentions_of(li) == 0


def test_a_mention_is_e_mailed_at_once_by_default(commit, li, mailoutbox):
    commit(services.comment_create, author=UserFactory(), target=ChallengeFactory(), body="@li")
    assert [m.to for m in mailoutbox] == [[li.email]]


def test_a_rolled_back_comment_notifies_no_one(li, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.comment_create(author=UserFactory(), target=ChallengeFactory(), body="@li")
    # Nothing ran: the notification waits for a commit that, rolled back, never comes.
    assert callbacks and mentions_of(li) == 0


def test_the_api_comment_notifies_like_the_page(
    member_api_client, li, django_capture_on_commit_callbacks
):
    challenge = ChallengeFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = member_api_client.post(
            reverse("api-comment-list"),
            {"challenge": challenge.slug, "body": "Ping @li"},
            format="json",
        )
    assert response.status_code == 201, response.content
    assert mentions_of(li) == 1


# --- Who may be suggested ----------------------------------------------------------------


def suggest(client, **params):
    # Factories give members random display names: none may start like the query by chance.
    User.objects.exclude(username__in=NAMED).update(display_name="Someone")
    return client.get(reverse("api-mention-suggestions"), params)


NAMED = {"li", "linus", "zed", "omar"}


def test_suggestions_on_a_public_challenge_match_username_or_name(member_api_client, li):
    UserFactory(username="linus", display_name="Linus")
    UserFactory(username="zed", display_name="Lisa Zed")
    UserFactory(username="omar", display_name="Omar Haddad")  # matches neither
    challenge = ChallengeFactory()
    response = suggest(member_api_client, challenge=challenge.slug, q="li")
    assert response.status_code == 200
    assert [m["username"] for m in response.json()] == ["li", "linus", "zed"]
    assert response.json()[0] == {"username": "li", "name": "Li Wei", "url": "/u/li/"}


def test_suggestions_on_a_private_challenge_are_only_members_who_may_see_it(
    client, li, private_challenge
):
    organiser = private_challenge.created_by
    invited = UserFactory(username="lina")
    private_challenge.invited.add(invited)
    UserFactory(username="lio")  # an outsider
    staff = UserFactory(username="lisbeth", is_staff=True)
    client.force_login(organiser)
    names = [
        m["username"] for m in suggest(client, challenge=private_challenge.slug, q="li").json()
    ]
    assert names == ["lina", "lisbeth"]
    assert li.username not in names and staff.username in names


def test_suggestions_on_a_solution_follow_its_challenge(client, li, private_challenge):
    author = UserFactory(username="lia")
    private_challenge.invited.add(author)
    solution = make_solution(private_challenge, author)
    client.force_login(author)
    names = [m["username"] for m in suggest(client, solution=solution.pk, q="li").json()]
    assert names == ["lia"]


def test_an_outsider_gets_404_for_a_private_challenge(member_api_client, private_challenge):
    response = suggest(member_api_client, challenge=private_challenge.slug, q="")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "params", [{}, {"solution": "x"}, {"solution": "999999"}, {"challenge": "nope"}]
)
def test_suggestions_need_something_to_write_about(member_api_client, params):
    assert suggest(member_api_client, **params).status_code == 404


def test_suggestions_need_a_signed_in_member(api_client):
    response = suggest(api_client, challenge=ChallengeFactory().slug, q="a")
    assert response.status_code in (401, 403)


def test_suggestions_run_a_bounded_number_of_queries(
    member_api_client, private_challenge, django_assert_max_num_queries
):
    private_challenge.invited.add(member_api_client.user, *UserFactory.create_batch(12))
    with django_assert_max_num_queries(6):
        response = suggest(member_api_client, challenge=private_challenge.slug, q="member")
    assert len(response.json()) == 8


def test_mentions_endpoint_is_in_the_schema(api_client):
    schema = api_client.get(reverse("api-schema"), {"format": "json"}).json()
    assert "/api/mentions/" in schema["paths"]


# --- The rule behind both: who may see a thing -------------------------------------------


@database_examples("HYPOTHESIS_MENTION_EXAMPLES", 15)
@given(
    status=st.sampled_from(Challenge.Status.values),
    visibility=st.sampled_from(Challenge.Visibility.values),
    published=st.booleans(),
    author_stays_invited=st.booleans(),
)
def test_viewers_of_agrees_with_can_view(status, visibility, published, author_stays_invited):
    organiser, invited, staff, other = (
        UserFactory(),
        UserFactory(),
        UserFactory(is_staff=True, mfa=False),
        UserFactory(),
    )
    challenge = ChallengeFactory(
        status=Challenge.Status.OPEN, visibility=visibility, organisers=[organiser]
    )
    author = UserFactory()
    challenge.invited.add(invited, author)
    solution = make_solution(challenge, author, publish=published)
    if not author_stays_invited:
        challenge.invited.remove(author)
    Challenge.objects.filter(pk=challenge.pk).update(status=status)
    challenge.refresh_from_db()
    solution.refresh_from_db()
    members = [organiser, invited, staff, other, solution.author]
    for target, can_view in (
        (challenge, permissions.can_view_challenge),
        (solution, permissions.can_view_solution),
    ):
        viewers = set(permissions.viewers_of(target).values_list("pk", flat=True))
        for member in members:
            fresh = type(member).objects.get(pk=member.pk)
            assert (member.pk in viewers) == can_view(fresh, target), (target, member)


# --- Challenge proposals and upstream proposals -------------------------------------------------


def propose(proposer, problem: str, context: str = ""):
    return services.proposal_create(
        proposer=proposer, title="Bus stops", summary="Shelter", problem=problem, context=context
    )


def offer_upstream(parent, message: str, *, forker=None):
    fork = make_fork(parent, forker or UserFactory(), changed=True)
    return services.upstream_propose(fork=fork, by=fork.author, message=message)


def test_a_challenge_proposal_links_and_tells_a_member_once(commit, li):
    sofia = UserFactory(username="sofia")
    proposal = commit(propose, UserFactory(), "Ask @li.", context="@li and @sofia know it")
    assert f'href="{li.get_absolute_url()}" class="mention"' in proposal.problem_html
    assert f'href="{sofia.get_absolute_url()}" class="mention"' in proposal.context_html
    assert (mentions_of(li), mentions_of(sofia)) == (1, 1)
    notice = Notification.objects.get(recipient=li, kind="mentioned")
    assert notice.target_url == proposal.get_absolute_url()
    assert "the challenge proposal “Bus stops”" in notice.text


def test_a_proposal_page_shows_its_stored_html(client, li):
    proposal = propose(UserFactory(), "Ask @li")
    type(proposal).objects.update(problem_html="<p>stored problem</p>")
    assert "stored problem" in client.get(proposal.get_absolute_url()).content.decode()


def test_the_api_proposal_twin_mentions_like_the_page(
    member_api_client, li, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = member_api_client.post(
            reverse("api-challenge-proposal-list"),
            {"title": "Lanes", "summary": "Safer.", "problem": "Ask @li"},
        )
    assert response.status_code == 201, response.content
    assert mentions_of(li) == 1


def test_an_upstream_proposal_links_and_tells_a_member_who_may_see_both(commit, li):
    parent = make_solution()
    proposal = commit(offer_upstream, parent, "Checked with @li")
    assert 'class="mention"' in proposal.message_html
    assert mentions_of(li) == 1
    assert Notification.objects.get(recipient=li, kind="mentioned").target_url == (
        proposal.get_absolute_url()
    )


def test_an_upstream_proposal_tells_the_parents_author_once(commit):
    parent = make_solution()
    commit(offer_upstream, parent, f"@{parent.author.username}: please take it")
    kinds = list(
        Notification.objects.filter(recipient=parent.author).values_list("kind", flat=True)
    )
    assert kinds.count("mentioned") == 0 and "upstream_proposed" in kinds


def test_an_upstream_proposal_on_a_private_challenge_tells_no_outsider(
    commit, li, private_challenge
):
    organiser = private_challenge.created_by
    author, forker = UserFactory(), UserFactory()
    private_challenge.invited.add(author, forker)
    parent = make_solution(private_challenge, author)
    commit(offer_upstream, parent, "Thanks @li", forker=forker)
    assert mentions_of(li) == 0 and not Mention.objects.filter(mentioned=li).exists()
    commit(offer_upstream, parent, f"Thanks @{organiser.username}", forker=author)
    assert mentions_of(organiser) == 1  # who may see both is told


def test_an_upstream_proposal_respects_a_block(commit, li):
    from peerhub import relations

    parent, forker = make_solution(), UserFactory()
    relations.block(member=li, other=forker)
    commit(offer_upstream, parent, "Thanks @li", forker=forker)
    assert mentions_of(li) == 0


def test_suggestions_for_a_new_proposal_are_any_member(member_api_client, li):
    names = [m["username"] for m in suggest(member_api_client, proposal="new", q="li").json()]
    assert names == ["li"]
    assert suggest(member_api_client, proposal="99999999").status_code == 404


def test_suggestions_for_an_upstream_offer_are_who_may_see_both(client, li, private_challenge):
    author = UserFactory(username="lia")
    private_challenge.invited.add(author)
    fork = make_fork(make_solution(private_challenge, author), author)
    client.force_login(author)
    names = [m["username"] for m in suggest(client, upstream=fork.pk, q="li").json()]
    assert names == ["lia"]
    assert suggest(client, upstream=make_solution().pk).status_code == 404  # not a fork


def test_the_upstream_form_asks_the_upstream_suggestions(client):
    fork = make_fork(make_solution())
    client.force_login(fork.author)
    page = client.get(reverse("challenges:upstream-create", args=[fork.pk])).content.decode()
    assert f"/api/mentions/?upstream={fork.pk}" in page


def test_where_a_mention_was_made_reads_in_each_readers_language(commit, li):
    """The place ("a comment on “Rain”") is kept as its template and values, so each reader
    gets it in their own language, whatever the writer's language was."""
    with translation.override("fr"):
        commit(
            services.comment_create,
            author=UserFactory(display_name="Ada"),
            target=ChallengeFactory(title="Rain"),
            body="Over to @li",
        )
    notice = Notification.objects.get(recipient=li, kind="mentioned")
    assert notice.context["where"] == "a comment on “Rain”"  # the English, as it was
    with translation.override("es"):
        assert notice.message == "Ada te mencionó en un comentario en «Rain»"
    with translation.override("ar"):
        assert "تعليق على «Rain»" in notice.message
    with translation.override("en"):
        assert notice.message == "Ada mentioned you in a comment on “Rain”"


def test_a_mention_stored_before_places_were_kept_reads_as_it_was(li):
    notice = Notification.objects.create(
        recipient=li, kind="mentioned", text="x", context={"actor": "Ada", "where": "a review"}
    )
    with translation.override("es"):
        assert notice.message.endswith("a review")
