"""What challenges contributes to notifications and following (found by peerhub's AppConfig):
its notification kinds and the things members may follow."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from peerhub.following import register_followable, register_verb
from peerhub.notifications import register_kind

from . import permissions
from .models import Challenge, Solution
from .pagecache import challenge_scope

register_followable(
    "challenge",
    model=Challenge,
    can_view=permissions.can_view_challenge,
    page_scopes=challenge_scope,
)
register_followable(
    "solution",
    model=Solution,
    can_view=permissions.can_view_solution,
    page_scopes=lambda pk: [f"solution:{pk}"],
)

# Lines in the feeds of those who follow one of their subjects (challenges.social_events).
register_verb("solution_posted", text=_("{actor} posted “{target}” in “{challenge}”"))
register_verb(
    "solution_forked", text=_("{actor} forked “{source}” by {source_author} into “{target}”")
)
register_verb("challenge_opened", text=_("“{target}” is open for solutions"))
register_verb("solution_selected", text=_("“{target}” by {author} won “{challenge}”"))

register_kind(
    "solution_forked",
    label=_("Your solution was forked"),
    text=_("{actor} forked your solution “{parent}”: “{target}”"),
    icon="fork",
    many=ngettext_lazy(
        "{count} new fork of your solution", "{count} new forks of your solution", "count"
    ),
    social=True,
)
register_kind(
    "upstream_proposed",
    label=_("A fork offered a change to your solution"),
    text=_("{actor} offered changes from their fork “{fork}” to your solution “{parent}”"),
    icon="merge",
    many=ngettext_lazy(
        "{count} change offered to your solution",
        "{count} changes offered to your solution",
        "count",
    ),
    social=True,
)
register_kind(
    "upstream_accepted",
    label=_("Your upstream change was accepted"),
    text=_("{actor} accepted the changes from your fork “{fork}” into “{parent}”"),
    icon="check",
    social=True,
)
register_kind(
    "upstream_declined",
    label=_("Your upstream change was declined"),
    text=_("{actor} declined the changes from your fork “{fork}”: {reason}"),
    icon="cross",
    social=True,
)
register_kind(
    "comment_reply",
    label=_("A reply to your comment"),
    text=_("{actor} replied to your comment on “{on}”"),
    icon="comment",
    many=ngettext_lazy(
        "{count} new reply to your comment", "{count} new replies to your comment", "count"
    ),
    social=True,
)
register_kind(
    "solution_comment",
    label=_("A comment on your solution"),
    text=_("{actor} commented on your solution “{on}”"),
    icon="comment",
    many=ngettext_lazy(
        "{count} new comment on your solution", "{count} new comments on your solution", "count"
    ),
    social=True,
)
register_kind(
    "challenge_opened",
    label=_("A challenge you follow opened"),
    text=_("“{target}” is open for solutions"),
    icon="flag",
    social=True,
)
register_kind(
    "challenge_selecting",
    label=_("A challenge you follow entered selection"),
    text=_("“{target}” closed for solutions: the organisers are selecting"),
    icon="flag",
    social=True,
)
# Selection rounds (issue 5): declared here so that wiring them is one notify() call each.
register_kind(
    "solution_shortlisted",
    label=_("Your solution was shortlisted"),
    text=_("Your solution “{target}” was shortlisted in “{challenge}”"),
    important=True,
    icon="award",
)
register_kind(
    "solution_won",
    label=_("Your solution won"),
    text=_("Your solution “{target}” was selected as a winner of “{challenge}”"),
    important=True,
    icon="award",
)
register_kind(
    "challenge_results_published",
    label=_("A challenge you follow published its results"),
    text=_("“{target}” published its selection results"),
    important=True,
    icon="award",
)


# --- What members may flag (issue 21, peerhub.moderation) --------------------------------------


def _comment_visible(user, comment) -> bool:
    if comment.is_deleted:
        return False
    if comment.solution_id:
        return permissions.can_view_solution(user, comment.solution)
    return permissions.can_view_challenge(user, comment.challenge)


def _register_flaggables() -> None:
    from peerhub.moderation import register_flaggable

    from .models import Comment, Revision
    from .services import moderation

    register_flaggable(
        "solution",
        label=pgettext_lazy("flagged item", "a solution"),
        noun=pgettext_lazy("flagged item", "solution"),
        flag_label=_("Flag this solution"),
        model=Solution,
        author_id=lambda s: s.author_id,
        can_view=permissions.can_view_solution,
        excerpt=lambda s: f"{s.title}\n\n{s.current_revision.body if s.current_revision else ''}",
        url=lambda s: s.get_absolute_url(),
        set_hidden=moderation.solution_set_moderation_hidden,
    )
    register_flaggable(
        "revision",
        label=pgettext_lazy("flagged item", "a revision"),
        noun=pgettext_lazy("flagged item", "revision"),
        flag_label=_("Flag this revision"),
        model=Revision,
        author_id=lambda r: r.author_id,
        can_view=lambda user, r: permissions.can_view_solution(user, r.solution),
        excerpt=lambda r: f"{r.title}\n\n{r.body}",
        url=lambda r: (
            reverse("challenges:solution-history", args=[r.solution_id]) + f"#r{r.number}"
        ),
        set_hidden=moderation.revision_set_moderation_hidden,
    )
    register_flaggable(
        "comment",
        label=pgettext_lazy("flagged item", "a comment"),
        noun=pgettext_lazy("flagged item", "comment"),
        flag_label=_("Flag this comment"),
        model=Comment,
        author_id=lambda c: c.author_id,
        can_view=_comment_visible,
        excerpt=lambda c: c.body,
        url=lambda c: reverse("challenges:comment-permalink", args=[c.pk]),
        set_hidden=moderation.comment_set_moderation_hidden,
    )


_register_flaggables()
