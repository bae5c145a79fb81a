"""Votes and reviews for the demo world, through the real services (called by seed_demo)."""

import random

from django.db import transaction

from challenges import services as challenge_services
from challenges.models import Challenge, SelectionRound, Solution
from peerhub.exceptions import DomainError
from peerhub.models import User

from . import fitness, rankings, services
from .models import Review, Vote
from .moderation import demo as moderation_demo

# Staff pin the organisers at "trusted" so the demo has reviews and a few downvotes at once.
TRUSTED = ["marta", "kwame"]
REVIEW_COMMENTS = [
    "Clear and costed. I would like to see how it is maintained after year one.",
    "Good fit for the criteria; the numbers on cost convince me, the testing plan less so.",
    "Promising. The local-maintenance part needs a named person or group, not just a hope.",
    "Solid work that others can build on. Please add the sources for the figures.",
]


def seed(*, command) -> None:
    _seed_votes_and_reviews(command=command)
    _seed_selection(command=command)
    moderation_demo.seed(command=command)
    written = fitness.recompute_all()
    command.stdout.write(f"Rankings: {written} solution scores computed.")


SELECTION_REASONS = [
    "Costed in detail and tested with the people who will use it.",
    "Builds on the strongest line of the challenge and answers every criterion.",
    "A bold idea the others are already building on.",
]


def _seed_selection(*, command) -> None:
    """A finished selection round on the first selecting challenge: its three best ranked
    solutions shortlisted, the best one selected, published through the real services."""
    if SelectionRound.objects.exists():
        return
    challenge = Challenge.objects.filter(status=Challenge.Status.SELECTING).order_by("pk").first()
    if challenge is None:
        return
    fitness.recompute_challenge(challenge.pk)
    organiser = challenge.organisers.order_by("pk").first()
    ranked = list(rankings.challenge_ranking(challenge)[:3])
    if organiser is None or not ranked:
        return
    with transaction.atomic():
        round_ = challenge_services.selection_round_open(
            challenge=challenge,
            by=organiser,
            title="First selection",
            summary="We looked for proposals that are costed, tested with residents and "
            "easy to build on.",
        )
        for score, reason in zip(ranked, SELECTION_REASONS, strict=False):
            challenge_services.selection_shortlist(
                round=round_, by=organiser, solution=score.solution, reason=reason
            )
        challenge_services.selection_select(
            round=round_,
            by=organiser,
            solution=ranked[0].solution,
            reason="The clearest plan, and the one the community built on most.",
        )
        challenge_services.selection_publish(round=round_, by=organiser)
    command.stdout.write(f"Selection demo: round 1 of “{challenge.title}” published.")


def _seed_votes_and_reviews(*, command) -> None:
    if Vote.objects.exists() or Review.objects.exists():
        command.stdout.write("Reputation demo already present: nothing added.")
        return
    staff = User.objects.filter(is_staff=True).order_by("pk").first()
    members = list(User.objects.filter(is_active=True).order_by("username"))
    solutions = list(
        Solution.objects.filter(status=Solution.Status.PUBLISHED)
        .select_related("challenge")
        .order_by("pk")
    )
    if staff is None or not solutions:
        return
    rng = random.Random(7)  # demo data: reproducible on every machine
    with transaction.atomic():
        for username in TRUSTED:
            member = User.objects.filter(username=username).first()
            if member:
                services.trust_level_pin(member=member, by=staff, level=3)
    votes = reviews = 0
    for solution in solutions:
        for voter in rng.sample(members, k=min(len(members), rng.randint(1, 6))):
            value = Vote.DOWN if voter.username in TRUSTED and rng.random() < 0.15 else Vote.UP
            try:
                with transaction.atomic():
                    services.vote_cast(voter=voter, solution=solution, value=value)
                votes += 1
            except DomainError:
                continue  # own work, own lineage or a private challenge: the rules say no
        for reviewer in (m for m in members if m.username in TRUSTED):
            if rng.random() < 0.5:
                continue
            scores = {c.pk: rng.randint(2, 5) for c in solution.challenge.criteria.all()}
            try:
                with transaction.atomic():
                    services.review_save(
                        reviewer=reviewer,
                        solution=solution,
                        comment=rng.choice(REVIEW_COMMENTS),
                        scores=scores,
                    )
                reviews += 1
            except DomainError:
                continue
    command.stdout.write(f"Reputation demo: {votes} votes, {reviews} reviews.")
