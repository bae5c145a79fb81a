"""Telling members when they reach a new trust level. Called by the tasks after a ledger sync
(reputation.tasks), outside the score computation itself: it only reads the levels written."""

from django.urls import reverse
from django.utils.translation import gettext, pgettext

from peerhub.models import Notification
from peerhub.notifications import notify

from . import rules
from .models import ReputationScore

# Level 1 only needs a verified address; the levels worth a notice are earned.
FIRST_EARNED_LEVEL = 2


def unlocks(level: int) -> str:
    """What reaching `level` unlocks, in the active language."""
    names = sorted(
        str(rules.PRIVILEGE_LABELS.get(perm, perm))
        for perm, needed in rules.privileges().items()
        if needed == level
    )
    if not names:
        return gettext("thank you for your work")
    return gettext("now you can {privileges}").format(
        privileges=pgettext("list separator", ", ").join(names)
    )


def trust_levels_announce(user_ids) -> int:
    """Notify each member (of `user_ids`, or everyone with None) whose trust level is one they
    were never told about. A level is announced once per member (notify dedupes on it), so
    running this again is harmless."""
    scores = ReputationScore.objects.filter(trust_level__gte=FIRST_EARNED_LEVEL)
    if user_ids is not None:
        scores = scores.filter(user_id__in=list(user_ids))
    scores = list(scores.values_list("user_id", "trust_level", "user__username"))
    if not scores:
        return 0
    told = set(
        Notification.objects.filter(
            kind="trust_level_gained", recipient_id__in=[s[0] for s in scores]
        ).values_list("recipient_id", "dedupe_key")
    )
    announced = 0
    for user_id, level, username in scores:
        key = f"level-{level}"
        if (user_id, f"-:-:{key}") in told:
            continue
        notify(
            "trust_level_gained",
            [user_id],
            key=key,
            url=reverse("profile", kwargs={"username": username}),
            context={
                "level": level,
                # Kept for the record; reputation.social words both again from the level, in
                # each reader's language.
                "level_name": str(rules.LEVEL_NAMES.get(level, "")),
                "unlocks": unlocks(level),
            },
        )
        announced += 1
    return announced
