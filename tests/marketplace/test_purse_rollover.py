"""A purse that rolls over to a named follow-up challenge when archived without winners: the
rule (who, which follow-up, when), the move of money, the fallback to refunds, the pages and
the API twin."""

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from challenges import services as challenge_services
from challenges.models import Challenge
from marketplace import ledger
from marketplace.models import (
    Contribution,
    Earning,
    LedgerTransaction,
    Purse,
    PurseRollover,
    Refund,
)
from marketplace.services import purses
from marketplace.tasks import refund_purse, settle_purse_without_winners
from peerhub.exceptions import Conflict, DomainError, NotAllowed
from tests.factories import ChallengeFactory, UserFactory, make_solution
from tests.helpers import after_commit, assert_error

from .purse_helpers import archive, contribute, publish_winners, to_selecting

pytestmark = pytest.mark.django_db


def held(challenge) -> int:
    return ledger.balance(ledger.purse(challenge, "EUR"))


def rolling(*, amounts=(10000,), follow_up=None, **follow_up_fields):
    """A funded challenge whose purse rolls over to `follow_up` (by default a new challenge of
    the same organiser)."""
    challenge = ChallengeFactory(**({"created_by": follow_up.created_by} if follow_up else {}))
    organiser = challenge.created_by
    if follow_up is None:
        follow_up = ChallengeFactory(created_by=organiser, **follow_up_fields)
    purses.purse_configure(
        challenge=challenge, by=organiser, mode="places", places=[100], rollover_to=follow_up
    )
    for amount in amounts:
        contribute(challenge, UserFactory(), amount)
    return challenge, follow_up


def configure(challenge, rollover_to, *, by=None, **rules):
    return purses.purse_configure(
        challenge=challenge, by=by or challenge.created_by, mode="equal",
        rollover_to=rollover_to, **rules,
    )  # fmt: skip


# --- The rule: naming a follow-up -------------------------------------------------------------


def test_the_organiser_names_a_follow_up_challenge_they_organise():
    challenge = ChallengeFactory()
    follow_up = ChallengeFactory(created_by=challenge.created_by)
    assert configure(challenge, follow_up).rollover_to == follow_up
    assert configure(challenge, None).rollover_to is None


def test_a_draft_follow_up_is_accepted():
    challenge = ChallengeFactory()
    follow_up = ChallengeFactory(created_by=challenge.created_by, status=Challenge.Status.DRAFT)
    assert configure(challenge, follow_up).rollover_to == follow_up


def test_a_purse_cannot_roll_over_to_its_own_challenge():
    challenge = ChallengeFactory()
    with pytest.raises(DomainError) as refused:
        configure(challenge, challenge)
    assert refused.value.code == "rollover_self"


def test_the_database_refuses_a_purse_rolling_over_to_its_own_challenge():
    challenge = ChallengeFactory()
    purse = configure(challenge, None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Purse.objects.filter(pk=purse.pk).update(rollover_to=challenge)


def test_the_follow_up_must_be_one_the_organiser_can_edit():
    challenge = ChallengeFactory()
    with pytest.raises(NotAllowed) as refused:
        configure(challenge, ChallengeFactory())
    assert refused.value.code == "rollover_not_yours"


def test_only_the_challenges_organisers_name_a_follow_up():
    challenge = ChallengeFactory()
    stranger = UserFactory()
    with pytest.raises(NotAllowed):
        configure(challenge, ChallengeFactory(created_by=stranger), by=stranger)


@pytest.mark.parametrize("status", [Challenge.Status.CLOSED, Challenge.Status.ARCHIVED])
def test_the_follow_up_must_still_take_money(status):
    challenge = ChallengeFactory()
    follow_up = ChallengeFactory(created_by=challenge.created_by, status=status)
    with pytest.raises(Conflict) as refused:
        configure(challenge, follow_up)
    assert refused.value.code == "rollover_closed"


def test_a_follow_up_whose_results_are_out_is_refused():
    challenge = ChallengeFactory()
    follow_up = ChallengeFactory(created_by=challenge.created_by)
    configure(follow_up, None)
    publish_winners(follow_up, [make_solution(follow_up)])
    with pytest.raises(Conflict) as refused:
        configure(challenge, follow_up)
    assert refused.value.code == "rollover_closed"


def test_a_follow_up_in_another_currency_is_refused():
    challenge = ChallengeFactory()
    follow_up = ChallengeFactory(created_by=challenge.created_by)
    configure(follow_up, None)
    Purse.objects.filter(challenge=follow_up).update(currency="USD")
    with pytest.raises(DomainError) as refused:
        configure(challenge, follow_up)
    assert refused.value.code == "rollover_currency"


def test_a_rollover_cycle_is_refused_directly_and_through_others():
    a = ChallengeFactory()
    b, c = (ChallengeFactory(created_by=a.created_by) for _ in range(2))
    configure(a, b)
    with pytest.raises(Conflict) as refused:
        configure(b, a)
    assert refused.value.code == "rollover_cycle"
    configure(b, c)
    with pytest.raises(Conflict) as refused:
        configure(c, a)
    assert refused.value.code == "rollover_cycle"


def test_the_follow_up_freezes_with_the_rules_once_money_is_in():
    challenge, follow_up = rolling()
    with pytest.raises(Conflict) as refused:
        configure(challenge, None)
    assert refused.value.code == "frozen"
    assert Purse.objects.get(challenge=challenge).rollover_to == follow_up


def test_money_rolled_in_freezes_the_follow_ups_rules():
    challenge, follow_up = rolling()
    archive(challenge)
    with pytest.raises(Conflict) as refused:
        configure(follow_up, None)
    assert refused.value.code == "frozen"


# --- Archived without winners -----------------------------------------------------------------


def test_archived_without_winners_the_whole_purse_rolls_over_to_the_follow_up():
    challenge, follow_up = rolling(amounts=(10000, 2000))
    archive(challenge)
    purse = Purse.objects.get(challenge=challenge)
    target = Purse.objects.get(challenge=follow_up)  # created with the default rules
    assert purse.state == Purse.State.ROLLED_OVER and purse.settled_at
    assert (target.state, target.places) == (Purse.State.OPEN, purses.DEFAULT_PLACES)
    assert (held(challenge), held(follow_up)) == (0, 11400)
    rollover = PurseRollover.objects.get()
    assert (rollover.from_purse, rollover.to_purse, rollover.amount) == (purse, target, 11400)
    txn = rollover.transaction
    assert txn.kind == LedgerTransaction.Kind.ROLLOVER
    assert txn.memo == f"Rolled over from {challenge}: archived without winners"
    assert set(purse.contributions.values_list("state", flat=True)) == {"rolled_over"}
    assert not Refund.objects.exists()
    assert ledger.audit() == []


def test_rolled_over_money_is_paid_to_the_follow_ups_winners():
    challenge, follow_up = rolling(amounts=(10000,))
    archive(challenge)
    contribute(follow_up, UserFactory(), 2000)
    winner = make_solution(follow_up)
    publish_winners(follow_up, [winner])
    assert Earning.objects.get().amount == 9500 + 1900
    assert held(follow_up) == 0
    assert ledger.audit() == []


def test_rolling_over_into_an_existing_open_purse_keeps_its_rules():
    follow_up = ChallengeFactory()
    purses.purse_configure(challenge=follow_up, by=follow_up.created_by, mode="equal")
    challenge, _ = rolling(follow_up=follow_up)
    archive(challenge)
    assert Purse.objects.get(challenge=follow_up).mode == "equal"
    assert held(follow_up) == 9500


def test_the_task_run_twice_moves_the_money_once():
    challenge, follow_up = rolling()
    archive(challenge)
    purse = Purse.objects.get(challenge=challenge)
    assert settle_purse_without_winners(purse.pk) == "not due"
    assert refund_purse(purse.pk) == "not due"
    assert PurseRollover.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="rollover").count() == 1
    assert held(follow_up) == 9500


def test_an_empty_purse_rolls_over_without_a_transaction():
    challenge, _follow_up = rolling(amounts=())
    archive(challenge)
    assert PurseRollover.objects.get().amount == 0
    assert not LedgerTransaction.objects.filter(kind="rollover").exists()
    assert ledger.audit() == []


@pytest.mark.parametrize("closed", ["archived", "results"])
def test_a_follow_up_that_can_no_longer_receive_money_means_refunds(closed):
    challenge, follow_up = rolling(amounts=(10000, 2000))
    if closed == "archived":
        archive(follow_up)
    else:
        publish_winners(follow_up, [make_solution(follow_up)])
    archive(challenge)
    purse = Purse.objects.get(challenge=challenge)
    assert purse.state == Purse.State.REFUNDED
    assert sorted(Refund.objects.values_list("amount", flat=True)) == [1900, 9500]
    assert not PurseRollover.objects.exists()
    assert ledger.audit() == []


def test_a_follow_up_archived_without_winners_refunds_the_rolled_over_backers_too():
    challenge, follow_up = rolling(amounts=(10000,))
    archive(challenge)
    contribute(follow_up, UserFactory(), 2000)
    archive(follow_up)
    assert Purse.objects.get(challenge=follow_up).state == Purse.State.REFUNDED
    refunds = Refund.objects.values_list("payment__contribution__purse__challenge", "amount")
    assert sorted(refunds) == sorted([(challenge.pk, 9500), (follow_up.pk, 1900)])
    assert set(Contribution.objects.values_list("state", flat=True)) == {"refunded"}
    assert ledger.audit() == []


def test_a_chain_of_rollovers_carries_the_money_along():
    a = ChallengeFactory()
    b, c = (ChallengeFactory(created_by=a.created_by) for _ in range(2))
    configure(b, c)
    configure(a, b)
    contribute(a, UserFactory(), 10000)
    archive(a)
    archive(b)
    assert (held(a), held(b), held(c)) == (0, 0, 9500)
    assert Purse.objects.get(challenge=b).state == Purse.State.ROLLED_OVER
    assert ledger.audit() == []


def test_a_rolled_back_archive_moves_nothing():
    challenge, _follow_up = rolling()
    to_selecting(challenge)
    with pytest.raises(RuntimeError), after_commit(), transaction.atomic():
        for to in (Challenge.Status.CLOSED, Challenge.Status.ARCHIVED):
            challenge_services.challenge_transition(
                challenge=challenge, by=challenge.created_by, to=to
            )
        raise RuntimeError
    assert Purse.objects.get(challenge=challenge).state == Purse.State.OPEN
    assert not PurseRollover.objects.exists()


def test_audit_ledger_passes_with_rollovers_and_fails_on_a_tampered_one(capsys):
    challenge, _follow_up = rolling()
    archive(challenge)
    call_command("audit_ledger")
    assert "Ledger audit passed" in capsys.readouterr().out
    PurseRollover.objects.update(amount=1)
    with pytest.raises(CommandError):
        call_command("audit_ledger")


def test_the_audit_finds_a_rollover_that_does_not_match_its_transaction():
    challenge, _follow_up = rolling()
    archive(challenge)
    PurseRollover.objects.update(amount=1)
    problems = ledger.audit()
    assert any("rolled over 1" in problem for problem in problems)
    assert any("transaction moves 9500, not its 1" in problem for problem in problems)


def test_the_audit_finds_a_rolled_over_contribution_of_a_purse_that_did_not_roll_over():
    rolling()
    Contribution.objects.update(state=Contribution.State.ROLLED_OVER)
    assert any("did not roll over" in problem for problem in ledger.audit())


# --- Pages --------------------------------------------------------------------------------------


def test_backers_see_the_rollover_before_paying(client):
    challenge, follow_up = rolling()
    for url in (challenge.get_absolute_url(), f"/marketplace/purses/{challenge.slug}/"):
        page = client.get(url).content.decode()
        assert "If no winner is published, this purse rolls over to" in page
        assert f'href="/marketplace/purses/{follow_up.slug}/"' in page


def test_the_follow_ups_page_lists_the_rolled_over_amount_among_its_backers(client):
    challenge, follow_up = rolling()
    archive(challenge)
    page = client.get(f"/marketplace/purses/{follow_up.slug}/").content.decode()
    assert f'Rolled over from <a href="/marketplace/purses/{challenge.slug}/">' in page
    assert "€95.00" in page
    old = client.get(f"/marketplace/purses/{challenge.slug}/").content.decode()
    assert "rolled over to" in old and follow_up.title in old


def test_the_settings_form_offers_the_qualifying_challenges(client):
    challenge = ChallengeFactory()
    organiser = challenge.created_by
    mine = ChallengeFactory(created_by=organiser, title="Next year's filter")
    ChallengeFactory(created_by=organiser, status=Challenge.Status.ARCHIVED, title="Old one")
    ChallengeFactory(title="Someone else's")
    client.force_login(organiser)
    page = client.get(f"/marketplace/purses/{challenge.slug}/").content.decode()
    assert '<label for="id_rollover_to">' in page
    assert "Roll over to Next year&#x27;s filter" in page
    assert "Old one" not in page and "Someone else" not in page
    client.post(
        f"/marketplace/purses/{challenge.slug}/rules/",
        {"mode": "equal", "places": "", "lineage_share": "10", "rollover_to": mine.slug},
    )
    assert Purse.objects.get(challenge=challenge).rollover_to == mine


def test_the_settings_form_refuses_a_challenge_not_offered(client):
    challenge = ChallengeFactory()
    client.force_login(challenge.created_by)
    response = client.post(
        f"/marketplace/purses/{challenge.slug}/rules/",
        {"mode": "equal", "lineage_share": "10", "rollover_to": ChallengeFactory().slug},
        follow=True,
    )
    assert response.status_code == 200
    assert "Check the prize rules" in response.content.decode()
    assert not Purse.objects.exists()


# --- API --------------------------------------------------------------------------------------


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def put_rules(challenge, user, **body):
    return api(user).put(
        f"/api/purses/{challenge.slug}/rules/", {"mode": "equal", **body}, format="json"
    )


def test_the_api_names_and_shows_the_follow_up():
    challenge = ChallengeFactory()
    follow_up = ChallengeFactory(created_by=challenge.created_by)
    response = put_rules(challenge, challenge.created_by, rollover_to=follow_up.slug)
    assert response.status_code == 200, response.content
    assert response.json()["rollover_to"] == follow_up.slug
    assert api().get(f"/api/purses/{challenge.slug}/").json()["rollover_to"] == follow_up.slug
    response = put_rules(challenge, challenge.created_by, rollover_to=None)
    assert response.json()["rollover_to"] is None


def test_the_api_shows_a_rollover_on_both_sides():
    challenge, follow_up = rolling()
    archive(challenge)
    old = api().get(f"/api/purses/{challenge.slug}/").json()
    assert old["state"] == "rolled_over"
    assert old["rolled_out"]["to_challenge"] == follow_up.slug
    new = api().get(f"/api/purses/{follow_up.slug}/").json()
    assert (new["held"], new["rolled_in"]) == (9500, 9500)
    assert new["rollovers_in"][0]["from_challenge"] == challenge.slug
    backers = api().get(f"/api/purses/{challenge.slug}/contributions/").json()["results"]
    assert [row["state"] for row in backers] == ["rolled_over"]


@pytest.mark.parametrize(
    ("target", "status", "code"),
    [
        ("unknown", 400, None),
        ("self", 400, "rollover_self"),
        ("other", 403, "rollover_not_yours"),
        ("archived", 409, "rollover_closed"),
    ],
)
def test_bad_follow_ups_through_the_api_are_4xx(target, status, code):
    challenge = ChallengeFactory()
    slugs = {
        "unknown": "no-such-challenge",
        "self": challenge.slug,
        "other": ChallengeFactory().slug,
        "archived": ChallengeFactory(
            created_by=challenge.created_by, status=Challenge.Status.ARCHIVED
        ).slug,
    }
    response = put_rules(challenge, challenge.created_by, rollover_to=slugs[target])
    assert_error(response, status, code)


def test_the_staff_money_page_counts_rolled_over_money(client):
    challenge, follow_up = rolling()
    archive(challenge)
    client.force_login(UserFactory(is_staff=True))
    page = client.get("/marketplace/staff/").content.decode()
    assert follow_up.title in page and "€95.00" in page


def test_the_api_refuses_changing_the_follow_up_once_money_is_in():
    challenge, _follow_up = rolling()
    assert_error(put_rules(challenge, challenge.created_by, rollover_to=None), 409, "frozen")
