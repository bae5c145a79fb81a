"""The registry of notification kinds. Each app declares its own in a `social.py` module (found
by peerhub.apps.PeerhubConfig.ready), so the site never imports the apps that notify."""

from dataclasses import dataclass

from peerhub.models import Channel


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # what the preferences page calls it: "Your solution was forked"
    text: str  # str.format template: "{actor} forked your solution “{target}”"
    important: bool = False  # important kinds are e-mailed at once by default

    @property
    def default_channel(self) -> str:
        return Channel.IMMEDIATE if self.important else Channel.DIGEST

    def render(self, *, actor, target, context: dict) -> str:
        text = self.text.format(
            actor=getattr(actor, "name", None) or "Someone",
            target=str(target) if target is not None else "",
            **context,
        )
        return text[:300]


_KINDS: dict[str, Kind] = {}


def register_kind(
    name: str, *, label: str, text: str, important: bool = False, replace: bool = False
) -> Kind:
    """Declare a kind of notification. Registering the same name twice is a mistake unless
    `replace` says it is meant (an app refining a kind another declared for it)."""
    if name in _KINDS and not replace and _KINDS[name] != Kind(name, label, text, important):
        raise ValueError(f"Notification kind {name!r} is already registered.")
    kind = Kind(name=name, label=label, text=text, important=important)
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
    label="A new version of the manifesto",
    text="Version {number} of the manifesto is published: “{target}”. Read it and sign again.",
)
register_kind(
    "mentioned",
    label="You were mentioned",
    text="{actor} mentioned you in {where}",
    important=True,
)
