"""The challenges services, one rule per test: the challenge lifecycle, proposals, solutions and
their immutable revisions, forks and lineage, upstream proposals and comments."""

import threading
from datetime import timedelta
from itertools import product

import pytest
from django.db import connection
from django.utils import timezone

from challenges import permissions, selectors, services
from challenges.models import (
    Challenge,
    ChallengeProposal,
    Comment,
    ProposalBacking,
    Revision,
    Solution,
    UpstreamProposal,
)
from challenges.tasks import close_challenges_past_deadline
from peerhub.exceptions import Conflict, DomainError, NotAllowed
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_organiser, make_solution

pytestmark = pytest.mark.django_db

Status = Challenge.Status


@pytest.fixture
def organiser():
    return make_organiser()


@pytest.fixture
def challenge(organiser):
    return ChallengeFactory(created_by=organiser)


@pytest.fixture
def author():
    return UserFactory()


@pytest.fixture
def solution(challenge, author):
    return make_solution(challenge, author, title="Rain barrels", body="Collect the rain.")


def refresh(obj):
    obj.refresh_from_db()
    return obj


# --- Challenge lifecycle ---------------------------------------------------------------------

FORWARD = [
    (Status.DRAFT, Status.OPEN),
    (Status.OPEN, Status.SELECTING),
    (Status.SELECTING, Status.CLOSED),
    (Status.CLOSED, Status.ARCHIVED),
]
REFUSED = [pair for pair in product(Status.values, repeat=2) if pair not in FORWARD]


@pytest.mark.parametrize(("start", "to"), FORWARD)
def test_each_status_moves_one_step_forward(organiser, start, to):
    challenge = ChallengeFactory(created_by=organiser, status=start)

    services.challenge_transition(challenge=challenge, by=organiser, to=to)

    assert refresh(challenge).status == to


@pytest.mark.parametrize(("start", "to"), REFUSED)
def test_skips_backwards_moves_and_standing_still_are_refused(organiser, start, to):
    challenge = ChallengeFactory(created_by=organiser, status=start)

    with pytest.raises(Conflict) as excinfo:
        services.challenge_transition(challenge=challenge, by=organiser, to=to)

    assert excinfo.value.code == "invalid_transition"
    assert refresh(challenge).status == start


def test_an_unknown_status_is_refused(organiser):
    challenge = ChallengeFactory(created_by=organiser, status=Status.OPEN)
    with pytest.raises(Conflict):
        services.challenge_transition(challenge=challenge, by=organiser, to="finished")


def test_the_whole_lifecycle_runs_from_draft_to_archived(organiser):
    challenge = ChallengeFactory(created_by=organiser, status=Status.DRAFT)
    for _, to in FORWARD:
        challenge = services.challenge_transition(challenge=challenge, by=organiser, to=to)
    assert refresh(challenge).status == Status.ARCHIVED


@pytest.mark.parametrize("who", ["member", "unverified", "other_organiser"])
def test_only_the_challenges_organisers_change_its_status(who):
    challenge = ChallengeFactory(status=Status.DRAFT)
    by = {
        "member": UserFactory,
        "unverified": lambda: UserFactory(verified=False),
        "other_organiser": make_organiser,
    }[who]()

    with pytest.raises(NotAllowed):
        services.challenge_transition(challenge=challenge, by=by, to=Status.OPEN)

    assert refresh(challenge).status == Status.DRAFT


def test_an_unverified_organiser_cannot_change_the_status():
    organiser = make_organiser(verified=False)
    challenge = ChallengeFactory(created_by=organiser, status=Status.DRAFT)
    with pytest.raises(NotAllowed):
        services.challenge_transition(challenge=challenge, by=organiser, to=Status.OPEN)


def test_staff_may_move_any_challenge(staff_user):
    challenge = ChallengeFactory(status=Status.OPEN)
    services.challenge_transition(challenge=challenge, by=staff_user, to=Status.SELECTING)
    assert refresh(challenge).status == Status.SELECTING


def test_a_co_organiser_may_move_the_challenge(organiser):
    co = UserFactory()
    challenge = ChallengeFactory(created_by=organiser, organisers=[organiser, co])
    services.challenge_transition(challenge=challenge, by=co, to=Status.SELECTING)
    assert refresh(challenge).status == Status.SELECTING


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"problem": "   "}, "no_problem"),
        ({"criteria": []}, "no_criteria"),
        ({"closes_at": timezone.now() - timedelta(hours=1)}, "deadline"),
    ],
    ids=["without-a-problem", "without-criteria", "past-deadline"],
)
def test_a_draft_cannot_open_until_it_is_complete(organiser, fields, code):
    challenge = ChallengeFactory(created_by=organiser, status=Status.DRAFT, **fields)

    with pytest.raises(DomainError) as excinfo:
        services.challenge_transition(challenge=challenge, by=organiser, to=Status.OPEN)

    assert excinfo.value.code == code
    assert refresh(challenge).status == Status.DRAFT


def test_opening_records_when_it_opened(organiser):
    challenge = ChallengeFactory(created_by=organiser, status=Status.DRAFT)
    before = timezone.now()

    services.challenge_transition(challenge=challenge, by=organiser, to=Status.OPEN)

    assert before <= refresh(challenge).opens_at <= timezone.now()


def test_opening_keeps_a_planned_opening_date(organiser):
    planned = timezone.now() - timedelta(days=1)
    challenge = ChallengeFactory(created_by=organiser, status=Status.DRAFT, opens_at=planned)
    services.challenge_transition(challenge=challenge, by=organiser, to=Status.OPEN)
    assert refresh(challenge).opens_at == planned


def test_challenge_create_frames_a_draft_with_its_creator_as_organiser(organiser):
    challenge = services.challenge_create(
        organiser=organiser,
        title="Clean water",
        summary="Water for every village.",
        problem="Wells run dry.",
        criteria=["Cost", ("Upkeep", "Who fixes it")],
        tags=["Water", "water", "  "],
    )
    assert challenge.status == Status.DRAFT
    assert list(challenge.organisers.all()) == [organiser]
    assert [(c.position, c.name) for c in challenge.criteria.all()] == [(1, "Cost"), (2, "Upkeep")]
    assert [t.slug for t in challenge.tags.all()] == ["water"]
    assert challenge.slug == "clean-water"


def test_challenge_create_needs_the_organiser_permission():
    with pytest.raises(NotAllowed):
        services.challenge_create(organiser=UserFactory(), title="T", summary="S")


def test_challenge_slugs_stay_unique(organiser):
    first = services.challenge_create(organiser=organiser, title="Clean water", summary="S")
    second = services.challenge_create(organiser=organiser, title="Clean water", summary="S")
    assert (first.slug, second.slug) == ("clean-water", "clean-water-2")


def test_a_taken_slug_is_a_clear_error_not_a_crash(organiser):
    services.challenge_create(organiser=organiser, title="Clean water", summary="S")
    with pytest.raises(DomainError) as excinfo:
        services.challenge_create(
            organiser=organiser, title="Other", summary="S", slug="clean-water"
        )
    assert excinfo.value.code == "slug_taken"


def test_a_challenge_must_close_after_it_opens(organiser):
    now = timezone.now()
    with pytest.raises(DomainError) as excinfo:
        services.challenge_create(
            organiser=organiser, title="T", summary="S", opens_at=now, closes_at=now
        )
    assert excinfo.value.code == "invalid_dates"


# --- Closing past the deadline ---------------------------------------------------------------


def test_the_deadline_task_closes_only_open_challenges_past_their_deadline():
    past = timezone.now() - timedelta(minutes=1)
    future = timezone.now() + timedelta(days=1)
    due = [ChallengeFactory(status=Status.OPEN, closes_at=past) for _ in range(2)]
    untouched = {
        "open, future deadline": ChallengeFactory(status=Status.OPEN, closes_at=future),
        "open, no deadline": ChallengeFactory(status=Status.OPEN, closes_at=None),
        "draft, past deadline": ChallengeFactory(status=Status.DRAFT, closes_at=past),
        "closed, past deadline": ChallengeFactory(status=Status.CLOSED, closes_at=past),
    }

    assert close_challenges_past_deadline() == 2

    assert {refresh(c).status for c in due} == {Status.SELECTING}
    assert {name: refresh(c).status for name, c in untouched.items()} == {
        "open, future deadline": Status.OPEN,
        "open, no deadline": Status.OPEN,
        "draft, past deadline": Status.DRAFT,
        "closed, past deadline": Status.CLOSED,
    }


def test_the_deadline_task_run_twice_changes_nothing_the_second_time():
    challenge = ChallengeFactory(status=Status.OPEN, closes_at=timezone.now() - timedelta(hours=1))
    assert close_challenges_past_deadline.delay().get() == 1
    first = refresh(challenge).updated_at

    assert close_challenges_past_deadline.delay().get() == 0

    assert refresh(challenge).status == Status.SELECTING
    assert challenge.updated_at == first


# --- Editing a challenge ---------------------------------------------------------------------


def test_criteria_are_locked_once_the_challenge_is_open(challenge, organiser):
    with pytest.raises(Conflict):
        services.challenge_update(
            challenge=challenge, by=organiser, title="Renamed", criteria=["Something else"]
        )

    assert [c.name for c in challenge.criteria.all()] == ["Works", "Affordable"]
    assert refresh(challenge).title != "Renamed", "a refused update changes nothing"


def test_an_open_challenge_accepts_its_unchanged_criteria_with_other_edits(challenge, organiser):
    services.challenge_update(
        challenge=challenge, by=organiser, title="Renamed", criteria=["Works", "Affordable"]
    )
    assert refresh(challenge).title == "Renamed"


def test_criteria_resubmitted_as_a_form_sends_them_are_not_a_change(challenge, organiser):
    """Whitespace and blank lines are not edits: the stored criteria are compared as stored."""
    services.challenge_update(
        challenge=challenge, by=organiser, criteria=[" Works ", ("Affordable", "  "), "", "  "]
    )
    assert [(c.position, c.name) for c in challenge.criteria.all()] == [
        (1, "Works"),
        (2, "Affordable"),
    ]


def test_a_drafts_criteria_can_change(organiser):
    challenge = ChallengeFactory(created_by=organiser, status=Status.DRAFT)
    services.challenge_update(challenge=challenge, by=organiser, criteria=["Speed", "Cost"])
    assert [c.name for c in challenge.criteria.all()] == ["Speed", "Cost"]


def test_only_organisers_edit_a_challenge(challenge):
    with pytest.raises(NotAllowed):
        services.challenge_update(challenge=challenge, by=UserFactory(), title="Mine now")


def test_an_open_challenges_deadline_cannot_move_into_the_past(challenge, organiser):
    with pytest.raises(DomainError):
        services.challenge_update(
            challenge=challenge, by=organiser, closes_at=timezone.now() - timedelta(days=1)
        )


def test_only_editable_fields_can_be_edited(challenge, organiser):
    with pytest.raises(DomainError):
        services.challenge_update(challenge=challenge, by=organiser, status=Status.CLOSED)
    assert refresh(challenge).status == Status.OPEN


# --- Proposals -------------------------------------------------------------------------------


@pytest.fixture
def proposal(author):
    return services.proposal_create(
        proposer=author, title="Quiet streets", summary="Less noise.", problem="Too loud."
    )


def test_a_verified_member_proposes_a_challenge(proposal, author):
    assert proposal.status == ChallengeProposal.Status.OPEN
    assert proposal.proposer == author


def test_an_unverified_member_cannot_propose():
    with pytest.raises(NotAllowed):
        services.proposal_create(
            proposer=UserFactory(verified=False), title="T", summary="S", problem="P"
        )


def test_a_proposal_needs_a_title_and_a_problem(author):
    with pytest.raises(DomainError):
        services.proposal_create(proposer=author, title="T", summary="S", problem="  ")


def test_a_member_backs_a_proposal_once(proposal):
    backer = UserFactory()

    assert services.proposal_back(proposal=proposal, user=backer) is True
    assert services.proposal_back(proposal=proposal, user=backer) is False

    assert refresh(proposal).backing_count == 1
    assert ProposalBacking.objects.filter(proposal=proposal).count() == 1


def test_members_cannot_back_their_own_proposal(proposal, author):
    with pytest.raises(DomainError) as excinfo:
        services.proposal_back(proposal=proposal, user=author)
    assert excinfo.value.code == "own_proposal"
    assert refresh(proposal).backing_count == 0


def test_an_unverified_member_cannot_back(proposal):
    with pytest.raises(NotAllowed):
        services.proposal_back(proposal=proposal, user=UserFactory(verified=False))


def test_unbacking_removes_the_backing_once(proposal):
    backer = UserFactory()
    services.proposal_back(proposal=proposal, user=backer)

    assert services.proposal_unback(proposal=proposal, user=backer) is True
    assert services.proposal_unback(proposal=proposal, user=backer) is False

    assert refresh(proposal).backing_count == 0


def test_adopting_a_proposal_frames_a_draft_challenge_crediting_it(proposal, organiser):
    challenge = services.proposal_adopt(proposal=proposal, by=organiser)

    assert challenge.status == Status.DRAFT
    assert challenge.proposal == proposal
    assert (challenge.title, challenge.problem) == (proposal.title, proposal.problem)
    assert list(challenge.organisers.all()) == [organiser]
    proposal.refresh_from_db()
    assert proposal.status == ChallengeProposal.Status.ADOPTED
    assert proposal.decided_by == organiser
    assert proposal.challenge == challenge


def test_only_organisers_adopt_or_decline(proposal):
    member = UserFactory()
    with pytest.raises(NotAllowed):
        services.proposal_adopt(proposal=proposal, by=member)
    with pytest.raises(NotAllowed):
        services.proposal_decline(proposal=proposal, by=member, reason="No.")
    assert refresh(proposal).status == ChallengeProposal.Status.OPEN


def test_declining_needs_a_reason(proposal, organiser):
    with pytest.raises(DomainError) as excinfo:
        services.proposal_decline(proposal=proposal, by=organiser, reason="   ")
    assert excinfo.value.code == "reason_required"
    assert refresh(proposal).status == ChallengeProposal.Status.OPEN

    services.proposal_decline(proposal=proposal, by=organiser, reason="Out of scope.")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decline_reason) == ("declined", "Out of scope.")


@pytest.mark.parametrize(("first", "second"), list(product(["adopt", "decline"], repeat=2)))
def test_a_proposal_is_decided_only_once(proposal, organiser, first, second):
    decide = {
        "adopt": lambda: services.proposal_adopt(proposal=proposal, by=organiser),
        "decline": lambda: services.proposal_decline(proposal=proposal, by=organiser, reason="No"),
    }
    decide[first]()

    with pytest.raises(Conflict):
        decide[second]()

    assert Challenge.objects.filter(proposal=proposal).count() == (first == "adopt")


def test_a_decided_proposal_can_no_longer_be_backed(proposal, organiser):
    services.proposal_decline(proposal=proposal, by=organiser, reason="No")
    with pytest.raises(Conflict):
        services.proposal_back(proposal=proposal, user=UserFactory())


# --- Solutions and revisions -----------------------------------------------------------------


def test_a_published_solution_counts_on_its_challenge(solution, challenge, author):
    assert solution.status == Solution.Status.PUBLISHED
    assert solution.published_at is not None
    assert refresh(challenge).solution_count == 1
    revision = solution.current_revision
    assert (revision.number, revision.body, revision.author) == (1, "Collect the rain.", author)
    assert (solution.root_id, solution.path, solution.generation) == (
        solution.pk,
        f"/{solution.pk}/",
        0,
    )


def test_a_draft_counts_once_it_is_published(challenge, author):
    draft = make_solution(challenge, author, publish=False)
    assert draft.status == Solution.Status.DRAFT
    assert refresh(challenge).solution_count == 0

    services.solution_publish(solution=draft, by=author)

    assert refresh(draft).status == Solution.Status.PUBLISHED
    assert refresh(challenge).solution_count == 1


def test_publishing_twice_is_refused(solution, author):
    with pytest.raises(Conflict):
        services.solution_publish(solution=solution, by=author)


@pytest.mark.parametrize("status", [Status.DRAFT, Status.SELECTING, Status.CLOSED, Status.ARCHIVED])
def test_solutions_are_posted_only_to_open_challenges(status):
    challenge = ChallengeFactory(status=status)
    with pytest.raises(Conflict) as excinfo:
        make_solution(challenge)
    assert excinfo.value.code == "challenge_closed"
    assert not Solution.objects.exists()


def test_an_unverified_member_cannot_post(challenge):
    with pytest.raises(NotAllowed):
        make_solution(challenge, UserFactory(verified=False))


def test_a_member_not_invited_cannot_post_to_a_private_challenge():
    challenge = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    with pytest.raises(NotAllowed):
        make_solution(challenge, UserFactory())


@pytest.mark.parametrize(("title", "body"), [("  ", "Body"), ("Title", " \n "), ("x" * 161, "B")])
def test_a_solution_needs_a_title_and_a_body(challenge, author, title, body):
    with pytest.raises(DomainError):
        services.solution_create(challenge=challenge, author=author, title=title, body=body)


def test_revising_adds_the_next_revision_and_keeps_the_earlier_ones(solution, author):
    first = solution.current_revision

    second = services.solution_revise(
        solution=solution, by=author, title="Rain barrels", body="Collect and filter the rain."
    )
    third = services.solution_revise(
        solution=solution, by=author, title="Rain tanks", body="Collect and filter the rain."
    )

    assert [second.number, third.number] == [2, 3]
    solution.refresh_from_db()
    assert (solution.current_revision, solution.revision_count, solution.title) == (
        third,
        3,
        "Rain tanks",
    )
    stored = Revision.objects.get(pk=first.pk)
    assert (stored.number, stored.title, stored.body, stored.message) == (
        1,
        "Rain barrels",
        "Collect the rain.",
        "First version",
    )
    assert list(solution.revisions.values_list("number", flat=True)) == [1, 2, 3]


def test_an_unchanged_revision_is_refused(solution, author):
    with pytest.raises(DomainError) as excinfo:
        services.solution_revise(
            solution=solution, by=author, title="Rain barrels", body="Collect the rain."
        )
    assert excinfo.value.code == "unchanged"
    assert refresh(solution).revision_count == 1


def test_only_the_author_revises(solution):
    with pytest.raises(NotAllowed):
        services.solution_revise(solution=solution, by=UserFactory(), title="T", body="Mine")


def test_a_withdrawn_solution_cannot_be_revised(solution, author):
    services.solution_withdraw(solution=solution, by=author)
    with pytest.raises(NotAllowed):
        services.solution_revise(solution=solution, by=author, title="T", body="Back")


def test_a_stored_revision_cannot_be_saved_again(solution):
    revision = solution.current_revision
    revision.body = "Rewritten history"
    with pytest.raises(TypeError):
        revision.save()
    assert Revision.objects.get(pk=revision.pk).body == "Collect the rain."


@pytest.mark.parametrize(
    "action",
    [
        lambda r: r.delete(),
        lambda r: Revision.objects.filter(pk=r.pk).update(body="Rewritten"),
        lambda r: Revision.objects.filter(pk=r.pk).delete(),
        lambda r: r.solution.revisions.update(body="Rewritten"),
        lambda r: r.solution.revisions.all().delete(),
    ],
    ids=["instance-delete", "qs-update", "qs-delete", "related-update", "related-delete"],
)
def test_revisions_are_never_changed_nor_deleted(solution, action):
    revision = solution.current_revision
    with pytest.raises(TypeError):
        action(revision)
    assert Revision.objects.get(pk=revision.pk).body == "Collect the rain."


# --- Forks -----------------------------------------------------------------------------------


def test_a_fork_copies_the_sources_current_revision(solution, author):
    revised = services.solution_revise(
        solution=solution, by=author, title="Rain barrels", body="Collect and filter the rain."
    )
    forker = UserFactory()

    fork = services.solution_fork(source=solution, by=forker)

    assert fork.current_revision.body == "Collect and filter the rain."
    assert fork.forked_from_revision == revised
    assert (fork.author, fork.status, fork.revision_count) == (
        forker,
        Solution.Status.PUBLISHED,
        1,
    )
    assert fork.current_revision.author == forker
    assert "Rain barrels" in fork.current_revision.message


def test_a_fork_records_its_lineage(solution, challenge):
    fork = make_fork(solution)

    assert fork.parent == solution
    assert fork.root_id == solution.pk
    assert fork.generation == 1
    assert fork.path == f"/{solution.pk}/{fork.pk}/"
    assert fork.ancestor_ids == [solution.pk]
    assert fork.challenge == challenge
    solution.refresh_from_db()
    assert (solution.fork_count, solution.descendant_count) == (1, 1)
    assert refresh(challenge).solution_count == 2


def test_a_fork_may_take_its_own_title(solution):
    fork = services.solution_fork(source=solution, by=UserFactory(), title="  My take  ")
    assert fork.title == fork.current_revision.title == "My take"


def test_a_fork_into_another_challenge_keeps_root_and_generation(solution, challenge):
    other = ChallengeFactory()
    first = make_fork(solution)

    crossed = make_fork(first, challenge=other)

    assert crossed.challenge == other
    assert crossed.root_id == solution.pk
    assert crossed.generation == 2
    assert crossed.path == f"{first.path}{crossed.pk}/"
    assert refresh(other).solution_count == 1
    assert refresh(challenge).solution_count == 2
    assert refresh(solution).descendant_count == 2


def test_three_generations_count_on_every_ancestor(solution):
    child = make_fork(solution)
    grandchild = make_fork(child)
    great = make_fork(grandchild)

    counts = {
        s.pk: (s.generation, s.fork_count, s.descendant_count)
        for s in Solution.objects.filter(root=solution)
    }
    assert counts == {
        solution.pk: (0, 1, 3),
        child.pk: (1, 1, 2),
        grandchild.pk: (2, 1, 1),
        great.pk: (3, 0, 0),
    }
    assert great.ancestor_ids == [solution.pk, child.pk, grandchild.pk]


def test_sibling_forks_count_once_each(solution):
    make_fork(solution)
    make_fork(solution)
    solution.refresh_from_db()
    assert (solution.fork_count, solution.descendant_count) == (2, 2)


def test_an_author_may_fork_their_own_solution(solution, author):
    assert make_fork(solution, author).parent == solution


def test_a_draft_cannot_be_forked(challenge, author):
    draft = make_solution(challenge, author, publish=False)
    with pytest.raises(Conflict) as excinfo:
        make_fork(draft, author)
    assert excinfo.value.code == "not_published"


def test_a_withdrawn_solution_cannot_be_forked(solution, author):
    services.solution_withdraw(solution=solution, by=author)
    with pytest.raises(Conflict):
        make_fork(solution)
    assert refresh(solution).fork_count == 0


@pytest.mark.parametrize("status", [Status.SELECTING, Status.CLOSED, Status.ARCHIVED])
def test_a_fork_cannot_land_in_a_challenge_that_is_not_open(solution, status):
    target = ChallengeFactory(status=status)
    with pytest.raises(Conflict) as excinfo:
        make_fork(solution, challenge=target)
    assert excinfo.value.code == "challenge_closed"
    assert refresh(solution).fork_count == 0
    assert refresh(solution).descendant_count == 0


def test_a_fork_sees_that_the_target_challenge_has_closed_since_it_was_loaded(solution):
    target = ChallengeFactory()
    Challenge.objects.filter(pk=target.pk).update(status=Status.CLOSED)  # `target` is now stale
    with pytest.raises(Conflict):
        make_fork(solution, challenge=target)


def test_an_unverified_member_cannot_fork(solution):
    with pytest.raises(NotAllowed):
        make_fork(solution, UserFactory(verified=False))


@pytest.mark.django_db(transaction=True)
def test_forks_crossing_between_two_challenges_at_once_do_not_deadlock(postgres, monkeypatch):
    """Each fork locks its source; were the source's challenge locked with it, two forks going
    opposite ways between the same two challenges would each wait for the other's challenge."""
    x, y = ChallengeFactory(), ChallengeFactory()
    from_x, from_y = make_solution(x), make_solution(y)
    both_sources_locked = threading.Barrier(2, timeout=10)
    can_fork = permissions.can_fork_solution

    def rendezvous(user, solution):  # runs right after the service locked the source
        both_sources_locked.wait()
        return can_fork(user, solution)

    monkeypatch.setattr(permissions, "can_fork_solution", rendezvous)
    errors = []

    def fork(source, into):
        try:
            services.solution_fork(source=source, by=UserFactory(), challenge=into)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=fork, args=(from_x, y)),
        threading.Thread(target=fork, args=(from_y, x)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert Solution.objects.filter(parent__in=[from_x, from_y]).count() == 2
    assert (refresh(x).solution_count, refresh(y).solution_count) == (2, 2)


# --- Withdrawal ------------------------------------------------------------------------------


def test_withdrawing_keeps_the_solution_in_its_lineage(solution, author, challenge):
    fork = make_fork(solution)
    grandchild = make_fork(fork)

    services.solution_withdraw(solution=fork, by=fork.author)

    fork.refresh_from_db()
    assert fork.status == Solution.Status.WITHDRAWN
    assert fork.withdrawn_at is not None
    grandchild.refresh_from_db()
    assert (grandchild.parent_id, grandchild.root_id) == (fork.pk, solution.pk)
    assert refresh(challenge).solution_count == 2
    lineage = selectors.lineage_for(user=author, solution=grandchild)
    assert lineage.nodes[fork.pk].status == Solution.Status.WITHDRAWN
    assert [a.id for a in lineage.ancestors] == [solution.pk, fork.pk]
    assert lineage.nodes[solution.pk].descendant_count == 2
    assert make_fork(grandchild).path.startswith(grandchild.path), "its forks stay forkable"


def test_withdrawing_a_draft_leaves_the_count_alone(challenge, author):
    draft = make_solution(challenge, author, publish=False)
    services.solution_withdraw(solution=draft, by=author)
    assert refresh(challenge).solution_count == 0


def test_only_the_author_or_staff_withdraw(solution, staff_user):
    with pytest.raises(NotAllowed):
        services.solution_withdraw(solution=solution, by=UserFactory())
    services.solution_withdraw(solution=solution, by=staff_user)
    assert refresh(solution).status == Solution.Status.WITHDRAWN


def test_withdrawing_twice_is_refused_and_counts_once(solution, author, challenge):
    services.solution_withdraw(solution=solution, by=author)
    with pytest.raises(DomainError):
        services.solution_withdraw(solution=solution, by=author)
    assert refresh(challenge).solution_count == 0


# --- Upstream proposals ----------------------------------------------------------------------


@pytest.fixture
def forker():
    return UserFactory(display_name="Fern Forker")


@pytest.fixture
def changed_fork(solution, forker):
    fork = services.solution_fork(source=solution, by=forker, title="Rain barrels, filtered")
    services.solution_revise(
        solution=fork, by=forker, title=fork.title, body="Collect the rain, then filter it."
    )
    return refresh(fork)


@pytest.fixture
def offer(changed_fork, forker):
    return services.upstream_propose(fork=changed_fork, by=forker, message="Filtering matters.")


def test_a_forks_author_offers_its_changes_upstream(offer, changed_fork, solution):
    assert offer.status == UpstreamProposal.Status.OPEN
    assert (offer.parent, offer.fork_revision, offer.base_revision) == (
        solution,
        changed_fork.current_revision,
        solution.current_revision,
    )


def test_only_the_forks_author_offers_it_upstream(changed_fork, author):
    for by in (author, UserFactory()):
        with pytest.raises(NotAllowed):
            services.upstream_propose(fork=changed_fork, by=by, message="Take it")


def test_a_solution_that_is_not_a_fork_has_no_upstream(solution, author):
    with pytest.raises(NotAllowed):
        services.upstream_propose(fork=solution, by=author, message="Take it")


def test_an_unchanged_fork_has_nothing_to_offer(solution, forker):
    fork = make_fork(solution, forker, changed=False)
    with pytest.raises(DomainError) as excinfo:
        services.upstream_propose(fork=fork, by=forker, message="Take it")
    assert excinfo.value.code == "no_changes"


def test_an_unchanged_fork_has_nothing_to_offer_after_its_parent_moved_on(solution, author, forker):
    """Its text differs from the parent's now, but only by what the parent did since: offering
    it would undo that."""
    fork = make_fork(solution, forker, changed=False)
    services.solution_revise(solution=solution, by=author, title=solution.title, body="Moved on")
    fork.refresh_from_db()
    with pytest.raises(DomainError) as excinfo:
        services.upstream_propose(fork=fork, by=forker, message="Take it")
    assert excinfo.value.code == "no_changes"


def test_an_upstream_offer_says_why(changed_fork, forker):
    with pytest.raises(DomainError) as excinfo:
        services.upstream_propose(fork=changed_fork, by=forker, message="  ")
    assert excinfo.value.code == "message_required"


def test_a_fork_has_one_open_offer_at_a_time(offer, changed_fork, forker):
    with pytest.raises(Conflict) as excinfo:
        services.upstream_propose(fork=changed_fork, by=forker, message="Again")
    assert excinfo.value.code == "already_open"

    services.upstream_withdraw(proposal=offer, by=forker)
    again = services.upstream_propose(fork=changed_fork, by=forker, message="Again")
    assert again.status == UpstreamProposal.Status.OPEN


def test_accepting_makes_a_parent_revision_crediting_the_fork(offer, solution, author, forker):
    revision = services.upstream_accept(proposal=offer, by=author)

    solution.refresh_from_db()
    assert solution.current_revision == revision
    assert (revision.number, revision.author) == (2, author)
    assert revision.body == "Collect the rain, then filter it."
    assert revision.title == "Rain barrels"
    assert revision.credited_solution == offer.fork
    assert "Rain barrels, filtered" in revision.message
    assert forker.name in revision.message
    offer.refresh_from_db()
    assert (offer.status, offer.resulting_revision) == ("accepted", revision)
    assert offer.decided_at is not None
    assert Revision.objects.get(solution=solution, number=1).body == "Collect the rain."


def test_only_the_parents_author_decides(offer, forker):
    for by in (forker, UserFactory()):
        with pytest.raises(NotAllowed):
            services.upstream_accept(proposal=offer, by=by)
        with pytest.raises(NotAllowed):
            services.upstream_decline(proposal=offer, by=by, reason="No")
    assert refresh(offer).status == UpstreamProposal.Status.OPEN


def test_declining_an_offer_needs_a_reason(offer, author):
    with pytest.raises(DomainError) as excinfo:
        services.upstream_decline(proposal=offer, by=author, reason=" ")
    assert excinfo.value.code == "reason_required"

    services.upstream_decline(proposal=offer, by=author, reason="Filters clog.")

    offer.refresh_from_db()
    assert (offer.status, offer.decline_reason) == ("declined", "Filters clog.")
    assert refresh(offer.parent).revision_count == 1


def test_only_the_offers_author_withdraws_it(offer, author, forker):
    with pytest.raises(NotAllowed):
        services.upstream_withdraw(proposal=offer, by=author)
    services.upstream_withdraw(proposal=offer, by=forker)
    assert refresh(offer).status == UpstreamProposal.Status.WITHDRAWN


@pytest.mark.parametrize(
    ("first", "second"), list(product(["accept", "decline", "withdraw"], repeat=2))
)
def test_an_offer_is_decided_only_once(offer, author, forker, first, second):
    act = {
        "accept": lambda: services.upstream_accept(proposal=offer, by=author),
        "decline": lambda: services.upstream_decline(proposal=offer, by=author, reason="No"),
        "withdraw": lambda: services.upstream_withdraw(proposal=offer, by=forker),
    }
    act[first]()
    status = refresh(offer).status

    with pytest.raises(Conflict) as excinfo:
        act[second]()

    assert excinfo.value.code == "decided"
    assert refresh(offer).status == status
    assert refresh(offer.parent).revision_count == (2 if first == "accept" else 1)


def test_a_withdrawn_parent_takes_no_changes(offer, solution, author):
    services.solution_withdraw(solution=solution, by=author)
    with pytest.raises(Conflict):
        services.upstream_accept(proposal=offer, by=author)


# --- Comments --------------------------------------------------------------------------------


@pytest.fixture
def commenter():
    return UserFactory()


@pytest.fixture
def comment(challenge, commenter):
    return services.comment_create(author=commenter, target=challenge, body="Good question.")


def test_comments_on_a_challenge_and_a_solution_are_counted(challenge, solution, commenter):
    on_challenge = services.comment_create(author=commenter, target=challenge, body="Hi")
    on_solution = services.comment_create(author=commenter, target=solution, body="Nice")

    assert (on_challenge.challenge, on_challenge.solution) == (challenge, None)
    assert (on_solution.challenge, on_solution.solution) == (None, solution)
    assert refresh(challenge).comment_count == 1
    assert refresh(solution).comment_count == 1


def test_an_empty_comment_is_refused(challenge, commenter):
    with pytest.raises(DomainError):
        services.comment_create(author=commenter, target=challenge, body="  \n")


def test_an_unverified_member_cannot_comment(challenge):
    with pytest.raises(NotAllowed):
        services.comment_create(author=UserFactory(verified=False), target=challenge, body="Hi")


def test_a_reply_stays_in_its_thread(comment, challenge, solution):
    replier = UserFactory()
    reply = services.comment_create(author=replier, target=challenge, body="Yes", parent=comment)
    assert reply.parent == comment

    other_challenge = ChallengeFactory()
    for target in (solution, other_challenge):
        with pytest.raises(DomainError) as excinfo:
            services.comment_create(author=replier, target=target, body="No", parent=comment)
        assert excinfo.value.code == "wrong_thread"


def test_an_author_edits_a_comment_within_the_window(comment, commenter, settings):
    settings.PEERHUB_COMMENT_EDIT_WINDOW = timedelta(minutes=10)
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(minutes=9))

    edited = services.comment_edit(comment=comment, by=commenter, body="Better question.")

    assert edited.body == "Better question."
    assert edited.edited_at is not None


def test_the_edit_window_closes(comment, commenter, settings):
    settings.PEERHUB_COMMENT_EDIT_WINDOW = timedelta(minutes=10)
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(minutes=11))

    with pytest.raises(Conflict) as excinfo:
        services.comment_edit(comment=comment, by=commenter, body="Too late.")

    assert excinfo.value.code == "edit_window"
    assert refresh(comment).body == "Good question."


def test_only_the_author_edits_a_comment(comment, organiser):
    for by in (UserFactory(), organiser):
        with pytest.raises(NotAllowed):
            services.comment_edit(comment=comment, by=by, body="Not mine")


def test_deleting_keeps_a_stub_with_its_replies(comment, commenter, challenge):
    reply = services.comment_create(
        author=UserFactory(), target=challenge, body="Answer", parent=comment
    )

    services.comment_delete(comment=comment, by=commenter)

    comment.refresh_from_db()
    assert comment.is_deleted
    assert comment.body == ""
    assert refresh(reply).parent_id == comment.pk
    [root] = selectors.comment_thread(target=challenge)
    assert root.comment == comment
    assert [node.comment for node in root.replies] == [reply]


def test_deleting_twice_is_harmless(comment, commenter):
    services.comment_delete(comment=comment, by=commenter)
    deleted_at = refresh(comment).deleted_at
    services.comment_delete(comment=comment, by=commenter)
    assert refresh(comment).deleted_at == deleted_at


def test_a_removed_comment_takes_no_replies_and_no_edits(comment, commenter, challenge):
    services.comment_delete(comment=comment, by=commenter)
    with pytest.raises(Conflict):
        services.comment_create(author=UserFactory(), target=challenge, body="?", parent=comment)
    with pytest.raises(NotAllowed):
        services.comment_edit(comment=comment, by=commenter, body="Back")


def test_who_may_delete_a_comment(comment, organiser):
    with pytest.raises(NotAllowed):
        services.comment_delete(comment=comment, by=UserFactory())
    services.comment_delete(comment=comment, by=organiser)
    assert refresh(comment).is_deleted


def test_an_organiser_hides_and_unhides_a_comment(comment, organiser):
    services.comment_set_hidden(comment=comment, by=organiser, hidden=True)
    comment.refresh_from_db()
    assert (comment.is_hidden, comment.hidden_by, comment.body) == (
        True,
        organiser,
        "Good question.",
    )

    services.comment_set_hidden(comment=comment, by=organiser, hidden=False)
    comment.refresh_from_db()
    assert (comment.is_hidden, comment.hidden_by) == (False, None)


def test_an_organiser_hides_comments_on_their_challenges_solutions(solution, organiser):
    comment = services.comment_create(author=UserFactory(), target=solution, body="Spam")
    services.comment_set_hidden(comment=comment, by=organiser, hidden=True)
    assert refresh(comment).is_hidden


@pytest.mark.parametrize("who", ["commenter", "member", "other_organiser"])
def test_others_cannot_hide_comments(comment, commenter, who):
    by = {"commenter": lambda: commenter, "member": UserFactory, "other_organiser": make_organiser}
    with pytest.raises(NotAllowed):
        services.comment_set_hidden(comment=comment, by=by[who](), hidden=True)
    assert not refresh(comment).is_hidden


# --- Refusals say what unlocks them, and nothing about what is hidden ------------------------


def test_refusals_tell_unverified_members_to_verify(challenge, solution):
    unverified = UserFactory(verified=False)
    refusals = [
        lambda: make_solution(challenge, unverified),
        lambda: make_fork(solution, unverified),
        lambda: services.comment_create(author=unverified, target=challenge, body="Hi"),
    ]
    for refuse in refusals:
        with pytest.raises(NotAllowed, match="Verify your e-mail address"):
            refuse()


def test_verified_members_are_not_told_to_verify_when_a_private_challenge_refuses(solution):
    secret = ChallengeFactory(title="Secret plans", visibility=Challenge.Visibility.PRIVATE)
    member = UserFactory()
    refusals = [
        lambda: make_solution(secret, member),
        lambda: make_fork(solution, member, challenge=secret),
        lambda: services.comment_create(author=member, target=secret, body="Hi"),
    ]
    for refuse in refusals:
        with pytest.raises(NotAllowed) as excinfo:
            refuse()
        assert "Verify" not in excinfo.value.message
        assert "Secret plans" not in excinfo.value.message


def test_a_fork_into_a_hidden_closed_challenge_does_not_name_it(solution):
    secret = ChallengeFactory(
        title="Secret plans", visibility=Challenge.Visibility.PRIVATE, status=Status.CLOSED
    )
    with pytest.raises(NotAllowed) as excinfo:
        make_fork(solution, UserFactory(), challenge=secret)
    assert "Secret plans" not in excinfo.value.message
