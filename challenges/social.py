"""What challenges contributes to notifications and following (found by peerhub's AppConfig):
its notification kinds and the things members may follow."""

from peerhub.following import register_followable
from peerhub.notifications import register_kind

from . import permissions
from .models import Challenge, Solution

register_followable("challenge", model=Challenge, can_view=permissions.can_view_challenge)
register_followable("solution", model=Solution, can_view=permissions.can_view_solution)

register_kind(
    "solution_forked",
    label="Your solution was forked",
    text="{actor} forked your solution “{parent}”: “{target}”",
    icon="fork",
    many="{count} new forks of your solution",
)
register_kind(
    "upstream_proposed",
    label="A fork offered a change to your solution",
    text="{actor} offered changes from their fork “{fork}” to your solution “{parent}”",
    icon="merge",
    many="{count} changes offered to your solution",
)
register_kind(
    "upstream_accepted",
    label="Your upstream change was accepted",
    text="{actor} accepted the changes from your fork “{fork}” into “{parent}”",
    icon="check",
)
register_kind(
    "upstream_declined",
    label="Your upstream change was declined",
    text="{actor} declined the changes from your fork “{fork}”: {reason}",
    icon="cross",
)
register_kind(
    "comment_reply",
    label="A reply to your comment",
    text="{actor} replied to your comment on “{on}”",
    icon="comment",
    many="{count} new replies to your comment",
)
register_kind(
    "solution_comment",
    label="A comment on your solution",
    text="{actor} commented on your solution “{on}”",
    icon="comment",
    many="{count} new comments on your solution",
)
register_kind(
    "challenge_opened",
    label="A challenge you follow opened",
    text="“{target}” is open for solutions",
    icon="flag",
)
register_kind(
    "challenge_selecting",
    label="A challenge you follow entered selection",
    text="“{target}” closed for solutions: the organisers are selecting",
    icon="flag",
)
# Selection rounds (issue 5): declared here so that wiring them is one notify() call each.
register_kind(
    "solution_shortlisted",
    label="Your solution was shortlisted",
    text="Your solution “{target}” was shortlisted in “{challenge}”",
    important=True,
    icon="award",
)
register_kind(
    "solution_won",
    label="Your solution won",
    text="Your solution “{target}” was selected as a winner of “{challenge}”",
    important=True,
    icon="award",
)
register_kind(
    "challenge_results_published",
    label="A challenge you follow published its results",
    text="“{target}” published its selection results",
    important=True,
    icon="award",
)
