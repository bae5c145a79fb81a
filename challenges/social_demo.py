"""Following for the demo world (run by `seed_demo` after `challenges.demo`), so that a demo
member's feed and bell are alive. Idempotent: follows are set, never duplicated.

The challenges demo is built through the real services, so its forks, comments and upstream
proposals already notified their authors and filled the feeds; those rows are written when the
seed commits. Afterwards their times are aligned with the (back-dated) events they are about,
and an older demo database, seeded before feeds existed, gets its feed back-filled."""

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from peerhub.following import activity_record, follow_set
from peerhub.models import Activity, Notification, User

from . import permissions
from .demo import BUDGET, BUSES, FLOOD, FOOD, LANTERN, MEMBERS, RETROFIT, WATER
from .models import Challenge, Comment, Solution, UpstreamProposal

FOLLOWS = {
    # member: (members they follow, challenges they follow)
    "li": (("sofia", "tomas", "amina"), (WATER, FLOOD, LANTERN, FOOD)),
    "sofia": (("li", "jonas", "marta"), (BUDGET, BUSES, RETROFIT)),
    "tomas": (("li", "kwame"), (FLOOD, LANTERN)),
    "amina": (("li", "sofia"), (FOOD, WATER)),
    "jonas": (("sofia", "tomas"), (BUSES, BUDGET)),
    "marta": (("li", "sofia"), (WATER, BUSES)),
    "kwame": (("tomas", "jonas"), (LANTERN, FLOOD)),
    "ada": (("marta", "kwame"), (WATER,)),
}


def seed(*, command) -> None:
    users = {u.username: u for u in User.objects.filter(username__in=MEMBERS)}
    slugs = {slug for _, followed in FOLLOWS.values() for slug in followed}
    challenges = {c.slug: c for c in Challenge.objects.filter(slug__in=slugs)}
    follows = 0
    for username, (members, slugs) in FOLLOWS.items():
        follower = users.get(username)
        if follower is None:
            continue
        for other in members:
            if other in users:
                follow_set(follower=follower, target=users[other])
                follows += 1
        for slug in slugs:
            challenge = challenges.get(slug)
            if challenge and permissions.can_view_challenge(follower, challenge):
                follow_set(follower=follower, target=challenge)
                follows += 1
    # Every author follows their own published solutions: their forks reach the feed.
    for solution in Solution.objects.filter(
        author__in=users.values(), status=Solution.Status.PUBLISHED
    ).select_related("author"):
        follow_set(follower=solution.author, target=solution)
        follows += 1
    transaction.on_commit(_after_commit)
    command.stdout.write(f"Following: {follows} follows set for the demo members.")


def _after_commit() -> None:
    if not Activity.objects.exists():
        _backfill_feed()
    _align_times()


def _backfill_feed() -> None:
    """Feed lines for a demo world seeded before feeds existed: its solutions and forks."""
    solutions = (
        Solution.objects.filter(
            status=Solution.Status.PUBLISHED,
            challenge__visibility=Challenge.Visibility.PUBLIC,
        )
        .select_related("author", "challenge", "parent__author")
        .order_by("published_at")
    )
    with transaction.atomic():
        for s in solutions:
            if s.parent_id:
                context = {
                    "actor": s.author.name,
                    "source": s.parent.title,
                    "source_author": s.parent.author.name,
                    "target": s.title,
                }
                subjects = [s.author, s.parent, s.challenge]
            else:
                context = {
                    "actor": s.author.name,
                    "target": s.title,
                    "challenge": s.challenge.title,
                }
                subjects = [s.author, s.challenge]
            verb = "solution_forked" if s.parent_id else "solution_posted"
            activity_record(verb, actor=s.author, target=s, subjects=subjects, context=context)


def _align_times() -> None:
    """Feed lines and notifications take the time of what they are about."""
    for model, field in (
        (Solution, "published_at"),
        (Comment, "created_at"),
        (UpstreamProposal, "created_at"),
        (Challenge, "created_at"),
    ):
        target_type = ContentType.objects.get_for_model(model)
        when = Subquery(model.objects.filter(pk=OuterRef("target_id")).values(field)[:1])
        for rows in (Activity.objects, Notification.objects):
            rows.filter(target_type=target_type).update(created_at=Coalesce(when, F("created_at")))
