"""Who may see and do what in challenges: every role against every predicate in
challenges.permissions, and the visibility querysets checked against the same tables.

Each table row names a predicate and an object of the world below, and the roles it allows."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from challenges import permissions, services
from challenges.models import Challenge, Solution
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_organiser, make_solution

pytestmark = pytest.mark.django_db

Status, Visibility = Challenge.Status, Challenge.Visibility

ROLES = ("anonymous", "unverified", "member", "author", "organiser", "invited", "staff")
EVERYONE = frozenset(ROLES)
VERIFIED = EVERYONE - {"anonymous", "unverified"}
INSIDERS = frozenset({"author", "organiser", "invited", "staff"})  # of the private challenge
MANAGERS = frozenset({"organiser", "staff"})
NOBODY = frozenset()


@pytest.fixture
def world():
    """Seven members, one per role, and the things they look at. The author wrote every solution
    below (except `parent`, which they forked) and is invited to the private challenges."""
    organiser, author, invited, other = (
        make_organiser(),
        UserFactory(),
        UserFactory(),
        UserFactory(),
    )
    users = {
        "anonymous": AnonymousUser(),
        "unverified": UserFactory(verified=False),
        "member": UserFactory(),
        "author": author,
        "organiser": organiser,
        "invited": invited,
        "staff": UserFactory(is_staff=True, is_superuser=True),
    }

    def challenge(status, visibility, invitees=()):
        made = ChallengeFactory(created_by=organiser, status=status, visibility=visibility)
        made.invited.set(invitees)
        return made

    pub_open = challenge(Status.OPEN, Visibility.PUBLIC)
    priv_open = challenge(Status.OPEN, Visibility.PRIVATE, [invited, author])
    closed = challenge(Status.OPEN, Visibility.PUBLIC)
    things = {
        "pub_open": pub_open,
        "pub_draft": challenge(Status.DRAFT, Visibility.PUBLIC, [invited]),
        "priv_open": priv_open,
        "priv_draft": challenge(Status.DRAFT, Visibility.PRIVATE, [invited, author]),
        "closed": closed,
        "pub_published": make_solution(pub_open, author),
        "pub_draft_sol": make_solution(pub_open, author, publish=False),
        "pub_withdrawn": make_solution(pub_open, author),
        "withdrawn_draft": make_solution(pub_open, author, publish=False),
        "priv_published": make_solution(priv_open, author),
        "priv_draft_sol": make_solution(priv_open, author, publish=False),
        "closed_published": make_solution(closed, author),
        "parent": make_solution(pub_open, other),
    }
    things["fork"] = make_fork(things["parent"], author)
    services.solution_withdraw(solution=things["pub_withdrawn"], by=author)
    services.solution_withdraw(solution=things["withdrawn_draft"], by=author)
    for to in (Status.SELECTING, Status.CLOSED):
        services.challenge_transition(challenge=closed, by=organiser, to=to)
    things["comment"] = services.comment_create(author=author, target=pub_open, body="Hi")
    things["hidden_comment"] = services.comment_create(author=author, target=pub_open, body="x")
    services.comment_set_hidden(comment=things["hidden_comment"], by=organiser, hidden=True)
    things["solution_comment"] = services.comment_create(
        author=other, target=things["pub_published"], body="Nice"
    )
    for name, thing in things.items():
        thing.refresh_from_db()
        thing.name = name
    return SimpleNamespace(users=users, **things)


def allowed_roles(world, predicate, obj) -> frozenset[str]:
    check = getattr(permissions, predicate)
    args = () if obj is None else (getattr(world, obj),)
    return frozenset(role for role, user in world.users.items() if check(user, *args))


# --- Reading ---------------------------------------------------------------------------------

SEE_CHALLENGE = [
    ("pub_open", EVERYONE),
    ("closed", EVERYONE),
    ("pub_draft", MANAGERS),  # an invitation does not reveal a draft
    ("priv_open", INSIDERS),
    ("priv_draft", MANAGERS),
]
SEE_SOLUTION = [
    ("pub_published", EVERYONE),
    ("pub_withdrawn", EVERYONE),  # withdrawn solutions keep their page and their lineage
    ("closed_published", EVERYONE),
    ("parent", EVERYONE),
    ("fork", EVERYONE),
    ("pub_draft_sol", {"author"}),  # drafts: the author only, not even staff
    ("withdrawn_draft", {"author"}),  # withdrawing a draft does not publish it
    ("priv_published", INSIDERS),
    ("priv_draft_sol", {"author"}),
]


@pytest.mark.parametrize(("obj", "expected"), SEE_CHALLENGE)
def test_who_sees_a_challenge(world, obj, expected):
    assert allowed_roles(world, "can_view_challenge", obj) == expected


@pytest.mark.parametrize(("obj", "expected"), SEE_SOLUTION)
def test_who_sees_a_solution(world, obj, expected):
    assert allowed_roles(world, "can_view_solution", obj) == expected


@pytest.mark.parametrize("role", ROLES)
def test_the_challenge_list_shows_what_the_predicate_allows(world, role):
    visible = permissions.challenges_visible_to(world.users[role])

    names = {c.slug for c in visible}
    assert names == {getattr(world, obj).slug for obj, roles in SEE_CHALLENGE if role in roles}
    assert visible.count() == len(names), "no duplicates from organiser/invited joins"


@pytest.mark.parametrize("role", ROLES)
def test_the_solution_list_shows_what_the_predicate_allows(world, role):
    visible = set(permissions.solutions_visible_to(world.users[role]).values_list("pk", flat=True))
    assert visible == {getattr(world, obj).pk for obj, roles in SEE_SOLUTION if role in roles}


def test_the_challenge_rule_works_under_a_prefix(world):
    """Other apps filter their own rows by the same rule, through a relation."""
    user = world.users["invited"]
    in_visible_challenges = Solution.objects.filter(
        permissions.visible_challenges_q(user, prefix="challenge__")
    ).distinct()
    assert {s.challenge_id for s in in_visible_challenges} == {
        world.pub_open.pk,
        world.priv_open.pk,
        world.closed.pk,
    }


def test_prefetched_organisers_and_invitations_answer_without_queries(
    world, django_assert_num_queries
):
    challenge = Challenge.objects.prefetch_related("organisers", "invited").get(
        pk=world.priv_open.pk
    )
    with django_assert_num_queries(0):
        answers = {
            role: permissions.can_view_challenge(u, challenge) for role, u in world.users.items()
        }
    assert {role for role, yes in answers.items() if yes} == INSIDERS


PUBLIC = {"pub_open", "closed", "pub_published", "closed_published", "parent", "fork"}


def test_what_is_public_is_what_anyone_sees_and_is_put_forward(world):
    """The sitemap, feeds and OpenGraph tags (issue 21) show what an anonymous visitor sees, less
    withdrawn solutions; the predicate and the querysets agree."""
    challenges = {c for c, _ in SEE_CHALLENGE}
    solutions = {s for s, _ in SEE_SOLUTION}
    assert {
        c for c in challenges if permissions.is_public(getattr(world, c))
    } == PUBLIC & challenges
    assert {s for s in solutions if permissions.is_public(getattr(world, s))} == PUBLIC & solutions
    assert set(permissions.challenges_public()) == {getattr(world, c) for c in PUBLIC & challenges}
    assert set(permissions.solutions_public()) == {getattr(world, s) for s in PUBLIC & solutions}


def test_a_solution_hidden_by_moderation_is_not_public(world):
    from challenges.services import moderation

    moderation.solution_set_moderation_hidden(world.parent, "Spam.")
    assert not permissions.is_public(world.parent)
    assert world.parent not in permissions.solutions_public()
    moderation.revision_set_moderation_hidden(world.fork.current_revision, "Abuse.")
    fork = Solution.objects.select_related("current_revision", "challenge").get(pk=world.fork.pk)
    assert not permissions.is_public(fork)
    assert fork not in permissions.solutions_public()


# --- Doing -----------------------------------------------------------------------------------

ACTIONS = [
    ("is_staff", None, {"staff"}),
    ("is_organiser", "pub_open", {"organiser"}),
    ("is_invited", "priv_open", {"author", "invited"}),
    ("is_invited", "pub_open", NOBODY),
    # challenges and proposals
    ("can_create_challenge", None, MANAGERS),
    ("can_make_challenge_private", None, {"staff"}),  # and Premium organisers: see below
    ("can_edit_challenge", "pub_open", MANAGERS),
    ("can_edit_challenge", "priv_draft", MANAGERS),
    ("can_propose_challenge", None, VERIFIED),
    ("can_back_proposal", None, VERIFIED),
    ("can_decide_proposal", None, MANAGERS),
    # solutions
    ("can_post_solution", "pub_open", VERIFIED),
    ("can_post_solution", "priv_open", INSIDERS),
    ("can_post_solution", "pub_draft", NOBODY),
    ("can_post_solution", "priv_draft", NOBODY),
    ("can_post_solution", "closed", NOBODY),
    ("can_edit_solution", "pub_published", {"author"}),
    ("can_edit_solution", "pub_draft_sol", {"author"}),
    ("can_edit_solution", "pub_withdrawn", NOBODY),
    ("can_fork_solution", "pub_published", VERIFIED),
    ("can_fork_solution", "closed_published", VERIFIED),  # into another open challenge
    ("can_fork_solution", "priv_published", INSIDERS),
    ("can_fork_solution", "pub_draft_sol", NOBODY),
    ("can_fork_solution", "pub_withdrawn", NOBODY),
    ("can_withdraw_solution", "pub_published", {"author", "staff"}),
    ("can_withdraw_solution", "pub_draft_sol", {"author", "staff"}),
    ("can_withdraw_solution", "pub_withdrawn", NOBODY),
    ("can_propose_upstream", "fork", {"author"}),
    ("can_propose_upstream", "pub_published", NOBODY),  # not a fork
    ("can_decide_upstream", "pub_published", {"author"}),
    ("can_decide_upstream", "parent", NOBODY),  # its author is nobody of the roles
    # comments
    ("can_comment", "pub_open", VERIFIED),
    ("can_comment", "pub_draft", MANAGERS),
    ("can_comment", "priv_open", INSIDERS),
    ("can_comment", "priv_draft", MANAGERS),
    ("can_comment", "pub_published", VERIFIED),
    ("can_comment", "priv_published", INSIDERS),
    ("can_comment", "pub_draft_sol", NOBODY),  # not even the author: nobody else could read it
    ("can_comment", "withdrawn_draft", NOBODY),
    ("can_edit_comment", "comment", {"author"}),
    ("can_edit_comment", "hidden_comment", NOBODY),
    ("can_moderate_comment", "comment", MANAGERS),
    ("can_read_comment_words", "comment", EVERYONE),
    ("can_read_comment_words", "hidden_comment", MANAGERS),  # hidden by the organiser
    ("can_moderate_comment", "solution_comment", MANAGERS),
    # selection rounds (a selecting challenge: tests/challenges/test_selection.py)
    ("can_run_selection", "pub_open", NOBODY),  # not selecting yet
    ("can_run_selection", "closed", NOBODY),
    ("can_view_draft_rounds", "pub_open", MANAGERS),
    # the words behind a moderation stub (issue 21): the author, staff (and flag reviewers)
    ("can_see_moderated", "pub_published", {"author", "staff"}),
]


@pytest.mark.parametrize(
    ("predicate", "obj", "expected"),
    ACTIONS,
    ids=[f"{p}-{o or 'site'}" for p, o, _ in ACTIONS],
)
def test_who_may_do_what(world, predicate, obj, expected):
    assert allowed_roles(world, predicate, obj) == expected


def test_every_predicate_is_in_the_table():
    tabled = {p for p, _, _ in ACTIONS} | {"can_view_challenge", "can_view_solution", "is_public"}
    public = {
        name
        for name in dir(permissions)
        if name.startswith(("can_", "is_")) and callable(getattr(permissions, name))
    }
    assert public <= tabled


def test_an_unverified_invitee_reads_a_private_challenge_but_does_nothing(world):
    invitee = UserFactory(verified=False)
    world.priv_open.invited.add(invitee)

    assert permissions.can_view_challenge(invitee, world.priv_open)
    assert permissions.can_view_solution(invitee, world.priv_published)
    assert world.priv_open in permissions.challenges_visible_to(invitee)
    assert not permissions.can_post_solution(invitee, world.priv_open)
    assert not permissions.can_comment(invitee, world.priv_open)
    assert not permissions.can_fork_solution(invitee, world.priv_published)


def test_an_unverified_organiser_reads_their_draft_but_cannot_edit_it():
    organiser = make_organiser(verified=False)
    draft = ChallengeFactory(created_by=organiser, status=Status.DRAFT)
    assert permissions.can_view_challenge(organiser, draft)
    assert not permissions.can_edit_challenge(organiser, draft)
    assert not permissions.can_create_challenge(organiser)
