"""Every write in challenges goes through these functions, called alike by HTML views, API views
and tasks."""

from .challenges import (
    TRANSITIONS,
    challenge_add_organiser,
    challenge_create,
    challenge_invite,
    challenge_transition,
    challenge_uninvite,
    challenge_update,
    challenges_close_past_deadline,
    tags_from_names,
)
from .comments import comment_create, comment_delete, comment_edit, comment_set_hidden
from .proposals import (
    proposal_adopt,
    proposal_back,
    proposal_create,
    proposal_decline,
    proposal_unback,
)
from .selection import (
    selection_publish,
    selection_round_open,
    selection_select,
    selection_shortlist,
    selection_unshortlist,
)
from .solutions import (
    solution_create,
    solution_fork,
    solution_post_refusal,
    solution_publish,
    solution_revise,
    solution_withdraw,
    upstream_accept,
    upstream_decline,
    upstream_propose,
    upstream_withdraw,
)
from .translations import challenge_translation_delete, challenge_translation_save

__all__ = [
    "TRANSITIONS",
    "challenge_add_organiser",
    "challenge_create",
    "challenge_invite",
    "challenge_transition",
    "challenge_translation_delete",
    "challenge_translation_save",
    "challenge_uninvite",
    "challenge_update",
    "challenges_close_past_deadline",
    "comment_create",
    "comment_delete",
    "comment_edit",
    "comment_set_hidden",
    "proposal_adopt",
    "proposal_back",
    "proposal_create",
    "proposal_decline",
    "proposal_unback",
    "selection_publish",
    "selection_round_open",
    "selection_select",
    "selection_shortlist",
    "selection_unshortlist",
    "solution_create",
    "solution_fork",
    "solution_post_refusal",
    "solution_publish",
    "solution_revise",
    "solution_withdraw",
    "tags_from_names",
    "upstream_accept",
    "upstream_decline",
    "upstream_propose",
    "upstream_withdraw",
]
