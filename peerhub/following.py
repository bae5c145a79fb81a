"""Following members, challenges and solutions, and the activity feed built from it.

Apps register what may be followed (`register_followable`, from their `social.py`) with the rule
that says who may see it; the site stores generic (content type, id) targets and never imports
the apps. `activity_record` is the one call apps make when something feed-worthy happens."""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import relations
from .exceptions import DomainError, NotAllowed, NotFound
from .models import Activity, ActivitySubject, Follow, User


@dataclass(frozen=True)
class Followable:
    name: str  # in URLs and the API: "member", "challenge", "solution"
    model: type
    can_view: Callable  # (user, obj) -> bool
    # (target id) -> the cached pages that show its follower count (peerhub.pagecache scopes)
    page_scopes: Callable | None = None


_FOLLOWABLE: dict[str, Followable] = {}


def register_followable(
    name: str, *, model: type, can_view: Callable, page_scopes: Callable | None = None
) -> None:
    _FOLLOWABLE[name] = Followable(
        name=name, model=model, can_view=can_view, page_scopes=page_scopes
    )


def follow_page_scopes(follow: Follow) -> list[str]:
    """The cached pages a follow or unfollow changes: its target's, which show the count."""
    model = ContentType.objects.get_for_id(follow.target_type_id).model_class()
    followable = next((f for f in _FOLLOWABLE.values() if f.model is model), None)
    if followable is None or followable.page_scopes is None:
        return []
    return followable.page_scopes(follow.target_id)


def followable_names() -> list[str]:
    return sorted(_FOLLOWABLE)


def followable_name_of(obj) -> str:
    for followable in _FOLLOWABLE.values():
        if isinstance(obj, followable.model):
            return followable.name
    raise LookupError(f"{type(obj).__name__} cannot be followed.")


def follow_target_get(*, user, name: str, pk: int):
    """The object behind (name, pk), or DomainError 404 when it does not exist or `user` may
    not see it (the same answer, so private things do not reveal themselves)."""
    followable = _FOLLOWABLE.get(name)
    obj = followable.model._default_manager.filter(pk=pk).first() if followable else None
    if obj is None or not followable.can_view(user, obj):
        raise NotFound(_("Nothing to follow here."))
    return obj


@transaction.atomic
def follow_set(*, follower: User, target, following: bool = True) -> bool:
    """Follow (or unfollow) `target`; idempotent. Returns whether the member now follows it."""
    name = followable_name_of(target)
    if not _FOLLOWABLE[name].can_view(follower, target):
        raise NotAllowed(_("You cannot follow this."))
    if name == "member" and target.pk == follower.pk:
        raise DomainError(_("You cannot follow yourself."), code="self_follow")
    if following and name == "member" and relations.blocks_between(follower, target):
        raise NotAllowed(
            _("You cannot follow this member: one of you has blocked the other."), code="blocked"
        )
    target_type = ContentType.objects.get_for_model(target)
    follows = Follow.objects.filter(follower=follower, target_type=target_type, target_id=target.pk)
    if not following:
        follows.delete()
        return False
    if not follows.exists():
        try:
            with transaction.atomic():
                Follow.objects.create(
                    follower=follower, target_type=target_type, target_id=target.pk
                )
        except IntegrityError:
            pass  # a double click: the other request followed first
    return True


def follow_toggle(*, follower: User, target) -> bool:
    return follow_set(
        follower=follower, target=target, following=not is_following(user=follower, target=target)
    )


def _follows_of_target(target) -> QuerySet[Follow]:
    return Follow.objects.filter(
        target_type=ContentType.objects.get_for_model(target), target_id=target.pk
    )


def followers_of(target) -> QuerySet[User]:
    return User.objects.filter(
        pk__in=_follows_of_target(target).values("follower_id"), is_active=True
    )


def follower_count(target) -> int:
    return _follows_of_target(target).count()


def is_following(*, user, target) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return _follows_of_target(target).filter(follower=user).exists()


def follows_of(*, user: User) -> QuerySet[Follow]:
    return (
        Follow.objects.filter(follower=user)
        .select_related("target_type")
        .order_by("-created_at", "-id")
    )


# --- Activity ------------------------------------------------------------------------------


_VERBS: dict[str, str] = {}


def register_verb(verb: str, *, text) -> None:
    """Declare a kind of feed line (each app in its social.py): `text` is a translatable
    (gettext_lazy) str.format template over the context `activity_record` is given."""
    _VERBS[verb] = text


def activity_words(verb: str, context: dict) -> str:
    """A feed line in the active language. LookupError for an undeclared verb; KeyError when
    the context lacks a name the text uses."""
    try:
        template = _VERBS[verb]
    except KeyError:
        raise LookupError(f"Unknown activity {verb!r}: register it first.") from None
    return str(template).format(**context)[:300]


def activity_record(
    verb: str, *, actor: User | None, target, subjects: Iterable, context: dict, url: str = ""
) -> None:
    """Record a feed-worthy event once the transaction commits. `subjects` are what followers
    follow to see it (the actor, the challenge, the forked solution, …). Record only what every
    member may see: the feed shows it to all who follow a subject. `context` names what the
    verb's text uses, as it is now; each reader sees the line worded in their language."""
    context = {key: str(value) for key, value in context.items()}
    with translation.override(settings.LANGUAGE_CODE):
        text = activity_words(verb, context)  # also refuses an unknown verb at once
    subject_refs = sorted(
        {(ContentType.objects.get_for_model(s).pk, s.pk) for s in subjects if s is not None}
    )
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    url = url or (target.get_absolute_url() if hasattr(target, "get_absolute_url") else "")
    data = {
        "verb": verb,
        "actor_id": getattr(actor, "pk", None),
        "target_type": target_type,
        "target_id": getattr(target, "pk", None),
        "target_url": url,
        "text": text,
        "context": context,
        "created_at": timezone.now(),
    }

    def write():
        activity = Activity.objects.create(**data)
        ActivitySubject.objects.bulk_create(
            ActivitySubject(activity=activity, subject_type_id=type_id, subject_id=pk)
            for type_id, pk in subject_refs
        )

    transaction.on_commit(write, robust=True)


def feed_for(*, user: User) -> QuerySet[Activity]:
    """What happened around what the member follows, newest first; their own doings left out.
    One query per page whatever the number of follows."""
    followed = Follow.objects.filter(
        follower=user,
        target_type=OuterRef("subject_type"),
        target_id=OuterRef("subject_id"),
    )
    about_followed = ActivitySubject.objects.filter(activity=OuterRef("pk")).filter(
        Exists(followed)
    )
    return (
        Activity.objects.filter(Exists(about_followed))
        .exclude(actor=user)
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"([0-9]{1,18})-([0-9]{1,18})")


def feed_cursor(activity: Activity) -> str:
    """Where the page after `activity` starts: its time (microseconds) and id, since two
    activities may share a time."""
    micros = (activity.created_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{activity.pk}"


@dataclass
class FeedPage:
    activities: list[Activity]
    next_before: str | None  # the cursor of the next (older) page, None on the last one


def feed_page(*, user: User, before: str | None = None, size: int = 20) -> FeedPage:
    """One page of the member's feed, older than the cursor `before` (from `feed_cursor`).
    Keyset pagination: one query, no COUNT over the follows, however deep the page.
    A malformed cursor is a DomainError (400)."""
    activities = feed_for(user=user)
    if before:
        match = _CURSOR.fullmatch(before)
        if not match:
            raise DomainError(_("This feed cursor is not valid."), code="invalid_cursor")
        try:
            at = _EPOCH + timedelta(microseconds=int(match[1]))
        except OverflowError:
            raise DomainError(_("This feed cursor is not valid."), code="invalid_cursor") from None
        pk = int(match[2])
        activities = activities.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk))
    rows = list(activities[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return FeedPage(activities=rows, next_before=feed_cursor(rows[-1]) if more else None)


def follow_tally_annotations(user, model) -> dict:
    """The follow button's figures as annotations of a query of `model`'s rows, for a page that
    reads its target anyway: the button then asks nothing more (read back by follow_widget)."""
    follows = (
        Follow.objects.filter(
            target_type=ContentType.objects.get_for_model(model), target_id=OuterRef("pk")
        )
        .order_by()
        .values("target_id")
    )
    annotations = {"_followers": Coalesce(Subquery(follows.annotate(n=Count("pk")).values("n")), 0)}
    if getattr(user, "is_authenticated", False):
        annotations["_followed"] = Exists(follows.filter(follower=user))
    return annotations


def follow_widget(*, user, target) -> dict:
    """What the follow button shows: the count and whether `user` follows, in one query, or
    none when the target was read with follow_tally_annotations."""
    signed_in = getattr(user, "is_authenticated", False)
    if hasattr(target, "_followers"):
        tally = {"followers": target._followers, "mine": getattr(target, "_followed", False)}
    else:
        counts = {"followers": Count("pk")}
        if signed_in:
            counts["mine"] = Count("pk", filter=Q(follower=user))
        tally = _follows_of_target(target).aggregate(**counts)
    return {
        "target": target,
        "kind": followable_name_of(target),
        "followers": tally["followers"],
        "following": bool(signed_in and tally.get("mine")),
        "can_follow": getattr(user, "is_authenticated", False)
        and not (isinstance(target, User) and target.pk == user.pk),
    }


def followable_name_for_type(target_type_id: int) -> str:
    model = ContentType.objects.get_for_id(target_type_id).model_class()
    return next((f.name for f in _FOLLOWABLE.values() if f.model is model), "")


def followable_type_ids(name: str) -> list[int]:
    """The content type id of a followable name, as a list (empty for an unknown name)."""
    followable = _FOLLOWABLE.get(name)
    return [ContentType.objects.get_for_model(followable.model).pk] if followable else []
