"""Flags for the demo world (issue 21), through the real services: a new account posts spam,
members flag it, staff remove it and the account is suspended; a second spam comment and an
off-topic one wait in the review queue. Idempotent: skipped once the spammer exists."""

from allauth.account.models import EmailAddress
from django.db import transaction

from challenges import services as challenge_services
from challenges.models import Challenge
from peerhub.models import User

from ..models import ModerationCase
from . import services

SPAMMER = "quickcash"


@transaction.atomic
def seed(*, command) -> None:
    staff = User.objects.filter(is_staff=True, is_active=True).order_by("pk").first()
    challenge = (
        Challenge.objects.filter(status=Challenge.Status.OPEN, visibility="public")
        .order_by("pk")
        .first()
    )
    names = ["sofia", "tomas", "amina", "jonas", "li"]
    members = {u.username: u for u in User.objects.filter(username__in=names)}
    if staff is None or challenge is None or len(members) < len(names):
        return
    if User.objects.filter(username=SPAMMER).exists():
        return
    spammer = User.objects.create_user(
        username=SPAMMER, email="quickcash@example.invalid", display_name="Quick Cash"
    )
    spammer.set_unusable_password()
    spammer.save()
    EmailAddress.objects.create(user=spammer, email=spammer.email, verified=True, primary=True)
    removed = challenge_services.comment_create(
        author=spammer, target=challenge, body="Earn $500 a day from home!!! Visit my site now."
    )
    waiting = challenge_services.comment_create(
        author=spammer, target=challenge, body="Cheap watches, best prices, click my profile."
    )
    off_topic = challenge_services.comment_create(
        author=members["jonas"],
        target=challenge,
        body="Unrelated, but does anyone know a good bakery near the station?",
    )
    for name in ("sofia", "tomas", "amina"):
        services.flag_create(
            flagger=members[name], kind="comment", object_id=removed.pk, reason="spam"
        )
    case = removed_case = ModerationCase.objects.get(kind="comment", object_id=removed.pk)
    services.case_decide(case=case, by=staff, outcome="remove")
    services.flag_create(flagger=members["jonas"], kind="comment", object_id=waiting.pk,
                         reason="spam")  # fmt: skip
    services.flag_create(
        flagger=members["li"],
        kind="comment",
        object_id=off_topic.pk,
        reason="off_topic",
        text="Nothing to do with the challenge.",
    )
    command.stdout.write(
        f"Moderation: case {removed_case.pk} decided (spam removed, account suspended), "
        "2 flags waiting in the review queue."
    )
