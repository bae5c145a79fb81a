"""The marketplace demo (called by seed_demo): offers from the trusted demo members, orders in
every state, a payout, and a Premium organiser. Everything goes through the real services and
the sandbox provider, so the demo's books pass `audit_ledger`."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from challenges.models import Solution
from peerhub.models import User

from . import ledger, services
from .models import Offer, Order, Subscription

# Pinned at "trusted" by reputation's demo: they hold marketplace.add_offer.
SELLERS = ["marta", "kwame"]
BUYERS = ["li", "sofia", "tomas", "amina", "jonas"]
PREMIUM_ORGANISER = "kwame"

OFFERS = [
    ("marta", "Adapt a water solution to your town",
     "I study your town's **water sources, budget and people**, then adapt the chosen solution: "
     "a costed plan, a maintenance schedule and a one-hour call with your team.",
     45000, 14, 3),
    ("marta", "Expert review of your mobility plan",
     "A written review of your plan against the challenge's criteria, with sources.",
     15000, 5, 5),
    ("kwame", "Repair-café starter workshop",
     "A two-hour online workshop for volunteers opening a repair café: tools, safety, "
     "insurance and the first month's schedule.",
     9000, 7, 4),
    ("kwame", "Open-hardware sensor build, adapted",
     "I adapt an open sensor design to your parts and climate and send the build notes.",
     25000, 21, 2),
]  # fmt: skip


def _pay(order: Order) -> None:
    payment = services.order_pay(order=order, by=order.buyer)
    services.sandbox_answer(payment=payment, by=order.buyer, outcome="succeed")
    order.refresh_from_db()


def _orders(offers: list[Offer], buyers: list[User], staff: User | None) -> int:
    """One order per state, spread over the offers."""
    plan = [
        "completed", "completed", "delivered", "in_progress", "paid", "pending_payment",
        "cancelled", "refunded", "disputed", "resolved",
    ]  # fmt: skip
    made = 0
    for index, target in enumerate(plan):
        offer = offers[index % len(offers)]
        buyer = buyers[index % len(buyers)]
        if target == "resolved" and staff is None:
            continue
        order = services.order_place(
            buyer=buyer, offer=offer, brief="For our town of 12,000 people, by the spring."
        )
        made += 1
        if target == "pending_payment":
            continue
        if target == "cancelled":
            services.order_cancel(order=order, by=buyer)
            continue
        _pay(order)
        if target == "paid":
            continue
        if target == "refunded":
            services.order_decline(order=order, by=offer.seller, reason="Fully booked, sorry.")
            continue
        services.order_start(order=order, by=offer.seller)
        services.order_message_post(order=order, by=buyer, body="Thank you! Any questions?")
        if target == "in_progress":
            continue
        services.order_deliver(
            order=order, by=offer.seller,
            message="Here is the adapted plan, with costs and the maintenance schedule.",
            links=["https://example.org/peerhub-demo/plan.pdf"],
        )  # fmt: skip
        if target == "delivered":
            continue
        if target in ("disputed", "resolved"):
            services.order_dispute(order=order, by=buyer, reason="The costs are for another town.")
            if target == "resolved":
                services.order_resolve(
                    order=order, by=staff, resolution="split", buyer_amount=order.price // 2,
                    note="Half the plan was usable.",
                )  # fmt: skip
            continue
        services.order_accept(order=order, by=buyer)
        services.order_review_save(
            order=order, by=buyer, rating=5 if index == 0 else 4,
            text="Careful, practical work that our volunteers could follow.",
        )  # fmt: skip
    return made


def _sandbox_settings() -> dict:
    """Demo money always goes through the sandbox, whatever provider the site is set up with."""
    return {**settings.PEERHUB_MARKETPLACE, "payment_provider": "sandbox",
            "payout_provider": "sandbox"}  # fmt: skip


def prepare(*, command) -> None:
    """Before any app's demo: the Premium organiser subscribes, so the challenges demo may give
    them a private challenge and more than the free plan's open challenges."""
    organiser = User.objects.filter(username=PREMIUM_ORGANISER).first()
    if organiser is None or Subscription.objects.filter(user=organiser).exists():
        return
    with override_settings(PEERHUB_MARKETPLACE=_sandbox_settings()), transaction.atomic():
        payment = services.subscription_start(user=organiser, interval="yearly")
        services.sandbox_answer(payment=payment, by=organiser, outcome="succeed")


def seed(*, command) -> None:
    if Offer.objects.exists():
        command.stdout.write("Marketplace demo already present: nothing added.")
        return
    members = {u.username: u for u in User.objects.filter(username__in=SELLERS + BUYERS)}
    if set(SELLERS + BUYERS) - set(members):
        command.stderr.write("Marketplace demo skipped: demo members are missing.")
        return
    staff = User.objects.filter(is_staff=True).order_by("pk").first()
    with override_settings(PEERHUB_MARKETPLACE=_sandbox_settings()), transaction.atomic():
        offers = []
        for username, title, description, price, days, capacity in OFFERS:
            seller = members[username]
            base = (
                Solution.objects.filter(author=seller, status=Solution.Status.PUBLISHED)
                .order_by("pk")
                .first()
            )
            offers.append(
                services.offer_create(
                    seller=seller,
                    title=title,
                    description=description,
                    price=price,
                    delivery_days=days,
                    capacity=capacity,
                    base_solution=base,
                )
            )
        buyers = [members[name] for name in BUYERS]
        made = _orders(offers, buyers, staff)
        # Older deliveries, so the auto-completion has something to do on a fresh demo.
        Order.objects.filter(state=Order.State.DELIVERED).update(
            auto_complete_at=timezone.now() + timedelta(days=2)
        )
        paid_out = 0
        for username in SELLERS:
            available = ledger.balances_of(members[username]).get(
                settings.PEERHUB_MARKETPLACE["currency"], 0
            )
            if available > 1000:
                services.payout_request(seller=members[username], amount=available // 2)
                paid_out += 1
    purse_note = _purses(command, [members[name] for name in BUYERS])
    problems = ledger.audit()
    command.stdout.write(
        f"Marketplace demo: {purse_note}; {len(offers)} offers, {made} orders, {paid_out} payouts, "
        f"{PREMIUM_ORGANISER} on Premium; ledger audit "
        f"{'passed' if not problems else 'FAILED: ' + '; '.join(problems)}."
    )


# --- Prize purses (issue 20) --------------------------------------------------------------------


def _winning_fork() -> Solution | None:
    """A remix two or more generations deep, built on someone else's work, in a challenge whose
    results are not out yet: the demo's funded challenge awards it, so its money reaches the
    authors it was built on."""
    from challenges.models import Challenge, SelectionRound

    published = SelectionRound.objects.filter(status=SelectionRound.Status.PUBLISHED)
    candidates = (
        Solution.objects.filter(
            status=Solution.Status.PUBLISHED,
            generation__gte=2,
            unchanged_fork=False,
            challenge__status__in=[Challenge.Status.OPEN, Challenge.Status.SELECTING],
        )
        .exclude(challenge__in=published.values("challenge"))
        .select_related("parent", "challenge")
        .order_by("challenge_id", "-generation", "pk")
    )
    for solution in candidates:
        if solution.parent.author_id != solution.author_id:
            return solution
    return None


def _purses(command, backers: list[User]) -> str:
    """A funded challenge with published results whose money reached the winner's ancestors,
    and an open challenge whose purse is still taking contributions."""
    from challenges import services as challenge_services
    from challenges.models import Challenge
    from peerhub.exceptions import DomainError

    from .services import purses

    winner = _winning_fork()
    if winner is None:
        return "no purse (no remix to award)"
    challenge = winner.challenge
    organiser = challenge.organisers.order_by("pk").first()
    with override_settings(PEERHUB_MARKETPLACE=_sandbox_settings()), transaction.atomic():
        purses.purse_configure(
            challenge=challenge, by=organiser, mode="places", places=[60, 30, 10],
            lineage_share="0.20",
        )  # fmt: skip
        names = ["Riverside school", "", "The Oduya family"]
        for backer, amount, name in zip(backers, [25000, 10000, 5000], names, strict=False):
            payment = purses.contribution_start(
                challenge=challenge, backer=backer, amount=amount, public_name=name, return_url="/"
            )
            services.sandbox_answer(payment=payment, by=backer, outcome="succeed")
        if challenge.status == Challenge.Status.OPEN:
            challenge_services.challenge_transition(
                challenge=challenge, by=organiser, to=Challenge.Status.SELECTING
            )
        round_ = challenge_services.selection_round_open(
            challenge=challenge, by=organiser, title="Prize round",
            summary="The funded prize goes to the remix that carried the idea furthest.",
        )  # fmt: skip
        others = (
            challenge.solutions.filter(status=Solution.Status.PUBLISHED)
            .exclude(pk=winner.pk)
            .order_by("pk")[:1]
        )
        for solution in [winner, *others]:
            challenge_services.selection_shortlist(
                round=round_, by=organiser, solution=solution,
                reason="Answers the criteria and builds on the best ideas before it.",
            )  # fmt: skip
            challenge_services.selection_select(
                round=round_, by=organiser, solution=solution,
                reason="Chosen by the organisers for the prize.",
            )  # fmt: skip
        challenge_services.selection_publish(round=round_, by=organiser)
    # The award ran from the outbox after commit (eager here). The results are out, so the
    # challenge closes: the demo keeps one challenge selecting (its own selection round).
    challenge_services.challenge_transition(
        challenge=challenge, by=organiser, to=Challenge.Status.CLOSED
    )
    # And an open purse elsewhere, still taking contributions.
    open_challenge = (
        Challenge.objects.filter(status=Challenge.Status.OPEN, purse__isnull=True)
        .order_by("pk")
        .first()
    )
    if open_challenge is not None:
        try:
            with override_settings(PEERHUB_MARKETPLACE=_sandbox_settings()), transaction.atomic():
                by = open_challenge.organisers.order_by("pk").first()
                purses.purse_configure(challenge=open_challenge, by=by, mode="equal")
                payment = purses.contribution_start(
                    challenge=open_challenge, backer=backers[-1], amount=7500,
                    public_name="Jonas", return_url="/",
                )  # fmt: skip
                services.sandbox_answer(payment=payment, by=backers[-1], outcome="succeed")
        except DomainError:
            pass
    return f"a funded purse awarded on “{challenge.title}”"
