"""What members may flag, registered by the app that owns each kind of item (issue 21).

Flags, the review queue and the moderation record live in `reputation` (it knows trust levels
and the ledger), which may not import `marketplace`; and `challenges` may not import
`reputation`. So each app registers its flaggable kinds here, from its `social.py`, with the
rules that only it knows: who wrote an item, who may see it, what the review queue shows of it,
and how to hide it (or show it again) with a public reason. Reputation only reads this registry.

Every hideable item keeps two fields, `hidden_at` and `hidden_reason`: while hidden, its pages
show a stub with the reason to everyone but its author and moderators."""

from collections.abc import Callable
from dataclasses import dataclass

from django.dispatch import Signal
from django.utils.translation import gettext as _

from .exceptions import NotFound


@dataclass(frozen=True)
class Flaggable:
    name: str  # in URLs, the API and the public record: "solution", "comment", "offer", …
    # The words are translatable (pgettext_lazy): worded in the reader's language when shown.
    label: str  # in sentences: "a solution", "an order message"
    model: type
    author_id: Callable  # (obj) -> int
    can_view: Callable  # (user, obj) -> bool
    excerpt: Callable  # (obj) -> str: the words reviewers judge (plain text or Markdown)
    url: Callable  # (obj) -> str: where the item lives (may be private to some)
    set_hidden: Callable  # (obj, reason: str) -> None; "" shows the item again
    noun_label: str = ""  # the bare noun: "order message"
    flag_label: str = ""  # the flag form's heading and button, a whole sentence: "Flag this offer"

    @property
    def noun(self) -> str:
        """The bare noun in the active language: "order message", "mensaje de pedido"."""
        if self.noun_label:
            return str(self.noun_label)
        return str(self.label).split(" ", 1)[-1]

    @property
    def flag_title(self) -> str:
        """What the flag form says it does, in the active language: "Flag this offer"."""
        if self.flag_label:
            return str(self.flag_label)
        return _("Flag {item}").format(item=self.label)


_FLAGGABLE: dict[str, Flaggable] = {}


def register_flaggable(
    name: str,
    *,
    label: str,
    model: type,
    noun: str = "",
    flag_label: str = "",
    **rules: Callable,
) -> None:
    """Declare a flaggable kind. `label` ("a comment"), `noun` ("comment") and `flag_label`
    ("Flag this comment") are translatable texts (pgettext_lazy / gettext_lazy), each a whole
    phrase in every language (the flag form does not glue "Flag" to the label)."""
    _FLAGGABLE[name] = Flaggable(
        name=name, label=label, model=model, noun_label=noun, flag_label=flag_label, **rules
    )


def flaggable_names() -> list[str]:
    return sorted(_FLAGGABLE)


def flaggable(name: str) -> Flaggable:
    try:
        return _FLAGGABLE[name]
    except KeyError:
        raise NotFound(_("Nothing of that kind can be flagged.")) from None


def flaggable_of(obj) -> Flaggable:
    for kind in _FLAGGABLE.values():
        if type(obj) is kind.model:
            return kind
    raise LookupError(f"{type(obj).__name__} cannot be flagged.")


def flag_target_get(*, user, name: str, pk) -> object:
    """The item behind (name, pk), or 404 when it does not exist or `user` may not see it (the
    same answer, so private things do not reveal themselves)."""
    kind = flaggable(name)
    try:
        obj = kind.model._default_manager.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        obj = None
    if obj is None or not kind.can_view(user, obj):
        raise NotFound(_("Nothing to flag here."))
    return obj


def hidden_stub(reason: str) -> str:
    """The public sentence of a hidden item."""
    return reason or _("Hidden by moderators.")


# Who words a stored hidden note in the reader's language: reputation (which writes the notes
# and knows their reasons) registers itself here, as peerhub may not import it.
_NOTE_WORDING: list[Callable[[str], str]] = []


def register_hidden_note(wording: Callable[[str], str]) -> None:
    """`wording(stored)` answers the note in the active language, or "" when it does not know it."""
    if wording not in _NOTE_WORDING:
        _NOTE_WORDING.append(wording)


def hidden_note(stored: str) -> str:
    """The note a hidden item shows, in the reader's language: every page that shows an item's
    `hidden_reason` shows it through this (the `hidden_note` template filter). The item keeps the
    note in English; a note nobody knows how to word reads as it was stored."""
    if not stored:
        return ""
    for wording in _NOTE_WORDING:
        note = wording(stored)
        if note:
            return note
    return stored


def can_see_hidden(user, author_id: int) -> bool:
    """Who reads a hidden item's words behind its stub: its author (to edit or appeal), staff,
    and the members who review flags (a trust privilege, answered by has_perm)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.pk == author_id or user.is_staff or user.has_perm("reputation.review_flags")


class HiddenFieldsMixin:
    """For API serializers of hideable items: while an item is hidden by moderation, the
    `hidden_fields` read "" for everyone but those who may see it, and `hidden_reason` (declare
    it among the fields) says why, in the reader's language (`hidden_note`). `author_field` names
    the author's id attribute."""

    hidden_fields: tuple[str, ...] = ()
    author_field = "author_id"

    def to_representation(self, instance):
        data = super().to_representation(instance)
        reason = getattr(instance, "hidden_reason", "")
        if reason:
            request = self.context.get("request")
            user = getattr(request, "user", None)
            if not can_see_hidden(user, getattr(instance, self.author_field)):
                for name in self.hidden_fields:
                    if name in data:
                        data[name] = [] if isinstance(data[name], list) else ""
            if data.get("hidden_reason"):  # in the reader's language, as the pages show it
                data["hidden_reason"] = hidden_note(data["hidden_reason"])
        return data


# Sent when the author edits an item that moderation hides (`item_edited`): the moderation
# record (reputation) puts it back in the review queue. Arguments: item, by.
hidden_item_edited = Signal()


def item_edited(item, *, by) -> None:
    """The apps' edit services call this after saving an edit, in its transaction: an item that
    moderators hid goes back to the review queue with the author's new words (the author was
    told "you may edit or appeal"). Nothing happens for items that are not hidden."""
    model = item.__class__  # the member's own model behind request.user's lazy wrapper too
    hidden = model._default_manager.filter(pk=item.pk).exclude(hidden_reason="")
    if hidden.exists():  # asked of the row: the caller's instance may predate the hiding
        hidden_item_edited.send(sender=model, item=item, by=by)
