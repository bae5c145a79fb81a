"""Votes and reviews for the demo world, through the real services (called by seed_demo)."""

import random

from django.db import transaction

from challenges.models import Solution
from peerhub.exceptions import DomainError
from peerhub.models import User

from . import services
from .models import Review, Vote

# Staff pin the organisers at "trusted" so the demo has reviews and a few downvotes at once.
TRUSTED = ["marta", "kwame"]
REVIEW_COMMENTS = [
    "Clear and costed. I would like to see how it is maintained after year one.",
    "Good fit for the criteria; the numbers on cost convince me, the testing plan less so.",
    "Promising. The local-maintenance part needs a named person or group, not just a hope.",
    "Solid work that others can build on. Please add the sources for the figures.",
]


def seed(*, command) -> None:
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
