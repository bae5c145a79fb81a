"""Every irreversible action asks first, with or without JavaScript (issue 18, peerhub.confirm):
sent without `confirmed=yes` the view answers a confirmation page that changes nothing and
sends the same fields again; with it, the action runs. With JavaScript the form's data-confirm
dialog adds the field (peerhub/static/js/site.js), so members see one question, not two."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse

from challenges import services as challenge_services
from challenges.models import Challenge, ChallengeProposal, Solution, UpstreamProposal
from marketplace import services as market_services
from marketplace.models import Order
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_organiser, make_solution
from tests.marketplace.factories import delivered_order, paid_order, place

pytestmark = pytest.mark.django_db


@dataclass
class Case:
    actor: object
    url: str
    data: dict
    state: Callable[[], object]  # what the action changes, read afresh
    question: str  # a part of the confirmation page's question


def publish_results():
    organiser = make_organiser()
    challenge = ChallengeFactory(created_by=organiser)
    winner = make_solution(challenge)
    challenge_services.challenge_transition(
        challenge=challenge, by=organiser, to=Challenge.Status.SELECTING
    )
    round_ = challenge_services.selection_round_open(challenge=challenge, by=organiser)
    challenge_services.selection_shortlist(round=round_, by=organiser, solution=winner, reason="Ok")
    challenge_services.selection_select(round=round_, by=organiser, solution=winner, reason="Best")
    return Case(
        organiser,
        reverse("challenges:selection-publish", args=[challenge.slug, 1]),
        {},
        lambda: type(round_).objects.get(pk=round_.pk).is_published,
        "Publish the results",
    )


def order_step(step: str, make, who: str, question: str):
    def build():
        order = make()
        return Case(
            getattr(order, who),
            reverse("marketplace:order-step", args=[order.pk, step]),
            {},
            lambda: Order.objects.get(pk=order.pk).state,
            question,
        )

    return build


def resolve_dispute():
    order = delivered_order()
    market_services.order_dispute(order=order, by=order.buyer, reason="Wrong town")
    return Case(
        UserFactory(is_staff=True),
        reverse("marketplace:order-resolve", args=[order.pk]),
        {"resolution": "refund", "note": "Not delivered as asked"},
        lambda: Order.objects.get(pk=order.pk).state,
        "Resolve the dispute",
    )


def accept_upstream():
    source = make_solution()
    fork = make_fork(source)
    offer = challenge_services.upstream_propose(fork=fork, by=fork.author, message="Take it")
    return Case(
        source.author,
        reverse("challenges:upstream-accept", args=[offer.pk]),
        {},
        lambda: UpstreamProposal.objects.get(pk=offer.pk).status,
        "Accept the changes",
    )


def decline_upstream():
    source = make_solution()
    fork = make_fork(source)
    offer = challenge_services.upstream_propose(fork=fork, by=fork.author, message="Take it")
    return Case(
        source.author,
        reverse("challenges:upstream-decline", args=[offer.pk]),
        {"reason": "Out of scope"},
        lambda: UpstreamProposal.objects.get(pk=offer.pk).status,
        "Decline the changes",
    )


def withdraw_solution():
    solution = make_solution()
    return Case(
        solution.author,
        reverse("challenges:solution-withdraw", args=[solution.pk]),
        {},
        lambda: Solution.objects.get(pk=solution.pk).status,
        "Withdraw",
    )


def close_challenge():
    organiser = make_organiser()
    challenge = ChallengeFactory(created_by=organiser)
    return Case(
        organiser,
        reverse("challenges:transition", args=[challenge.slug]),
        {"to": "selecting"},
        lambda: Challenge.objects.get(pk=challenge.pk).status,
        "Close submissions",
    )


def decline_proposal():
    proposal = challenge_services.proposal_create(
        proposer=UserFactory(), title="Bus stops", summary="S", problem="P"
    )
    return Case(
        make_organiser(),
        reverse("challenges:proposal-decline", args=[proposal.pk]),
        {"reason": "Covered elsewhere"},
        lambda: ChallengeProposal.objects.get(pk=proposal.pk).status,
        "Decline the proposal",
    )


CASES = {
    "publish results": publish_results,
    "decline and refund": order_step("decline", paid_order, "seller", "Decline"),
    "cancel an order": order_step("cancel", place, "buyer", "Cancel"),
    "accept a delivery": order_step("accept", delivered_order, "buyer", "Accept the delivery"),
    "resolve a dispute": resolve_dispute,
    "accept upstream": accept_upstream,
    "decline upstream": decline_upstream,
    "withdraw a solution": withdraw_solution,
    "close a challenge": close_challenge,
    "decline a proposal": decline_proposal,
}


@pytest.mark.parametrize("name", CASES)
def test_an_irreversible_action_asks_first_without_javascript(client, name):
    case = CASES[name]()
    before = case.state()
    client.force_login(case.actor)
    page = client.post(case.url, case.data)
    html = page.content.decode()
    assert page.status_code == 200, name
    assert case.question in html and "cannot be undone" in html.lower()
    assert case.state() == before, "nothing happens before the member confirms"
    # The page sends the same fields again, confirmed, to the same address.
    assert f'action="{case.url}"' in html
    assert '<input type="hidden" name="confirmed" value="yes">' in html
    for key, value in case.data.items():
        assert f'name="{key}" value="{value}"' in html

    client.post(case.url, {**case.data, "confirmed": "yes"})
    assert case.state() != before, "confirmed, the action runs"


def test_the_confirmation_page_offers_a_way_back(client):
    case = withdraw_solution()
    client.force_login(case.actor)
    html = client.post(case.url).content.decode()
    assert "No, go back" in html
    assert Solution.objects.get(author=case.actor).get_absolute_url() in html


def test_every_form_of_a_guarded_action_asks_in_the_browser_too(client):
    """The data-confirm dialog (JavaScript) is on each guarded form, so a member with
    JavaScript answers once, in the dialog, and never sees the page."""
    order = delivered_order()
    client.force_login(order.buyer)
    html = client.get(order.get_absolute_url()).content.decode()
    accept = reverse("marketplace:order-step", args=[order.pk, "accept"])
    form = html[html.index(f'action="{accept}"') :][:400]
    assert "data-confirm=" in form


def test_the_api_does_not_ask(api_client):
    """An API client calling an action means it: no confirmation page there."""
    order = paid_order()
    api_client.force_authenticate(order.seller)
    response = api_client.post(f"/api/orders/{order.pk}/decline/")
    assert response.status_code in (200, 201), response.content
    assert Order.objects.get(pk=order.pk).state == Order.State.REFUNDED
