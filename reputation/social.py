"""Reputation's notification kinds (found by peerhub's AppConfig)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from peerhub.moderation import register_hidden_note
from peerhub.notifications import Kind, register_kind


class TrustLevelKind(Kind):
    """A new trust level: its name and what it unlocks are worded from the level when shown, in
    the reader's language (a stored notification keeps them in the language of the day)."""

    def render(self, *, actor=None, target=None, context: dict, captured: bool = False) -> str:
        from . import level_notices, rules

        try:
            level = int(context.get("level"))
        except (TypeError, ValueError):
            level = None
        if level in rules.LEVEL_NAMES:
            context = {
                **context,
                "level_name": str(rules.LEVEL_NAMES[level]),
                "unlocks": level_notices.unlocks(level),
            }
        return super().render(actor=actor, target=target, context=context, captured=captured)


class ModerationKind(Kind):
    """A moderation notification (content hidden, a decision, a flag reviewed): the item's kind,
    the flag reason and the outcome are worded from the codes the notification keeps (`kind`,
    `reason_code`, `outcome_code`, `suspended`, `result_code`) when shown, in the reader's
    language. A notification stored before them keeps its English words, shown as they were."""

    def render(self, *, actor=None, target=None, context: dict, captured: bool = False) -> str:
        from peerhub import moderation as registry

        from .moderation import selectors

        words = {}
        kind = context.get("kind")
        if kind in registry.flaggable_names():  # a kind whose app is gone keeps its words
            words["item"] = (
                selectors.item_label(kind)
                if self.name == "flag_resolved"
                else selectors.item_noun(kind)
            )
        if context.get("reason_code"):
            words["reason"] = selectors.reason_words(context["reason_code"])
        if context.get("outcome_code"):
            outcome = selectors.outcome_words(
                context["outcome_code"], suspended=bool(context.get("suspended"))
            )
            if outcome:
                words["outcome"] = outcome
        if context.get("result_code"):
            result = selectors.flag_result_words(context["result_code"])
            if result:
                words["result"] = result
        return super().render(
            actor=actor, target=target, context={**context, **words}, captured=captured
        )


def _hidden_note(stored: str) -> str:
    from .moderation import selectors

    return selectors.hidden_note(stored)


register_hidden_note(_hidden_note)

register_kind(
    "solution_reviewed",
    label=_("A review of your solution"),
    text=_("{actor} reviewed your solution “{solution}”"),
    icon="star",
    many=ngettext_lazy(
        "{count} new review of your solution", "{count} new reviews of your solution", "count"
    ),
    social=True,
)
register_kind(
    "trust_level_gained",
    kind_class=TrustLevelKind,
    label=_("You reached a new trust level"),
    text=_("You reached trust level {level} ({level_name}): {unlocks}"),
    icon="shield",
)
register_kind(
    "flagged_content_hidden",
    kind_class=ModerationKind,
    label=_("Your content was hidden after flags"),
    text=_(
        "Your {item} was hidden pending review: members flagged it as {reason}. You may edit "
        "it or appeal."
    ),
    important=True,
)
register_kind(
    "moderation_decided",
    kind_class=ModerationKind,
    label=_("A moderation decision on your content"),
    text=_("Moderators reviewed your {item}: {outcome}."),
    important=True,
)
register_kind(
    "flag_resolved",
    kind_class=ModerationKind,
    label=_("Your flag was reviewed"),
    text=_("Your flag on {item} was reviewed: {result}."),
)
