"""Muting and blocking members (issue 21): the rules, in one place.

- **Mute**: the muter hears nothing social the muted member causes (comments, replies, mentions,
  forks, reviews... the kinds registered with `social=True`, peerhub.notifications.kinds). The
  muted member notices nothing and may still do everything else.
- **Block** is mute plus no new interaction, both ways (the simplest safe rule, as on GitHub and
  Discourse): neither hears the other's social notifications, neither can mention the other
  (the mention is not recorded, so it notifies no one, and the editor does not suggest the name;
  the name still links to the profile, as any name does), neither can order the other's
  offers, and neither follows the other (existing follows end with the block).
- What a member must hear is never silenced: orders, money, subscriptions, moderation decisions
  and selection results are not social kinds, so a mute or a block lets them through.
- An order placed before the block stays finishable: both sides may still pay, deliver,
  accept, dispute and write in its thread, so no money is stuck. Only new orders are refused.
- Staff may be muted, but not blocked: moderation must reach everyone. (Their moderation
  notices are not social, so they arrive even from a muted staff member.)

Notifications are filtered where they are written (peerhub.notifications.services
.notifications_deliver) with `silenced_for`, an EXISTS in the one query that picks the
recipients: a fan-out costs no extra query per recipient, nor any at all."""

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from .exceptions import DomainError, NotAllowed
from .models import Follow, MemberRelation, User

Kind = MemberRelation.Kind


def _check_other(member: User, other: User) -> None:
    if member.pk == other.pk:
        raise DomainError(_("You cannot mute or block yourself."), code="self_relation")
    if not other.is_active:
        raise DomainError(_("This member's account is closed."), code="inactive_member")


def _add(*, member: User, other: User, kind: str) -> bool:
    """True when the relation is new; False when it existed (adding it again changes nothing)."""
    try:
        with transaction.atomic():
            _, created = MemberRelation.objects.get_or_create(member=member, other=other, kind=kind)
    except IntegrityError:  # a concurrent twin won the unique constraint: same outcome
        return False
    return created


def _remove(*, member: User, other: User, kind: str) -> bool:
    deleted, _ = MemberRelation.objects.filter(member=member, other=other, kind=kind).delete()
    return bool(deleted)


@transaction.atomic
def mute(*, member: User, other: User) -> bool:
    """`member` mutes `other`. Idempotent: answers whether the mute is new."""
    _check_other(member, other)
    return _add(member=member, other=other, kind=Kind.MUTE)


@transaction.atomic
def unmute(*, member: User, other: User) -> bool:
    """Idempotent: answers whether there was a mute to lift."""
    return _remove(member=member, other=other, kind=Kind.MUTE)


@transaction.atomic
def block(*, member: User, other: User) -> bool:
    """`member` blocks `other`. Idempotent: answers whether the block is new."""
    _check_other(member, other)
    if other.is_staff:
        raise NotAllowed(
            _(
                "Staff members cannot be blocked: moderation must reach everyone. "
                "You may mute them."
            ),
            code="staff_not_blockable",
        )
    created = _add(member=member, other=other, kind=Kind.BLOCK)
    # Neither follows the other any more (following.follow_set refuses it from now on).
    Follow.objects.filter(
        Q(follower=member, target_id=other.pk) | Q(follower=other, target_id=member.pk),
        target_type=ContentType.objects.get_for_model(User),
    ).delete()
    return created


@transaction.atomic
def unblock(*, member: User, other: User) -> bool:
    """Idempotent: answers whether there was a block to lift."""
    return _remove(member=member, other=other, kind=Kind.BLOCK)


# --- Reads ---------------------------------------------------------------------------------


def _pk(user) -> int | None:
    return getattr(user, "pk", user)


def is_muted_by(*, other: User | int, member: User | int) -> bool:
    """Whether `member` hears nothing social from `other`: muted or blocked, either way."""
    if _pk(other) == _pk(member):
        return False
    return (
        MemberRelation.objects.filter(
            Q(member_id=_pk(member), other_id=_pk(other))
            | Q(member_id=_pk(other), other_id=_pk(member), kind=Kind.BLOCK)
        )
        .order_by()
        .exists()
    )


def blocks_between(a: User | int, b: User | int) -> bool:
    """Whether either member blocked the other."""
    return (
        MemberRelation.objects.filter(
            Q(member_id=_pk(a), other_id=_pk(b)) | Q(member_id=_pk(b), other_id=_pk(a)),
            kind=Kind.BLOCK,
        )
        .order_by()
        .exists()
    )


def interaction_check(*, actor: User, other: User | int, action: str) -> None:
    """Refuse a new interaction (`action`: "order from") between members one of whom blocked
    the other. The message does not say who blocked whom."""
    if blocks_between(actor, other):
        if action == "order from":
            message = _("You cannot order from this member: one of you has blocked the other.")
        else:
            message = _("You cannot do this with this member: one of you has blocked the other.")
        raise NotAllowed(message, code="blocked")


def silenced_for(actor_id: int) -> Exists:
    """For a queryset of members: true for those who hear nothing social from `actor_id`
    (they muted or blocked the actor, or the actor blocked them). One EXISTS, no query."""
    return Exists(
        MemberRelation.objects.filter(
            Q(member_id=OuterRef("pk"), other_id=actor_id)
            | Q(member_id=actor_id, other_id=OuterRef("pk"), kind=Kind.BLOCK)
        )
    )


def blocked_with(member_id: int) -> Exists:
    """For a queryset of members: true for those with a block, either way, with `member_id`."""
    return Exists(
        MemberRelation.objects.filter(
            Q(member_id=OuterRef("pk"), other_id=member_id)
            | Q(member_id=member_id, other_id=OuterRef("pk")),
            kind=Kind.BLOCK,
        )
    )


def relations_of(*, member: User, kind: str) -> QuerySet[MemberRelation]:
    """The members `member` muted (or blocked), newest first."""
    return MemberRelation.objects.filter(member=member, kind=kind).select_related("other")


def relation_state(*, viewer, member: User) -> dict[str, bool]:
    """What the viewer's profile buttons show about `member` (one query)."""
    if not getattr(viewer, "is_authenticated", False) or viewer.pk == member.pk:
        return {"muted": False, "blocked": False}
    kinds = set(
        MemberRelation.objects.filter(member=viewer, other=member).values_list("kind", flat=True)
    )
    return {"muted": Kind.MUTE in kinds, "blocked": Kind.BLOCK in kinds}
