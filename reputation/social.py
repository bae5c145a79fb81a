"""Reputation's notification kinds (found by peerhub's AppConfig)."""

from peerhub.notifications import register_kind

register_kind(
    "solution_reviewed",
    label="A review of your solution",
    text="{actor} reviewed your solution “{solution}”",
    icon="star",
    many="{count} new reviews of your solution",
)
register_kind(
    "trust_level_gained",
    label="You reached a new trust level",
    text="You reached trust level {level} ({level_name}): {unlocks}",
    icon="shield",
)
