"""Selection rounds: who may run them, the transitions (open → shortlist → select → publish),
published results immutable, and the reputation events and rank they give. Services, HTML and
API."""

from decimal import Decimal

import pytest
from django.test import TestCase
from django.urls import reverse

from challenges import services
from challenges.models import Challenge, SelectionEntry, SelectionRound
from peerhub.exceptions import Conflict, DomainError, NotAllowed
from peerhub.following import follow_set
from peerhub.models import Notification
from reputation import fitness, ledger
from reputation.models import ReputationEvent, ReputationScore, SolutionScore
from reputation.selection_credit import sync_selection
from tests.factories import ChallengeFactory, UserFactory, make_organiser, make_solution
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    organiser = make_organiser()
    challenge = ChallengeFactory(created_by=organiser)
    a = make_solution(challenge, title="Alpha")
    b = make_solution(challenge, title="Beta")
    services.challenge_transition(challenge=challenge, by=organiser, to=Challenge.Status.SELECTING)
    challenge.refresh_from_db()
    return challenge, organiser, a, b


def run_round(challenge, organiser, winner, shortlisted=()):
    round_ = services.selection_round_open(challenge=challenge, by=organiser)
    for solution in (winner, *shortlisted):
        services.selection_shortlist(
            round=round_, by=organiser, solution=solution, reason=f"{solution.title} works"
        )
    services.selection_select(round=round_, by=organiser, solution=winner, reason="Best costed")
    return services.selection_publish(round=round_, by=organiser)


def test_an_organiser_shortlists_selects_and_publishes(world):
    challenge, organiser, a, b = world
    round_ = run_round(challenge, organiser, a, [b])
    assert round_.is_published and round_.published_at
    entries = {e.solution_id: e for e in round_.entries.all()}
    assert entries[a.pk].is_winner and entries[a.pk].winner_reason == "Best costed"
    assert not entries[b.pk].is_winner and entries[b.pk].reason == "Beta works"


@pytest.mark.parametrize("who", ["member", "unverified", "author"])
def test_only_organisers_run_the_selection(world, who):
    challenge, _organiser, a, _b = world
    user = {"member": UserFactory(), "unverified": UserFactory(verified=False), "author": a.author}[
        who
    ]
    with pytest.raises(NotAllowed):
        services.selection_round_open(challenge=challenge, by=user)


def test_staff_may_run_the_selection(world):
    challenge, _organiser, _a, _b = world
    staff = UserFactory(is_staff=True)
    assert services.selection_round_open(challenge=challenge, by=staff).number == 1


def test_rounds_run_only_while_the_challenge_is_selecting():
    organiser = make_organiser()
    challenge = ChallengeFactory(created_by=organiser)
    with pytest.raises(Conflict) as refused:
        services.selection_round_open(challenge=challenge, by=organiser)
    assert refused.value.code == "not_selecting"


def test_reasons_are_required_and_winners_come_from_the_shortlist(world):
    challenge, organiser, a, _b = world
    round_ = services.selection_round_open(challenge=challenge, by=organiser)
    with pytest.raises(DomainError):
        services.selection_shortlist(round=round_, by=organiser, solution=a, reason="  ")
    with pytest.raises(Conflict) as refused:
        services.selection_select(round=round_, by=organiser, solution=a, reason="Great")
    assert refused.value.code == "not_shortlisted"
    services.selection_shortlist(round=round_, by=organiser, solution=a, reason="Works")
    with pytest.raises(Conflict):
        services.selection_shortlist(round=round_, by=organiser, solution=a, reason="Again")
    with pytest.raises(Conflict) as refused:
        services.selection_publish(round=round_, by=organiser)
    assert refused.value.code == "no_winner"


def test_one_round_in_preparation_at_a_time_and_later_rounds_follow(world):
    challenge, organiser, a, _b = world
    services.selection_round_open(challenge=challenge, by=organiser)
    with pytest.raises(Conflict):
        services.selection_round_open(challenge=challenge, by=organiser)
    SelectionRound.objects.all().delete()
    run_round(challenge, organiser, a)
    second = services.selection_round_open(challenge=challenge, by=organiser)
    assert second.number == 2


def test_solutions_of_other_challenges_and_drafts_cannot_be_shortlisted(world):
    challenge, organiser, _a, _b = world
    round_ = services.selection_round_open(challenge=challenge, by=organiser)
    with pytest.raises(DomainError):
        services.selection_shortlist(
            round=round_, by=organiser, solution=make_solution(), reason="Elsewhere"
        )


def test_published_results_are_immutable(world):
    challenge, organiser, a, b = world
    round_ = run_round(challenge, organiser, a, [b])
    for attempt in (
        lambda: services.selection_shortlist(round=round_, by=organiser, solution=b, reason="x"),
        lambda: services.selection_select(round=round_, by=organiser, solution=b, reason="x"),
        lambda: services.selection_unshortlist(round=round_, by=organiser, solution=b),
        lambda: services.selection_publish(round=round_, by=organiser),
    ):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "published"
    assert SelectionEntry.objects.filter(round=round_).count() == 2


def test_publishing_gives_the_authors_reputation_and_the_winner_its_selection_points(world):
    challenge, organiser, a, b = world
    with TestCase.captureOnCommitCallbacks(execute=True):
        run_round(challenge, organiser, a, [b])
    events = ReputationEvent.objects.filter(kind__in=["shortlisted", "selected"])
    assert {(e.beneficiary_id, e.kind, e.amount) for e in events} == {
        (a.author_id, "shortlisted", Decimal(20)),
        (a.author_id, "selected", Decimal(100)),
        (b.author_id, "shortlisted", Decimal(20)),
    }
    assert sync_selection() == set()  # idempotent
    winner = SolutionScore.objects.get(solution=a)
    assert winner.rank == 1
    assert winner.components["selection"] == {
        "weight": 0.15,
        "value": 1.0,
        "points": 15.0,
        "outcome": "winner",
        "round": 1,
    }
    assert SolutionScore.objects.get(solution=b).components["selection"]["value"] == 0.5


@pytest.mark.parametrize("set_based", [False, True])
def test_the_solutions_own_syncs_leave_its_selection_lines_alone(world, set_based):
    """A sync of the winner's facts (a fork, a review) and the full rebuild hold only the lines
    a solution's own facts give: they neither take back the selection points nor append
    anything on a second run."""
    challenge, organiser, a, b = world
    with TestCase.captureOnCommitCallbacks(execute=True):
        run_round(challenge, organiser, a, [b])
    before = list(ReputationEvent.objects.order_by("pk").values_list("pk", flat=True))
    ledger.sync_solutions([a.pk, b.pk])
    assert ledger.sync_everything(set_based=set_based) == 0
    assert ledger.sync_everything(set_based=set_based) == 0
    assert list(ReputationEvent.objects.order_by("pk").values_list("pk", flat=True)) == before
    assert ReputationScore.objects.get(user=a.author).total == 1 + 20 + 100


def test_a_round_in_preparation_gives_nothing_and_is_hidden_from_members(world, client):
    challenge, organiser, a, _b = world
    round_ = services.selection_round_open(challenge=challenge, by=organiser)
    services.selection_shortlist(round=round_, by=organiser, solution=a, reason="Secret pick")
    fitness.recompute_challenge(challenge.pk)
    assert SolutionScore.objects.get(solution=a).components["selection"]["value"] == 0
    url = reverse("challenges:selection", args=[challenge.slug])
    assert "Secret pick" not in client.get(url).content.decode()
    client.force_login(organiser)
    assert "Secret pick" in client.get(url).content.decode()


# --- HTML --------------------------------------------------------------------------------------


def test_the_selection_pages_run_a_round_end_to_end(world, client):
    challenge, organiser, a, _b = world
    client.force_login(organiser)
    slug = challenge.slug
    client.post(reverse("challenges:selection-open", args=[slug]), {"title": "Finals"})
    client.post(
        reverse("challenges:selection-shortlist", args=[slug, 1]),
        {"solution": a.pk, "reason": "Cheap and local"},
    )
    client.post(
        reverse("challenges:selection-select", args=[slug, 1]),
        {"solution": a.pk, "reason": "The pilot worked"},
    )
    response = client.post(
        reverse("challenges:selection-publish", args=[slug, 1]), {"confirmed": "yes"}, follow=True
    )
    html = response.content.decode()
    assert "The results are published" in html
    assert "The pilot worked" in html
    assert SelectionRound.objects.get(challenge=challenge).is_published
    # Members see the results on the challenge page.
    client.logout()
    page = client.get(challenge.get_absolute_url()).content.decode()
    assert "Finals published" in page and "Alpha" in page


def test_a_member_posting_to_the_selection_is_refused(world, client):
    challenge, _organiser, _a, _b = world
    client.force_login(UserFactory())
    response = client.post(reverse("challenges:selection-open", args=[challenge.slug]), follow=True)
    assert "Only the challenge&#x27;s organisers" in response.content.decode()
    assert not SelectionRound.objects.exists()


# --- API ---------------------------------------------------------------------------------------


def rounds_url(challenge, *rest):
    return "/api/challenges/{}/selection-rounds/{}".format(
        challenge.slug, "".join(f"{part}/" for part in rest)
    )


def test_the_api_runs_a_round(world, api_client):
    challenge, organiser, a, b = world
    api_client.force_authenticate(organiser)
    created = api_client.post(rounds_url(challenge), {"title": "Round one"})
    assert created.status_code == 201, created.content
    assert created.json()["number"] == 1
    shortlisted = api_client.post(
        rounds_url(challenge, 1, "shortlist"), {"solution": a.pk, "reason": "Solid"}
    )
    assert shortlisted.json()["entries"][0]["outcome"] == "shortlisted"
    selected = api_client.post(
        rounds_url(challenge, 1, "select"), {"solution": a.pk, "reason": "Won"}
    )
    assert selected.json()["entries"][0]["outcome"] == "winner"
    published = api_client.post(rounds_url(challenge, 1, "publish"))
    assert published.json()["status"] == "published"
    again = api_client.post(
        rounds_url(challenge, 1, "shortlist"), {"solution": b.pk, "reason": "x"}
    )
    assert_error(again, 409, "published")

    api_client.force_authenticate(None)
    listed = api_client.get(rounds_url(challenge)).json()
    assert [r["entries"][0]["winner_reason"] for r in listed] == ["Won"]


def test_the_api_refuses_members_and_anonymous_writers(world, api_client):
    challenge, _organiser, _a, _b = world
    assert api_client.post(rounds_url(challenge), {}).status_code == 401
    api_client.force_authenticate(UserFactory())
    assert_error(api_client.post(rounds_url(challenge), {}), 403, "forbidden")
    assert_error(api_client.get(rounds_url(challenge, 7)), 404)


def test_a_draft_round_is_404_to_members_in_the_api(world, api_client):
    challenge, organiser, _a, _b = world
    services.selection_round_open(challenge=challenge, by=organiser)
    api_client.force_authenticate(UserFactory())
    assert_error(api_client.get(rounds_url(challenge, 1)), 404)
    assert api_client.get(rounds_url(challenge)).json() == []


def test_publishing_notifies_the_authors_and_the_followers(
    world, django_capture_on_commit_callbacks
):
    challenge, organiser, a, b = world
    follower = UserFactory()
    follow_set(follower=follower, target=challenge)
    with django_capture_on_commit_callbacks(execute=True):
        run_round(challenge, organiser, a, [b])
    kinds = set(Notification.objects.values_list("recipient_id", "kind"))
    assert (a.author_id, "solution_won") in kinds
    assert (b.author_id, "solution_shortlisted") in kinds
    assert (follower.pk, "challenge_results_published") in kinds
    assert not Notification.objects.filter(recipient=organiser).exists()  # the actor


# --- Reasons in Markdown, with @mentions -------------------------------------------------------


def test_reasons_are_markdown_and_their_mentions_are_told_on_publishing(world, commit):
    challenge, organiser, a, _b = world
    li = UserFactory(username="li")
    round_ = services.selection_round_open(challenge=challenge, by=organiser, summary="With @li")
    entry = services.selection_shortlist(
        round=round_, by=organiser, solution=a, reason="**Cheap**; ask @li"
    )
    assert "<strong>Cheap</strong>" in entry.reason_html and 'class="mention"' in entry.reason_html
    assert 'class="mention"' in SelectionRound.objects.get().summary_html
    services.selection_select(round=round_, by=organiser, solution=a, reason="@li tested it")
    entry.refresh_from_db()
    assert 'class="mention"' in entry.winner_reason_html
    # In preparation the round is the organisers' own: nobody is told yet.
    assert not Notification.objects.filter(recipient=li, kind="mentioned").exists()
    commit(services.selection_publish, round=round_, by=organiser)
    told = Notification.objects.filter(recipient=li, kind="mentioned")
    # Once per text: the round's summary and the entry (both its reasons together).
    assert told.count() == 2
    assert all("the selection results of" in n.text for n in told)


def test_a_published_round_does_not_tell_a_mentioned_outsider_of_a_private_challenge(commit):
    organiser = make_organiser()
    challenge = ChallengeFactory(created_by=organiser, visibility=Challenge.Visibility.PRIVATE)
    author = UserFactory()
    challenge.invited.add(author)
    solution = make_solution(challenge, author)
    services.challenge_transition(challenge=challenge, by=organiser, to=Challenge.Status.SELECTING)
    challenge.refresh_from_db()
    outsider = UserFactory(username="outsider")
    round_ = services.selection_round_open(challenge=challenge, by=organiser)
    services.selection_shortlist(round=round_, by=organiser, solution=solution, reason="@outsider")
    services.selection_select(round=round_, by=organiser, solution=solution, reason="Good")
    commit(services.selection_publish, round=round_, by=organiser)
    assert not Notification.objects.filter(recipient=outsider, kind="mentioned").exists()


def test_the_selection_page_gives_the_reasons_the_markdown_editor(world, client):
    challenge, organiser, _a, _b = world
    services.selection_round_open(challenge=challenge, by=organiser)
    client.force_login(organiser)
    page = client.get(reverse("challenges:selection", args=[challenge.slug])).content.decode()
    assert "data-md-editor" in page and 'id="shortlist-reason"' in page
    assert f"/api/mentions/?challenge={challenge.slug}" in page
