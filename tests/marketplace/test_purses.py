"""Prize purses: rules, contributions, awards along the lineage, refunds, royalties."""

from decimal import Decimal

import pytest

from challenges import services as challenge_services
from marketplace import ledger
from marketplace.models import Contribution, Earning, LedgerTransaction, Purse, Refund
from marketplace.services import purses
from peerhub.exceptions import Conflict, DomainError, NotAllowed
from reputation.models import MemberTrust, ReputationEvent, TrustSnapshot
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution

from .factories import OfferFactory, delivered_order
from .purse_helpers import archive, contribute, funded_challenge, publish_winners, to_selecting

pytestmark = pytest.mark.django_db


def payable(user) -> int:
    return ledger.balances_of(user).get("EUR", 0)


# --- Rules ------------------------------------------------------------------------------------


def test_the_organiser_sets_places_and_a_lineage_share():
    challenge = ChallengeFactory()
    purse = purses.purse_configure(
        challenge=challenge, by=challenge.created_by, mode="places", places=[70, 30],
        lineage_share="0.3",
    )  # fmt: skip
    assert purse.places == [70, 30]
    assert purse.lineage_share == Decimal("0.300")


def test_the_lineage_share_defaults_to_the_platform_setting(settings):
    challenge = ChallengeFactory()
    purse = purses.purse_configure(challenge=challenge, by=challenge.created_by, mode="equal")
    assert purse.lineage_share == Decimal(settings.PEERHUB_MARKETPLACE["lineage_share_default"])


@pytest.mark.parametrize(
    ("places", "share"),
    [([60, 30], "0.2"), ([30, 70], "0.2"), ([100, 0], "0.2"), ([], "0.2"), ([100], "0.51"),
     ([100], "-0.1"), ([100], "lots"), (["x"], "0.2")],
)  # fmt: skip
def test_bad_rules_are_refused(places, share):
    challenge = ChallengeFactory()
    with pytest.raises(DomainError):
        purses.purse_configure(
            challenge=challenge, by=challenge.created_by, mode="places", places=places,
            lineage_share=share,
        )  # fmt: skip


def test_only_organisers_set_the_rules():
    challenge = ChallengeFactory()
    with pytest.raises(NotAllowed):
        purses.purse_configure(challenge=challenge, by=UserFactory(), mode="equal")


def test_the_rules_are_frozen_once_money_is_in():
    challenge = funded_challenge()
    with pytest.raises(Conflict) as refused:
        purses.purse_configure(challenge=challenge, by=challenge.created_by, mode="equal")
    assert refused.value.code == "frozen"


def test_the_rules_are_frozen_while_a_contribution_is_being_paid():
    challenge = funded_challenge(amounts=())
    contribute(challenge, UserFactory(), 1000, outcome=None)
    with pytest.raises(Conflict):
        purses.purse_configure(challenge=challenge, by=challenge.created_by, mode="equal")


def test_a_failed_payment_does_not_freeze_the_rules():
    challenge = funded_challenge(amounts=())
    contribute(challenge, UserFactory(), 1000, outcome="decline")
    purse = purses.purse_configure(challenge=challenge, by=challenge.created_by, mode="equal")
    assert purse.mode == "equal"


# --- Contributions ----------------------------------------------------------------------------


def test_a_contribution_lands_in_the_prize_escrow_net_of_the_fee(settings):
    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "purse_fee_rate": "0.05"}
    challenge = funded_challenge(amounts=())
    payment = contribute(challenge, UserFactory(), 10000, name="Riverside school")
    contribution = Contribution.objects.get(payments=payment)
    assert contribution.state == Contribution.State.PAID
    assert (contribution.fee, contribution.net) == (500, 9500)
    assert ledger.balance(ledger.purse(challenge, "EUR")) == 9500
    assert ledger.balance(ledger.revenue("EUR")) == 500
    assert ledger.audit() == []


def test_a_contribution_below_the_minimum_is_refused_before_any_charge(settings):
    challenge = funded_challenge(amounts=())
    with pytest.raises(DomainError) as refused:
        contribute(
            challenge, UserFactory(), settings.PEERHUB_MARKETPLACE["purse_min_contribution"] - 1
        )
    assert refused.value.code == "too_small"


def test_unverified_members_cannot_contribute():
    challenge = funded_challenge(amounts=())
    with pytest.raises(NotAllowed):
        contribute(challenge, UserFactory(verified=False), 1000)


def test_a_contribution_after_the_results_is_refused_before_any_charge():
    challenge = funded_challenge()
    publish_winners(challenge, [make_solution(challenge)])
    with pytest.raises(Conflict) as refused:
        contribute(challenge, UserFactory(), 1000)
    assert refused.value.code == "purse_closed"
    assert Contribution.objects.filter(purse__challenge=challenge).count() == 1


def test_money_arriving_after_the_purse_locked_goes_back_in_full():
    challenge = funded_challenge()
    backer = UserFactory()
    late = contribute(challenge, backer, 2000, outcome=None)
    winner = make_solution(challenge)
    publish_winners(challenge, [winner])
    from marketplace import services

    services.sandbox_answer(payment=late, by=backer, outcome="succeed")
    contribution = Contribution.objects.get(payments=late)
    assert contribution.state == Contribution.State.RETURNED
    assert Refund.objects.get(payment=late).amount == 2000
    assert payable(winner.author) == 9500  # the late money is not in the award
    assert ledger.audit() == []


# --- Awards -----------------------------------------------------------------------------------


def test_results_split_the_purse_and_send_lineage_shares_up():
    challenge = funded_challenge(amounts=(20000,), places=(60, 40), share="0.20")  # net 19000
    root = make_solution(challenge)
    parent = make_fork(root)
    first = make_fork(parent)
    second = make_solution(challenge)
    publish_winners(challenge, [first, second])

    purse = Purse.objects.get(challenge=challenge)
    assert purse.state == Purse.State.AWARDED
    # 60 % of 19000 = 11400; its lineage pool 2280: parent 20/24 = 1900, grandparent 4/24 = 380
    assert payable(parent.author) == 1900
    assert payable(root.author) == 380
    assert payable(first.author) == 11400 - 1900 - 380
    assert payable(second.author) == 7600
    assert ledger.balance(ledger.purse(challenge, "EUR")) == 0
    memo = LedgerTransaction.objects.get(earning__beneficiary=parent.author).memo
    assert memo == f"Lineage share of the award to {first.author} for {first}"
    assert ledger.audit() == []


def test_an_award_task_run_twice_pays_once():
    challenge = funded_challenge()
    publish_winners(challenge, [make_solution(challenge)])
    purse = Purse.objects.get(challenge=challenge)
    assert purses.purse_award(purse_id=purse.pk) == "not due"
    assert Earning.objects.filter(purse=purse).count() == 1


def test_money_never_feeds_the_reputation_ledger():
    challenge = funded_challenge()
    root = make_solution(challenge)
    winner = make_fork(root)
    to_selecting(challenge)
    before = ReputationEvent.objects.filter(beneficiary=root.author).count()
    publish_winners(challenge, [winner])
    assert payable(root.author) > 0
    assert ReputationEvent.objects.filter(beneficiary=root.author).count() == before


def test_a_later_round_does_not_pay_the_purse_again():
    challenge = funded_challenge()
    first, second = make_solution(challenge), make_solution(challenge)
    publish_winners(challenge, [first])
    publish_winners(challenge, [second])
    assert payable(first.author) == 9500
    assert payable(second.author) == 0


def test_winners_can_request_payouts_of_their_award():
    from marketplace.services import payout_request
    from tests.factories import add_totp

    challenge = funded_challenge()
    winner = make_solution(challenge)
    publish_winners(challenge, [winner])
    add_totp(winner.author)
    payout = payout_request(seller=winner.author)
    assert payout.amount == 9500
    assert payable(winner.author) == 0


# --- The lineage rule for money (challenges.lineage, shared with reputation) -------------------


def payees(winner):
    return [(p.generation, p.author_id) for p in purses.money_payees(
        solution=winner, earner_id=winner.author_id)]  # fmt: skip


def test_rule_parent_and_grandparent_count():
    root = make_solution()
    parent = make_fork(root)
    winner = make_fork(parent)
    assert payees(winner) == [(1, parent.author_id), (2, root.author_id)]


def test_rule_an_unchanged_copy_passes_its_generation_on():
    root = make_solution()
    copy = make_fork(root, changed=False)
    winner = make_fork(copy)
    assert payees(winner) == [(1, root.author_id)]


def test_rule_a_withdrawn_ancestor_is_not_paid():
    root = make_solution()
    parent = make_fork(root)
    winner = make_fork(parent)
    challenge_services.solution_withdraw(solution=parent, by=parent.author)
    assert payees(winner) == [(2, root.author_id)]


def test_rule_a_low_trust_author_is_not_paid():
    root = make_solution()
    parent = make_fork(root)
    winner = make_fork(parent)
    snapshot = TrustSnapshot.objects.create(version=1)
    MemberTrust.objects.create(snapshot=snapshot, user=parent.author, trust=0.01, low_trust=True)
    assert payees(winner) == [(2, root.author_id)]


def test_rule_no_self_ancestry():
    me = UserFactory()
    parent = make_solution(author=me)
    winner = make_fork(parent, author=me)
    assert payees(winner) == []


def test_rule_nothing_for_the_winners_own_earlier_solutions():
    me = UserFactory()
    root = make_solution(author=me)
    parent = make_fork(root)
    winner = make_fork(parent, author=me)
    assert payees(winner) == [(1, parent.author_id)]


def test_rule_one_person_is_paid_once_at_the_nearest_generation():
    them = UserFactory()
    root = make_solution(author=them)
    parent = make_fork(root, author=them)
    winner = make_fork(parent)
    assert payees(winner) == [(1, them.pk)]


def test_rule_reaches_no_further_than_the_reputation_shares():
    chain = [make_solution()]
    for _ in range(3):
        chain.append(make_fork(chain[-1]))
    winner = chain[-1]
    assert [g for g, _ in payees(winner)] == [1, 2]


# --- No winner --------------------------------------------------------------------------------


def test_archived_without_winners_refunds_every_backer_pro_rata():
    challenge = funded_challenge(amounts=(10000, 3000))
    archive(challenge)
    purse = Purse.objects.get(challenge=challenge)
    assert purse.state == Purse.State.REFUNDED
    refunds = sorted(Refund.objects.filter(payment__contribution__purse=purse).values_list(
        "amount", flat=True))  # fmt: skip
    assert refunds == [2850, 9500]
    assert ledger.balance(ledger.purse(challenge, "EUR")) == 0
    assert ledger.audit() == []


def test_archived_after_awarding_refunds_nothing():
    challenge = funded_challenge()
    publish_winners(challenge, [make_solution(challenge)])
    archive(challenge)
    assert not Refund.objects.exists()


# --- Royalties --------------------------------------------------------------------------------


def test_a_completed_order_pays_royalties_from_the_sellers_share(settings):
    root = make_solution()
    parent = make_fork(root)
    base = make_fork(parent)
    offer = OfferFactory(base_solution=base, price=10000)
    order = delivered_order(offer=offer)
    from marketplace import services

    services.order_accept(order=order, by=order.buyer)
    # royalty 5 % of 10000 = 500: parent 20/24 = 416, grandparent 4/24 = 83
    assert payable(parent.author) == 416
    assert payable(root.author) == 83
    assert payable(offer.seller) == 10000 - 1000 - 416 - 83
    order.refresh_from_db()
    assert order.price == 10000  # the buyer paid the price, nothing more
    assert ledger.audit() == []


def test_an_offer_on_an_original_solution_pays_no_royalty():
    offer = OfferFactory(base_solution=make_solution(), price=10000)
    order = delivered_order(offer=offer)
    from marketplace import services

    services.order_accept(order=order, by=order.buyer)
    assert not Earning.objects.exists()
    assert payable(offer.seller) == 9000


# --- The audit --------------------------------------------------------------------------------


def test_the_audit_finds_a_purse_holding_money_it_should_not():
    challenge = funded_challenge()
    publish_winners(challenge, [make_solution(challenge)])
    ledger.post(
        key="stray",
        kind=LedgerTransaction.Kind.CORRECTION,
        legs=[
            ledger.Leg(ledger.revenue("EUR"), -10),
            ledger.Leg(ledger.purse(challenge, "EUR"), 10),
        ],
    )
    assert any("holds 10, not 0" in problem for problem in ledger.audit())


def test_the_audit_finds_an_earning_that_is_not_its_payable_line():
    challenge = funded_challenge()
    publish_winners(challenge, [make_solution(challenge)])
    Earning.objects.update(amount=1)
    problems = ledger.audit()
    assert any("is not the payable line" in problem for problem in problems)
    assert any("paid 1 and refunded 0" in problem for problem in problems)


def test_the_audit_finds_a_contribution_no_provider_confirmed():
    challenge = funded_challenge(amounts=())
    contribute(challenge, UserFactory(), 1000, outcome=None)
    Contribution.objects.update(state=Contribution.State.PAID)
    assert any("no provider confirmed" in problem for problem in ledger.audit())
