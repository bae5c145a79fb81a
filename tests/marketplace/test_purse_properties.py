"""Properties of prize money over random challenges, lineages, purses, award tables, ties,
refunds, rollovers to a follow-up challenge and royalties: every cent contributed is paid to a
winner, paid to an ancestor, kept as fee, refunded or rolled over into another purse, exactly
once; every transaction sums to zero; nobody is paid twice for one
node; and the outcome does not depend on the order of the contributions."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import event, given
from hypothesis import strategies as st

from challenges import services as challenge_services
from challenges.models import SelectionEntry
from marketplace import ledger, prizes, purse_selectors, services
from marketplace.models import Contribution, Earning, LedgerEntry, Purse, PurseRollover, Refund
from marketplace.services import purses
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.helpers import after_commit, database_examples

from .factories import OfferFactory, delivered_order
from .purse_helpers import archive, contribute, publish_winners, to_selecting

pytestmark = pytest.mark.django_db
MEMBERS = 5


# --- The pure arithmetic ----------------------------------------------------------------------


@st.composite
def award_table(draw):
    count = draw(st.integers(1, 5))
    cuts = sorted(draw(st.lists(st.integers(1, 99), min_size=count - 1, max_size=count - 1,
                                unique=True)))  # fmt: skip
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
    return sorted(parts, reverse=True)


@given(
    total=st.integers(0, 10**7),
    percents=award_table(),
    moments=st.lists(st.integers(0, 4), min_size=1, max_size=7),
    equal=st.booleans(),
)
def test_a_purse_splits_exactly_better_places_never_get_less_and_ties_share(
    total, percents, moments, equal
):
    places = prizes.places_of(moments)
    awards = prizes.split_purse(total, percents=percents, places=places, equal=equal)
    assert sum(awards) == total
    assert all(a >= 0 for a in awards)
    for i, j in ((i, j) for i in range(len(places)) for j in range(len(places))):
        if places[i] < places[j]:
            assert awards[i] >= awards[j]
        if places[i] == places[j] or equal:
            assert abs(awards[i] - awards[j]) <= 1


@given(pool=st.integers(0, 10**6), generations=st.sets(st.integers(1, 3)))
def test_lineage_shares_never_exceed_the_pool(pool, generations):
    from decimal import Decimal

    from challenges.lineage import Payee

    payees = [Payee(g, g, g) for g in sorted(generations)]
    weights = (Decimal("0.20"), Decimal("0.04"), Decimal("0.01"))
    shares = prizes.share_up(pool, payees=payees, weights=weights)
    assert sum(s.amount for s in shares) <= pool
    assert len({s.payee.author_id for s in shares}) == len(shares)


# --- The whole flow through the database -------------------------------------------------------

solution_spec = st.tuples(
    st.integers(0, MEMBERS - 1),  # author
    st.integers(-1, 10),  # parent: an earlier solution (index modulo), or none when negative
    st.booleans(),  # changed (a remix) or an unchanged copy
)
scenario = st.fixed_dictionaries(
    {
        "solutions": st.lists(solution_spec, min_size=1, max_size=5),
        "mode": st.sampled_from(["places", "equal"]),
        "percents": award_table(),
        "share": st.sampled_from(["0", "0.2", "0.333", "0.5"]),
        "contributions": st.lists(
            st.tuples(st.integers(0, MEMBERS - 1), st.integers(500, 50_000), st.booleans()),
            min_size=0,
            max_size=4,
        ),
        # indexes of winning solutions with their selection moment (equal moments tie), or None:
        # archived without winners
        "winners": st.none()
        | st.lists(st.tuples(st.integers(0, 10), st.integers(0, 2)), min_size=1, max_size=4),
        "royalty_on": st.none() | st.integers(0, 10),
        # the purse names a follow-up challenge (with its own backers) and what becomes of the
        # follow-up before the first challenge is archived (only matters without winners)
        "rollover": st.none()
        | st.fixed_dictionaries(
            {
                "backers": st.lists(
                    st.tuples(st.integers(0, MEMBERS - 1), st.integers(500, 50_000)), max_size=2
                ),
                "follow_up": st.sampled_from(["open", "archived", "results"]),
                "then": st.sampled_from(["nothing", "winner", "archived"]),
            }
        ),
    }
)


def play(spec, *, reverse: bool):
    """Build the scenario; `reverse` makes the contributions in the opposite order."""
    members = [UserFactory(username=f"m{i}") for i in range(MEMBERS)]
    challenge = ChallengeFactory(slug="prop")
    rollover = spec["rollover"]
    follow_up = None
    if rollover is not None:
        follow_up = ChallengeFactory(slug="prop-next", created_by=challenge.created_by)
        purses.purse_configure(challenge=follow_up, by=follow_up.created_by, mode="equal")
        for backer, amount in rollover["backers"]:
            contribute(follow_up, members[backer], amount)
    solutions = []
    for author, parent, changed in spec["solutions"]:
        if parent < 0 or not solutions:
            solutions.append(make_solution(challenge, members[author]))
        else:
            source = solutions[parent % len(solutions)]
            solutions.append(make_fork(source, members[author], changed=changed))
    purses.purse_configure(
        challenge=challenge, by=challenge.created_by, mode=spec["mode"],
        places=spec["percents"], lineage_share=spec["share"], rollover_to=follow_up,
    )  # fmt: skip
    contributions = spec["contributions"][::-1] if reverse else spec["contributions"]
    late = []
    for backer, amount, on_time in contributions:
        payment = contribute(
            challenge, members[backer], amount, outcome="succeed" if on_time else None
        )
        if not on_time:
            late.append((members[backer], payment))
    if spec["winners"] is None:
        if rollover is not None and rollover["follow_up"] == "archived":
            archive(follow_up)
        elif rollover is not None and rollover["follow_up"] == "results":
            publish_winners(follow_up, [make_solution(follow_up, members[0])])
        archive(challenge)
    else:
        to_selecting(challenge)
        organiser = challenge.created_by
        round_ = challenge_services.selection_round_open(challenge=challenge, by=organiser)
        chosen = {}
        # One clock reading for every winner: equal moments are a tie, even when the second
        # turns between two of the updates below.
        base = timezone.now().replace(microsecond=0)
        for index, moment in spec["winners"]:
            chosen.setdefault(solutions[index % len(solutions)], moment)
        for solution, moment in chosen.items():
            challenge_services.selection_shortlist(
                round=round_, by=organiser, solution=solution, reason="R"
            )
            challenge_services.selection_select(
                round=round_, by=organiser, solution=solution, reason="W"
            )
            SelectionEntry.objects.filter(round=round_, solution=solution).update(
                selected_at=base + timedelta(seconds=moment)
            )
        with after_commit():
            challenge_services.selection_publish(round=round_, by=organiser)
    for backer, payment in late:  # money that lands after the purse locked
        services.sandbox_answer(payment=payment, by=backer, outcome="succeed")
    if rollover is not None and Purse.objects.get(challenge=follow_up).is_open:
        if rollover["then"] == "winner":
            publish_winners(follow_up, [make_solution(follow_up, members[1])])
        elif rollover["then"] == "archived":
            archive(follow_up)
    if spec["royalty_on"] is not None:
        base = solutions[spec["royalty_on"] % len(solutions)]
        order = delivered_order(offer=OfferFactory(base_solution=base, price=12345))
        services.order_accept(order=order, by=order.buyer)
    return challenge, members


def outcome(challenge):
    return sorted(
        Earning.objects.values_list(
            "kind", "beneficiary__username", "node__title", "generation", "amount"
        )
    ), ledger.balance(ledger.purse(challenge, "EUR"))


@database_examples("PURSE_EXAMPLES", 12)
@given(spec=scenario)
def test_every_contributed_cent_is_paid_kept_refunded_or_rolled_over_once(spec):
    results = []
    for reverse in (False, True):
        with transaction.atomic():
            challenge, _members = play(spec, reverse=reverse)
            purses_played = Purse.objects.filter(challenge__slug__in=["prop", "prop-next"])
            paid_in = Contribution.objects.exclude(state="pending").aggregate(
                s=Sum("amount"))["s"] or 0  # fmt: skip
            fees = (
                Contribution.objects.filter(state__in=purse_selectors.COUNTED).aggregate(
                    s=Sum("fee")
                )["s"]
                or 0
            )
            prizes_paid = Earning.objects.filter(purse__isnull=False).aggregate(
                s=Sum("amount"))["s"] or 0  # fmt: skip
            refunded = Refund.objects.filter(payment__contribution__isnull=False).aggregate(
                s=Sum("amount"))["s"] or 0  # fmt: skip
            still_held = sum(
                ledger.balance(ledger.purse(p.challenge, "EUR"))
                for p in purses_played.filter(state=Purse.State.OPEN)
            )
            # every cent: to a winner or an ancestor, the fee, back to its backer, or still in
            # the open follow-up it rolled over to; once
            assert paid_in == prizes_paid + fees + refunded + still_held
            purse = Purse.objects.get(challenge=challenge)
            assert ledger.balance(ledger.purse(challenge, "EUR")) == 0
            assert purse.state in Purse.SETTLED
            event(f"purse {purse.state}")  # --hypothesis-show-statistics: how often each
            rolled = PurseRollover.objects.filter(from_purse=purse).first()
            # it rolls over exactly when it had no winners and the follow-up could receive
            expect_rollover = (
                spec["winners"] is None
                and spec["rollover"] is not None
                and spec["rollover"]["follow_up"] == "open"
            )
            assert (rolled is not None) == expect_rollover
            assert (purse.state == Purse.State.ROLLED_OVER) == expect_rollover
            for settled in purses_played.filter(state__in=Purse.SETTLED):
                assert ledger.balance(ledger.purse(settled.challenge, "EUR")) == 0
            # each transaction sums to zero, no account below zero, refunds match (the audit)
            assert ledger.audit() == []
            assert not LedgerEntry.objects.values("transaction").annotate(
                s=Sum("amount")).exclude(s=0).exists()  # fmt: skip
            # nobody is paid twice for one node of one earning
            per_node = Counter(
                Earning.objects.values_list("purse", "order", "solution", "node", "beneficiary")
            )
            assert all(count == 1 for count in per_node.values())
            per_person = Counter(
                Earning.objects.values_list("purse", "order", "solution", "beneficiary")
            )
            assert all(count == 1 for count in per_person.values())
            results.append(outcome(challenge))
            transaction.set_rollback(True)
    assert results[0] == results[1]
