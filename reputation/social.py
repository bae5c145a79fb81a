"""Reputation's notification kinds (found by peerhub's AppConfig)."""

from peerhub.notifications import register_kind

register_kind(
    "solution_reviewed",
    label="A review of your solution",
    text="{actor} reviewed your solution “{solution}”",
    icon="star",
    many="{count} new reviews of your solution",
    social=True,
)
register_kind(
    "trust_level_gained",
    label="You reached a new trust level",
    text="You reached trust level {level} ({level_name}): {unlocks}",
    icon="shield",
)
register_kind(
    "flagged_content_hidden",
    label="Your content was hidden after flags",
    text="Your {item} was hidden pending review: members flagged it as {reason}. You may edit "
    "it or appeal.",
    important=True,
)
register_kind(
    "moderation_decided",
    label="A moderation decision on your content",
    text="Moderators reviewed your {item}: {outcome}.",
    important=True,
)
register_kind(
    "flag_resolved",
    label="Your flag was reviewed",
    text="Your flag on {item} was reviewed: {result}.",
)
