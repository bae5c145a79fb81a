"""The registry of notification kinds. Each app declares its own in a `social.py` module (found
by peerhub.apps.PeerhubConfig.ready), so the site never imports the apps that notify."""

from contextlib import suppress
from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from peerhub.models import Channel


@dataclass(frozen=True)
class Kind:
    name: str
    # Each text is translatable (gettext_lazy): worded in the reader's language when shown.
    label: str  # what the preferences page calls it: "Your solution was forked"
    text: str  # str.format template: "{actor} forked your solution “{target}”"
    important: bool = False  # important kinds are e-mailed at once by default
    icon: str = "bell"  # drawn beside it on the notifications page (peerhub's `icon` tag)
    # What several of this kind on one target say together, with its plural forms:
    # ngettext_lazy("{count} comment on your solution", "{count} comments on …", "count")
    many: str = ""
    # Social kinds (comments, mentions, forks, reviews...) are silenced by a mute or a block
    # (peerhub.relations); the others (orders, money, moderation, results) always arrive.
    social: bool = False

    @property
    def default_channel(self) -> str:
        return Channel.IMMEDIATE if self.important else Channel.DIGEST

    def summary(self, count: int) -> str:
        """What `count` notifications of this kind about one thing say together."""
        if self.many:  # ngettext_lazy(…, "count"): the form for `count` in the reader's language
            return self.many.format(count=count)
        label = str(self.label)
        return ngettext(
            "{count} notification: {label}", "{count} notifications: {label}", count
        ).format(count=count, label=f"{label[:1].lower()}{label[1:]}")

    @staticmethod
    def capture(*, actor, target, context: dict) -> dict:
        """What a notification keeps to be worded later, in each reader's language: the actor's
        and the target's names as they were, and the caller's context, as text."""
        return {
            "actor": getattr(actor, "name", None) or "",
            "target": str(target) if target is not None else "",
            **{key: str(value) for key, value in context.items()},
        }

    def render(self, *, actor=None, target=None, context: dict, captured: bool = False) -> str:
        """The notification's text in the active language. `captured`: `context` is what
        `capture` kept (a stored notification's)."""
        values = context if captured else self.capture(actor=actor, target=target, context=context)
        values = {**values, "actor": values.get("actor") or gettext("Someone")}
        return str(self.text).format(**values)[:300]


class MentionKind(Kind):
    """A mention: where it was made ("a comment on “{title}”") is kept as its English template
    and values (peerhub.mentions.Place) and worded in the reader's language when shown. A
    notification stored before that kept only the English wording, shown as it was."""

    def render(self, *, actor=None, target=None, context: dict, captured: bool = False) -> str:
        template = context.get("where_template")
        if template:
            values = {
                key.removeprefix("where_"): value
                for key, value in context.items()
                if key.startswith("where_") and key != "where_template"
            }
            # a template that no longer matches its values keeps the stored wording
            with suppress(KeyError, IndexError, ValueError):
                context = {**context, "where": gettext(template).format(**values)}
        return super().render(actor=actor, target=target, context=context, captured=captured)


class DatedKind(Kind):
    """A kind whose context holds days, given as dates and so kept as "2027-03-03", worded when
    shown in the reader's language ("3 March 2027", "3 de marzo de 2027"). A notification stored
    before that kept the English wording, shown as it was."""

    def render(self, *, actor=None, target=None, context: dict, captured: bool = False) -> str:
        values = context if captured else self.capture(actor=actor, target=target, context=context)
        return super().render(
            actor=actor,
            target=target,
            context={key: _worded_day(value) for key, value in values.items()},
            captured=True,
        )


def _worded_day(value):
    if isinstance(value, str) and len(value) == 10:
        with suppress(ValueError):
            return date_format(date.fromisoformat(value), "DATE_FORMAT")
    return value


_KINDS: dict[str, Kind] = {}


def register_kind(
    name: str,
    *,
    label: str,
    text: str,
    important: bool = False,
    icon: str = "bell",
    many: str = "",
    social: bool = False,
    replace: bool = False,
    kind_class: type[Kind] = Kind,
) -> Kind:
    """Declare a kind of notification. Registering the same name twice is a mistake unless
    `replace` says it is meant (an app refining a kind another declared for it). `kind_class`: a
    subclass of Kind that words its context itself when shown (e.g. reputation's trust levels)."""
    kind = kind_class(
        name=name, label=label, text=text, important=important, icon=icon, many=many, social=social
    )
    if name in _KINDS and not replace and _KINDS[name] != kind:
        raise ValueError(f"Notification kind {name!r} is already registered.")
    _KINDS[name] = kind
    return kind


def get_kind(name: str) -> Kind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"Unknown notification kind {name!r}: register it first.") from None


def all_kinds() -> list[Kind]:
    return sorted(_KINDS.values(), key=lambda kind: (not kind.important, kind.label))


# The site's own kinds.
register_kind(
    "manifesto_published",
    label=_("A new version of the manifesto"),
    text=_("Version {number} of the manifesto is published: “{target}”. Read it and sign again."),
    icon="book",
)
register_kind(
    "mentioned",
    kind_class=MentionKind,
    label=_("You were mentioned"),
    text=_("{actor} mentioned you in {where}"),
    important=True,
    icon="at",
    many=ngettext_lazy("{count} mention of you", "{count} mentions of you", "count"),
    social=True,
)
